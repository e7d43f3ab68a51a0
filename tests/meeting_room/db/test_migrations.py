"""The migrations build exactly the schema the table classes describe (on a real SQLite file)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from meeting_room.db import make_engine, migrate
from meeting_room.db.tables import Base
from meeting_room.store import Store
from tests.conftest import World


def search_docs_filed(engine: Engine) -> list[tuple[object, ...]]:
    """The archive's search documents as filed (all but their ids), in a stable order."""
    columns = "kind, ref_id, meeting_date, body_id, agenda_item_id, agenda_title, poll_outcomes, text, folded"
    with engine.connect() as conn:
        return sorted((tuple(r) for r in conn.execute(text(f"SELECT {columns} FROM search_docs"))), key=str)


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


def test_the_sealed_ballot_migration_refuses_clear_secret_ballots_left_open(tmp_path: Path) -> None:
    """An older version's open secret poll (ballots in the clear) stops the upgrade with a message; nothing changes."""
    from alembic import command
    from sqlalchemy import text

    from meeting_room.db.engine import alembic_config
    from meeting_room.errors import SettingsError

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
    raw = engine.raw_connection()  # autocommit, foreign keys off: the rows alone, as an old version left them
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.execute(
            "INSERT INTO polls (id, meeting_id, title, kind, options, min_choices, max_choices, secrecy, eligibility,"
            " allow_change, rule, state, created_at, ballots_cast) VALUES ('p1', 'm1', 'Bầu', 'motion', '[]', 1, 1,"
            " 'secret', 'present', 0, '{}', 'open', '2026-11-01 08:00:00+00:00', 1)"
        )
        cur.execute("INSERT INTO ballot_box (poll_id, receipt_hash, selection) VALUES ('p1', ?, '[\"yes\"]')", ("a" * 64,))
        cur.execute("PRAGMA foreign_keys=ON")
    finally:
        raw.close()
    try:
        migrate(engine)
    except SettingsError as exc:
        assert "close it with that version" in exc.message_en and "hãy kết thúc" in exc.message_vi
    else:
        raise AssertionError("the upgrade went through")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0008"
        assert conn.execute(text("SELECT count(*) FROM ballot_box")).scalar() == 1
    engine.dispose()


def test_the_search_indexes_on_postgresql_come_and_go_with_their_migration(any_store: Store) -> None:
    """Migration 0022's indexes exist where they are made (the PostgreSQL-only ones are not in the table
    classes, so the comparison above cannot see them); a downgrade to 0021 drops them, an upgrade restores them."""
    from alembic import command
    from sqlalchemy import text

    from meeting_room.db.engine import alembic_config

    engine = any_store.engine
    postgresql = engine.dialect.name == "postgresql"
    made_on_postgresql = {"ix_search_docs_minutes_tsv", "ix_search_docs_speaker", "ix_search_docs_speaker_member"}
    ours = {"ix_search_docs_date"} | (made_on_postgresql if postgresql else set())
    listing = (
        "SELECT indexname FROM pg_indexes WHERE tablename = 'search_docs'"
        if postgresql
        else "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'search_docs'"
    )

    def indexes() -> set[str]:
        with engine.connect() as conn:
            return set(conn.execute(text(listing)).scalars()) & ({"ix_search_docs_date"} | made_on_postgresql)

    assert indexes() == ours
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0021")
    assert indexes() == set()
    migrate(engine)
    assert indexes() == ours


