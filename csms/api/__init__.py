"""HTTP interface (FastAPI): health now, the operator API later. The only package importing fastapi."""
