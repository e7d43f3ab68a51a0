"""Polls: create, open, cast, close, publish, cancel; the live tally, receipts and verification.

Ballot secrecy. For every poll the log records *who* voted (``poll.ballot_cast``) but not *what*.
A secret poll's ballot is sealed to the poll's public key and stored with its voter (one per
member, durable); the private key lives only in this server's memory, and split between the two
tellers for a crash (``services.tellers``). When the poll closes, the ballots are opened and enter
the log at once in the order of their content (``published_order``) without voters; then the key, its shares
and the sealed ballots are destroyed and the database scrubbed (``Store.scrub``). A named poll's
ballots wait in the ballot box with the voter's id. A receipt proves a ballot is counted; changing
a secret ballot takes the voter's own session *and* the receipt (``receipt_check``).
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, require_meeting_role, require_own_login, require_staff, require_view
from meeting_room.attendance import AttendanceStatus
from meeting_room.db import tables as t
from meeting_room.errors import (
    ChainError,
    ConflictError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
)
from meeting_room.lifecycle import EDITABLE, MeetingState, require_state
from meeting_room.roles import BodyKind, MeetingRole, counts_as_member
from meeting_room.services import tellers
from meeting_room.store import Decided, Store, Together
from meeting_room.text import check_text
from transcripts.bilingual import BilingualError
from voting import (
    PRESETS,
    CastBallot,
    Choice,
    Electorate,
    Eligibility,
    Option,
    PollDefinition,
    PollKind,
    PollState,
    PollStateError,
    Rule,
    SealedContent,
    Secrecy,
    check_transition,
    custom_rule,
    new_receipt,
    normalise_receipt,
    preset,
    published_order,
    receipt_hash,
    tally,
)
from voting.receipt import receipt_check
from voting.sealing import KeyPair, ballot_size, open_ballot, seal, seal_ballot, share_context, split

log = logging.getLogger(__name__)
MAX_DURATION_S = 24 * 3600
_STARTABLE = frozenset({MeetingState.SCHEDULED, MeetingState.OPEN, MeetingState.ADJOURNED})
# Tables that held what must not outlive an open secret poll (scrubbed after it closes).
_BALLOT_BOX_TABLES = ("sealed_ballots", "poll_key_shares", "ballot_box")


# --- rules and definitions ---------------------------------------------------------------------


def resolve_rule(spec: ev.RuleSpec) -> ev.RuleSpec:
    """The rule spelled out in full, so that a later change to a preset cannot change a stored result."""
    if spec.preset is not None:
        if spec.base or spec.threshold or spec.quorum:
            raise InvalidInputError(
                "Chọn một quy tắc có sẵn hoặc tự đặt cơ sở/ngưỡng, không cả hai",
                "Give a preset or a custom base/threshold, not both",
            )
        rule = preset(spec.preset)
    else:
        if not spec.base:
            raise InvalidInputError(
                "Cần chọn quy tắc biểu quyết (preset) hoặc cơ sở tính (base) và ngưỡng (threshold)",
                "A rule is needed: a preset, or a base and a threshold",
                accepted_presets=list(PRESETS),
            )
        rule = custom_rule(spec.base, spec.threshold, spec.quorum)
    return ev.RuleSpec(
        preset=spec.preset,
        base=rule.base.value,
        threshold=str(rule.threshold) if rule.threshold else None,
        quorum=str(rule.quorum) if rule.quorum else None,
    )


def rule_of(spec: ev.RuleSpec) -> Rule:
    assert spec.base is not None  # stored specs are resolved
    rule = custom_rule(spec.base, spec.threshold, spec.quorum)
    known = PRESETS.get(spec.preset or "")
    if known is not None and (known.base, known.threshold, known.quorum) == (rule.base, rule.threshold, rule.quorum):
        return known
    return rule


def definition_of(poll: t.Poll | ev.PollCreated) -> PollDefinition:
    """The poll's definition from its read model row or from its ``poll.created`` event."""
    if isinstance(poll, ev.PollCreated):
        options, rule = [o.model_dump() for o in poll.options], poll.rule
    else:
        options, rule = poll.options, ev.RuleSpec.model_validate(poll.rule)
    return PollDefinition(
        PollKind(poll.kind),
        tuple(Option(o["option_id"], o["label"]) for o in options),
        rule_of(rule),
        Secrecy(poll.secrecy),
        poll.min_choices,
        poll.max_choices,
        poll.seats,
    )


