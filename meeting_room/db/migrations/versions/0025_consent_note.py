"""the reference of a member's signed consent form, kept beside the consent

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01

The consent event always carried a note (the signed form's number and date) but the members table
did not, so the administration page could not show which form a consent rests on. The column is
filled from the log: the note of each member's last consent event, none after a withdrawal.
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("members", sa.Column("biometric_consent_note", sa.Text(), nullable=True))
    conn = op.get_bind()
    last: dict[str, str | None] = {}
    rows = conn.execute(sa.text("SELECT payload FROM events WHERE type = 'member.biometric_consent' ORDER BY seq"))
    for (payload,) in rows:
        data = json.loads(str(payload))
        last[data["member_id"]] = data.get("note") if data.get("given") else None
    for member_id, note in last.items():
        if note:
            conn.execute(sa.text("UPDATE members SET biometric_consent_note = :note WHERE id = :id"), {"note": note, "id": member_id})


def downgrade() -> None:
    op.drop_column("members", "biometric_consent_note")  # SQLite 3.35+ drops a column in place (no copy, no foreign key trouble)
