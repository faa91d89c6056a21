"""PostgreSQL access: the pool, migrations, SQLSTATE mapping and raw-SQL queries by aggregate."""