@dataclass(frozen=True)
class PollSpec:
    """What the chair asks for; the defaults are those of a named motion."""

    title: str
    kind: PollKind = PollKind.MOTION
    rule: ev.RuleSpec | None = None  # None: the rule of the meeting's body (``BodyKind.default_rule``)
    options: list[str] = field(default_factory=list)
    seats: int | None = None
    min_choices: int | None = None
    max_choices: int | None = None
    secrecy: Secrecy = Secrecy.NAMED
    eligibility: Eligibility = Eligibility.PRESENT
    allow_change: bool = False
    agenda_item_id: str | None = None
    description: str | None = None


def poll_of(session: Session, poll_id: str, meeting_id: str | None = None) -> t.Poll:
    poll = session.get(t.Poll, poll_id)
    if poll is None or (meeting_id is not None and poll.meeting_id != meeting_id):
        raise NotFoundError(f"Không có phiên biểu quyết {poll_id}", f"No poll {poll_id}", poll_id=poll_id)
    return poll


def new_poll_id() -> str:
    return str(uuid.uuid4())


# --- commands ----------------------------------------------------------------------------------


def _body_rule(store: Store, meeting_id: str) -> ev.RuleSpec:
    """The rule a vote of this meeting follows when none is given: its body's (a council's
    resolution needs more than half of all its delegates, not of those present)."""
    with store.read() as session:
        body = session.get(t.Body, get_meeting(session, meeting_id).body_id)
        return ev.RuleSpec(preset=BodyKind(body.kind).default_rule if body is not None else BodyKind.OTHER.default_rule)


def create_poll(store: Store, actor: Actor, meeting_id: str, spec: PollSpec, poll_id: str | None = None) -> str:
    """Prepare a poll (the meeting's chair or secretary); it opens later."""
    rule = resolve_rule(spec.rule or _body_rule(store, meeting_id))
    options = [Option(f"o{i}", label) for i, label in enumerate(spec.options, start=1)]
    definition = PollDefinition.build(
        spec.kind,
        rule_of(rule),
        options=options or None,
        secrecy=spec.secrecy,
        seats=spec.seats,
        min_choices=spec.min_choices,
        max_choices=spec.max_choices,
    )
    poll_id = poll_id or new_poll_id()

    def decide(session: Session) -> ev.EventPayload:
        meeting = get_meeting(session, meeting_id)
        require_staff(session, actor, meeting, action_vi="tạo phiên biểu quyết", action_en="create polls")
        require_state(meeting.id, MeetingState(meeting.state), EDITABLE, "tạo phiên biểu quyết", "create a poll", title=meeting.title)
        if spec.agenda_item_id is not None:
            item = session.get(t.AgendaItem, spec.agenda_item_id)
            if item is None or item.meeting_id != meeting_id:
                raise NotFoundError(
                    f"Không có mục chương trình {spec.agenda_item_id} trong cuộc họp này",
                    f"No agenda item {spec.agenda_item_id} in this meeting",
                    agenda_item_id=spec.agenda_item_id,
                )
        return ev.PollCreated(
            meeting_id=meeting_id,
            poll_id=poll_id,
            agenda_item_id=spec.agenda_item_id,
            title=spec.title,
            description=spec.description,
            kind=definition.kind,
            options=[ev.PollOptionSpec(option_id=o.id, label=o.label) for o in definition.options],
            seats=definition.seats,
            min_choices=definition.min_choices,
            max_choices=definition.max_choices,
            secrecy=spec.secrecy,
            eligibility=spec.eligibility,
            allow_change=spec.allow_change,
            rule=rule,
        )

    store.append(decide, actor_id=actor.member_id)
    return poll_id


def electorate(session: Session, meeting_id: str, eligibility: Eligibility) -> tuple[list[str], int, int]:
    """(eligible member ids, voting members, members present) from the attendance right now."""
    found = session.execute(
        select(t.Participant.member_id, t.Attendance.status, t.Participant.role, t.Member.roles)
        .join(t.Member, t.Member.id == t.Participant.member_id)
        .outerjoin(
            t.Attendance,
            (t.Attendance.meeting_id == t.Participant.meeting_id) & (t.Attendance.member_id == t.Participant.member_id),
        )
        .where(t.Participant.meeting_id == meeting_id, t.Participant.role != MeetingRole.GUEST.value)
        .order_by(t.Participant.member_id)
    ).all()
    rows = [(m, status) for m, status, role, standing in found if counts_as_member(role, standing or [])]
    present = {m for m, status in rows if status is not None and AttendanceStatus(status).present}
    in_room = {m for m, status in rows if status == AttendanceStatus.PRESENT_IN_ROOM.value}
    everyone = [m for m, _ in rows]
    eligible = {
        Eligibility.ALL_MEMBERS: everyone,
        Eligibility.PRESENT: [m for m in everyone if m in present],
        Eligibility.PRESENT_IN_ROOM: [m for m in everyone if m in in_room],
    }[eligibility]
    return eligible, len(everyone), len(present)


