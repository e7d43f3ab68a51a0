"""Archive search: indexing throughput and query latency (p50/p99) on a generated archive.

    .venv/bin/python benchmarks/search_archive.py [--meetings 10000] [--lines 60] [--postgres URL|throwaway] [--smoke]

The archive is generated: each meeting gets transcript lines and minutes sections made of real
Vietnamese sentences (the minutes_vi corpus in ../shared/testdata when present, else built-in
sentences), shuffled per meeting. Documents go through the same folding and the same table (and
FTS5 triggers / GIN index) as the server's index; queries go through ``search_index.search``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import (  # noqa: E402
    Engine,  # noqa: E402
    insert,
    text,
)

from meeting_room import heap  # noqa: E402
from meeting_room.db import make_engine, migrate  # noqa: E402
from meeting_room.db import tables as t  # noqa: E402
from meeting_room.reads.search_index import Filters, search  # noqa: E402
from meeting_room.store import Store  # noqa: E402
from transcripts.search import parse_query  # noqa: E402
from transcripts.text import fold, nfc  # noqa: E402

CORPUS = ROOT.parent / "shared" / "testdata" / "minutes_vi"
FALLBACK = [
    "Chủ tọa đề nghị các đại biểu cho ý kiến về dự thảo nghị quyết dự toán ngân sách năm sau.",
    "Đại biểu Nguyễn Văn Trường đề nghị bổ sung kinh phí cho giáo dục và y tế cơ sở.",
    "Sở Kế hoạch và Đầu tư báo cáo tiến độ giải ngân vốn đầu tư công các dự án trọng điểm.",
    "Hội đồng biểu quyết thông qua kế hoạch phát triển kinh tế xã hội với đa số phiếu tán thành.",
    "Thư ký ghi nhận ý kiến của các thành viên về việc giải phóng mặt bằng đường Trường Sơn.",
]
QUERIES = ["bieu quyet", "ngan sach", "truong", '"ke hoach"', "dai bieu de nghi", "giai ngan von dau tu", "hop lop", "ket luan"]
# each query alone, and narrowed as a clerk narrows (a year and an outcome, the minutes only, one speaker)
# or as a member's search is (their meetings)
FILTERS = {
    "all": Filters(),
    "filtered": Filters(date_from="2020-01-01", date_to="2020-12-31", poll_outcome="passed"),
    "minutes": Filters(kind="minutes"),
    "speaker": Filters(speaker="Lê Thị Hoa"),
    # a member searches the meetings they took part in: here every fifth, 2,000 of 10,000
    "member": Filters(meeting_ids=frozenset(str(uuid.UUID(int=index + 1)) for index in range(0, 10_000, 5))),
}
SPEAKERS = ["Nguyễn Văn Trường", "Lê Thị Hoa", "Trần Đức Anh", "Phạm Quốc Việt", "Hoàng Minh Châu", "Đặng Thu Hà"]


def sentences() -> list[str]:
    found: list[str] = []
    if CORPUS.is_dir():
        for path in sorted(CORPUS.glob("*.md")):
            body = nfc(path.read_text(encoding="utf-8")).split("---", 2)[-1]
            for piece in re.split(r"(?<=[.!?])\s+|\n+", body):
                piece = re.sub(r"[#*_>|`\[\]()]", " ", piece)
                piece = " ".join(piece.split())
                if 30 <= len(piece) <= 300:
                    found.append(piece)
    return found + FALLBACK


def generate(engine: Engine, meetings: int, lines: int, seed: int = 7) -> tuple[int, int, float]:
    pool = sentences()
    rng = random.Random(seed)
    with engine.begin() as conn:
        conn.execute(
            insert(t.Body),
            [{"id": "b1", "name": "Hội đồng nhân dân tỉnh", "short_name": "HĐND", "created_at": datetime(2026, 1, 1, tzinfo=UTC)}],
        )
    docs = words = 0
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    day0 = date(2016, 1, 1)
    meeting_rows = []
    for index in range(meetings):
        meeting_id = str(uuid.UUID(int=index + 1))
        day = (day0 + timedelta(days=index * 3650 // meetings)).isoformat()
        moment = datetime.fromisoformat(f"{day}T01:00:00+00:00")
        meeting_rows.append({"id": meeting_id, "body_id": "b1", "title": f"Phiên họp số {index + 1}", "starts_at": moment,
                             "state": "archived", "created_at": moment, "state_changed_at": moment,
                             "last_seq": 0})  # fmt: skip
        for n in range(lines + 3):
            sentence = rng.choice(pool)
            kind = "minutes" if n >= lines else "transcript"
            batch.append({"meeting_id": meeting_id, "body_id": "b1", "meeting_date": day, "kind": kind, "ref_id": f"{index}:{n}",
                          "agenda_item_id": None, "agenda_title": None, "speaker": None if kind == "minutes" else rng.choice(SPEAKERS),
                          "speaker_member_id": None, "poll_outcomes": rng.choice([None, " passed ", " failed "]),
                          "start_s": None if kind == "minutes" else n * 20.0, "recording_id": None, "text": sentence,
                          "folded": fold(sentence)})  # fmt: skip
            words += len(sentence.split())
        if len(batch) >= 20_000 or index == meetings - 1:
            with engine.begin() as conn:
                conn.execute(insert(t.Meeting), meeting_rows)
                conn.execute(insert(t.SearchDoc), batch)
            docs += len(batch)
            batch, meeting_rows = [], []
    return docs, words, time.perf_counter() - started


def measure(engine: Engine, label: str, repeats: int) -> None:
    store = Store(engine)
    heap.settle()  # as the server does after start-up: the collector's full passes would be timed here
    with store.read() as session:  # a server's pooled connections are warm: the first search of a new one
        search(session, parse_query("khai mac"), Filters(), limit=20)  # (catalog caches, plans) is not timed
    worst = 0.0
    for q in QUERIES:
        for shown, filters in FILTERS.items():
            times, total = [], 0
            parsed = parse_query(q)
            for _ in range(repeats):
                began = time.perf_counter()
                with store.read() as session:
                    found = search(session, parsed, filters, limit=20)
                times.append((time.perf_counter() - began) * 1000)
                total = found.total
            times.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            worst = max(worst, p99)
            print(f"{label:10s} q={q!r:24s} {shown:9s} hits={total:7d} p50={statistics.median(times):7.1f} ms p99={p99:7.1f} ms")
    print(f"{label:10s} worst p99 {worst:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=60, help="transcript lines per meeting (plus 3 minutes sections)")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument(
        "--postgres", help="also measure on PostgreSQL: a scratch database URL (emptied first), or 'throwaway' to start a local server"
    )
    parser.add_argument("--sqlite-file", type=Path, help="the SQLite archive to use: generated there when absent, reused when present")
    parser.add_argument("--smoke", action="store_true", help="a check that the benchmark runs: 40 meetings of 10 lines, 3 repeats")
    args = parser.parse_args()
    if args.smoke:
        args.meetings, args.lines, args.repeats = 40, 10, 3
    print(f"cores: {os.cpu_count()}  meetings: {args.meetings}  lines/meeting: {args.lines}  corpus: {len(sentences())} sentences")
    targets = []
    folder = tempfile.mkdtemp(prefix="search-bench-")
    targets.append(("sqlite", f"sqlite:///{args.sqlite_file or Path(folder) / 'archive.sqlite3'}"))
    reuse = args.sqlite_file is not None and args.sqlite_file.exists()
    cluster = None
    if args.postgres:
        targets.append(("postgresql", args.postgres))
    for label, url in targets:
        if url == "throwaway":  # started once SQLite is measured: its start-up work would be counted there
            from tests.pgcluster import ThrowawayCluster

            cluster = ThrowawayCluster()
            cluster.start()
            url = cluster.new_database()
        engine = make_engine(url)
        if label == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrate(engine)
        if label == "sqlite" and reuse:
            measure(engine, label, args.repeats)  # the archive a previous run generated
            engine.dispose()
            continue
        docs, words, seconds = generate(engine, args.meetings, args.lines)
        if label == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE search_docs"))
        size = Path(url.split("///", 1)[1]).stat().st_size / 1e6 if label == "sqlite" else float("nan")
        print(f"{label:10s} indexed {docs} documents, {words} words in {seconds:.1f} s: {docs / seconds:.0f} docs/s, "
              f"{words / seconds:.0f} words/s; database {size:.0f} MB")  # fmt: skip
        measure(engine, label, args.repeats)
        engine.dispose()
    if cluster is not None:
        cluster.stop()
    shutil.rmtree(folder, ignore_errors=True)  # a generated archive is kept only where --sqlite-file put it


if __name__ == "__main__":
    main()
