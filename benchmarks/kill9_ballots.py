"""kill -9 in the middle of secret votes: are all acknowledged ballots still counted?

For each round a child process opens a secret poll (its private key lives only in that process) and
casts ballots from several threads, printing each receipt as soon as ``cast_ballot`` returns (the
moment the API would answer 201). The parent kills it with SIGKILL at a random moment, opens the
database afresh, has both tellers unlock the ballot box with their passphrases, closes the poll
and checks every acknowledged receipt against the counted ballots.

    .venv/bin/python benchmarks/kill9_ballots.py --rounds 10 --voters 40 [--database-url postgresql+psycopg://…] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meeting_room import events as ev  # noqa: E402
from meeting_room.access import Actor  # noqa: E402
from meeting_room.attendance import AttendanceStatus  # noqa: E402
from meeting_room.auth import actor_of, hash_password, new_password  # noqa: E402
from meeting_room.db import tables as t  # noqa: E402
from meeting_room.lifecycle import MeetingState  # noqa: E402
from meeting_room.roles import Role  # noqa: E402
from meeting_room.server import ensure_first_admin, open_store  # noqa: E402
from meeting_room.services import attendance, bodies, meetings, members, polls, tellers  # noqa: E402
from meeting_room.settings import load_settings  # noqa: E402
from meeting_room.store import Store  # noqa: E402
from voting import Secrecy, receipt_hash  # noqa: E402

PASSPHRASES = {"chair": "khoa cua chu toa trong phien thu", "secretary": "khoa cua thu ky trong phien thu"}

CHILD = r"""
import json, sys, threading
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
lock = threading.Lock()

def vote(chunk):
    for member in chunk:
        r = polls.cast_ballot(store, actors[member], pid, ["yes"])
        with lock:
            print("ack", member, r.receipt, flush=True)

threads = [threading.Thread(target=vote, args=(voters[i::4],)) for i in range(4)]
for th in threads: th.start()
for th in threads: th.join()
print("done", flush=True)
"""


def build(data_dir: Path, url: str | None, voters: int) -> tuple[Store, str, dict[str, str], dict[str, Actor]]:
    store = open_store(load_settings(data_dir=data_dir, database_url=url))
    ensure_first_admin(store)
    with store.read() as session:
        admin = actor_of(session.query(t.Member).filter_by(username="admin").one())
    body = bodies.create_body(store, admin, name="HĐND thử nghiệm kill -9", short_name="HĐND")
    ids = {}
    digest = hash_password(new_password())  # nobody logs in: one unknown password for all
    for name, roles in [("chair", [Role.CHAIR, Role.MEMBER]), ("secretary", [Role.SECRETARY, Role.MEMBER])] + [
        (f"member{i}", [Role.MEMBER]) for i in range(voters)
    ]:
        ids[name] = members.create_member(store, admin, full_name=f"Đại biểu {name}", roles=roles, username=name, body_id=body,
                                             password_hash=digest)  # fmt: skip
    meeting = meetings.schedule_meeting(
        store,
        admin,
        ev.MeetingScheduled(
            meeting_id=meetings.new_meeting_id(),
            body_id=body,
            title="Kỳ họp thử kill -9",
            starts_at=datetime.now(UTC) + timedelta(hours=1),
            chair_id=ids["chair"],
            secretary_id=ids["secretary"],
        ),
    )
    with store.read() as session:
        actors = {n: actor_of(session.get_one(t.Member, i)) for n, i in ids.items()}
    for who, phrase in PASSPHRASES.items():
        tellers.set_key(store, actors[who], phrase)
    meetings.transition(store, actors["chair"], meeting, MeetingState.OPEN)
    meetings.transition(store, actors["chair"], meeting, MeetingState.IN_SESSION)
    for i in ids.values():
        attendance.record(store, actors["chair"], meeting, i, AttendanceStatus.PRESENT_IN_ROOM)
    return store, meeting, ids, actors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--voters", type=int, default=40)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="a check that the benchmark runs: 1 round, 6 voters")
    args = parser.parse_args()
    if args.smoke:
        args.rounds, args.voters = 1, 6
    rng = random.Random(args.seed)
    data_dir = Path(tempfile.mkdtemp(prefix="kill9-"))
    store, meeting, ids, actors = build(data_dir, args.database_url, args.voters)
    voters = [ids[f"member{i}"] for i in range(args.voters)]
    total_acked = total_lost = total_counted = 0
    print(f"kill -9 during secret votes: {args.rounds} rounds, {args.voters} voters, {os.cpu_count()} cores, "
          f"{'PostgreSQL' if args.database_url else 'SQLite'}")  # fmt: skip
    for round_no in range(1, args.rounds + 1):
        pid = polls.create_poll(store, actors["chair"], meeting, polls.PollSpec(title=f"Bầu kín {round_no}", secrecy=Secrecy.SECRET))
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(data_dir), args.database_url or "", pid, ids["chair"], json.dumps(voters)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "open"
        kill_after = rng.randint(1, args.voters - 1)
        acked: list[str] = []
        while len(acked) < kill_after:
            line = child.stdout.readline().split()
            if not line or line[0] != "ack":
                break
            acked.append(line[2])
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        started = time.monotonic()
        fresh = open_store(load_settings(data_dir=data_dir, database_url=args.database_url))  # nothing in memory
        for who, phrase in PASSPHRASES.items():
            polls.unlock_poll(fresh, actors[who], pid, phrase)
        closed = polls.close_poll(fresh, actors["chair"], pid)
        recovered = time.monotonic() - started
        counted = {b.receipt_hash for b in closed.ballots}
        lost = [r for r in acked if receipt_hash(pid, r) not in counted]
        total_acked, total_lost, total_counted = total_acked + len(acked), total_lost + len(lost), total_counted + len(counted)
        print(f"round {round_no:2d}: killed after {len(acked):2d} acknowledged; counted {len(counted):2d}; lost {len(lost)}; "
              f"unlock + close {recovered:.2f} s")  # fmt: skip
        fresh.engine.dispose()
    ok = polls.verify_polls(store).ok
    print(f"total: acknowledged {total_acked}, counted {total_counted}, lost {total_lost}; verify {'ok' if ok else 'FAILED'}")
    sys.exit(1 if total_lost or not ok else 0)


if __name__ == "__main__":
    main()
