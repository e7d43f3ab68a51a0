"""the floor: who waits to speak and who speaks

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("floor_queue", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("floor_speaker", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("floor_speaker")
        batch_op.drop_column("floor_queue")