def open_poll(store: Store, actor: Actor, poll_id: str, duration_s: int | None = None) -> ev.PollOpened:
    """Open the vote (the chair); the electorate is fixed from attendance at this moment."""
    if duration_s is not None and not 10 <= duration_s <= MAX_DURATION_S:
        raise InvalidInputError(
            f"Thời gian biểu quyết phải từ 10 giây đến {MAX_DURATION_S // 3600} giờ",
            f"The countdown must be between 10 s and {MAX_DURATION_S} s",
            received=duration_s,
        )

    def decide(session: Session) -> ev.EventPayload:
        poll = poll_of(session, poll_id)
        meeting = get_meeting(session, poll.meeting_id)
        require_meeting_role(session, actor, meeting, {MeetingRole.CHAIR}, action_vi="mở biểu quyết", action_en="open a poll")
        state = MeetingState(meeting.state)
        if state is not MeetingState.IN_SESSION:
            hint = state in _STARTABLE
            raise InvalidTransitionError(
                f"Chỉ mở biểu quyết khi cuộc họp đang diễn ra; cuộc họp đang “{state.label_vi}”"
                + (": hãy bắt đầu (hoặc tiếp tục) phiên họp trước" if hint else ""),
                f"A vote opens only while the meeting is in session; it is {state}"
                + (": start (or resume) the session first" if hint else ""),
                meeting_id=meeting.id,
                state=state.value,
                allowed=[MeetingState.IN_SESSION.value],
            )
        check_transition(poll_id, PollState(poll.state), PollState.OPEN)
        already = session.scalars(
            select(t.Poll).where(
                t.Poll.meeting_id == meeting.id,
                t.Poll.state == PollState.OPEN.value,
                t.Poll.id != poll_id,
                t.Poll.before_meeting.is_(False),  # an opinion asked before the meeting runs to its own deadline
            )
        ).first()
        if already is not None:
            raise ConflictError(
                f"Đang có biểu quyết “{already.title}” mở: hãy kết thúc hoặc hủy trước khi mở biểu quyết khác",
                f"The vote “{already.title}” is open: close or cancel it before opening another",
                open_poll_id=already.id,
                open_poll_title=already.title,
            )
        eligible, members, present = electorate(session, meeting.id, Eligibility(poll.eligibility))
        if not eligible:
            raise ConflictError(
                "Chưa có thành viên nào đủ điều kiện biểu quyết: hãy điểm danh trước khi mở biểu quyết",
                "Nobody is eligible to vote yet: record attendance before opening the poll",
                eligibility=poll.eligibility,
            )
        closes_at = store.now() + timedelta(seconds=duration_s) if duration_s else None
        ballot_key, teller_list = None, None
        if poll.secrecy == Secrecy.SECRET.value:
            keys = tellers.require_keys(session, meeting)
            for teller, share in zip(keys, split(pair.private), strict=True):
                sealed = seal(bytes.fromhex(teller.public_key), share, share_context(poll_id, teller.member_id))
                session.add(t.PollKeyShare(poll_id=poll_id, teller_id=teller.member_id, sealed=sealed))
            ballot_key, teller_list = pair.public.hex(), [k.member_id for k in keys]
        return ev.PollOpened(
            meeting_id=meeting.id,
            poll_id=poll_id,
            eligible=eligible,
            members=members,
            present=present,
            closes_at=closes_at,
            ballot_key=ballot_key,
            tellers=teller_list,
        )

    pair = KeyPair.generate()  # used by a secret poll only: its private half never reaches the disk
    stored = store.append(decide, actor_id=actor.member_id)
    opened = ev.PollOpened.model_validate(stored.data)
    if opened.ballot_key is not None:
        store.ballot_keys.hold(poll_id, pair.private)
    return opened


@dataclass(frozen=True)
class CastReceipt:
    receipt: str | None  # None when a named ballot was changed: the first receipt still holds
    ballots_cast: int
    eligible: int
    replaced: bool
    opinion: bool = False  # an opinion poll: its page and messages speak of opinions, not votes
    secret: bool = False  # a secret ballot: its receipt is the voter's only way to check it (a named one is published by name)


@dataclass(frozen=True)
class _Ask:
    """One member's ballot as sent, checked for form; decided against the poll in ``_cast_all``."""

    actor: Actor
    selection: list[str]
    text: str | None
    given: str | None  # the receipt sent to change a secret ballot, normalised
    code: str  # the receipt a first ballot gets


