"""Many members vote at once through the real HTTP API of a running server; the chair watches.

    .venv/bin/python benchmarks/poll_load.py [--voters 500] [--skip-postgres] [--postgres-url URL]
    .venv/bin/python benchmarks/poll_load.py --smoke [--postgres-url URL]   # seconds: 8 voters, SQLite (or URL)

For each database (SQLite file; PostgreSQL: --postgres-url or a throwaway local server with fsync
on), the script seeds a body of N members who are present in an in-session meeting, starts the
server in its own process (uvicorn, one worker, HTTPS with its local CA trusted), logs every member in over HTTP, connects the
chair's WebSocket, opens a poll and fires all N ballots at once (asyncio, one connection each), or spread uniformly over
``--spread`` seconds as members pressing their buttons in a real hall would.
It measures, per ballot, the time from sending the request to the chair's socket delivering that
member's ``poll.ballot_cast`` event (the live tally update), and the HTTP response time; then it
closes the poll and checks that every ballot was counted exactly once, matching what was sent,
and that ``/api/store/verify`` recounts the same result. Run for a secret and a named motion.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from served import Served, serve  # noqa: E402  (this folder: the script's own)

from meeting_room import events as ev  # noqa: E402
from meeting_room.attendance import AttendanceStatus  # noqa: E402
from meeting_room.auth import hash_password  # noqa: E402
from meeting_room.lifecycle import MeetingState  # noqa: E402
from meeting_room.roles import Role  # noqa: E402
from meeting_room.server import ensure_first_admin, open_store  # noqa: E402
from meeting_room.services import attendance, bodies, meetings, members, tellers  # noqa: E402
from meeting_room.settings import load_settings  # noqa: E402
from tests.pgcluster import ClusterUnavailable, ThrowawayCluster  # noqa: E402

PASSWORD = "mat-khau-dai-bieu"
TELLER_PASSPHRASE = "khoa kiem phieu do tai"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def seed(data_dir: str, url: str | None, voters: int) -> tuple[str, str]:
    """A body of ``voters`` members (the first two the chair and the secretary, who hold the teller keys
    a secret poll needs), all present in a meeting in session."""
    from meeting_room.auth import actor_of
    from meeting_room.db import tables as t

    store = open_store(load_settings(data_dir=data_dir, database_url=url))
    first = ensure_first_admin(store)
    assert first is not None
    with store.read() as session:
        admin = actor_of(session.query(t.Member).filter_by(username="admin").one())
    body = bodies.create_body(store, admin, name="Hội đồng nhân dân tỉnh (đo tải)", short_name="HĐND")
    digest = hash_password(PASSWORD)
    ids = []
    for i in range(voters):
        roles = [[Role.CHAIR, Role.MEMBER], [Role.SECRETARY, Role.MEMBER]][i] if i < 2 else [Role.MEMBER]
        member_id = members.create_member(store, admin, full_name=f"Đại biểu số {i:03d}", roles=roles, username=f"db{i:03d}", body_id=body,
                                           password_hash=digest)  # fmt: skip
        ids.append(member_id)
    meeting_id = meetings.schedule_meeting(
        store,
        admin,
        ev.MeetingScheduled(
            meeting_id=meetings.new_meeting_id(),
            body_id=body,
            title="Kỳ họp đo tải",
            starts_at=datetime.now(UTC),
            chair_id=ids[0],
            secretary_id=ids[1],
        ),
    )
    with store.read() as session:
        for member_id in ids[:2]:
            tellers.set_key(store, actor_of(session.get_one(t.Member, member_id)), TELLER_PASSPHRASE)
    chair = admin
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
        meetings.transition(store, chair, meeting_id, state)
    for member_id in ids:
        attendance.record(store, chair, meeting_id, member_id, AttendanceStatus.PRESENT_IN_ROOM)
    store.engine.dispose()
    return meeting_id, first.password


def login_all(server: Served, voters: int) -> list[tuple[str, str]]:
    """(token, member id) of every voter, logged in over HTTP."""

    def one(i: int) -> tuple[str, str]:
        r = httpx.post(
            f"{server.base}/api/auth/login", json={"username": f"db{i:03d}", "password": PASSWORD}, timeout=60, verify=server.tls
        )
        r.raise_for_status()
        return str(r.json()["token"]), str(r.json()["member"]["id"])

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(voters)))


async def run_poll(
    server: Served, meeting_id: str, logins: list[tuple[str, str]], secrecy: str, admin: str, spread: float
) -> dict[str, Any]:
    tokens = [token for token, _ in logins]
    base = server.base
    chair = {"Authorization": f"Bearer {tokens[0]}"}
    polls = f"{base}/api/meetings/{meeting_id}/polls"
    limits = httpx.Limits(max_connections=len(tokens) + 10, max_keepalive_connections=len(tokens) + 10)
    async with httpx.AsyncClient(timeout=120, limits=limits, verify=server.tls) as client:
        poll = (await client.post(polls, json={"title": f"Biểu quyết đo tải ({secrecy})", "secrecy": secrecy,
                                               "rule": {"preset": "hdnd_resolution"}}, headers=chair)).json()  # fmt: skip
        pid = poll["id"]
        ws_url = server.ws_base + f"/api/meetings/{meeting_id}/stream?token={tokens[0]}"
        seen: dict[str, float] = {}
        tallies = 0
        async with connect(ws_url, max_size=None, ssl=server.tls) as ws:
            while json.loads(await ws.recv())["kind"] != "ready":
                pass
            (await client.post(f"{polls}/{pid}/open", json={}, headers=chair)).raise_for_status()
            choices = [random.choice(["yes", "yes", "no", "abstain"]) for _ in tokens]
            sent: dict[int, float] = {}
            answered: dict[int, float] = {}
            statuses: list[int] = []

            delays = [random.uniform(0, spread) for _ in tokens]

            async def vote(i: int) -> None:
                await asyncio.sleep(delays[i])
                sent[i] = time.perf_counter()
                r = await client.post(
                    f"{polls}/{pid}/ballots", json={"options": [choices[i]]}, headers={"Authorization": f"Bearer {tokens[i]}"}
                )
                answered[i] = time.perf_counter()
                statuses.append(r.status_code)

            async def watch() -> None:
                nonlocal tallies
                while len(seen) < len(tokens):
                    msg = json.loads(await ws.recv())
                    if msg["kind"] == "tally":
                        tallies += 1
                    elif msg["kind"] == "event" and msg["event"]["type"] == "poll.ballot_cast":
                        seen[msg["event"]["data"]["voter_id"]] = time.perf_counter()

            cpu0, own0, start = server.cpu_s(), time.process_time(), time.perf_counter()
            watcher = asyncio.create_task(watch())
            await asyncio.gather(*(vote(i) for i in range(len(tokens))))
            await asyncio.wait_for(watcher, timeout=120)
            wall, cpu, own = time.perf_counter() - start, server.cpu_s() - cpu0, time.process_time() - own0
        closed = (await client.post(f"{polls}/{pid}/close", headers=chair)).json()
        verify = (await client.get(f"{base}/api/store/verify", headers={"Authorization": f"Bearer {admin}"})).json()
    to_tally = [(seen[logins[i][1]] - sent[i]) * 1000 for i in range(len(tokens))]
    http = [(answered[i] - sent[i]) * 1000 for i in range(len(tokens))]
    counted = {o["id"]: o["votes"] for o in closed["result"]["options"]}
    expected = {c: choices.count(c) for c in ("yes", "no", "abstain")}
    return {
        "ok_201": statuses.count(201),
        "counted": closed["result"]["ballots_cast"],
        "exact": counted == expected and closed["result"]["ballots_cast"] == len(tokens),
        "events_seen": len(seen),
        "tally_messages": tallies,
        "wall_s": wall,
        "server_cpu_ms": cpu * 1000 / len(tokens),
        "client_cpu_ms": own * 1000 / len(tokens),
        "p50_tally_ms": _pct(to_tally, 0.5),
        "p99_tally_ms": _pct(to_tally, 0.99),
        "max_tally_ms": max(to_tally),
        "p50_http_ms": _pct(http, 0.5),
        "p99_http_ms": _pct(http, 0.99),
        "verify_ok": verify["ok"] and verify["polls_checked"] >= 1,
        "outcome": closed["result"]["outcome"],
    }


def bench(label: str, url: str | None, voters: int, spreads: list[float]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        meeting_id, admin_password = seed(f"{tmp}/var", url, voters)
        seeded = time.perf_counter() - t0
        env = {"MEETING_ROOM_DATABASE_URL": url} if url else {}
        with serve(f"{tmp}/var", env) as server:
            t0 = time.perf_counter()
            logins = login_all(server, voters)
            login = {"username": "admin", "password": admin_password}
            admin = httpx.post(f"{server.base}/api/auth/login", json=login, verify=server.tls).json()["token"]
            print(f"{label}: seeded {voters} members in {seeded:.1f} s; {voters} log-ins in {time.perf_counter() - t0:.1f} s")
            for spread, secrecy in ((sp, sec) for sp in spreads for sec in ("secret", "named")):
                r = asyncio.run(run_poll(server, meeting_id, logins, secrecy, admin, spread))
                rate = f" ({voters / r['wall_s']:.0f} ballots/s)" if spread == 0 else ""
                print(
                    f"{label:<10} {secrecy:<6} {voters} voters pressing within {spread:g} s: "
                    f"201={r['ok_201']} counted={r['counted']} exact={r['exact']} verify={r['verify_ok']}; "
                    f"all in {r['wall_s']:.2f} s{rate}; cast->chair tally p50 {r['p50_tally_ms']:.0f} ms "
                    f"p99 {r['p99_tally_ms']:.0f} ms max {r['max_tally_ms']:.0f} ms; "
                    f"HTTP p50 {r['p50_http_ms']:.0f} ms p99 {r['p99_http_ms']:.0f} ms; tally msgs {r['tally_messages']}; "
                    f"CPU per ballot: server {r['server_cpu_ms']:.1f} ms, the voters' clients {r['client_cpu_ms']:.1f} ms"
                )
                if not (r["exact"] and r["verify_ok"] and r["ok_201"] == voters and r["events_seen"] == voters):
                    raise SystemExit(f"{label} {secrecy}: ballots lost or miscounted: {r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voters", type=int, default=500)
    parser.add_argument(
        "--spread", type=float, nargs="+", default=[0, 20], help="seconds over which the voters press (0: all at the same instant)"
    )
    parser.add_argument("--postgres-url", help="an existing, empty PostgreSQL database")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--smoke", action="store_true", help="a check that the benchmark runs: 8 voters at one instant, SQLite or --postgres-url"
    )
    args = parser.parse_args()
    if args.smoke:
        args.voters, args.spread, args.skip_postgres = 8, [0], not args.postgres_url
    print(f"Poll load: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {args.voters} voters, one uvicorn worker")
    if not (args.smoke and args.postgres_url):
        bench("sqlite", None, args.voters, args.spread)
    if args.skip_postgres:
        return
    if args.postgres_url:
        bench("postgresql", args.postgres_url, args.voters, args.spread)
        return
    cluster = ThrowawayCluster(fsync=True)
    try:
        cluster.start()
        bench("postgresql", cluster.new_database(), args.voters, args.spread)
    except ClusterUnavailable as exc:
        print(f"postgresql: skipped ({exc})")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
