"""Polls: the chair prepares, opens, closes and publishes; members vote and check their receipts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, oversees, require_view, sees_result
from meeting_room.api.deps import ActorDep, StoreDep
from meeting_room.ballot_keys import BallotKeyring
from meeting_room.db import tables as t
from meeting_room.services import polls
from meeting_room.store import Store
from meeting_room.text import LongText, Name, Title
from voting import PRESETS, Eligibility, PollKind, PollState, PollStateError, Secrecy, published_order

router = APIRouter(prefix="/api/meetings/{meeting_id}/polls", tags=["polls"])
presets_router = APIRouter(prefix="/api/voting", tags=["polls"])


class PollIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title
    description: LongText | None = None
    kind: PollKind = PollKind.MOTION
    options: list[Name] = Field(default_factory=list, max_length=200, description="Labels (not for motions: those are fixed)")
    seats: int | None = Field(None, ge=1, le=200)
    min_choices: int | None = Field(None, ge=0)
    max_choices: int | None = Field(None, ge=0)
    secrecy: Secrecy = Secrecy.NAMED
    eligibility: Eligibility = Eligibility.PRESENT
    allow_change: bool = False
    agenda_item_id: str | None = None
    rule: ev.RuleSpec | None = Field(None, description="The voting rule; left out: the body's (the meeting's default_rule)")


class OpenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    duration_s: int | None = Field(None, description="Countdown in seconds; the poll closes by itself when it runs out")


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: LongText | None = None


class BallotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    options: list[str] = Field(default_factory=list, max_length=200, description="Chosen option ids (a motion: yes, no or abstain)")
    text: LongText | None = Field(None, description="A written opinion (opinion polls)")
    receipt: str | None = Field(None, description="To change a secret ballot: the receipt code received when voting")


class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    receipt: str


class You(BaseModel):
    eligible: bool
    voted: bool
    needs_own_login: bool = Field(
        False, description="This session came from an invitation link: this poll takes the member's ballot only after they log in"
    )


class TellerOut(BaseModel):
    member_id: str
    full_name: str
    gave_passphrase: bool


class BallotBoxOut(BaseModel):
    """A secret poll's ballot box while open: locked after a restart until both tellers unlock it."""

    locked: bool
    tellers: list[TellerOut]


class UnlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    passphrase: str = Field(min_length=1, max_length=1024)


class PollOut(BaseModel):
    id: str
    meeting_id: str
    agenda_item_id: str | None
    title: str
    description: str | None
    kind: PollKind
    kind_label: str
    options: list[dict[str, str]]
    seats: int | None
    min_choices: int
    max_choices: int
    secrecy: Secrecy
    eligibility: Eligibility
    allow_change: bool
    rule: dict[str, Any]
    state: PollState
    state_label: str
    created_at: datetime
    opened_at: datetime | None
    closes_at: datetime | None
    closed_at: datetime | None
    published_at: datetime | None
    electorate: dict[str, int] | None
    ballots_cast: int
    live_counts: dict[str, int] | None = Field(None, description="Named polls while open, for the chair and secretary only")
    result: dict[str, Any] | None = Field(None, description="After closing for the chair and secretary; after publishing for all")
    cancel_reason: str | None
    ballot_box: BallotBoxOut | None = Field(None, description="Secret polls while open: whether the tellers must unlock the key")
    you: You
    before_meeting: bool = Field(False, description="An opinion asked before the meeting (xin ý kiến), open until closes_at")
    document_id: str | None = Field(None, description="The draft document the opinions are about")


class CastOut(BaseModel):
    receipt: str | None = Field(description="Keep it: it proves your ballot is in the count. Shown once.")
    ballots_cast: int
    eligible: int
    replaced: bool
    message: str
    message_en: str


class BallotOut(BaseModel):
    receipt_hash: str | None = Field(description="Named polls only: a secret ballot's receipt is checked with POST …/receipt")
    options: list[str]
    labels: list[str]
    text: str | None
    voter_id: str | None = None
    voter_name: str | None = None


