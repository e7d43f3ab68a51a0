"""A sample of minutes (with decomposed NFD text, as some keyboards type it) and the fonts."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone

import pytest

from transcripts.fonts import FontSet, find_fonts
from transcripts.minutes import Attendance, Attendee, Minutes, Person, PollRow, PollTable, Section, TranscriptEntry, Turn, draft_text
from transcripts.pdf import RenderedMinutes, render_minutes

VN = timezone(timedelta(hours=7))
FAILED = PollTable(  # a motion that failed, as ``voting`` words it
    "Thông qua Đề án sắp xếp đơn vị hành chính cấp xã",
    "quá 1/2 tổng số thành viên tán thành",
    "Tổng số thành viên: 25; có mặt: 20; số phiếu: 20",
    (PollRow("Tán thành", 10, "40,00", False), PollRow("Không tán thành", 10, "40,00", False)),
    "Không thông qua",
    "Không thông qua: tán thành 10/25 tổng số thành viên (40,00%); cần quá 1/2 (ít nhất 13).",
)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.fixture(scope="session")
def fonts() -> FontSet:
    return find_fonts()


def sample_minutes(transcript_lines: int = 40) -> Minutes:
    poll = PollTable(
        "Thông qua Nghị quyết về kế hoạch đầu tư công năm 2027",
        "quá 1/2 tổng số thành viên tán thành",
        "Tổng số thành viên: 25; có mặt: 20; số phiếu: 20",
        (
            PollRow("Tán thành", 18, "72,00", True),
            PollRow("Không tán thành", 1, "4,00", False),
            PollRow("Không biểu quyết", 1, "4,00", False),
        ),
        "Thông qua",
        "Thông qua: tán thành 18/25 tổng số thành viên (72,00%)",
    )
    turns = [Turn("Nguyễn Văn Trường", 12.0, 40.0, nfd("Đề nghị các phòng đẩy nhanh tiến độ giải ngân vốn đầu tư công."))]
    return Minutes(
        parent_name="Ủy ban nhân dân tỉnh Quảng Trị",
        body_name="Sở Kế hoạch và Đầu tư",
        number="/BB-SKHĐT",
        title=nfd("Họp giao ban tháng 11 năm 2026"),
        started_at=datetime(2026, 11, 20, 8, 0, tzinfo=VN),
        ended_at=datetime(2026, 11, 20, 11, 15, tzinfo=VN),
        place="Phòng họp số 1, trụ sở Sở Kế hoạch và Đầu tư",
        chair=Person("Nguyễn Văn Trường", "Giám đốc Sở"),
        secretary=Person("Lê Thị Hoa", "Chuyên viên Văn phòng"),
        attendance=Attendance(
            in_room=(Attendee("Nguyễn Văn Trường", "Giám đốc Sở"), Attendee("Lê Thị Hoa")),
            online=(Attendee("Trần Đức Anh", "Phó Giám đốc"),),
            absent_excused=(Attendee("Phạm Quốc Việt", None, "đi công tác"),),
        ),
        sections=(Section("i1", "Báo cáo tình hình giải ngân vốn đầu tư công", draft_text(turns), (poll,)),),
        recipients=("Các thành viên dự họp", "UBND tỉnh (để báo cáo)"),
        transcript=tuple(
            TranscriptEntry(i * 7.5, "Nguyễn Văn Trường", f"Câu thứ {i}: chúng ta biểu quyết kế hoạch") for i in range(transcript_lines)
        ),
    )


@pytest.fixture(scope="session")
def rendered(fonts: FontSet) -> RenderedMinutes:
    return render_minutes(sample_minutes(), fonts)
