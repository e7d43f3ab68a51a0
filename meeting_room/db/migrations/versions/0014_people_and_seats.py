"""a password to change at next log-in (reset by an administrator, or from an import); who usually sits in each seat

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: no table copy, nothing that refers to these tables is touched.
    op.add_column("credentials", sa.Column("must_change", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("seats", sa.Column("member_id", sa.String(36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("seats", schema=None) as batch_op:
        batch_op.drop_column("member_id")
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_column("must_change")