class BallotsOut(BaseModel):
    poll_id: str
    secrecy: Secrecy
    ballots: list[BallotOut]
    voters: list[dict[str, str]] = Field(description="Who voted (for secret polls, never linked to a ballot)")


class ReceiptOut(BaseModel):
    found: bool
    own: bool = Field(description="True when the receipt is the caller's own: only then are the options shown")
    options: list[str]
    labels: list[str]
    text: str | None
    message: str
    message_en: str


def _box(session: Any, keys: BallotKeyring, poll: t.Poll) -> BallotBoxOut | None:
    if poll.ballot_key is None or poll.state != PollState.OPEN.value:
        return None
    tellers = session.scalars(select(t.PollKeyShare.teller_id).where(t.PollKeyShare.poll_id == poll.id)).all()
    given = keys.given(poll.id)
    names = {m.id: m.full_name for m in session.scalars(select(t.Member).where(t.Member.id.in_(tellers)))}
    return BallotBoxOut(
        locked=keys.private(poll.id) is None,
        tellers=[TellerOut(member_id=m, full_name=names.get(m, m), gave_passphrase=m in given) for m in sorted(tellers)],
    )


def poll_out(session: Any, actor: Actor, meeting: t.Meeting, poll: t.Poll, keys: BallotKeyring) -> PollOut:
    sees_live = oversees(session, actor, meeting)
    state = PollState(poll.state)
    definition = polls.definition_of(poll)
    rule = definition.rule
    visible = sees_result(session, actor, meeting, state)
    return PollOut(
        id=poll.id,
        meeting_id=poll.meeting_id,
        agenda_item_id=poll.agenda_item_id,
        title=poll.title,
        description=poll.description,
        kind=PollKind(poll.kind),
        kind_label=PollKind(poll.kind).label_vi,
        options=[{"id": o["option_id"], "label": o["label"]} for o in poll.options],
        seats=poll.seats,
        min_choices=poll.min_choices,
        max_choices=poll.max_choices,
        secrecy=Secrecy(poll.secrecy),
        eligibility=Eligibility(poll.eligibility),
        allow_change=poll.allow_change,
        rule={**poll.rule, "description": rule.describe_vi(), "description_en": rule.describe_en(), "label": rule.label_vi},
        state=state,
        state_label=state.label_vi,
        created_at=poll.created_at,
        opened_at=poll.opened_at,
        closes_at=poll.closes_at,
        closed_at=poll.closed_at,
        published_at=poll.published_at,
        electorate=None
        if poll.members is None
        else {"members": poll.members, "present": poll.present or 0, "eligible": poll.eligible_count or 0},
        ballots_cast=poll.ballots_cast,
        live_counts=polls.live_counts(session, poll) if sees_live else None,
        result=poll.result if visible else None,
        cancel_reason=poll.cancel_reason,
        ballot_box=_box(session, keys, poll),
        you=You(
            eligible=session.get(t.PollEligible, (poll.id, actor.member_id)) is not None,
            voted=polls.has_voted(session, poll.id, actor.member_id),
            needs_own_login=actor.only_meeting is not None and polls.needs_own_login(poll),
        ),
        before_meeting=poll.before_meeting,
        document_id=poll.document_id,
    )


def poll_view(store: Store, actor: Actor, meeting_id: str, poll_id: str) -> PollOut:
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_view(session, actor, meeting)
        return poll_out(session, actor, meeting, polls.poll_of(session, poll_id, meeting_id), store.ballot_keys)


def _check(store: Store, actor: Actor, meeting_id: str, poll_id: str) -> None:
    """The poll exists, belongs to this meeting, and the actor may see the meeting (else 404)."""
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
        polls.poll_of(session, poll_id, meeting_id)


