"""Opinions before the meeting (xin ý kiến): an opinion poll that runs while the meeting is scheduled.

It is an ordinary named poll of kind ``opinion`` (``services.polls``) marked ``before_meeting``: the
secretary or chair asks on an agenda item, optionally on a draft document, with a deadline; it
opens at once for every voting participant, members answer (and may change their answer) until
the deadline, when the poll timer closes it. The answers go, grouped, to the secretary and into
the minutes under their item.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, require_staff
from meeting_room.db import tables as t
from meeting_room.errors import InvalidInputError, NotFoundError
from meeting_room.lifecycle import MeetingState, require_state
from meeting_room.services import polls
from meeting_room.store import Store
from voting import Eligibility, Option, PollDefinition, PollKind, PollState, Secrecy

_RULE = ev.RuleSpec(preset="plurality")  # nothing is decided by an opinion: the rule only names the most chosen option


@dataclass(frozen=True)
class OpinionRequest:
    title: str
    agenda_item_id: str
    deadline: datetime
    document_id: str | None = None
    description: str | None = None
    options: list[str] = field(default_factory=list)  # e.g. "Đồng ý", "Không đồng ý"; a written opinion is always possible


def ask(store: Store, actor: Actor, meeting_id: str, request: OpinionRequest) -> str:
    """Open an opinion poll on an agenda item until ``deadline`` (the meeting's chair or secretary)."""
    if request.deadline.tzinfo is None:
        raise InvalidInputError("Hạn góp ý cần có múi giờ", "The deadline needs a time zone", field="deadline")
    rule = polls.resolve_rule(_RULE)
    options = [Option(f"o{i}", label) for i, label in enumerate(request.options, start=1)]
    # one choice at most (agree or not), and a written opinion always possible
    definition = PollDefinition.build(PollKind.OPINION, polls.rule_of(rule), options=options or None, max_choices=min(1, len(options)))
    poll_id = polls.new_poll_id()

    def decide(session: Session) -> list[ev.EventPayload]:
        meeting = get_meeting(session, meeting_id)
        require_staff(session, actor, meeting, action_vi="xin ý kiến", action_en="ask for opinions")
        scheduled = frozenset({MeetingState.SCHEDULED})
        require_state(meeting.id, MeetingState(meeting.state), scheduled, "xin ý kiến trước cuộc họp", "ask for opinions")
        item = session.get(t.AgendaItem, request.agenda_item_id)
        if item is None or item.meeting_id != meeting_id:
            raise NotFoundError(
                f"Không có mục chương trình {request.agenda_item_id} trong cuộc họp này",
                f"No agenda item {request.agenda_item_id} in this meeting",
                agenda_item_id=request.agenda_item_id,
            )
        if request.document_id is not None:
            document = session.get(t.Document, request.document_id)
            if document is None or document.meeting_id != meeting_id:
                raise NotFoundError(
                    f"Không có tài liệu {request.document_id} trong cuộc họp này",
                    f"No document {request.document_id} in this meeting",
                    document_id=request.document_id,
                )
        if not store.now() < request.deadline <= meeting.starts_at:
            raise InvalidInputError(
                "Hạn góp ý phải sau thời điểm hiện tại và không muộn hơn giờ bắt đầu cuộc họp",
                "The deadline must be in the future and no later than the meeting's start",
                field="deadline",
                received=request.deadline.isoformat(),
                latest=meeting.starts_at.isoformat(),
            )
        voters = polls.electorate(session, meeting_id, Eligibility.ALL_MEMBERS)[0]
        if not voters:
            raise InvalidInputError("Cuộc họp chưa có thành viên để xin ý kiến", "The meeting has no members to ask")
        created = ev.PollCreated(
            meeting_id=meeting_id,
            poll_id=poll_id,
            agenda_item_id=item.id,
            title=request.title,
            description=request.description,
            kind=PollKind.OPINION,
            options=[ev.PollOptionSpec(option_id=o.id, label=o.label) for o in definition.options],
            min_choices=definition.min_choices,
            max_choices=definition.max_choices,
            secrecy=Secrecy.NAMED,
            eligibility=Eligibility.ALL_MEMBERS,
            allow_change=True,  # a member may rethink until the deadline
            rule=rule,
            before_meeting=True,
            document_id=request.document_id,
        )
        opened = ev.PollOpened(
            meeting_id=meeting_id, poll_id=poll_id, eligible=voters, members=len(voters), present=0, closes_at=request.deadline
        )
        return [created, opened]

    store.append_all(decide, actor_id=actor.member_id)
    return poll_id


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opinion:
    member_id: str
    full_name: str
    text: str | None


@dataclass(frozen=True)
class Group:
    """The answers that chose one option (``option_id`` None: a written opinion without a choice)."""

    option_id: str | None
    label: str
    opinions: list[Opinion]


def _answers(session: Session, poll: t.Poll) -> list[tuple[str, list[str], str | None]]:
    """(member id, chosen option ids, text) of every answer: counted ones after the close, else the box."""
    if poll.state in (PollState.CLOSED.value, PollState.PUBLISHED.value):
        rows = session.execute(select(t.Ballot.voter_id, t.Ballot.selection, t.Ballot.text).where(t.Ballot.poll_id == poll.id))
    else:
        rows = session.execute(select(t.BallotBox.voter_id, t.BallotBox.selection, t.BallotBox.text).where(t.BallotBox.poll_id == poll.id))
    return [(voter, list(selection), text) for voter, selection, text in rows if voter is not None]


def asked_poll(session: Session, poll_id: str, meeting_id: str) -> t.Poll:
    """An opinion request asked before the meeting, else a 404: the answers by name are for those
    (a named vote's choices are seen as its tally and, once counted, its published ballots)."""
    poll = polls.poll_of(session, poll_id, meeting_id)
    if not poll.before_meeting:
        raise NotFoundError(
            f"Không có đợt lấy ý kiến {poll_id} (đây là một cuộc biểu quyết)",
            f"No opinion request {poll_id} (this poll is a vote)",
            poll_id=poll_id,
        )
    return poll


def grouped(session: Session, poll: t.Poll) -> list[Group]:
    """The poll's answers by option, in the options' order, then the opinions that chose none."""
    answers = _answers(session, poll)
    ids = [voter for voter, _, _ in answers]
    names: dict[str, str] = {m: n for m, n in session.execute(select(t.Member.id, t.Member.full_name).where(t.Member.id.in_(ids)))}
    by_option: dict[str | None, list[Opinion]] = defaultdict(list)
    for voter, selection, text in sorted(answers, key=lambda a: names.get(a[0], a[0])):
        opinion = Opinion(voter, names.get(voter, voter), text)
        chosen: list[str | None] = list(selection) or [None]
        for option_id in chosen:
            by_option[option_id].append(opinion)
    groups = [Group(o["option_id"], o["label"], by_option.get(o["option_id"], [])) for o in poll.options]
    if by_option.get(None) or not poll.options:
        groups.append(Group(None, "Ý kiến khác", by_option.get(None, [])))
    return groups


def before_meeting_polls(session: Session, meeting_id: str) -> list[t.Poll]:
    query = select(t.Poll).where(
        t.Poll.meeting_id == meeting_id, t.Poll.before_meeting.is_(True), t.Poll.state != PollState.CANCELLED.value
    )
    return list(session.scalars(query.order_by(t.Poll.created_at, t.Poll.id)))


def minutes_lines(session: Session, meeting_id: str) -> dict[str | None, list[str]]:
    """Per agenda item, the opinions given before the meeting as lines of the minutes' draft."""
    out: dict[str | None, list[str]] = defaultdict(list)
    for poll in before_meeting_polls(session, meeting_id):
        groups = grouped(session, poll)
        answered = len({o.member_id for g in groups for o in g.opinions})
        asked = poll.eligible_count or 0
        out[poll.agenda_item_id].append(f"Ý kiến góp ý trước cuộc họp về “{poll.title}” ({answered}/{asked} thành viên):")
        for group in groups:
            if poll.options:
                out[poll.agenda_item_id].append(f"{group.label}: {len(group.opinions)}")
            out[poll.agenda_item_id] += [f"- {o.full_name}: {o.text}" for o in group.opinions if o.text]
    return out
