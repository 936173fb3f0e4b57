"""Alembic migrations, run by ``flask --app portal db upgrade`` (batch mode for SQLite)."""
