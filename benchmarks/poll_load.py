"""Many members vote at once through the real HTTP API of a running server; the chair watches.

    .venv/bin/python benchmarks/poll_load.py [--voters 500] [--skip-postgres] [--postgres-url URL]
    .venv/bin/python benchmarks/poll_load.py --voters 200 --pages 198 --spread 0 --skip-postgres   # every tablet's page open
    .venv/bin/python benchmarks/poll_load.py --smoke [--postgres-url URL]   # seconds: 8 voters (4 pages open), SQLite (or URL)

For each database (SQLite file; PostgreSQL: --postgres-url or a throwaway local server with fsync
on), the script seeds a body of N members who are present in an in-session meeting, starts the
server in its own process (uvicorn, one worker, HTTPS with its local CA trusted), logs every member in over HTTP, connects the
chair's WebSocket, opens a poll and fires all N ballots at once, or spread uniformly over ``--spread`` seconds as members
pressing their buttons in a real hall would.

Each voter has its own HTTPS connection, opened (TLS handshake done, one request answered) just
before the instant and kept alive, and sends a prepared HTTP/1.1 request on it: the measurement is
the server's work per ballot, not the handshakes nor the clients' HTTP library (the clients share
the machine's cores; their CPU per ballot is reported apart from the server's). A connection the
server closed while idle is opened again inside the measurement, and counted (``reconnects``).
``--fresh-connections`` measures the other case instead: every ballot on a new connection.
It measures, per ballot, the time from sending the request to the chair's socket delivering that
member's ``poll.ballot_cast`` event (the live tally update), the HTTP response time, and how far the
chair's view runs behind the count (from a ballot's answer to the chair seeing it; and from the last
answer to the chair's view being complete); then it
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
from datetime import UTC, datetime, timedelta
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


def seed(data_dir: str, url: str | None, voters: int) -> tuple[str, str, list[tuple[str, str]]]:
    """A body of ``voters`` members (the first two the chair and the secretary, who hold the teller keys
    a secret poll needs), all present in a meeting in session; each voter's session (token, member id)."""
    from meeting_room.auth import actor_of, open_session
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
    # Each voter's session, as a log-in opens it after checking the password (the password check,
    # argon2 on purpose, is what log-in costs; it is not what this measures): see ``login_all``.
    expires = datetime.now(UTC) + timedelta(hours=2)
    with store.read() as session:
        logins = [(open_session(store, session.get_one(t.Member, m), expires).token, m) for m in ids]
    store.engine.dispose()
    return meeting_id, first.password, logins


def login_all(server: Served, logins: list[tuple[str, str]]) -> None:
    """These voters log in over HTTPS (a new session each) and get the member id their seeded session has."""

    def one(i: int) -> None:
        r = httpx.post(
            f"{server.base}/api/auth/login", json={"username": f"db{i:03d}", "password": PASSWORD}, timeout=60, verify=server.tls
        )
        r.raise_for_status()
        if r.json()["member"]["id"] != logins[i][1]:
            raise SystemExit(f"log-in of db{i:03d} gave another member")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(len(logins))))


