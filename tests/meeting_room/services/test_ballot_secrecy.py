"""Secret ballots against whoever copies the data directory, and against a crash.

A forensic reading of the raw database files (SQLite: the database, its WAL and shared memory;
PostgreSQL: the database's relation files and the cluster's WAL) at every moment of a secret vote:
while it is open nothing on disk holds a choice, a receipt or the poll's private key; after it
closes, the ballots appear only as written at once in the order of their content, and the key and
the sealed ballots are gone. Then a kill -9 in the middle of a vote loses no acknowledged ballot.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from meeting_room.db import tables as t
from meeting_room.errors import InvalidInputError
from meeting_room.roles import MeetingRole, Role
from meeting_room.server import open_store
from meeting_room.services import meetings, members, polls, tellers
from meeting_room.settings import load_settings
from meeting_room.store import Store
from tests.conftest import PASSWORD, TELLER_PASSPHRASE, World, login, password_hash
from tests.meeting_room.call_server import wait_for
from tests.meeting_room.services.test_polls import _in_session, _poll
from tests.pgcluster import ThrowawayCluster
from voting import SealingError, Secrecy, receipt_hash
from voting.sealing import open_ballot

CHOICES = ("yes", "no", "yes", "abstain", "yes", "no", "no", "yes")


def _eight_voters(world: World) -> list[str]:
    admin = world.actor("admin")
    who = ["chair", "secretary", "member1", "member2"]
    for i in range(3, 7):
        name = f"member{i}"
        world.ids[name] = members.create_member(
            world.store, admin, full_name=f"Người {name}", roles=[Role.MEMBER], username=name, body_id=world.body_id,
            password_hash=password_hash(),
        )
        meetings.add_participant(world.store, admin, world.meeting_id, world.ids[name], role=MeetingRole.MEMBER)
        who.append(name)
    return who


def _raw_files(store: Store, cluster: ThrowawayCluster | None) -> dict[str, bytes]:
    """Every file an attacker who copies the data would get, read raw."""
    if store.engine.dialect.name == "sqlite":
        db = Path(str(store.engine.url.database))
        return {p.name: p.read_bytes() for p in db.parent.glob(db.name + "*")}
    with store.engine.connect() as conn:
        oid = conn.execute(text("SELECT oid FROM pg_database WHERE datname = current_database()")).scalar()
        conn.execute(text("CHECKPOINT"))
    assert cluster is not None  # PostgreSQL here is the throwaway cluster
    data = Path(cluster.dir) / "data"
    files = [*(data / "base" / str(oid)).iterdir(), *(data / "pg_wal").iterdir()]
    return {str(p.relative_to(data)): p.read_bytes() for p in files if p.is_file()}


def _found(files: dict[str, bytes], needle: bytes) -> list[str]:
    return [name for name, raw in files.items() if needle in raw]


@pytest.fixture
def cluster(request: pytest.FixtureRequest, database_url: str | None) -> ThrowawayCluster | None:
    if database_url is None:
        return None
    found: ThrowawayCluster | str = request.getfixturevalue("pg_cluster")
    if isinstance(found, str):
        pytest.skip("an external PostgreSQL server: its files cannot be read from here")
    return found


def test_a_copy_of_the_data_at_any_moment_cannot_tie_or_order_secret_ballots(any_world: World, cluster: ThrowawayCluster | None) -> None:
    world = any_world
    voters = _eight_voters(world)
    _in_session(world, present=tuple(voters))
    pid = _poll(world, secrecy=Secrecy.SECRET)
    polls.open_poll(world.store, world.actor("chair"), pid)
    private = world.store.ballot_keys.private(pid)
    assert private is not None
    receipts: list[str] = []
    for who, choice in zip(voters, CHOICES, strict=True):
        receipts.append(polls.cast_ballot(world.store, world.actor(who), pid, [choice]).receipt or "")
        files = _raw_files(world.store, cluster)  # a copy taken while the vote is open
        secrets_now = [private, *(r.encode() for r in receipts), *(receipt_hash(pid, r).encode() for r in receipts)]
        assert not [(s, _found(files, s)) for s in secrets_now if _found(files, s)]
        assert not _found(files, b'"selection"') or world.store.engine.dialect.name == "postgresql"
    with world.store.read() as session:
        sealed = [b.sealed for b in session.scalars(select(t.SealedBallot).where(t.SealedBallot.poll_id == pid))]
        shares = [s.sealed for s in session.scalars(select(t.PollKeyShare).where(t.PollKeyShare.poll_id == pid))]
    assert len(sealed) == 8 and len({len(b) for b in sealed}) == 1  # the length of a ballot says nothing
    with pytest.raises(SealingError):  # without the key in memory, a teller's share alone opens nothing
        open_ballot(shares[0][:32], pid, sealed[0])

    closed = polls.close_poll(world.store, world.actor("chair"), pid)
    files = _raw_files(world.store, cluster)  # a copy taken after the close
    hashes = [b.receipt_hash for b in closed.ballots]
    assert [(b.selection, b.receipt_hash) for b in closed.ballots] == sorted((b.selection, b.receipt_hash) for b in closed.ballots)
    assert sorted(hashes) == sorted(receipt_hash(pid, r) for r in receipts)  # in the order of their content, not of casting
    assert all(b.voter_id is None for b in closed.ballots)
    assert not _found(files, private), "the poll's private key reached the disk"
    assert all(_found(files, h.encode()) for h in hashes)  # the reader does see what is there
    with world.store.read() as session:
        for table in (t.SealedBallot, t.PollKeyShare):
            assert session.scalars(select(table).where(table.poll_id == pid)).all() == []
    if world.store.engine.dialect.name == "sqlite":
        assert len(files.get("meeting-room.sqlite3-wal", b"")) == 0  # no frame keeps an older page image
        assert not [b for b in sealed if _found(files, b[:48])], "a sealed ballot outlived its poll"
        assert not [s for s in shares if _found(files, s[:48])], "a key share outlived its poll"
    else:
        with world.store.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT xmin::text, ctid::text, receipt_hash FROM ballots WHERE poll_id = :p ORDER BY ctid"), {"p": pid}
            ).all()
        assert len({r[0] for r in rows}) == 1  # written by one transaction, the close
        assert [r[2] for r in rows] == hashes  # physically in the order of their content, not cast order
    # the only link left is what each voter keeps: their receipt, checked by their own session
    with world.store.read() as session:
        poll = session.get_one(t.Poll, pid)
        for who, code, choice in zip(voters, receipts, CHOICES, strict=True):
            mine = polls.check_receipt(session, world.actor(who), poll, code)
            assert mine.found and mine.own and mine.selection == [choice]


def test_a_receipt_does_not_find_its_choice_by_its_place_in_the_published_lists(client: TestClient, world: World) -> None:
    """A secret ballot is published without its receipt hash, and the list is in the order of what
    the ballots say: in receipt-hash order, whoever holds a voter's receipt (a vote buyer) could hash
    it and read the choice off its place. The members' list and the officers' closing event alike."""
    voters = _eight_voters(world)
    _in_session(world, present=tuple(voters))
    pid = _poll(world, secrecy=Secrecy.SECRET)
    polls.open_poll(world.store, world.actor("chair"), pid)
    receipts = {
        polls.cast_ballot(world.store, world.actor(who), pid, [choice]).receipt: choice for who, choice in zip(voters, CHOICES, strict=True)
    }
    polls.close_poll(world.store, world.actor("chair"), pid)
    polls.publish_poll(world.store, world.actor("chair"), pid)
    by_hash = [receipts[code] for code in sorted(receipts, key=lambda code: receipt_hash(pid, code or ""))]
    listed = client.get(f"/api/meetings/{world.meeting_id}/polls/{pid}/ballots", headers=login(client, "member3")).json()["ballots"]
    events = client.get(f"/api/meetings/{world.meeting_id}/events", headers=login(client, "chair")).json()["events"]
    closing = next(e for e in events if e["type"] == "poll.closed")["data"]["ballots"]
    for shown in ([b["options"][0] for b in listed], [b["selection"][0] for b in closing]):
        assert shown == sorted(CHOICES), (shown, by_hash)
    assert all(b["receipt_hash"] is None for b in listed) and "receipt_hash" not in str(closing)


_CHILD = r"""
import json, sys
from meeting_room.auth import actor_of
from meeting_room.db import tables as t
from meeting_room.server import open_store
from meeting_room.services import polls
from meeting_room.settings import load_settings

