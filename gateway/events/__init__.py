"""/api/v1: the events contract (001): tenants and tenant auth, events, photos (signed uploads,
moderation through domain/moderation.py), emotions and tasks, guest polling (stats and photos from
the feed snapshots in feed.py, with ETag/304), the public gallery, the ZIP archive, the upload
sweeper.

`routes.py` lists every URL (the guest polls mounted on the root app, the rest on the /api/v1
sub-app); `envelope.py` is 001's error dialect. It may import `gateway.kernel`, `domain`,
`storage`, `actors` and `jobs`; never another contract package, the composition root or
`gateway.ops` (tests/test_import_rules.py holds it).
"""