def _request(server: Served, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> bytes:
    """One HTTP/1.1 request, ready to write (what a tablet's browser sends, less its cookies)."""
    payload = json.dumps(body).encode() if body is not None else b""
    host = server.base.removeprefix("https://")
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nAccept: application/json\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    return head.encode() + b"\r\n" + payload


class _Connection:
    """A verified HTTPS connection to the server, kept alive; requests are written ready-made."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, server: Served, token: str | None = None) -> _Connection:
        """A connection (TLS handshake done); with ``token`` also used once (GET /api/auth/me), as a page that is open has."""
        host, port = server.base.removeprefix("https://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port), ssl=server.tls, limit=1 << 20)
        conn = cls(reader, writer)
        if token is not None and await conn.send(_request(server, "GET", "/api/auth/me", token)) != 200:
            raise SystemExit("a voter's warm-up request failed")
        return conn

    async def send(self, request: bytes) -> int | None:
        """The response's status (its body read and dropped), or None when the server had closed the connection."""
        try:
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (OSError, asyncio.IncompleteReadError):
            return None
        lines = head.decode("latin-1").split("\r\n")
        length = next((int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")), 0)
        await self.reader.readexactly(length)
        return int(lines[0].split()[1])

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except OSError:
            pass


async def run_poll(
    server: Served,
    meeting_id: str,
    logins: list[tuple[str, str]],
    secrecy: str,
    admin: str,
    spread: float,
    fresh: bool = False,
    pages: int = 0,
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
        # as a page does: the meeting read first, the stream from there (not the whole backlog again)
        head = (await client.get(f"{base}/api/meetings/{meeting_id}", headers=chair)).json()["last_event_id"]
        page_sockets = [
            await connect(server.ws_base + f"/api/meetings/{meeting_id}/stream?token={token}&after={head}", max_size=None, ssl=server.tls)
            for token in tokens[2 : pages + 2]  # members: the chair (0) and secretary (1) oversee
        ]
        page_done: list[float] = []

        async def follow(page: Any) -> None:
            """A member's open meeting page: until the count it is sent (others' ballots as count
            messages, its own as an event) reaches every ballot."""
            count = 0
            while count < len(tokens):
                msg = json.loads(await page.recv())
                if msg["kind"] == "count":
                    count = max(count, msg["ballots_cast"])
                elif msg["kind"] == "event" and msg["event"]["type"] == "poll.ballot_cast":
                    count = max(count, msg["event"]["data"]["ballots_cast"])
            page_done.append(time.perf_counter())

        async with connect(ws_url, max_size=None, ssl=server.tls) as ws:
            while json.loads(await ws.recv())["kind"] != "ready":
                pass
            for page in page_sockets:
                while json.loads(await page.recv())["kind"] != "ready":
                    pass
            followers = [asyncio.create_task(follow(page)) for page in page_sockets]
            (await client.post(f"{polls}/{pid}/open", json={}, headers=chair)).raise_for_status()
            choices = [random.choice(["yes", "yes", "no", "abstain"]) for _ in tokens]
            sent: dict[int, float] = {}
            answered: dict[int, float] = {}
            statuses: list[int] = []
            reconnects = 0

            delays = [random.uniform(0, spread) for _ in tokens]

            ballot_path = f"/api/meetings/{meeting_id}/polls/{pid}/ballots"
            requests = [_request(server, "POST", ballot_path, tokens[i], {"options": [choices[i]]}) for i in range(len(tokens))]
            conns: list[_Connection | None] = [None] * len(tokens)
            if not fresh:  # opened and used once before the instant, so that the instant measures the server
                conns = list(await asyncio.gather(*(_Connection.open(server, tokens[i]) for i in range(len(tokens)))))

            async def vote(i: int) -> None:
                nonlocal reconnects
                await asyncio.sleep(delays[i])
                sent[i] = time.perf_counter()
                conn = conns[i]
                status = await conn.send(requests[i]) if conn is not None else None
                if status is None:  # fresh connections, or the server closed this one while idle
                    reconnects += conn is not None
                    conn = await _Connection.open(server)
                    status = await conn.send(requests[i])
                answered[i] = time.perf_counter()
                statuses.append(status or 0)
                conns[i] = conn

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
            chair_wall = time.perf_counter() - start
            await asyncio.wait_for(asyncio.gather(*followers), timeout=600)
            wall, cpu, own = chair_wall, server.cpu_s() - cpu0, time.process_time() - own0
            await asyncio.gather(*(page.close() for page in page_sockets))
            await asyncio.gather(*(c.close() for c in conns if c is not None))
        closed = (await client.post(f"{polls}/{pid}/close", headers=chair)).json()
        verify = (await client.get(f"{base}/api/store/verify", headers={"Authorization": f"Bearer {admin}"})).json()
    to_tally = [(seen[logins[i][1]] - sent[i]) * 1000 for i in range(len(tokens))]
    http = [(answered[i] - sent[i]) * 1000 for i in range(len(tokens))]
    # the chair's view behind the count: from a ballot's answer (it is counted) to the chair seeing it
    behind = [(seen[logins[i][1]] - answered[i]) * 1000 for i in range(len(tokens))]
    counted = {o["id"]: o["votes"] for o in closed["result"]["options"]}
    expected = {c: choices.count(c) for c in ("yes", "no", "abstain")}
    return {
        "ok_201": statuses.count(201),
        "counted": closed["result"]["ballots_cast"],
        "exact": counted == expected and closed["result"]["ballots_cast"] == len(tokens),
        "events_seen": len(seen),
        "reconnects": reconnects,
        "tally_messages": tallies,
        "wall_s": wall,
        "server_cpu_ms": cpu * 1000 / len(tokens),
        "client_cpu_ms": own * 1000 / len(tokens),
        "p50_tally_ms": _pct(to_tally, 0.5),
        "p99_tally_ms": _pct(to_tally, 0.99),
        "max_tally_ms": max(to_tally),
        "p99_behind_ms": _pct(behind, 0.99),
        "last_behind_ms": (max(seen.values()) - max(answered.values())) * 1000,
        "p50_http_ms": _pct(http, 0.5),
        "p99_http_ms": _pct(http, 0.99),
        "verify_ok": verify["ok"] and verify["polls_checked"] >= 1,
        "pages_all_s": (max(page_done) - start) if page_done else None,
        "outcome": closed["result"]["outcome"],
    }


def bench(label: str, url: str | None, voters: int, spreads: list[float], fresh: bool = False, pages: int = 0) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        meeting_id, admin_password, logins = seed(f"{tmp}/var", url, voters)
        seeded = time.perf_counter() - t0
        env = {"MEETING_ROOM_DATABASE_URL": url} if url else {}
        with serve(f"{tmp}/var", env) as server:
            t0 = time.perf_counter()
            login_all(server, logins[:8])  # a few over HTTP: the sessions opened in the store are the ones log-in makes
            login = {"username": "admin", "password": admin_password}
            admin = httpx.post(f"{server.base}/api/auth/login", json=login, verify=server.tls).json()["token"]
            print(f"{label}: seeded {voters} members and their sessions in {seeded:.1f} s; "
                  f"{min(8, voters)} log-ins over HTTPS in {time.perf_counter() - t0:.1f} s")  # fmt: skip
            for spread, secrecy in ((sp, sec) for sp in spreads for sec in ("secret", "named")):
                r = asyncio.run(run_poll(server, meeting_id, logins, secrecy, admin, spread, fresh, pages))
                rate = f" ({voters / r['wall_s']:.0f} ballots/s)" if spread == 0 else ""
                print(
                    f"{label:<10} {secrecy:<6} {voters} voters pressing within {spread:g} s: "
                    f"201={r['ok_201']} counted={r['counted']} exact={r['exact']} verify={r['verify_ok']}; "
                    f"all in {r['wall_s']:.2f} s{rate}; cast->chair tally p50 {r['p50_tally_ms']:.0f} ms "
                    f"p99 {r['p99_tally_ms']:.0f} ms max {r['max_tally_ms']:.0f} ms; "
                    f"chair behind the count: p99 {r['p99_behind_ms']:.0f} ms, after the last answer {r['last_behind_ms']:.0f} ms; "
                    f"HTTP p50 {r['p50_http_ms']:.0f} ms p99 {r['p99_http_ms']:.0f} ms; tally msgs {r['tally_messages']}; "
                    f"{'new connection per ballot' if fresh else 'kept-alive connections, reconnects ' + str(r['reconnects'])}; "
                    f"CPU per ballot: server {r['server_cpu_ms']:.1f} ms, the voters' clients {r['client_cpu_ms']:.1f} ms"
                    + (f"; {pages} members' pages open: every ballot on every page after {r['pages_all_s']:.2f} s" if pages else "")
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
    parser.add_argument("--fresh-connections", action="store_true", help="each ballot on a new HTTPS connection (handshake included)")
    parser.add_argument(
        "--pages",
        type=int,
        default=0,
        help="members (not the chair or secretary) whose meeting page is open during the vote, as on a hall's tablets "
        "(at most voters - 2): each page's socket is told the count of ballots; the server's CPU then includes them",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="a check that the benchmark runs: 8 voters at one instant, SQLite or --postgres-url"
    )
    args = parser.parse_args()
    args.pages = max(0, min(args.pages, args.voters - 2))
    if args.smoke:
        args.voters, args.spread, args.skip_postgres, args.pages = 8, [0], not args.postgres_url, 4
    print(f"Poll load: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {args.voters} voters, one uvicorn worker")
    if not (args.smoke and args.postgres_url):
        bench("sqlite", None, args.voters, args.spread, args.fresh_connections, args.pages)
    if args.skip_postgres:
        return
    if args.postgres_url:
        bench("postgresql", args.postgres_url, args.voters, args.spread, args.fresh_connections, args.pages)
        return
    cluster = ThrowawayCluster(fsync=True)
    try:
        cluster.start()
        bench("postgresql", cluster.new_database(), args.voters, args.spread, args.fresh_connections, args.pages)
    except ClusterUnavailable as exc:
        print(f"postgresql: skipped ({exc})")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
