"""Alembic migrations, packaged so `staffroom db upgrade` works from an installed wheel."""
