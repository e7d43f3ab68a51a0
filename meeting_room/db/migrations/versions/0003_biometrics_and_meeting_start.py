"""biometrics and meeting start

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_encodings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("encoding", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_encodings")),
    )
    with op.batch_alter_table("face_encodings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_face_encodings_member_id"), ["member_id"], unique=False)

    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("unknown_faces", sa.JSON(), nullable=True))

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("biometric_consent", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("biometric_consent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("faces_enrolled", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("faces_enrolled")
        batch_op.drop_column("biometric_consent_at")
        batch_op.drop_column("biometric_consent")

    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("unknown_faces")
        batch_op.drop_column("started_at")

    with op.batch_alter_table("face_encodings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_face_encodings_member_id"))

    op.drop_table("face_encodings")
