"""polls and ballots

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ballot_box",
        sa.Column("poll_id", sa.String(length=36), nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.Column("selection", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("voter_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("poll_id", "receipt_hash", name=op.f("pk_ballot_box")),
        sa.UniqueConstraint("poll_id", "voter_id", name=op.f("uq_ballot_box_poll_id")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "polls",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("agenda_item_id", sa.String(length=36), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=True),
        sa.Column("min_choices", sa.Integer(), nullable=False),
        sa.Column("max_choices", sa.Integer(), nullable=False),
        sa.Column("secrecy", sa.String(length=16), nullable=False),
        sa.Column("eligibility", sa.String(length=32), nullable=False),
        sa.Column("allow_change", sa.Boolean(), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("members", sa.Integer(), nullable=True),
        sa.Column("present", sa.Integer(), nullable=True),
        sa.Column("eligible_count", sa.Integer(), nullable=True),
        sa.Column("ballots_cast", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_polls_meeting_id_meetings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
    )
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_polls_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "ballots",
        sa.Column("poll_id", sa.String(length=36), nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.Column("selection", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("voter_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"], name=op.f("fk_ballots_poll_id_polls")),
        sa.PrimaryKeyConstraint("poll_id", "receipt_hash", name=op.f("pk_ballots")),
    )
    op.create_table(
        "poll_eligible",
        sa.Column("poll_id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_poll_eligible_member_id_members")),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"], name=op.f("fk_poll_eligible_poll_id_polls")),
        sa.PrimaryKeyConstraint("poll_id", "member_id", name=op.f("pk_poll_eligible")),
    )
    op.create_table(
        "poll_voters",
        sa.Column("poll_id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_poll_voters_member_id_members")),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"], name=op.f("fk_poll_voters_poll_id_polls")),
        sa.PrimaryKeyConstraint("poll_id", "member_id", name=op.f("pk_poll_voters")),
    )


def downgrade() -> None:
    op.drop_table("poll_voters")
    op.drop_table("poll_eligible")
    op.drop_table("ballots")
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_polls_meeting_id"))

    op.drop_table("polls")
    op.drop_table("ballot_box")