def cast_ballot(
    store: Store,
    actor: Actor,
    poll_id: str,
    selection: list[str],
    text: str | None = None,
    receipt: str | None = None,
    *,
    meeting_id: str | None = None,
) -> CastReceipt:
    """Cast (or, where the poll allows, change) the actor's ballot; returns the receipt code once.
    With ``meeting_id`` the poll must belong to that meeting (else it is not found).

    Ballots sent at the same moment (a hall pressing together) are decided together by the store
    (``Together``): the same rules, each ballot's own answer, the poll read once for all of them."""
    decide, together = _ballot(store, actor, poll_id, selection, text, receipt, meeting_id)
    return store.decide(decide, actor_id=actor.member_id, together=together)[1]


async def cast_ballot_async(
    store: Store,
    actor: Actor,
    poll_id: str,
    selection: list[str],
    text: str | None = None,
    receipt: str | None = None,
    *,
    meeting_id: str | None = None,
) -> CastReceipt:
    """``cast_ballot`` from the event loop: the ballot waits for its commit without a worker thread."""
    decide, together = _ballot(store, actor, poll_id, selection, text, receipt, meeting_id)
    return (await store.decide_async(decide, actor_id=actor.member_id, together=together))[1]


def _ballot(
    store: Store, actor: Actor, poll_id: str, selection: list[str], text: str | None, receipt: str | None, meeting_id: str | None
) -> tuple[Callable[[Session], Decided[CastReceipt]], Together[CastReceipt]]:
    """A ballot checked for form, as a decision alone and as one that may go with others."""
    if text is not None:  # what the close's event will hold: refused here, not by the close (one voter could block it)
        check_text(text, "text", multiline=True)
    given = normalise_receipt(receipt) if receipt else None
    if receipt and given is None:
        raise InvalidInputError(
            "Mã biên nhận không đúng dạng (16 ký tự, ví dụ K7QX-3MPA-9TZC-R2DE)",
            "The receipt code is malformed (16 symbols, e.g. K7QX-3MPA-9TZC-R2DE)",
            field="receipt",
        )
    ask = _Ask(actor, list(selection), text, given, new_receipt())

    def decide_all(session: Session, asks: Sequence[_Ask]) -> list[Decided[CastReceipt] | Exception | None]:
        return _cast_all(session, poll_id, meeting_id, asks, store.now)

    def decide(session: Session) -> Decided[CastReceipt]:
        (outcome,) = decide_all(session, [ask])
        if isinstance(outcome, Exception):
            raise outcome
        assert outcome is not None  # a run of one asks nothing to be decided alone
        return outcome

    return decide, Together(("ballot", poll_id, meeting_id), ask, decide_all)


def _takes_ballots(poll: t.Poll, now: datetime) -> None:
    """Raise unless the poll takes ballots at ``now`` (open, its countdown or deadline not passed)."""
    poll_id = poll.id
    state = PollState(poll.state)
    if poll.before_meeting and (state is PollState.CLOSED or (poll.closes_at is not None and now >= poll.closes_at)):
        raise PollStateError(
            f"Đã hết hạn góp ý cho “{poll.title}”: ý kiến không được ghi nhận",
            f"The deadline for opinions on “{poll.title}” has passed: the answer was not recorded",
            poll_id=poll_id,
            closes_at=poll.closes_at.isoformat() if poll.closes_at else None,
        )
    if state is not PollState.OPEN:
        raise PollStateError(
            f"Phiên biểu quyết “{poll.title}” đang ở trạng thái “{state.label_vi}”: không nhận phiếu",
            f"Poll {poll_id} is {state}: it takes no ballots",
            poll_id=poll_id,
            state=state.value,
        )
    if poll.closes_at is not None and now >= poll.closes_at:
        raise PollStateError(
            "Đã hết thời gian biểu quyết: phiếu không được ghi nhận",
            "Voting time is over: the ballot was not recorded",
            poll_id=poll_id,
            closes_at=poll.closes_at.isoformat(),
        )


