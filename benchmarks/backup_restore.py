"""Backup and restore times: the demo data, and a database of many held meetings.

    .venv/bin/python benchmarks/backup_restore.py [--meetings 1000] [--postgres SRC_URL DST_URL] [--smoke]

Both databases are built through the real store and services (members, a room, meetings scheduled,
opened, attended, with agenda items, a PDF document, transcript lines and a closing), then backed up
with ``meeting_room.operations.backup.backup`` and restored into an empty data directory (and, for PostgreSQL,
the empty database DST_URL) with ``restore``, and verified (``Store.verify``: the whole chain).
Prints the machine's core count, the sizes and the times.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from meeting_room import events as ev  # noqa: E402
from meeting_room.access import Actor  # noqa: E402
from meeting_room.attendance import AttendanceStatus  # noqa: E402
from meeting_room.auth import actor_of, hash_password, new_password  # noqa: E402
from meeting_room.db import tables as t  # noqa: E402
from meeting_room.demo import load_demo  # noqa: E402
from meeting_room.files.documents import DocumentFiles  # noqa: E402
from meeting_room.lifecycle import MeetingState  # noqa: E402
from meeting_room.operations.backup import backup, restore  # noqa: E402
from meeting_room.operations.integrity import check_database  # noqa: E402
from meeting_room.roles import Role  # noqa: E402
from meeting_room.server import ensure_first_admin, open_store  # noqa: E402
from meeting_room.services import agenda, attendance, bodies, documents, meetings, members, rooms, transcripts  # noqa: E402
from meeting_room.settings import Settings, load_settings  # noqa: E402
from meeting_room.store import Store  # noqa: E402
from speech.transcript import Segment  # noqa: E402

SAYS = [
    "Chủ tọa đề nghị các đại biểu cho ý kiến về dự thảo nghị quyết dự toán ngân sách năm sau.",
    "Đại biểu đề nghị bổ sung kinh phí cho giáo dục và y tế cơ sở.",
    "Sở Kế hoạch và Đầu tư báo cáo tiến độ giải ngân vốn đầu tư công các dự án trọng điểm.",
    "Thư ký ghi nhận ý kiến của các thành viên về việc giải phóng mặt bằng.",
]


def _pdf(n: int) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, f"To trinh so {n}")
    c.showPage()
    c.save()
    return buf.getvalue()


def _admin(store: Store) -> Actor:
    ensure_first_admin(store)
    with store.read() as session:
        return actor_of(session.query(t.Member).filter_by(username="admin").one())


def build_meetings(settings: Settings, store: Store, count: int) -> None:
    admin = _admin(store)
    body = bodies.create_body(store, admin, name="Hội đồng nhân dân tỉnh Đo Đạc", short_name="HĐND")
    digest = hash_password(new_password())  # nobody logs in: one unknown password for all
    people = [
        members.create_member(store, admin, full_name=f"Đại biểu {i}", roles=[Role.CHAIR if i == 0 else Role.MEMBER],
                              username=f"db{i}", body_id=body, password_hash=digest)
        for i in range(12)
    ]  # fmt: skip
    room = rooms.create_room(store, admin, name="Hội trường", location="Tầng 1", seats=[f"G{i}" for i in range(12)])
    files = DocumentFiles(settings.documents_dir, 50 << 20)
    chair = None
    started = time.perf_counter()
    for n in range(count):
        meeting_id = meetings.schedule_meeting(
            store, admin,
            ev.MeetingScheduled(meeting_id=meetings.new_meeting_id(), body_id=body, title=f"Phiên họp số {n + 1}", room_id=room,
                                starts_at=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=n), chair_id=people[0]),
        )  # fmt: skip
        if chair is None:
            with store.read() as session:
                chair = actor_of(session.get_one(t.Member, people[0]))
        items = [agenda.add_item(store, admin, meeting_id, title=title) for title in ("Khai mạc", "Thảo luận", "Bế mạc")]
        documents.attach(store, files, admin, meeting_id, items[1], source=io.BytesIO(_pdf(n)), filename=f"tt-{n}.pdf", title=None)
        for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
            meetings.transition(store, chair, meeting_id, state)
        for member_id in people[:8]:
            attendance.record(store, chair, meeting_id, member_id, AttendanceStatus.PRESENT_IN_ROOM)
        pass_id = transcripts.new_pass(store, meeting_id, "live", "whisper-base")
        for i, text in enumerate(SAYS * 2):
            transcripts.add_segment(store, meeting_id, pass_id, Segment(i * 10.0, i * 10.0 + 8, text, avg_logprob=-0.2), None)
        transcripts.end_pass(store, meeting_id, pass_id, "completed", audio_s=80.0)
        meetings.transition(store, chair, meeting_id, MeetingState.CLOSED)
        if (n + 1) % 100 == 0:
            print(f"  {n + 1} meetings, {store.head_seq()} events, {time.perf_counter() - started:.0f} s", flush=True)


def measure(label: str, settings: Settings, store: Store, work: Path, target_url: str | None) -> None:
    began = time.perf_counter()
    check_database(store.engine)  # what every start-up does: quick_check and the chain's newest links
    print(f"{label}: start-up checks {time.perf_counter() - began:.2f} s")
    dest = work / f"backup-{label}"
    report = backup(settings, store, dest)
    print(f"{label}: backup  {report.seconds:6.2f} s  {report.events} events, {report.files} files, {report.size / 1e6:.1f} MB")
    target = load_settings(data_dir=work / f"restored-{label}", database_url=target_url)
    restored = restore(target, dest)
    began = time.perf_counter()
    again = open_store(target, check_chain=False)
    chain = again.verify()
    verify_s = time.perf_counter() - began
    assert chain.ok and chain.events == report.events and chain.head == report.head, chain
    print(f"{label}: restore {restored.seconds:6.2f} s  (+ open and verify the whole chain {verify_s:.2f} s)")
    again.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=1000)
    parser.add_argument("--postgres", nargs=2, metavar=("SRC_URL", "DST_URL"), help="two empty PostgreSQL databases")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="a check that the benchmark runs: 3 meetings, no demo")
    args = parser.parse_args()
    if args.smoke:
        args.meetings, args.skip_demo = 3, True
    source_url, target_url = args.postgres or (None, None)
    print(f"{os.cpu_count()} cores; database: {'postgresql' if source_url else 'sqlite'}")
    with tempfile.TemporaryDirectory(prefix="backup-bench-") as tmp:
        work = Path(tmp)
        if not args.skip_demo:
            settings = load_settings(data_dir=work / "demo", database_url=source_url)
            store = open_store(settings)
            load_demo(store, _admin(store))
            measure("demo", settings, store, work, target_url)
            store.engine.dispose()
            if source_url:
                return  # one pair of databases per run
        settings = load_settings(data_dir=work / "many", database_url=source_url)
        store = open_store(settings)
        began = time.perf_counter()
        build_meetings(settings, store, args.meetings)
        print(f"built {args.meetings} meetings in {time.perf_counter() - began:.0f} s")
        measure(f"{args.meetings}-meetings", settings, store, work, target_url)
        store.engine.dispose()


if __name__ == "__main__":
    main()
