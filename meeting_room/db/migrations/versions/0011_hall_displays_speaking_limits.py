"""hall display links (an invitation without a member); speaking-time limits per meeting and agenda item

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:  # nothing refers to invitations: a copy is safe
        batch_op.alter_column("member_id", existing_type=sa.String(36), nullable=True)
    # Plain ADD COLUMNs: a batch copy of ``meetings`` or ``agenda_items`` would trip their children's foreign keys.
    op.add_column("meetings", sa.Column("speaking_limit_s", sa.Integer, nullable=True))
    op.add_column("agenda_items", sa.Column("speaking_limit_s", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.drop_column("speaking_limit_s")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("speaking_limit_s")
    op.execute("DELETE FROM invitations WHERE member_id IS NULL")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.alter_column("member_id", existing_type=sa.String(36), nullable=False)
