"""face imports: a ZIP of members' face photos enrolled by a job (the queue on PostgreSQL)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01

The archive is kept in the database, not in a file, so that a worker on another machine reads it
through the connection it already has; in a table of its own, so that the job's progress writes
never rewrite it; the job deletes it when it ends.
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_imports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("results", sa.Text(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_face_imports_created_at", "face_imports", ["created_at"])
    op.create_table(
        "face_import_archives",
        sa.Column("import_id", sa.String(36), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("face_import_archives")
    op.drop_index("ix_face_imports_created_at", table_name="face_imports")
    op.drop_table("face_imports")
