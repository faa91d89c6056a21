"""The pet care contract (002), at the root or PETCARE_PREFIX: email, Google and OAuth2-form login,
users, and 002's envelope ({status, data, message} / {status: 0, ..., detail}).

`routes.py` lists every URL. It may import `gateway.kernel`, `domain`, `storage`, `actors` and
`jobs`; never another contract package, the composition root or `gateway.ops`
(tests/test_import_rules.py holds it).
"""
