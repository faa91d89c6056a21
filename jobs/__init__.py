"""Background jobs: a row in `jobs` per job, run by idempotent Ray tasks, retried with backoff.

- `jobs.registry`: the handler API (`@job("kind")`, `JobContext`, `PermanentJobError`).
- `jobs.runtime.JobRunner`: the gateway side (submit, get, wait, the dispatch/sweep loop).
- `jobs.worker`: the Ray task that claims a row and runs its handler.
- `jobs.selftest`: handlers for the runtime's own tests.

May import `domain`, `storage` and `actors`; never `gateway`, settings included
(tests/test_import_rules.py holds it): a task gets what it needs in its payload, or a secret from
its worker's own environment (jobs/mail.py).
"""

import actors  # noqa: F401  (loopback flag before anything in this package imports ray)
