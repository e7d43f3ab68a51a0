"""The migrations build exactly the schema the table classes describe (on a real SQLite file)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from meeting_room.db import make_engine, migrate
from meeting_room.db.tables import Base


def _not_fts(name: str | None, kind: str, parents: dict[str, str | None]) -> bool:
    """The FTS5 index (a virtual table and its shadow tables) is DDL the table classes do not describe."""
    return not (kind == "table" and name is not None and name.startswith("search_fts"))


def test_migrations_match_the_tables(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    migrate(engine)
    with engine.connect() as conn:
        opts = {"compare_type": False, "include_name": _not_fts}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
    engine.dispose()
    assert diff == [], diff
