"""000, pet health, on the /api mount: pets and pet types, weights, medical records, vaccinations,
microchips; 000's profile (`/api/users/me`) and the session-only token management behind
/developer (`/api/user/api-tokens`); the GPT auth bridge; and the usage limits 000 puts over the
whole /api mount (daily quota, minute throttles, the API request log), with their contexts.

`routes.py` lists every URL. It may import `gateway.kernel`, `domain`, `storage`, `actors` and
`jobs`; never another contract package (`gateway.accounts`, `events`, `petcare`, `web`), the
composition root or `gateway.ops` (tests/test_import_rules.py holds it). 003 shares the /api mount
and its envelope (gateway/kernel/api_envelope.py); the composition root (gateway/app.py) builds
that sub-app from both route tables.
"""