def test_the_minutes_word_index_is_filled_from_the_archive_and_goes_with_its_migration(store: Store) -> None:
    """Migration 0023 (SQLite) indexes the minutes already in the archive, and only them; a downgrade
    to 0022 removes the index and its triggers, after which the archive still takes documents."""
    from alembic import command
    from sqlalchemy import insert, text

    from meeting_room.db import tables as t
    from meeting_room.db.engine import alembic_config

    engine = store.engine
    doc = {"meeting_id": "m1", "body_id": "b1", "meeting_date": "2026-01-05",
           "ref_id": "r", "text": "", "agenda_item_id": None, "agenda_title": None, "speaker": None}  # fmt: skip

    def minutes_matching(word: str) -> list[str]:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT d.ref_id FROM search_fts_minutes f JOIN search_docs d ON d.id = f.rowid WHERE search_fts_minutes MATCH :w"),
                {"w": word},
            )
            return sorted(found.scalars())

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0022")
        assert conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name LIKE 'search%minutes%'")).scalar() == 0
        conn.execute(insert(t.SearchDoc), [{**doc, "kind": "minutes", "ref_id": "m", "folded": "ngan sach tinh"},
                                           {**doc, "kind": "transcript", "ref_id": "t", "folded": "ngan sach huyen"}])  # fmt: skip
    migrate(engine)
    assert minutes_matching("ngan") == ["m"] and minutes_matching("huyen") == []
    with engine.begin() as conn:
        conn.execute(insert(t.SearchDoc), [{**doc, "kind": "minutes", "ref_id": "m2", "folded": "ngan sach xa"}])
    assert minutes_matching("ngan") == ["m", "m2"]


def test_the_consent_form_reference_is_filled_from_the_log(world: World) -> None:
    """Migration 0025 gives each member the note of their last consent (the signed form), none after
    a withdrawal; a rebuild from the log gives the same."""
    from alembic import command
    from sqlalchemy import text

    from meeting_room.db.engine import alembic_config
    from meeting_room.services import faces

    admin = world.actor("admin")
    faces.set_consent(world.store, admin, world.ids["member1"], True, "Phiếu số 12/2026, ký ngày 20/11/2026")
    faces.set_consent(world.store, admin, world.ids["member2"], True, "Phiếu số 13/2026")
    faces.set_consent(world.store, admin, world.ids["member2"], False)
    engine = world.store.engine

    def notes() -> dict[str, str | None]:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT username, biometric_consent_note FROM members WHERE username IN ('member1', 'member2')"))
            return {row[0]: row[1] for row in rows}

    expected = {"member1": "Phiếu số 12/2026, ký ngày 20/11/2026", "member2": None}
    assert notes() == expected
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0024")
    migrate(engine)
    assert notes() == expected
    world.store.rebuild()
    assert notes() == expected


def test_agendas_votes_and_unpublished_outcomes_are_filed_by_the_migration_as_by_the_index(any_world: World) -> None:
    """Migration 0026 on both engines (dates, JSON results): an archive indexed before it gets its
    agenda items and counted votes as search documents, one vote's outcome published and one not
    (``closed:…``), the same documents a rebuild files; a downgrade takes them back out."""
    from alembic import command

    from meeting_room import events as ev
    from meeting_room.attendance import AttendanceStatus
    from meeting_room.db.engine import alembic_config
    from meeting_room.lifecycle import MeetingState
    from meeting_room.services import attendance, meetings, polls

    world, chair = any_world, any_world.actor("chair")
    meetings.transition(world.store, chair, world.meeting_id, MeetingState.OPEN)
    meetings.transition(world.store, chair, world.meeting_id, MeetingState.IN_SESSION)
    for who in ("chair", "secretary", "member1"):
        attendance.record(world.store, chair, world.meeting_id, world.ids[who], AttendanceStatus.PRESENT_IN_ROOM)
    for n, (item, published) in enumerate(((world.item_ids[0], True), (world.item_ids[1], False))):
        spec = polls.PollSpec(title=f"Thông qua tờ trình số {n + 1}", agenda_item_id=item, rule=ev.RuleSpec(preset="majority_present"))
        pid = polls.create_poll(world.store, world.actor("secretary"), world.meeting_id, spec)
        polls.open_poll(world.store, chair, pid)
        for who in ("chair", "secretary", "member1"):
            polls.cast_ballot(world.store, world.actor(who), pid, ["yes"])
        polls.close_poll(world.store, chair, pid)
        if published:
            polls.publish_poll(world.store, chair, pid)
    engine = world.store.engine

    def filed() -> list[tuple[object, ...]]:
        return search_docs_filed(engine)

    now = filed()
    assert sorted((r[0], r[6]) for r in now) == [
        ("agenda", " closed:passed "),
        ("agenda", " passed "),
        ("poll", " closed:passed "),
        ("poll", " passed "),
    ]
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0025")
    assert filed() == []  # no transcript, no minutes: nothing was searchable before
    migrate(engine)
    assert filed() == now
    world.store.rebuild()
    assert filed() == now
