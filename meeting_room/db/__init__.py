"""Database: tables, engine set-up and Alembic migrations."""

from meeting_room.db.engine import make_engine, migrate

__all__ = ["make_engine", "migrate"]
