"""Engine creation (SQLite tuned for durability and one writer) and Alembic migrations."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from meeting_room.errors import SettingsError

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    """An engine for SQLite or PostgreSQL (psycopg 3)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the client is told (the store's promise).
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # Deleted rows (sealed ballots, key shares) are overwritten with zeros, not left in free space.
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front; otherwise two deferred transactions that both read
        # and then write deadlock with "database is locked".
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def alembic_config(url: str, migrations_dir: Path = MIGRATIONS_DIR) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine, *, migrations_dir: Path = MIGRATIONS_DIR) -> None:
    """Bring the schema to the newest revision (idempotent), all revisions in one transaction: a
    failing one leaves the database as it was. ``migrations_dir`` is for the upgrade tests."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False), migrations_dir)
    try:
        with engine.connect() as conn:
            sqlite = engine.dialect.name == "sqlite"
            if sqlite:
                # SQLite alters a table by copying it and dropping the old one; with foreign keys on,
                # that DROP fails as soon as another table's rows point at it (an upgrade of a database
                # with data). SQLite's own procedure: keys off outside the transaction, then
                # ``foreign_key_check`` before the commit.
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            try:
                with conn.begin():
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
                    if sqlite:
                        _refuse_broken_references(conn)
            finally:
                if sqlite:
                    conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
    except OperationalError as exc:
        raise SettingsError(
            f"Không kết nối được cơ sở dữ liệu {engine.url.render_as_string()}: {exc.orig}",
            f"Cannot reach the database {engine.url.render_as_string()}: {exc.orig}",
        ) from None
    except MigrationRefused as exc:
        raise SettingsError(exc.message_vi, exc.message_en) from None


def _refuse_broken_references(conn: Connection) -> None:
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        where = ", ".join(sorted({f"{row[0]} -> {row[2]}" for row in broken}))
        raise MigrationRefused(
            f"Nâng cấp cơ sở dữ liệu bị hủy: {len(broken)} dòng tham chiếu tới dòng không còn ({where}); không có gì thay đổi",
            f"The database upgrade was cancelled: {len(broken)} rows refer to rows that no longer exist ({where}); nothing changed",
        )


class MigrationRefused(RuntimeError):
    """A migration that will not run on the data it found; nothing was changed (its transaction rolls back)."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi, self.message_en = message_vi, message_en