def _cast_all(
    session: Session, poll_id: str, meeting_id: str | None, asks: Sequence[_Ask], clock: Callable[[], datetime]
) -> list[Decided[CastReceipt] | Exception | None]:
    """Decide ballots for one poll in arrival order, each by the rules of one ballot alone, in their
    order (who may see the meeting first: an outsider learns nothing of the poll), each its own answer.

    An unknown poll is raised for all. A member's next ask after one of theirs was taken in ``asks`` is
    left to be decided alone, after the others (None): it must see the first one's effects. So the
    answers are those of deciding one at a time; only such a repeat's event comes later in the log.
    First ballots are written one statement a table."""
    poll = poll_of(session, poll_id, meeting_id)
    meeting = get_meeting(session, poll.meeting_id)
    ids = list(dict.fromkeys(a.actor.member_id for a in asks))
    if len(asks) > 1:  # the participants' rows into the session: ``require_view`` then reads none of them one by one
        session.scalars(select(t.Participant).where(t.Participant.meeting_id == meeting.id, t.Participant.member_id.in_(ids))).all()
    eligible = set(
        session.scalars(select(t.PollEligible.member_id).where(t.PollEligible.poll_id == poll_id, t.PollEligible.member_id.in_(ids)))
    )
    voted = set(session.scalars(select(t.PollVoter.member_id).where(t.PollVoter.poll_id == poll_id, t.PollVoter.member_id.in_(ids))))
    definition = definition_of(poll)
    secret = poll.secrecy == Secrecy.SECRET.value
    count = poll.ballots_cast
    taken: set[str] = set()
    first: list[tuple[_Ask, Choice]] = []
    outcomes: list[Decided[CastReceipt] | Exception | None] = []
    for ask in asks:
        member_id = ask.actor.member_id
        if member_id in taken:
            outcomes.append(None)
            continue
        try:
            choice = _admit(session, poll, meeting, ask, member_id in eligible, definition, clock())
            if member_id in voted:
                _check_change(session, poll, ask.actor, ask.given)
                assert ask.given is not None or not secret
                _replace_ballot(session, poll, ask.actor, ask.given, choice)
            else:
                first.append((ask, choice))
                count += 1
        except BilingualError as exc:  # this voter's refusal (``MeetingRoomError`` or ``VotingError``): nothing of it written
            outcomes.append(exc)
            continue
        taken.add(member_id)
        changed = member_id in voted
        cast = ev.BallotCast(
            meeting_id=meeting.id,
            poll_id=poll_id,
            voter_id=member_id,
            ballots_cast=count,
            eligible=poll.eligible_count or 1,
            replaced=changed,
        )
        # a change keeps the first receipt: a secret one was just checked as the voter's own; a named one
        # is not asked for it, so whatever was sent is not echoed back as if it were (an attacker's probe)
        receipt = (ask.given if secret else None) if changed else ask.code
        outcomes.append(Decided(cast, CastReceipt(receipt, count, poll.eligible_count or 0, changed, poll.kind == "opinion", secret)))
    _put_first_ballots(session, poll, definition, first)
    return outcomes


def _admit(
    session: Session, poll: t.Poll, meeting: t.Meeting, ask: _Ask, eligible: bool, definition: PollDefinition, now: datetime
) -> Choice:
    """Whether this voter may cast in this poll now, and their choice as the poll's definition reads it."""
    require_view(session, ask.actor, meeting)
    if needs_own_login(poll):
        vi, en = ("bỏ phiếu kín", "cast a secret ballot") if poll.secrecy == Secrecy.SECRET.value else ("biểu quyết", "vote")
        require_own_login(ask.actor, action_vi=vi, action_en=en)
    _takes_ballots(poll, now)
    if not eligible:
        raise PermissionDeniedError(
            "Bạn không có quyền biểu quyết trong phiên này (chưa có mặt khi mở biểu quyết hoặc không phải thành viên)",
            "You may not vote in this poll (not present when it opened, or not a voting member)",
            poll_id=poll.id,
            eligibility=poll.eligibility,
        )
    return definition.check(ask.selection, ask.text)


def _check_change(session: Session, poll: t.Poll, actor: Actor, given: str | None) -> None:
    """A change needs a poll that allows it and, for a secret ballot, the voter's own receipt."""
    if not poll.allow_change:
        raise ConflictError(
            "Bạn đã bỏ phiếu; phiên biểu quyết này không cho phép sửa phiếu",
            "You have already voted; this poll does not allow changing a ballot",
            poll_id=poll.id,
        )
    if poll.secrecy == Secrecy.NAMED.value:
        return
    if given is None:
        raise InvalidInputError(
            "Để sửa phiếu kín, hãy nhập mã biên nhận đã nhận khi bỏ phiếu",
            "To change a secret ballot, give the receipt code you received when voting",
            field="receipt",
        )
    if not _owns_receipt(session, poll.id, actor.member_id, given):
        raise PermissionDeniedError(
            "Mã biên nhận này không phải của bạn: chỉ người đã bỏ phiếu mới sửa được phiếu của mình",
            "This receipt is not yours: only the voter can change their own ballot",
            field="receipt",
        )


def _owns_receipt(session: Session, poll_id: str, member_id: str, code: str) -> bool:
    row = session.get(t.ReceiptCheck, (poll_id, member_id))
    return row is not None and secrets.compare_digest(row.check, receipt_check(poll_id, code, member_id))