@presets_router.get("/presets")
def list_presets(actor: ActorDep) -> list[dict[str, Any]]:
    """The voting rule presets (Vietnamese cases): base, threshold, quorum and their legal basis."""
    return [
        {
            "preset": name,
            "label": rule.label_vi,
            "label_en": rule.label_en,
            "base": rule.base.value,
            "threshold": str(rule.threshold) if rule.threshold else None,
            "quorum": str(rule.quorum) if rule.quorum else None,
            "description": rule.describe_vi(),
            "legal_basis": rule.legal_basis,
        }
        for name, rule in PRESETS.items()
    ]


@router.post("", status_code=201)
def create(meeting_id: str, body: PollIn, store: StoreDep, actor: ActorDep) -> PollOut:
    """Prepare a poll (the meeting's chair or secretary): kind, options, secrecy, eligibility and rule."""
    spec = polls.PollSpec(**body.model_dump(exclude={"rule"}), rule=body.rule)
    poll_id = polls.create_poll(store, actor, meeting_id, spec)
    return poll_view(store, actor, meeting_id, poll_id)


@router.get("")
def list_polls(meeting_id: str, store: StoreDep, actor: ActorDep) -> list[PollOut]:
    """The meeting's polls, oldest first."""
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_view(session, actor, meeting)
        rows = session.scalars(select(t.Poll).where(t.Poll.meeting_id == meeting_id).order_by(t.Poll.created_at, t.Poll.id))
        return [poll_out(session, actor, meeting, poll, store.ballot_keys) for poll in rows]


@router.get("/{poll_id}")
def get_poll(meeting_id: str, poll_id: str, store: StoreDep, actor: ActorDep) -> PollOut:
    """One poll: its state, the live count of ballots, your own status, and the result once visible."""
    return poll_view(store, actor, meeting_id, poll_id)


@router.post("/{poll_id}/open")
def open_poll(meeting_id: str, poll_id: str, body: OpenIn, store: StoreDep, actor: ActorDep) -> PollOut:
    """Open the vote (the chair; the meeting must be in session); fixes who may vote from attendance."""
    _check(store, actor, meeting_id, poll_id)
    polls.open_poll(store, actor, poll_id, body.duration_s)
    return poll_view(store, actor, meeting_id, poll_id)


@router.post("/{poll_id}/close")
def close_poll(meeting_id: str, poll_id: str, store: StoreDep, actor: ActorDep) -> PollOut:
    """Close the vote and count it under the poll's rule (the chair)."""
    _check(store, actor, meeting_id, poll_id)
    polls.close_poll(store, actor, poll_id)
    return poll_view(store, actor, meeting_id, poll_id)


@router.post("/{poll_id}/unlock")
def unlock(meeting_id: str, poll_id: str, body: UnlockIn, store: StoreDep, actor: ActorDep) -> PollOut:
    """A teller (the chair or the secretary) gives their passphrase to unlock a secret ballot box after a restart."""
    _check(store, actor, meeting_id, poll_id)
    polls.unlock_poll(store, actor, poll_id, body.passphrase)
    return poll_view(store, actor, meeting_id, poll_id)


@router.post("/{poll_id}/publish")
def publish(meeting_id: str, poll_id: str, store: StoreDep, actor: ActorDep) -> PollOut:
    """Announce the result to every participant (the chair)."""
    _check(store, actor, meeting_id, poll_id)
    polls.publish_poll(store, actor, poll_id)
    return poll_view(store, actor, meeting_id, poll_id)


@router.post("/{poll_id}/cancel")
def cancel(meeting_id: str, poll_id: str, body: CancelIn, store: StoreDep, actor: ActorDep) -> PollOut:
    """Cancel the poll (chair or secretary); ballots of an open poll are discarded uncounted."""
    _check(store, actor, meeting_id, poll_id)
    polls.cancel_poll(store, actor, poll_id, body.reason)
    return poll_view(store, actor, meeting_id, poll_id)


