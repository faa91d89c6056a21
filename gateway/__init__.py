"""The HTTP side of Roost, in layers (tests/test_import_rules.py holds them):

- `kernel/`: what every contract stands on (the root middleware, contracts by path, the /api
  envelope, validation and shared field types, auth, throttles, metrics, health, typed keys, the
  kernel's cleanup contexts). Imports `domain`, `storage`, `actors`, `jobs`, never a contract.
- one package per contract document, each with one `routes.py`: `pethealth/` (000 at /api),
  `accounts/` (003 at /api), `events/` (001 at /api/v1), `petcare/` (002 at the root), and
  `web/` (the browser pages). Each imports the kernel and the layers below, never another one.
- `app.py` (create_app, the composition root, which builds the /api sub-app from 000's and 003's
  route tables) and `wiring.py` (every cleanup context in its one order): they may import every
  contract; only the entry points import them.
- `ops/`: the `roost` command, embedded services and `serve`, on top of everything.

Settings are not here: `domain/settings.py` is read by every process without the HTTP layer.
"""