def _replace_ballot(session: Session, poll: t.Poll, actor: Actor, code: str | None, choice: Choice) -> None:
    """Replace the voter's ballot (a change): sealed for a secret poll, in the ballot box for a named one."""
    if poll.secrecy == Secrecy.NAMED.value:
        box = session.scalars(select(t.BallotBox).where(t.BallotBox.poll_id == poll.id, t.BallotBox.voter_id == actor.member_id)).one()
        box.selection, box.text = list(choice.selection), choice.text
        return
    assert code is not None and poll.ballot_key is not None
    session.get_one(t.SealedBallot, (poll.id, actor.member_id)).sealed = _sealed(poll, code, choice, ballot_size(definition_of(poll)))


def _sealed(poll: t.Poll, code: str, choice: Choice, size: int) -> bytes:
    assert poll.ballot_key is not None
    content = SealedContent(receipt_hash(poll.id, code), choice.selection, choice.text)
    return seal_ballot(bytes.fromhex(poll.ballot_key), poll.id, content, size)


def _put_first_ballots(session: Session, poll: t.Poll, definition: PollDefinition, first: list[tuple[_Ask, Choice]]) -> None:
    """Voters' first ballots (sealed for a secret poll, in the ballot box for a named one) and the
    checks of their receipts: one statement a table however many voted at once."""
    if not first:
        return
    if poll.secrecy == Secrecy.NAMED.value:
        boxed = [
            {"poll_id": poll.id, "receipt_hash": receipt_hash(poll.id, ask.code), "selection": list(choice.selection), "text": choice.text,
             "voter_id": ask.actor.member_id}
            for ask, choice in first
        ]  # fmt: skip
        session.execute(insert(t.BallotBox), boxed)
    else:
        size = ballot_size(definition)
        sealed = [
            {"poll_id": poll.id, "member_id": ask.actor.member_id, "sealed": _sealed(poll, ask.code, choice, size)} for ask, choice in first
        ]
        session.execute(insert(t.SealedBallot), sealed)
    checks = [
        {"poll_id": poll.id, "member_id": ask.actor.member_id, "check": receipt_check(poll.id, ask.code, ask.actor.member_id)}
        for ask, _ in first
    ]
    session.execute(insert(t.ReceiptCheck), checks)


def close_poll(store: Store, actor: Actor | None, poll_id: str) -> ev.PollClosed:
    """Close the vote and count it (the chair; ``actor=None`` is the countdown running out)."""

    def decide(session: Session) -> ev.EventPayload:
        poll = poll_of(session, poll_id)
        meeting = get_meeting(session, poll.meeting_id)
        if actor is not None:
            require_meeting_role(session, actor, meeting, {MeetingRole.CHAIR}, action_vi="kết thúc biểu quyết", action_en="close a poll")
        elif poll.closes_at is None or store.now() < poll.closes_at:
            raise PollStateError("Chưa hết thời gian biểu quyết", "The countdown has not run out", poll_id=poll_id)
        check_transition(poll_id, PollState(poll.state), PollState.CLOSED)
        records = sorted(_ballots_in_box(store, session, poll), key=lambda r: published_order(r.selection, r.text, r.receipt_hash))
        voters = session.scalar(select(func.count()).select_from(t.PollVoter).where(t.PollVoter.poll_id == poll_id)) or 0
        if len(records) != voters:
            raise ChainError(
                f"Hòm phiếu có {len(records)} phiếu nhưng {voters} người đã bỏ phiếu: không thể kết thúc",
                f"The ballot box holds {len(records)} ballots but {voters} members voted: refusing to close",
                poll_id=poll_id,
            )
        electorate = Electorate(poll.members or 0, poll.present or 0, poll.eligible_count or 0)
        result = _count(definition_of(poll), electorate, records)
        return ev.PollClosed(meeting_id=meeting.id, poll_id=poll_id, by_timer=actor is None, ballots=records, result=result)

    stored = store.append(decide, actor_id=actor.member_id if actor else None)
    _destroy_key(store, poll_id)
    return ev.PollClosed.model_validate(stored.data)


def unlock_poll(store: Store, actor: Actor, poll_id: str, passphrase: str) -> bool:
    """A teller gives their passphrase after a restart; once both have, a poll whose countdown ran
    out meanwhile is closed at once (its timer gave up while the key was missing)."""
    status = tellers.open_share(store, actor, poll_id, passphrase)
    if status.unlocked:
        with store.read() as session:
            closes_at = session.scalar(select(t.Poll.closes_at).where(t.Poll.id == poll_id, t.Poll.state == PollState.OPEN.value))
        if closes_at is not None and store.now() >= closes_at:
            close_poll(store, None, poll_id)
    return status.unlocked


class BallotBoxLockedError(ConflictError):
    """A secret poll's key is not in this server's memory (a restart): the tellers must unlock it."""

    code = "ballot_box_locked"