@router.post("/{poll_id}/ballots", status_code=201)
async def cast(meeting_id: str, poll_id: str, body: BallotIn, store: StoreDep, actor: ActorDep) -> CastOut:
    """Cast your ballot (or change it, where the poll allows); the receipt code is returned once."""
    # on the event loop: a hall's ballots wait for their group commit without a worker thread each
    r = await polls.cast_ballot_async(store, actor, poll_id, body.options, body.text, body.receipt, meeting_id=meeting_id)
    if r.opinion:
        vi, en = ("Đã sửa ý kiến", "Opinion changed") if r.replaced else ("Đã ghi nhận ý kiến", "Opinion recorded")
    elif r.replaced:
        vi, en = "Đã sửa phiếu; mã biên nhận không đổi", "Ballot changed; your receipt code is unchanged"
    elif r.secret:
        vi, en = "Đã ghi nhận phiếu. Hãy lưu mã biên nhận", "Ballot recorded. Keep your receipt code"
    else:  # a named vote: the result lists each member's choice, there is nothing to keep
        vi, en = "Đã ghi nhận phiếu", "Ballot recorded"
    return CastOut(receipt=r.receipt, ballots_cast=r.ballots_cast, eligible=r.eligible, replaced=r.replaced, message=vi, message_en=en)


@router.get("/{poll_id}/ballots")
def ballots(meeting_id: str, poll_id: str, store: StoreDep, actor: ActorDep) -> BallotsOut:
    """The counted ballots under their receipt hashes (with names for named polls) and who voted."""
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_view(session, actor, meeting)
        poll = polls.poll_of(session, poll_id, meeting_id)
        state = PollState(poll.state)
        if not sees_result(session, actor, meeting, state):
            raise PollStateError(
                f"Phiếu chỉ được công khai sau khi công bố kết quả (hiện: “{state.label_vi}”)",
                f"Ballots are shown once the result is published (now: {state})",
                state=state.value,
            )
        labels = {o["option_id"]: o["label"] for o in poll.options}
        names = dict(session.execute(select(t.Member.id, t.Member.full_name)).all())
        found = session.scalars(select(t.Ballot).where(t.Ballot.poll_id == poll_id))
        rows = sorted(found, key=lambda b: published_order(b.selection, b.text, b.receipt_hash))
        voters = session.scalars(select(t.PollVoter.member_id).where(t.PollVoter.poll_id == poll_id)).all()
        return BallotsOut(
            poll_id=poll_id,
            secrecy=Secrecy(poll.secrecy),
            ballots=[
                BallotOut(
                    receipt_hash=b.receipt_hash if poll.secrecy == Secrecy.NAMED.value else None,
                    options=b.selection,
                    labels=[labels[o] for o in b.selection],
                    text=b.text,
                    voter_id=b.voter_id,
                    voter_name=names.get(b.voter_id) if b.voter_id else None,
                )
                for b in rows
            ],
            voters=sorted(({"member_id": v, "full_name": names.get(v, v)} for v in voters), key=lambda v: v["full_name"]),
        )


@router.post("/{poll_id}/receipt")
def check_receipt(meeting_id: str, poll_id: str, body: ReceiptIn, store: StoreDep, actor: ActorDep) -> ReceiptOut:
    """Check that the ballot behind a receipt code is counted as cast; the voter alone also sees what it says."""
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
        poll = polls.poll_of(session, poll_id, meeting_id)
        r = polls.check_receipt(session, actor, poll, body.receipt)
        labels = {o["option_id"]: o["label"] for o in poll.options}
    if r.found and r.own:
        vi, en = "Phiếu của bạn có trong kết quả kiểm phiếu, đúng như bạn đã bỏ", "Your ballot is in the count, as you cast it"
    elif r.found:
        vi, en = (
            "Phiếu ứng với mã biên nhận này có trong kết quả kiểm phiếu (nội dung phiếu chỉ người bỏ phiếu xem được)",
            "The ballot with this receipt is in the count as cast (only its voter can see what it says)",
        )
    else:
        vi, en = "Không có phiếu nào ứng với mã biên nhận này", "No counted ballot has this receipt"
    return ReceiptOut(
        found=r.found, own=r.own, options=r.selection, labels=[labels[o] for o in r.selection], text=r.text, message=vi, message_en=en
    )
