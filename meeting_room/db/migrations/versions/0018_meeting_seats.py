"""seats for one meeting: who sits where when it is not the seat's usual occupant

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meeting_seats",
        sa.Column("meeting_id", sa.String(36), sa.ForeignKey("meetings.id"), primary_key=True),
        sa.Column("seat_id", sa.String(36), primary_key=True),
        sa.Column("member_id", sa.String(36), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("meeting_seats")
