"""why a meeting was cancelled, on the meeting's row

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch copy of ``meetings`` would trip its children's foreign keys.
    op.add_column("meetings", sa.Column("cancel_reason", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("cancel_reason")
