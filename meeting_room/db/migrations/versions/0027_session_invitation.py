"""the invitation link a session was opened from

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04

Revoking a link ended every link session of that member in the meeting: when a link sent to a wrong
address had been opened there, revoking it also logged out the member on the new link sent to them
(an attacker's probe). A session now names the link it came from. Sessions opened before this keep
no link (NULL), and revoking any of that member's links in the meeting still ends them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("auth_sessions", sa.Column("invitation_id", sa.String(36), nullable=True))


def downgrade() -> None:
    op.drop_column("auth_sessions", "invitation_id")
