"""The HTTP kernel every contract stands on.

What lives here: the one root middleware (request ids, metrics, authentication, errors in the
contract's envelope), the contract a path belongs to, the /api union envelope, JSON in and out,
the input boundary (validation), shared field types and HTTP shapes (Laravel's paginator, how a
user and a token render), OAuth provider wiring, throttles and client addresses, metrics, health
probes, access logs, the typed app keys and the kernel's cleanup contexts, and `auth/`.

What it may import: `domain`, `storage`, `actors`, `jobs` and itself. Never a contract package
(`gateway.pethealth`, `accounts`, `events`, `petcare`, `web`), the composition root (`gateway.app`,
`gateway.wiring`) or `gateway.ops`: what a contract adds (its envelope, its contexts) is handed in
by the composition root. tests/test_import_rules.py holds it.
"""
