"""publishing a meeting (gửi giấy mời), when it last changed, and when each person last opened it

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch copy of ``meetings`` would trip its children's foreign keys.
    op.add_column("meetings", sa.Column("published_at", _TS, nullable=True))
    op.add_column("meetings", sa.Column("changed_at", _TS, nullable=True))
    op.create_table(
        "meeting_views",
        sa.Column("member_id", sa.String(36), primary_key=True),
        sa.Column("meeting_id", sa.String(36), primary_key=True),
        sa.Column("seen_at", _TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("meeting_views")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("changed_at")
        batch_op.drop_column("published_at")
