"""Meeting minutes ("Biên bản", Mẫu 1.9 of Decree 30/2020/NĐ-CP): the content and its draft.

``Minutes`` holds everything the document shows, already in words; the application builds it
from the meeting record, the secretary edits the text of each section, and ``pdf``/``docx``
render it. Nothing here reads a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from transcripts.errors import MinutesError
from transcripts.text import clean_line

MAX_SECTION_CHARS = 20_000
# what a draft once said for a section with nothing in it; versions saved then still hold it, and
# it is never printed
UNWRITTEN = "(Chưa có nội dung)"


@dataclass(frozen=True)
class Person:
    name: str
    title: str | None = None

    def label(self) -> str:
        return f"{self.name} – {self.title}" if self.title else self.name


@dataclass(frozen=True)
class Attendee:
    name: str
    title: str | None = None
    reason: str | None = None  # why absent, when given

    def label(self) -> str:
        text = f"{self.name} – {self.title}" if self.title else self.name
        return f"{text} (lý do: {self.reason})" if self.reason else text


@dataclass(frozen=True)
class Attendance:
    in_room: tuple[Attendee, ...] = ()
    online: tuple[Attendee, ...] = ()
    absent_excused: tuple[Attendee, ...] = ()
    absent_unexcused: tuple[Attendee, ...] = ()
    left_early: tuple[Attendee, ...] = ()

    def groups(self) -> list[tuple[str, tuple[Attendee, ...]]]:
        """Non-empty groups with their Vietnamese headings, in the order minutes list them."""
        named = [
            ("Có mặt tại phòng họp", self.in_room),
            ("Tham dự trực tuyến", self.online),
            ("Rời cuộc họp trước khi kết thúc", self.left_early),
            ("Vắng mặt có lý do", self.absent_excused),
            ("Vắng mặt không có lý do", self.absent_unexcused),
        ]
        return [(title, people) for title, people in named if people]

    @property
    def present(self) -> int:
        return len(self.in_room) + len(self.online)

    @property
    def total(self) -> int:
        return self.present + len(self.left_early) + len(self.absent_excused) + len(self.absent_unexcused)


@dataclass(frozen=True)
class PollRow:
    label: str
    votes: int
    percent: str | None  # "62,50" of the rule's base, Vietnamese decimal comma
    selected: bool


@dataclass(frozen=True)
class PollTable:
    """One poll's result as the minutes print it: the question, the rule applied, the count, the outcome."""

    title: str
    rule: str
    electorate: str
    rows: tuple[PollRow, ...]
    outcome: str
    reason: str
    secret: bool = False
    opinion: bool = False  # an opinion poll (lấy ý kiến), not a vote
    by_option: tuple[tuple[str, tuple[str, ...]], ...] = ()  # a named vote: who chose each option, printed under its count

    @property
    def heading(self) -> str:
        return "Lấy ý kiến" if self.opinion else "Biểu quyết"

    def named_lines(self) -> list[str]:
        """A named vote's voters, option by option ("Tán thành (3): Lê Văn An, Trần Bình, Võ Thị Cúc.")."""
        return [f"{label} ({len(names)}): {', '.join(names)}." for label, names in self.by_option if names]

    def result(self) -> str:
        """The outcome and why, said once: a reason that opens with the outcome ("Không thông qua: tán
        thành 10/25…") is the whole sentence, never "Không thông qua. Không thông qua: …"."""
        if not self.outcome:
            return self.reason
        if self.reason.startswith(self.outcome) and self.reason[len(self.outcome) :][:1] in (":", ".", ""):
            return self.reason
        return f"{self.outcome}. {self.reason}".strip()


@dataclass(frozen=True)
class Turn:
    """What one speaker said without interruption (consecutive transcript lines merged)."""

    speaker: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Section:
    """One agenda item: its title, the (editable) account of the discussion, and its polls.

    An agenda item must be written before the minutes are signed; an ``optional`` section (what was
    said outside the agenda) is left out when it holds nothing.
    """

    item_id: str
    title: str
    text: str
    polls: tuple[PollTable, ...] = ()
    optional: bool = False

    def paragraphs(self) -> list[str]:
        """The text's paragraphs; none for a section nobody has written."""
        if self.text.strip() == UNWRITTEN:
            return []
        return [paragraph for paragraph in self.text.split("\n") if paragraph.strip()]

    @property
    def empty(self) -> bool:
        return not self.paragraphs() and not self.polls


@dataclass(frozen=True)
class TranscriptEntry:
    start: float
    speaker: str
    text: str


@dataclass(frozen=True)
class Minutes:
    parent_name: str | None  # cơ quan chủ quản
    body_name: str
    number: str  # "Số: …/BB-UBND" without "Số: "
    title: str  # the meeting's name, printed under BIÊN BẢN
    started_at: datetime  # aware, in the time zone people read
    ended_at: datetime | None
    place: str
    chair: Person | None
    secretary: Person | None
    attendance: Attendance
    sections: tuple[Section, ...]
    opening: str = ""
    closing: str = ""
    recipients: tuple[str, ...] = ()
    transcript: tuple[TranscriptEntry, ...] = ()
    version: int = 0
    meeting_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def printed_sections(self) -> list[Section]:
        """The sections the document shows, in order: an empty optional one is left out."""
        return [section for section in self.sections if not (section.optional and section.empty)]

    def check_signable(self) -> None:
        """Refuse to have minutes signed while an agenda item has nothing written under it."""
        unwritten = [section.title for section in self.printed_sections() if section.empty]
        if unwritten:
            names_vi = ", ".join(f"“{title}”" for title in unwritten)
            names_en = ", ".join(repr(title) for title in unwritten)
            raise MinutesError(
                f"Chưa thể ký biên bản: mục {names_vi} chưa có nội dung; hãy soạn nội dung trước khi ký",
                f"The minutes cannot be signed yet: section {names_en} has no text; write it before signing",
                sections=unwritten,
            )

    def closing_sentence(self) -> str:
        if self.closing:
            return self.closing
        if self.ended_at is None:
            return "Cuộc họp kết thúc vào … giờ …, ngày … tháng … năm …/."
        return f"Cuộc họp kết thúc vào {vn_time(self.ended_at)}, {vn_date(self.ended_at)}./."


