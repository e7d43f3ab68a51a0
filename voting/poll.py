"""Polls: their kinds, options, secrecy, eligibility, lifecycle, and which ballots fit them."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from voting.errors import BallotError, PollDefinitionError, PollStateError
from voting.rules import MajorityBase, Rule

log = logging.getLogger(__name__)

MAX_OPTIONS = 200
MAX_OPINION_CHARS = 4000


class PollKind(StrEnum):
    MOTION = "motion"  # Tán thành / Không tán thành / Không biểu quyết
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    ELECTION = "election"  # candidates for a number of seats
    OPINION = "opinion"  # lấy ý kiến: a written opinion and/or options

    @property
    def label_vi(self) -> str:
        return _KIND_VI[self]


_KIND_VI = {
    PollKind.MOTION: "Biểu quyết thông qua",
    PollKind.SINGLE_CHOICE: "Chọn một phương án",
    PollKind.MULTIPLE_CHOICE: "Chọn nhiều phương án",
    PollKind.ELECTION: "Bầu cử",
    PollKind.OPINION: "Lấy ý kiến",
}


class Secrecy(StrEnum):
    NAMED = "named"  # who voted what is recorded and can be published
    SECRET = "secret"  # ballots and the list of voters are stored apart, with no link


class Eligibility(StrEnum):
    """Who may vote, fixed when the poll opens."""

    PRESENT_IN_ROOM = "present_in_room"
    PRESENT = "present"  # in the room or online
    ALL_MEMBERS = "all_members"


class PollState(StrEnum):
    CREATED = "created"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"
    CANCELLED = "cancelled"

    @property
    def label_vi(self) -> str:
        return _STATE_VI[self]


_STATE_VI = {
    PollState.CREATED: "Chưa mở",
    PollState.OPEN: "Đang biểu quyết",
    PollState.CLOSED: "Đã kết thúc",
    PollState.PUBLISHED: "Đã công bố",
    PollState.CANCELLED: "Đã hủy",
}

# The states of a vote whose result counts: closed or published (one cancelled after its close keeps
# its count in the row, void: not in the minutes, the notice or the search).
COUNTED = frozenset({PollState.CLOSED, PollState.PUBLISHED})

P = PollState
TRANSITIONS: dict[PollState, frozenset[PollState]] = {
    P.CREATED: frozenset({P.OPEN, P.CANCELLED}),
    P.OPEN: frozenset({P.CLOSED, P.CANCELLED}),
    P.CLOSED: frozenset({P.PUBLISHED, P.CANCELLED}),
    P.PUBLISHED: frozenset(),
    P.CANCELLED: frozenset(),
}


def check_transition(poll_id: str, current: PollState, target: PollState) -> None:
    allowed = TRANSITIONS[current]
    if target not in allowed:
        names = ", ".join(sorted(allowed)) or "(none: final state)"
        names_vi = ", ".join(s.label_vi for s in sorted(allowed)) or "không có (trạng thái cuối)"
        raise PollStateError(
            f"Phiên biểu quyết {poll_id} đang ở trạng thái “{current.label_vi}”, không thể chuyển sang “{target.label_vi}”. "
            f"Được phép: {names_vi}",
            f"Poll {poll_id} is {current}; cannot go to {target}. Allowed: {names}",
            poll_id=poll_id,
            state=current.value,
            requested=target.value,
            allowed=sorted(allowed),
        )
    log.info("poll %s: %s -> %s", poll_id, current, target)


@dataclass(frozen=True)
class Option:
    id: str
    label: str


MOTION_OPTIONS = (
    Option("yes", "Tán thành"),
    Option("no", "Không tán thành"),
    Option("abstain", "Không biểu quyết"),
)


def normalise_text(text: str) -> str:
    """NFC with runs of whitespace collapsed; what is stored and shown."""
    return " ".join(unicodedata.normalize("NFC", text).split())


@dataclass(frozen=True)
class Choice:
    """What one ballot says: the chosen option ids (sorted) and, for opinions, the text."""

    selection: tuple[str, ...]
    text: str | None = None


@dataclass(frozen=True)
class PollDefinition:
    kind: PollKind
    options: tuple[Option, ...]
    rule: Rule
    secrecy: Secrecy = Secrecy.NAMED
    min_choices: int = 1
    max_choices: int = 1
    seats: int | None = None

    def __post_init__(self) -> None:
        ids = [o.id for o in self.options]
        if len(set(ids)) != len(ids) or any(not i for i in ids):
            raise PollDefinitionError("Mã phương án bị trùng hoặc để trống", "Option ids must be unique and not empty", options=ids)
        labels = [normalise_text(o.label).casefold() for o in self.options]
        if len(set(labels)) != len(labels) or any(not x for x in labels):
            raise PollDefinitionError("Tên phương án bị trùng hoặc để trống", "Option labels must be unique and not empty")
        if len(ids) > MAX_OPTIONS:
            raise PollDefinitionError(
                f"Tối đa {MAX_OPTIONS} phương án", f"At most {MAX_OPTIONS} options", received=len(ids), accepted=MAX_OPTIONS
            )
        if self.kind is PollKind.MOTION and tuple(ids) != tuple(o.id for o in MOTION_OPTIONS):
            raise PollDefinitionError(
                "Biểu quyết thông qua có đúng ba phương án: Tán thành, Không tán thành, Không biểu quyết",
                "A motion has exactly the options yes, no, abstain",
                received=ids,
            )
        if self.kind in (PollKind.SINGLE_CHOICE, PollKind.MULTIPLE_CHOICE) and len(ids) < 2:
            raise PollDefinitionError("Cần ít nhất hai phương án", "At least two options are needed", received=len(ids))
        if self.kind is PollKind.ELECTION:
            if not ids:
                raise PollDefinitionError("Cần ít nhất một ứng cử viên", "An election needs at least one candidate")
            if self.seats is None or not 1 <= self.seats <= len(ids):
                raise PollDefinitionError(
                    f"Số người cần bầu phải từ 1 đến số ứng cử viên ({len(ids)})",
                    f"Seats must be between 1 and the number of candidates ({len(ids)})",
                    received=self.seats,
                )
        elif self.seats is not None:
            raise PollDefinitionError("Chỉ bầu cử mới có số người cần bầu", "Only an election has seats", received=self.seats)
        if not 0 <= self.min_choices <= self.max_choices or self.max_choices > max(len(ids), 1):
            raise PollDefinitionError(
                f"Số lựa chọn tối thiểu/tối đa không hợp lệ ({self.min_choices}..{self.max_choices} trên {len(ids)} phương án)",
                f"Invalid min/max choices ({self.min_choices}..{self.max_choices} of {len(ids)} options)",
                min_choices=self.min_choices,
                max_choices=self.max_choices,
            )
        if self.rule.base is MajorityBase.YES_NO and self.kind is not PollKind.MOTION:
            raise PollDefinitionError(
                "Cơ sở “tán thành và không tán thành” chỉ dùng cho biểu quyết thông qua",
                "The base 'yes_no' only applies to motions",
                received=self.rule.base.value,
            )
        if self.rule.threshold is None and self.kind is PollKind.MOTION:
            raise PollDefinitionError(
                "Biểu quyết thông qua cần một ngưỡng (ví dụ quá 1/2)",
                "A motion needs a threshold (e.g. > 1/2)",
            )

    @classmethod
    def build(
        cls,
        kind: PollKind,
        rule: Rule,
        *,
        options: list[Option] | None = None,
        secrecy: Secrecy = Secrecy.NAMED,
        seats: int | None = None,
        min_choices: int | None = None,
        max_choices: int | None = None,
    ) -> PollDefinition:
        """The definition with the defaults each kind implies."""
        opts = tuple(MOTION_OPTIONS) if kind is PollKind.MOTION and not options else tuple(options or ())
        defaults = {
            PollKind.MOTION: (1, 1),
            PollKind.SINGLE_CHOICE: (1, 1),
            PollKind.MULTIPLE_CHOICE: (1, len(opts)),
            PollKind.ELECTION: (0, seats or 1),  # a ballot may strike out every candidate
            PollKind.OPINION: (0, len(opts)),
        }[kind]
        low = defaults[0] if min_choices is None else min_choices
        high = defaults[1] if max_choices is None else max_choices
        if kind in (PollKind.MOTION, PollKind.SINGLE_CHOICE) and (low, high) != (1, 1):
            raise PollDefinitionError(
                "Phiên biểu quyết này chỉ cho chọn đúng một phương án", "This kind of poll takes exactly one choice", kind=kind.value
            )
        return cls(kind, opts, rule, secrecy, low, high, seats)

    def label(self, option_id: str) -> str:
        return next(o.label for o in self.options if o.id == option_id)

    def check(self, selection: list[str] | tuple[str, ...], text: str | None = None) -> Choice:
        """The ballot's choice in canonical form, or ``BallotError`` saying what is accepted."""
        known = {o.id for o in self.options}
        unknown = [s for s in selection if s not in known]
        if unknown:
            raise BallotError(
                f"Phương án không có trong phiên biểu quyết: {', '.join(unknown)}",
                f"Unknown option(s): {', '.join(unknown)}",
                received=unknown,
                accepted=sorted(known),
            )
        if len(set(selection)) != len(selection):
            raise BallotError("Một phương án được chọn hai lần", "An option was chosen twice", received=list(selection))
        if not self.min_choices <= len(selection) <= self.max_choices:
            exact = self.min_choices == self.max_choices
            want_vi = f"đúng {self.max_choices}" if exact else f"từ {self.min_choices} đến {self.max_choices}"
            want_en = f"exactly {self.max_choices}" if exact else f"{self.min_choices} to {self.max_choices}"
            raise BallotError(
                f"Phiếu phải chọn {want_vi} phương án; đã chọn {len(selection)}",
                f"A ballot must choose {want_en} option(s); it chose {len(selection)}",
                received=len(selection),
                min_choices=self.min_choices,
                max_choices=self.max_choices,
            )
        clean = normalise_text(text) if text else None
        if self.kind is not PollKind.OPINION and clean:
            raise BallotError("Chỉ phiên lấy ý kiến mới nhận ý kiến viết", "Only an opinion poll takes written text")
        if clean and len(clean) > MAX_OPINION_CHARS:
            raise BallotError(
                f"Ý kiến dài quá {MAX_OPINION_CHARS} ký tự", f"The opinion is over {MAX_OPINION_CHARS} characters", received=len(clean)
            )
        if self.kind is PollKind.OPINION and not clean and not selection:
            raise BallotError("Phiếu lấy ý kiến trống: hãy viết ý kiến hoặc chọn phương án", "Empty opinion: write text or pick an option")
        return Choice(tuple(sorted(selection)), clean or None)
