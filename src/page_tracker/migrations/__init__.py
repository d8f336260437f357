"""Alembic migrations; run them with ``page-tracker db upgrade``."""
