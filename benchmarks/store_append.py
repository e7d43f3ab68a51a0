"""How many events per second the store appends (committed, hash-chained, projected).

    .venv/bin/python benchmarks/store_append.py [--events 2000] [--threads 1 4] [--postgres-url URL] [--smoke]

SQLite: a file in a temporary directory, WAL, synchronous=FULL (each commit reaches the disk).
PostgreSQL: --postgres-url, or a throwaway local server (Debian package postgresql) with fsync on.
Each event is an attendance record decided against the read models, as in a live meeting.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meeting_room import events as ev  # noqa: E402
from meeting_room.db import make_engine, migrate  # noqa: E402
from meeting_room.store import Store  # noqa: E402
from tests.pgcluster import ClusterUnavailable, ThrowawayCluster  # noqa: E402

MEMBERS = 50


def _seed(store: Store) -> None:
    store.append(ev.BodyCreated(body_id="b", name="HĐND tỉnh (benchmark)", short_name="HĐND"))
    for i in range(MEMBERS):
        store.append(ev.MemberCreated(member_id=f"m{i}", body_id="b", full_name=f"Đại biểu {i}", roles=["member"]))
    store.append(ev.MeetingScheduled(meeting_id="mt", body_id="b", title="Kỳ họp", starts_at=datetime.now(UTC)))
    for i in range(MEMBERS):
        store.append(ev.ParticipantAdded(meeting_id="mt", member_id=f"m{i}", role="member"))
    store.append(ev.MeetingStateChanged(meeting_id="mt", from_state="scheduled", to_state="open"))


def _run(store: Store, events: int, threads: int) -> tuple[float, list[float]]:
    from meeting_room.attendance import AttendanceSource, AttendanceStatus
    from meeting_room.services.attendance import record

    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = events // threads

    def work(k: int) -> None:
        mine = []
        for i in range(per_thread):
            status = AttendanceStatus.PRESENT_IN_ROOM if i % 2 else AttendanceStatus.PRESENT_ONLINE
            t0 = time.perf_counter()
            record(store, None, "mt", f"m{(k * per_thread + i) % MEMBERS}", status, AttendanceSource.FACE, confidence=0.9, camera="cam-1")
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    start = time.perf_counter()
    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return time.perf_counter() - start, latencies


def bench(label: str, url: str, events: int, threads: list[int]) -> None:
    for n in threads:
        engine = make_engine(url)
        migrate(engine)
        store = Store(engine)
        if store.is_empty():
            _seed(store)
        elapsed, lat = _run(store, events, n)
        report = store.verify()
        assert report.ok, report
        lat_ms = sorted(x * 1000 for x in lat)
        print(
            f"{label:<10} threads={n}  events={len(lat)}  {len(lat) / elapsed:8.1f} events/s  "
            f"latency mean {statistics.mean(lat_ms):6.2f} ms  p95 {lat_ms[int(0.95 * len(lat_ms)) - 1]:6.2f} ms  "
            f"(chain verified: {report.events} events)"
        )
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--postgres-url", help="an existing PostgreSQL database (it gets the schema)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="a check that the benchmark runs: 40 events, SQLite or --postgres-url")
    args = parser.parse_args()
    if args.smoke:
        args.events, args.threads, args.skip_postgres = 40, [1, 2], not args.postgres_url
    print(f"store append benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {args.events} events per run")
    with tempfile.TemporaryDirectory() as tmp:
        if not (args.smoke and args.postgres_url):
            bench("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args.events, args.threads)
    if args.skip_postgres:
        return
    if args.postgres_url:
        bench("postgresql", args.postgres_url, args.events, args.threads)
        return
    cluster = ThrowawayCluster(fsync=True)
    try:
        cluster.start()
        bench("postgresql", cluster.new_database(), args.events, args.threads)
    except ClusterUnavailable as exc:
        print(f"postgresql: skipped ({exc})")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
