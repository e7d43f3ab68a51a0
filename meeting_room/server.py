"""Start-up: data directory, database, migrations, the first administrator."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import DatabaseError

from meeting_room import auth
from meeting_room.db import make_engine, migrate
from meeting_room.operations.datadir import private_umask, secure_sqlite_files, secure_tree
from meeting_room.operations.integrity import check_database, damaged, is_damage, quick_check
from meeting_room.roles import Role
from meeting_room.services.members import create_member
from meeting_room.settings import Settings
from meeting_room.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FirstAdmin:
    username: str
    password: str


def open_store(settings: Settings, *, check_chain: bool = True) -> Store:
    """Create the data directory (private: 0700, files 0600, put right when looser), connect, check
    the database file (SQLite ``quick_check``), migrate the schema to the newest revision, and
    re-check the newest links of the hash chain. A damaged database stops here with one message
    naming it and saying what to do (``DatabaseDamagedError``). ``check_chain=False`` is for
    ``verify``, which walks the whole chain and reports where it breaks."""
    private_umask()
    settings.prepare_data_dir()
    secure_tree(settings.data_dir)
    engine = make_engine(settings.effective_database_url)
    quick_check(engine)
    try:
        migrate(engine)
    except DatabaseError as exc:
        if not is_damage(exc):
            raise
        raise damaged(engine, f"không đọc được ({exc.orig})", f"it cannot be read ({exc.orig})") from None
    secure_sqlite_files(engine)
    if check_chain:
        check_database(engine)
    return Store(engine)


def ensure_first_admin(store: Store) -> FirstAdmin | None:
    """On the very first start (an empty store), create ``admin`` with a random password."""
    if not store.is_empty():
        return None
    password = auth.new_password()
    create_member(store, None, full_name="Quản trị hệ thống", roles=[Role.ADMIN], username="admin", password=password)
    return FirstAdmin("admin", password)
