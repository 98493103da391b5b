"""PostgreSQL access: the only package that imports asyncpg. Repositories, migrations, embedded server."""
