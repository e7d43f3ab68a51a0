"""a vote's outcome in the archive search only where the reader may see it; agenda items and votes searchable

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02

The search documents carried each agenda item's vote outcomes for the "vote outcome" filter as soon
as a vote closed, so any member who saw the meeting could learn, by filtering, the result of a vote
the chair had not published yet (which only the meeting's officers see). A closed vote's outcome is
now filed as ``closed:<outcome>`` until it is published, and matched only where the reader may read
the minutes. This rewrites the outcomes of the documents already in the archive the same way.

The archive now also holds each meeting's agenda items (title and description) and the questions of
its votes (those counted); this files them for the meetings already there, oldest first.
"""

import json
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from transcripts.text import fold

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

UNPUBLISHED = "closed:"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")  # the documents' dates, as the index files them


def _outcomes(conn: sa.Connection, *, marked: bool) -> dict[tuple[str, str | None], str]:
    found: dict[tuple[str, str | None], set[str]] = {}
    for row in conn.execute(sa.text("SELECT meeting_id, agenda_item_id, result, state FROM polls WHERE state IN ('closed', 'published')")):
        meeting_id, item_id, result, state = str(row[0]), row[1], row[2], str(row[3])
        data: dict[str, Any] | None = json.loads(result) if isinstance(result, str) else result
        if data is None:  # a JSON null
            continue
        outcome = str(data.get("outcome"))
        found.setdefault((meeting_id, item_id), set()).add(UNPUBLISHED + outcome if marked and state != "published" else outcome)
    return {key: " " + " ".join(sorted(values)) + " " for key, values in found.items()}


def _rewrite(marked: bool) -> None:
    conn = op.get_bind()
    for (meeting_id, item_id), words in _outcomes(conn, marked=marked).items():
        # the documents that carried an outcome are those of the same meeting and item (as the index files them)
        item = "agenda_item_id IS NULL" if item_id is None else "agenda_item_id = :item"
        conn.execute(
            sa.text(f"UPDATE search_docs SET poll_outcomes = :words WHERE meeting_id = :m AND {item} AND poll_outcomes IS NOT NULL"),
            {"words": words, "m": meeting_id, "item": item_id},
        )


def _outcome(result: Any) -> str:
    data = json.loads(result) if isinstance(result, str) else result
    return str((data or {}).get("outcome"))


def _file_agenda_and_votes() -> None:
    conn = op.get_bind()
    meetings = sa.table("meetings", *(sa.column(c) for c in ("id", "body_id", "state")), sa.column("starts_at", sa.DateTime(timezone=True)))
    items = sa.table("agenda_items", *(sa.column(c) for c in ("id", "meeting_id", "position", "title", "description")))
    polls = sa.table("polls", *(sa.column(c) for c in ("id", "meeting_id", "agenda_item_id", "title", "result", "state", "closed_at")))
    columns = ("meeting_id", "body_id", "meeting_date", "kind", "ref_id", "agenda_item_id", "agenda_title", "speaker",
               "speaker_member_id", "poll_outcomes", "start_s", "recording_id", "text", "folded")  # fmt: skip
    docs = sa.table("search_docs", *(sa.column(c) for c in columns))
    outcomes = _outcomes(conn, marked=True)
    blank = {"speaker": None, "speaker_member_id": None, "start_s": None, "recording_id": None}
    held = sa.select(meetings).where(meetings.c.state != "cancelled").order_by(meetings.c.starts_at, meetings.c.id)
    for meeting in conn.execute(held).all():
        starts = meeting.starts_at if meeting.starts_at.tzinfo else meeting.starts_at.replace(tzinfo=UTC)
        base = {"meeting_id": meeting.id, "body_id": meeting.body_id, "meeting_date": starts.astimezone(LOCAL).date().isoformat()}
        rows: list[dict[str, Any]] = []
        titles: dict[str, str] = {}
        for item in conn.execute(sa.select(items).where(items.c.meeting_id == meeting.id).order_by(items.c.position)):
            words = "\n".join(part for part in (item.title, item.description) if part)
            titles[item.id] = item.title
            rows.append({**base, **blank, "kind": "agenda", "ref_id": item.id, "agenda_item_id": item.id, "agenda_title": item.title,
                         "poll_outcomes": outcomes.get((meeting.id, item.id)), "text": words, "folded": fold(words)})  # fmt: skip
        counted = (
            sa.select(polls)
            .where(polls.c.meeting_id == meeting.id, polls.c.state.in_(("closed", "published")))
            .order_by(polls.c.closed_at, polls.c.id)
        )
        for poll in conn.execute(counted):
            outcome = _outcome(poll.result)
            item_id = poll.agenda_item_id if poll.agenda_item_id in titles else None
            filed = outcome if poll.state == "published" else UNPUBLISHED + outcome
            rows.append({**base, **blank, "kind": "poll", "ref_id": poll.id, "agenda_item_id": item_id,
                         "agenda_title": titles.get(item_id or ""), "poll_outcomes": f" {filed} ", "text": poll.title,
                         "folded": fold(poll.title)})  # fmt: skip
        if rows:
            conn.execute(sa.insert(docs), rows)


def upgrade() -> None:
    _rewrite(marked=True)
    _file_agenda_and_votes()


def downgrade() -> None:
    op.execute("DELETE FROM search_docs WHERE kind IN ('agenda', 'poll')")
    _rewrite(marked=False)