def vn_time(moment: datetime) -> str:
    return f"{moment.hour:02d} giờ {moment.minute:02d}"


def vn_date(moment: date) -> str:
    # Decree 30: day and month below 10 and month below 3 are written with a leading zero
    return f"ngày {moment.day:02d} tháng {moment.month:02d} năm {moment.year}"


def clock(seconds: float) -> str:
    """HH:MM:SS from the start of the recording."""
    whole = int(max(0.0, seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def merge_turns(lines: Iterable[TranscriptEntry], *, gap_s: float = 30.0, end_of: Sequence[float] | None = None) -> list[Turn]:
    """Consecutive lines of one speaker become one turn (unless they are ``gap_s`` apart)."""
    turns: list[Turn] = []
    for index, line in enumerate(lines):
        end = end_of[index] if end_of is not None else line.start
        text = line.text.strip()
        if not text:
            continue
        if turns and turns[-1].speaker == line.speaker and line.start - turns[-1].end <= gap_s:
            last = turns[-1]
            turns[-1] = Turn(last.speaker, last.start, max(last.end, end), f"{last.text} {text}")
        else:
            turns.append(Turn(line.speaker, line.start, end, text))
    return turns


def draft_text(turns: Sequence[Turn], *, description: str | None = None, max_turn_chars: int = 1200, opinions: Sequence[str] = ()) -> str:
    """The first draft of one section: the opinions asked before the meeting (lines given), then who said
    what, in order. A poll's outcome is not in it: the section's poll table prints it (with the rule and the
    counts) right under the text, and a walk-through's secretary found every result printed twice.

    It is a draft for the secretary to condense; the verbatim record is the transcript appendix.
    """
    parts: list[str] = []
    if description:
        parts.append(clean_line(description))
    parts += [clean_line(line) for line in opinions]
    for turn in turns:
        text = turn.text if len(turn.text) <= max_turn_chars else turn.text[: max_turn_chars - 1].rstrip() + "…"
        parts.append(f"- {turn.speaker} ({clock(turn.start)}): {text}")
    return "\n".join(parts)


def check_section_text(item: str, text: str) -> str:
    """The secretary's text for a section, cleaned; refuses what cannot be printed. An empty text is
    kept (a draft may be saved half-written): signing is what refuses an empty item (``check_signable``)."""
    cleaned = clean_line(text)
    if len(cleaned) > MAX_SECTION_CHARS:
        raise MinutesError(
            f"Nội dung mục “{item}” dài {len(cleaned)} ký tự, vượt giới hạn {MAX_SECTION_CHARS}",
            f"The text of section {item!r} has {len(cleaned)} characters; at most {MAX_SECTION_CHARS} are accepted",
        )
    bad = sorted({ch for ch in cleaned if ord(ch) < 32 and ch not in "\n\t"})
    if bad:
        raise MinutesError(
            f"Nội dung mục “{item}” chứa ký tự điều khiển không in được",
            f"The text of section {item!r} contains control characters {[hex(ord(c)) for c in bad]}",
        )
    return cleaned


def poll_table(
    result: dict[str, Any], title: str, *, secret: bool, opinion: bool = False, choices: Sequence[tuple[str, Sequence[str]]] = ()
) -> PollTable:
    """A ``voting`` result (its JSON form) as a minutes table; ``choices``: a named vote's ballots as (voter's name,
    option ids chosen), listed under the table option by option (a secret one's never reach here)."""
    electorate = result.get("electorate", {})
    rows = tuple(
        PollRow(o["label"], int(o["votes"]), o["percent"].replace(".", ",") if o.get("percent") else None, bool(o.get("selected")))
        for o in result.get("options", [])
    )
    counts = (
        f"Tổng số thành viên: {electorate.get('members', '—')}; có mặt: {electorate.get('present', '—')}; "
        f"số phiếu: {result.get('ballots_cast', 0)}"
    )
    rule = result.get("rule", {}).get("description") or ""
    return PollTable(
        title=title,
        rule=rule,
        electorate=counts,
        rows=rows,
        outcome=result.get("outcome_label") or result.get("outcome", ""),
        reason=result.get("reason", ""),
        secret=secret,
        opinion=opinion,
        by_option=_by_option(result, choices),
    )


def _by_option(result: dict[str, Any], choices: Sequence[tuple[str, Sequence[str]]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    options = [(o["id"], o["label"]) for o in result.get("options", []) if "id" in o]
    return tuple(
        (label, tuple(sorted((name for name, chosen in choices if option in chosen), key=str.casefold))) for option, label in options
    )
