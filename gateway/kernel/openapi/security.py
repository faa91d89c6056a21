"""The security schemes Roost's contracts share, as OpenAPI objects, named the way operations'
`auth=(...)` name them ("session+xsrf" means both at once)."""

from __future__ import annotations

from gateway.kernel.auth.middleware import API_TOKEN_COOKIE
from gateway.kernel.auth.sessions import SESSION_COOKIE, XSRF_HEADER

PAT = {
    "type": "http",
    "scheme": "bearer",
    "description": "A personal access token, `<id>|<secret>` or the bare secret (made on /developer or "
    "by POST /api/user/api-tokens); its abilities decide what it may do.",
}
JWT = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "A JWT issued by Roost's login endpoints (HS256, expires).",
}
SESSION = {
    "type": "apiKey",
    "in": "cookie",
    "name": SESSION_COOKIE,
    "description": "A browser session from /login. State-changing requests must also send the XSRF header.",
}
XSRF = {
    "type": "apiKey",
    "in": "header",
    "name": XSRF_HEADER,
    "description": "The value of the XSRF-TOKEN cookie, echoed on every state-changing session request.",
}
API_TOKEN = {
    "type": "apiKey",
    "in": "cookie",
    "name": API_TOKEN_COOKIE,
    "description": "The token 003's OAuth callbacks set as a cookie.",
}
