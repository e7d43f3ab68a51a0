"""the job queue of final passes on PostgreSQL (procrastinate's schema), and worker credentials

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30

procrastinate's own schema (its tables, types and functions, version 3.10.0) is applied here, on
PostgreSQL only: SQLite installations run their final passes in a thread of the server. A later
procrastinate version brings its own migration files (``procrastinate/sql/migrations``): apply them
in a revision of this project's own, never by procrastinate's command line.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_credentials",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        # the schema's functions hold "%" and ":name": through the driver's cursor, not a bound statement
        cursor = bind.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(SchemaManager.get_schema())


def downgrade() -> None:
    op.drop_table("worker_credentials")
    if op.get_bind().dialect.name == "postgresql":
        for table in ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs", "procrastinate_workers"):
            op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
