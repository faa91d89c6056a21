"""Server-rendered browser pages (no build step) and the session endpoints behind them.

Their HTML is Jinja2 templates as files (templates/, autoescaped), rendered through the one
environment in render.py; tests/web/test_browser.py drives them in a real browser.

`routes.py` lists every URL (/login, /logout, /developer, /gpt-connect, /storage,
/favicon.ico); the landing page at `/` is reached through 002's `/` (landing.py). The pages
belong to the /api documents and use the /api envelope (gateway/kernel/api_envelope.py). They may
import `gateway.kernel`, `domain`, `storage`, `actors` and `jobs`; never a contract package, the
composition root or `gateway.ops` (tests/test_import_rules.py holds it).
"""