def _ballots_in_box(store: Store, session: Session, poll: t.Poll) -> list[ev.BallotRecord]:
    if poll.secrecy == Secrecy.NAMED.value:
        rows = session.scalars(select(t.BallotBox).where(t.BallotBox.poll_id == poll.id))
        return [ev.BallotRecord(receipt_hash=r.receipt_hash, selection=list(r.selection), text=r.text, voter_id=r.voter_id) for r in rows]
    private = store.ballot_keys.private(poll.id)
    if private is None:
        raise BallotBoxLockedError(
            "Hòm phiếu kín đang khóa (máy chủ đã khởi động lại): chủ tọa và thư ký cần nhập mật khẩu khóa kiểm phiếu để mở",
            "The secret ballot box is locked (the server restarted): the chair and the secretary must each give their teller passphrase",
            poll_id=poll.id,
        )
    opened = [
        open_ballot(private, poll.id, blob)
        for blob in session.scalars(select(t.SealedBallot.sealed).where(t.SealedBallot.poll_id == poll.id))
    ]
    return [ev.BallotRecord(receipt_hash=c.receipt_hash, selection=list(c.selection), text=c.text) for c in opened]


def _destroy_key(store: Store, poll_id: str) -> None:
    """After a secret poll's close or cancel has committed: forget the key and scrub what held the ballots."""
    with store.read() as session:
        secret = session.scalar(select(t.Poll.ballot_key).where(t.Poll.id == poll_id)) is not None
    if secret:
        store.ballot_keys.forget(poll_id)
        store.scrub(*_BALLOT_BOX_TABLES)


def _count(definition: PollDefinition, electorate: Electorate, records: list[ev.BallotRecord]) -> dict[str, Any]:
    ballots = [CastBallot(r.receipt_hash, Choice(tuple(r.selection), r.text), r.voter_id) for r in records]
    return tally(definition, ballots, electorate).to_dict(definition)


def publish_poll(store: Store, actor: Actor, poll_id: str) -> None:
    """Make the result (and, for named polls, each member's vote) visible to every participant."""

    def decide(session: Session) -> ev.EventPayload:
        poll = poll_of(session, poll_id)
        meeting = get_meeting(session, poll.meeting_id)
        require_meeting_role(session, actor, meeting, {MeetingRole.CHAIR}, action_vi="công bố kết quả", action_en="publish a result")
        check_transition(poll_id, PollState(poll.state), PollState.PUBLISHED)
        return ev.PollPublished(meeting_id=meeting.id, poll_id=poll_id)

    store.append(decide, actor_id=actor.member_id)


def cancel_poll(store: Store, actor: Actor, poll_id: str, reason: str | None = None) -> None:
    """Cancel (chair or secretary); ballots of an open poll are discarded uncounted."""

    def decide(session: Session) -> ev.EventPayload:
        poll = poll_of(session, poll_id)
        meeting = get_meeting(session, poll.meeting_id)
        require_staff(session, actor, meeting, action_vi="hủy phiên biểu quyết", action_en="cancel a poll")
        state = PollState(poll.state)
        check_transition(poll_id, state, PollState.CANCELLED)
        return ev.PollCancelled(meeting_id=meeting.id, poll_id=poll_id, from_state=state, reason=reason)

    store.append(decide, actor_id=actor.member_id)
    _destroy_key(store, poll_id)


def due_polls(session: Session) -> list[tuple[str, datetime]]:
    """Open polls with a countdown: (poll id, closes_at)."""
    rows = session.execute(select(t.Poll.id, t.Poll.closes_at).where(t.Poll.state == PollState.OPEN.value, t.Poll.closes_at.is_not(None)))
    return [(pid, at) for pid, at in rows if at is not None]  # none is: the query wants a countdown


# --- reading -----------------------------------------------------------------------------------


def live_counts(session: Session, poll: t.Poll) -> dict[str, int] | None:
    """Per-option counts while a named poll is open; None for a secret poll (counts of ballots only)."""
    if poll.secrecy != Secrecy.NAMED.value or poll.state != PollState.OPEN.value:
        return None
    counts = {o["option_id"]: 0 for o in poll.options}
    for (selection,) in session.execute(select(t.BallotBox.selection).where(t.BallotBox.poll_id == poll.id)):
        for option_id in selection:
            counts[option_id] = counts.get(option_id, 0) + 1
    return counts


def needs_own_login(poll: t.Poll) -> bool:
    """A ballot is the member's own act: a session opened from an invitation link (a bearer token that
    passed through the hands of whoever made and sent it) may not cast one in their name. Only a named
    opinion asked ahead of the meeting, which decides nothing and may be changed until its deadline,
    may come from a link."""
    return poll.secrecy == Secrecy.SECRET.value or poll.kind != "opinion" or not poll.before_meeting


