"""HTTP interface (FastAPI): health now, the operator API later; the only fastapi importer."""
