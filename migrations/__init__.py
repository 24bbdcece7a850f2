"""Alembic migrations (run with `loyalty-bot migrate`)."""
