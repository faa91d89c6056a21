"""003, accounts, on the /api mount (and at the root of API_DOMAIN): register, login and logout,
Google and GitHub OAuth (sign-in, token exchange, linking), email verification, password reset and
change, the profile, the avatar, ping.

`routes.py` lists every URL. It may import `gateway.kernel`, `domain`, `storage`, `actors` and
`jobs`; never another contract package (`gateway.pethealth`, `events`, `petcare`, `web`), the
composition root or `gateway.ops` (tests/test_import_rules.py holds it). 000 shares the /api mount
and its envelope (gateway/kernel/api_envelope.py); the composition root (gateway/app.py) builds
that sub-app from both route tables.
"""
