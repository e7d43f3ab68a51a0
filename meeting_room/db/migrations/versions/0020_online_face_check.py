"""a remote participant's face check on the attendance record (confirmed | mismatch, when, look-alike)

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("face_check", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("face_check_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("face_check_looks_like", sa.String(36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_column("face_check_looks_like")
        batch_op.drop_column("face_check_at")
        batch_op.drop_column("face_check")
