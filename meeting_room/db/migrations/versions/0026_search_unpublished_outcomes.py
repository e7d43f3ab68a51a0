"""a vote's outcome in the archive search only where the reader may see it

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02

The search documents carried each agenda item's vote outcomes for the "vote outcome" filter as soon
as a vote closed, so any member who saw the meeting could learn, by filtering, the result of a vote
the chair had not published yet (which only the meeting's officers see). A closed vote's outcome is
now filed as ``closed:<outcome>`` until it is published, and matched only where the reader may read
the minutes. This rewrites the outcomes of the documents already in the archive the same way.
"""

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

UNPUBLISHED = "closed:"


def _outcomes(conn: sa.Connection, *, marked: bool) -> dict[tuple[str, str | None], str]:
    found: dict[tuple[str, str | None], set[str]] = {}
    for row in conn.execute(sa.text("SELECT meeting_id, agenda_item_id, result, state FROM polls WHERE result IS NOT NULL")):
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


def upgrade() -> None:
    _rewrite(marked=True)


def downgrade() -> None:
    _rewrite(marked=False)
