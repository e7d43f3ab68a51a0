"""the invitation link a session was opened from, and the link that replaced another

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04

Revoking a link ended every link session of that member in the meeting: when a link sent to a wrong
address had been opened there, revoking it also logged out the member on the new link sent to them
(an attacker's probe). A session now names the link it came from. Sessions opened before this keep
no link (NULL), and revoking any of that member's links in the meeting still ends them.

A new link replaces the member's links not yet opened; the console told those apart from links
revoked by a tap only by guesswork, so an invitation now names the link that replaced it (filled
from the log for links replaced before this).
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("auth_sessions", sa.Column("invitation_id", sa.String(36), nullable=True))
    op.add_column("invitations", sa.Column("replaced_by", sa.String(36), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT payload FROM events WHERE type = 'meeting.invitation_created' ORDER BY seq"))
    for (payload,) in rows:
        data = json.loads(str(payload))
        for replaced in data.get("replaces") or []:
            conn.execute(sa.text("UPDATE invitations SET replaced_by = :by WHERE id = :id"), {"by": data["invitation_id"], "id": replaced})


def downgrade() -> None:
    op.drop_column("invitations", "replaced_by")
    op.drop_column("auth_sessions", "invitation_id")
