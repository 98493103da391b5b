"""PostgreSQL access (the only package importing asyncpg): repositories, migrations, server."""
