"""The conclusion notice ("Thông báo kết luận", the notice form of Decree 30/2020/NĐ-CP): content and draft.

After the meeting the chair's conclusion on each agenda item is issued as a notice that the chair
alone signs. ``Notice`` holds everything the document shows, in words; the application builds it from
the meeting record and the minutes, the secretary edits each conclusion, and ``pdf`` renders it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from transcripts.errors import MinutesError
from transcripts.minutes import Person, PollTable, vn_date, vn_time
from transcripts.text import nfc

# "Kết luận:", "Chủ tọa kết luận:", "KẾT LUẬN" at the start of a line of the minutes' section text
_CONCLUSION = re.compile(
    r"^[^\S\n]*(?:[-–•*][^\S\n]*)?(?:kết luận\b[^\S\n]*[:.\-–]?|[^\n:]{0,60}?\skết luận[^\S\n]*:)[^\S\n]*", re.IGNORECASE | re.MULTILINE
)


@dataclass(frozen=True)
class NoticeItem:
    """One agenda item and the chair's conclusion on it (empty: not written yet)."""

    item_id: str
    title: str
    text: str

    def paragraphs(self) -> list[str]:
        return [paragraph for paragraph in self.text.split("\n") if paragraph.strip()]

    @property
    def empty(self) -> bool:
        return not self.paragraphs()


@dataclass(frozen=True)
class Notice:
    parent_name: str | None  # cơ quan chủ quản
    body_name: str
    number: str  # "…/TB-UBND" without "Số: "
    title: str  # the meeting's name
    started_at: datetime  # aware, in the time zone people read
    place: str  # where the meeting was held
    locality: str  # the place name of the date line (địa danh)
    issued_on: date | None  # the date line; None leaves it blank
    chair: Person | None
    present: int
    total: int
    items: tuple[NoticeItem, ...]
    authority: str  # the signer's capacity line above the chair's title: "TM. …", "KT. …", "TL. …"
    recipients: tuple[str, ...] = ()
    version: int = 0
    meeting_id: str = ""

    def chair_label(self) -> str:
        """"Chủ tịch UBND tỉnh Nguyễn Văn A": the title, then the name."""
        if self.chair is None:
            return "chủ tọa"
        return f"{self.chair.title} {self.chair.name}" if self.chair.title else self.chair.name

    def heading(self) -> str:
        return f"Kết luận của {self.chair_label()} tại {self.title}"

    def opening(self) -> str:
        where = f", tại {self.place}" if self.place else ""
        return (
            f"Vào {vn_time(self.started_at)}, {vn_date(self.started_at)}{where}, {self.chair_label()} chủ trì {self.title}. "
            f"Tham dự cuộc họp có {self.present}/{self.total} thành viên. Sau khi nghe báo cáo và ý kiến của các thành viên dự họp, "
            f"{self.chair_label()} kết luận như sau:"
        )

    def date_line(self) -> str:
        where = self.locality or "……"
        return f"{where}, {vn_date(self.issued_on) if self.issued_on else 'ngày … tháng … năm …'}"

    def signer_title(self) -> str:
        return (self.chair.title if self.chair and self.chair.title else "Chủ tọa").upper()

    def check_signable(self) -> None:
        """Refuse to have the notice signed while an agenda item has no conclusion."""
        unwritten = [item.title for item in self.items if item.empty]
        if unwritten:
            names_vi = ", ".join(f"“{title}”" for title in unwritten)
            names_en = ", ".join(repr(title) for title in unwritten)
            raise MinutesError(
                f"Chưa thể ký thông báo kết luận: mục {names_vi} chưa có kết luận; hãy soạn kết luận trước khi ký",
                f"The conclusion notice cannot be signed yet: item {names_en} has no conclusion; write it before signing",
                sections=unwritten,
            )


def conclusion_of(minutes_text: str, polls: Sequence[PollTable]) -> str:
    """The first draft of one item's conclusion: what the minutes' text says after "kết luận", else
    each poll's outcome (passed or not, with the counts), else nothing for the secretary to write."""
    text = nfc(minutes_text)
    found = _CONCLUSION.search(text)
    if found:
        rest = text[found.end() :].strip()
        if rest:
            return rest[0].upper() + rest[1:]
    return "\n".join(f"Biểu quyết “{poll.title}”: {poll.result()}" for poll in polls)
