"""invitation replies, opinions before the meeting, members' e-mail, the mail outbox

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch copy of ``members`` or ``polls`` would trip their children's foreign keys.
    op.add_column("members", sa.Column("email", sa.String(254), nullable=True))
    op.add_column("polls", sa.Column("before_meeting", sa.Boolean, nullable=False, server_default="0"))
    op.add_column("polls", sa.Column("document_id", sa.String(36), nullable=True))
    op.create_table(
        "invitation_replies",
        sa.Column("meeting_id", sa.String(36), sa.ForeignKey("meetings.id"), primary_key=True),
        sa.Column("member_id", sa.String(36), sa.ForeignKey("members.id"), primary_key=True),
        sa.Column("answer", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("deputy_id", sa.String(36), nullable=True),
        sa.Column("replied_at", _TS, nullable=False),
    )
    op.create_table(
        "mail_outbox",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("to_address", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.create_index("ix_mail_outbox_next_attempt_at", "mail_outbox", ["next_attempt_at"])
    op.create_table(
        "mail_cursor",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mail_cursor")
    op.drop_index("ix_mail_outbox_next_attempt_at", "mail_outbox")
    op.drop_table("mail_outbox")
    op.drop_table("invitation_replies")
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.drop_column("document_id")
        batch_op.drop_column("before_meeting")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("email")