def has_voted(session: Session, poll_id: str, member_id: str) -> bool:
    return session.get(t.PollVoter, (poll_id, member_id)) is not None


@dataclass(frozen=True)
class ReceiptCheck:
    found: bool
    own: bool  # the voter's own session: only then is the choice shown
    selection: list[str]
    text: str | None


def check_receipt(session: Session, actor: Actor, poll: t.Poll, code: str) -> ReceiptCheck:
    """Is the ballot behind this receipt among the counted ones? What it says is shown to its voter only
    (whoever else holds the receipt, a coercer included, learns just that it is counted as cast)."""
    given = normalise_receipt(code)
    if given is None:
        raise InvalidInputError("Mã biên nhận không đúng dạng", "The receipt code is malformed", field="receipt")
    if poll.state not in (PollState.CLOSED.value, PollState.PUBLISHED.value):
        raise PollStateError(
            "Chỉ kiểm tra được biên nhận sau khi kết thúc biểu quyết",
            "Receipts can be checked once the poll has closed",
            state=poll.state,
        )
    row = session.get(t.Ballot, (poll.id, receipt_hash(poll.id, given)))
    # what the ballot says is read back in the voter's own login only: an invitation link's session may be
    # in the hands of whoever made the link (the chair, the secretary), who would then read the choice
    own = row is not None and actor.only_meeting is None and _owns_receipt(session, poll.id, actor.member_id, given)
    return ReceiptCheck(row is not None, own, list(row.selection) if own and row else [], row.text if own and row else None)


# --- verification ------------------------------------------------------------------------------


@dataclass
class PollAudit:
    """Each closed poll recounted from the ballots in the log and compared with what was stored."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_polls(store: Store) -> PollAudit:
    audit = PollAudit()
    created: dict[str, ev.PollCreated] = {}
    opened: dict[str, ev.PollOpened] = {}
    voters: dict[str, set[str]] = {}
    after = 0
    while page := store.events(after=after, limit=2000, type_prefix="poll."):  # page by page: the log may be long
        after = page[-1].seq
        for stored in page:
            payload = ev.parse_payload(stored.type, stored.data)
            if isinstance(payload, ev.PollCreated):
                created[payload.poll_id] = payload
            elif isinstance(payload, ev.PollOpened):
                opened[payload.poll_id] = payload
            elif isinstance(payload, ev.BallotCast):
                voters.setdefault(payload.poll_id, set()).add(payload.voter_id)
            elif isinstance(payload, ev.PollClosed):
                audit.checked += 1
                pid = payload.poll_id
                _audit_poll(store, audit, created.get(pid), opened.get(pid), voters.pop(pid, set()), payload)
    return audit


def _audit_poll(
    store: Store, audit: PollAudit, made: ev.PollCreated | None, opened: ev.PollOpened | None, voters: set[str], closed: ev.PollClosed
) -> None:
    pid = closed.poll_id
    if made is None or opened is None:
        audit.problems.append(f"poll {pid}: closed without being created and opened")
        return
    if len(closed.ballots) != len(voters):
        audit.problems.append(f"poll {pid}: {len(closed.ballots)} ballots counted but {len(voters)} members voted")
    if not voters <= set(opened.eligible):
        audit.problems.append(f"poll {pid}: ballots from members who were not eligible")
    named = [b.voter_id for b in closed.ballots if b.voter_id is not None]
    if (made.secrecy is Secrecy.SECRET and named) or (made.secrecy is Secrecy.NAMED and set(named) != voters):
        audit.problems.append(f"poll {pid}: ballot voter ids do not match the poll's secrecy and its voters")
    electorate = Electorate(opened.members, opened.present, len(opened.eligible))
    try:
        recount = _count(definition_of(made), electorate, closed.ballots)
    except Exception as exc:  # a ballot that no longer fits its poll, duplicated receipts
        audit.problems.append(f"poll {pid}: the stored ballots cannot be counted: {exc}")
        return
    if recount != closed.result:
        audit.problems.append(
            f"poll {pid}: the recount ({recount['outcome']}) differs from the stored result ({closed.result.get('outcome')})"
        )
    with store.read() as session:
        row = session.get(t.Poll, pid)
        stored_ballots = {
            (b.receipt_hash, tuple(b.selection), b.text, b.voter_id)
            for b in session.scalars(select(t.Ballot).where(t.Ballot.poll_id == pid))
        }
    logged = {(b.receipt_hash, tuple(b.selection), b.text, b.voter_id) for b in closed.ballots}
    if row is None or row.result != closed.result:
        audit.problems.append(f"poll {pid}: the result in the database differs from the one in the log")
    if stored_ballots != logged:
        audit.problems.append(f"poll {pid}: the ballots in the database differ from those in the log")
