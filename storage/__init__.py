"""PostgreSQL access: the pool, migrations, SQLSTATE mapping and raw-SQL queries by aggregate.

Imports only `domain.errors` of ours (and itself); tests/test_import_rules.py lists the one
exception and its reason. Never `gateway`.
"""