data_dir, url, pid, chair, voters = sys.argv[1], sys.argv[2] or None, sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
store = open_store(load_settings(data_dir=data_dir, database_url=url))
with store.read() as session:
    actors = {m: actor_of(session.get_one(t.Member, m)) for m in [chair, *voters]}
polls.open_poll(store, actors[chair], pid)
print("open", flush=True)
for member in voters:
    r = polls.cast_ballot(store, actors[member], pid, ["yes"])
    print("ack", member, r.receipt, flush=True)  # answered: from here on it must survive
    sys.stdin.readline()  # the parent decides when the next ballot goes
"""


def test_kill_9_while_a_secret_vote_is_open_loses_no_acknowledged_ballot(any_world: World, database_url: str | None) -> None:
    world = any_world
    voters = _eight_voters(world)
    _in_session(world, present=tuple(voters))
    pid = _poll(world, secrecy=Secrecy.SECRET)
    data_dir = str(Path(str(world.store.engine.url.database)).parent) if database_url is None else str(Path.cwd() / "unused")
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, data_dir, database_url or "", pid, world.ids["chair"], json.dumps([world.ids[v] for v in voters])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline().strip() == "open"
    acked: dict[str, str] = {}
    for _ in range(5):
        _, member, receipt = child.stdout.readline().split()
        acked[member] = receipt
        if len(acked) < 5:
            child.stdin.write("\n")
            child.stdin.flush()
    os.kill(child.pid, signal.SIGKILL)  # mid-vote: the process that held the poll's key is gone
    child.wait(timeout=30)

    store = open_store(load_settings(data_dir=data_dir, database_url=database_url)) if database_url is None else world.store
    store.ballot_keys.forget(pid)  # a new process: nothing in memory
    chair, secretary = world.actor("chair"), world.actor("secretary")
    with pytest.raises(polls.BallotBoxLockedError):
        polls.close_poll(store, chair, pid)
    with pytest.raises(SealingError):
        polls.unlock_poll(store, chair, pid, "not the passphrase")
    with pytest.raises(Exception, match="người giữ khóa"):
        polls.unlock_poll(store, world.actor("member1"), pid, TELLER_PASSPHRASE)
    assert not polls.unlock_poll(store, chair, pid, TELLER_PASSPHRASE)  # one lock of two
    assert polls.unlock_poll(store, secretary, pid, TELLER_PASSPHRASE)
    with pytest.raises(SealingError):  # the passphrase is checked even with the key whole again
        polls.unlock_poll(store, secretary, pid, "not the passphrase")
    closed = polls.close_poll(store, chair, pid)
    assert len(closed.ballots) == 5 and closed.result["options"][0]["votes"] == 5
    counted = {b.receipt_hash for b in closed.ballots}
    assert all(receipt_hash(pid, code) in counted for code in acked.values())
    assert polls.verify_polls(store).ok
    if store is not world.store:
        store.engine.dispose()


def test_a_secret_vote_needs_two_tellers_with_keys(world: World) -> None:
    _in_session(world)
    with world.store.read() as session, session.begin():
        session.delete(session.get_one(t.TellerKey, world.ids["secretary"]))
    pid = _poll(world, secrecy=Secrecy.SECRET)
    with pytest.raises(Exception, match="Người secretary chưa tạo khóa kiểm phiếu"):
        polls.open_poll(world.store, world.actor("chair"), pid)
    for weak in ("ngan", "1234567890", "matkhau2024"):  # what an offline guesser tries first
        with pytest.raises(InvalidInputError):
            tellers.set_key(world.store, world.actor("secretary"), weak)
    with pytest.raises(InvalidInputError, match="khác mật khẩu đăng nhập"):
        tellers.set_key(world.store, world.actor("secretary"), PASSWORD)
    made = tellers.set_key(world.store, world.actor("secretary"), "mot cau rat dai cua thu ky")
    assert len(made.fingerprint) == 16
    with pytest.raises(Exception, match="mật khẩu hiện tại"):
        tellers.set_key(world.store, world.actor("secretary"), "mot cau khac cung rat dai")
    polls.open_poll(world.store, world.actor("chair"), pid)
    with pytest.raises(Exception, match="thay khóa sau khi"):  # the open poll is locked with that key
        tellers.set_key(world.store, world.actor("secretary"), "mot cau khac cung rat dai", current="mot cau rat dai cua thu ky")
    opened = [e for e in world.store.events(meeting_id=world.meeting_id) if e.type == "poll.opened"][-1]
    assert opened.data["tellers"] == [world.ids["chair"], world.ids["secretary"]] and len(opened.data["ballot_key"]) == 64


def test_opening_a_vote_outside_the_session_says_what_to_do(world: World) -> None:
    pid = _poll(world)
    with pytest.raises(Exception, match="hãy bắt đầu"):
        polls.open_poll(world.store, world.actor("chair"), pid)


def test_a_reader_holding_an_old_snapshot_only_delays_the_scrub(world: World) -> None:
    _in_session(world)
    pid = _poll(world, secrecy=Secrecy.SECRET)
    polls.open_poll(world.store, world.actor("chair"), pid)
    polls.cast_ballot(world.store, world.actor("member1"), pid, ["yes"])
    with world.store.read() as session:
        sealed = session.get_one(t.SealedBallot, (pid, world.ids["member1"])).sealed
    db = Path(str(world.store.engine.url.database))
    wal = db.with_name(db.name + "-wal")
    reader = world.store.engine.raw_connection()  # a long read (a backup, a report) pins the WAL
    try:
        cur = reader.cursor()
        cur.execute("BEGIN")
        cur.execute("SELECT count(*) FROM events").fetchall()
        polls.close_poll(world.store, world.actor("chair"), pid)
        assert sealed[:48] in wal.read_bytes()  # the old pages are still there while the reader reads
    finally:
        reader.rollback()
        reader.close()
    wait_for("the scrub after the reader left", lambda: not wal.exists() or wal.stat().st_size == 0, 20)
    assert not _found({p.name: p.read_bytes() for p in db.parent.glob(db.name + "*")}, sealed[:48])


def test_after_a_restart_a_countdown_that_ran_out_closes_once_both_tellers_unlock(world: World) -> None:
    _in_session(world)
    pid = _poll(world, secrecy=Secrecy.SECRET)
    polls.open_poll(world.store, world.actor("chair"), pid, duration_s=60)
    polls.cast_ballot(world.store, world.actor("member1"), pid, ["no"])
    world.store.ballot_keys.forget(pid)  # the restart
    later = world.store.now() + timedelta(seconds=61)
    world.store._clock = lambda: later
    with pytest.raises(polls.BallotBoxLockedError):
        polls.close_poll(world.store, None, pid)  # what the timer tries: it cannot count yet
    assert not polls.unlock_poll(world.store, world.actor("secretary"), pid, TELLER_PASSPHRASE)
    assert polls.unlock_poll(world.store, world.actor("chair"), pid, TELLER_PASSPHRASE)
    with world.store.read() as session:
        poll = session.get_one(t.Poll, pid)
        assert poll.state == "closed" and poll.ballots_cast == 1


def test_members_see_a_count_when_it_is_published_and_the_staff_when_it_closes(world: World) -> None:
    _in_session(world)
    pid = _poll(world)
    polls.open_poll(world.store, world.actor("chair"), pid)
    polls.cast_ballot(world.store, world.actor("member1"), pid, ["no"])
    polls.close_poll(world.store, world.actor("chair"), pid)
    closed = next(e for e in world.store.events(meeting_id=world.meeting_id) if e.type == "poll.closed")
    assert set(closed.message(overseer=False)["data"]) == {"meeting_id", "poll_id", "by_timer"}
    assert closed.message(overseer=True)["data"]["ballots"][0]["selection"] == ["no"]
    assert closed.record()["data"] == closed.data  # the archive keeps it whole
