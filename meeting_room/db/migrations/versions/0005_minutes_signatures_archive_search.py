"""minutes, signatures, archive and search

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)

# SQLite: an external-content FTS5 index over search_docs.folded, kept in step by triggers.
# The text is folded before it is stored, so unicode61 only has to split words and lower case.
_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(folded, content='search_docs', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN "
    "INSERT INTO search_fts(rowid, folded) VALUES (new.id, new.folded); END",
    "CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, folded) VALUES ('delete', old.id, old.folded); END",
    "CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, folded) VALUES ('delete', old.id, old.folded); "
    "INSERT INTO search_fts(rowid, folded) VALUES (new.id, new.folded); END",
]
# PostgreSQL: a GIN index on the expression the queries use ('simple': no stemming, no stop words).
_PG_FTS = ["CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (to_tsvector('simple', folded))"]


def upgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_item_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("agenda_log", sa.JSON(), nullable=True))
    op.create_table(
        "minutes_versions",
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("place", sa.String(length=255), nullable=True),
        sa.Column("opening", sa.Text(), nullable=True),
        sa.Column("closing", sa.Text(), nullable=True),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("generated", sa.Boolean(), nullable=False),
        sa.Column("saved_by", sa.String(length=36), nullable=True),
        sa.Column("saved_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_minutes_versions_meeting_id_meetings")),
        sa.PrimaryKeyConstraint("meeting_id", "version", name=op.f("pk_minutes_versions")),
    )
    op.create_table(
        "minutes_signatures",
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_from_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("timestamped", sa.Boolean(), nullable=False),
        sa.Column("signed_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_minutes_signatures_meeting_id_meetings")),
        sa.PrimaryKeyConstraint("meeting_id", "role", name=op.f("pk_minutes_signatures")),
    )
    op.create_table(
        "signer_certificates",
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(length=64), nullable=False),
        sa.Column("common_name", sa.String(length=255), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("not_before", _TS, nullable=False),
        sa.Column("not_after", _TS, nullable=False),
        sa.Column("registered_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_signer_certificates_member_id_members")),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_signer_certificates")),
    )
    op.create_table(
        "archives",
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sealed_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_archives_meeting_id_meetings")),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_archives")),
    )
    op.create_table(
        "search_docs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("body_id", sa.String(length=36), nullable=False),
        sa.Column("meeting_date", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.String(length=64), nullable=False),
        sa.Column("agenda_item_id", sa.String(length=36), nullable=True),
        sa.Column("agenda_title", sa.String(length=500), nullable=True),
        sa.Column("speaker", sa.String(length=255), nullable=True),
        sa.Column("speaker_member_id", sa.String(length=36), nullable=True),
        sa.Column("poll_outcomes", sa.String(length=255), nullable=True),
        sa.Column("start_s", sa.Float(), nullable=True),
        sa.Column("recording_id", sa.String(length=36), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("folded", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_docs")),
    )
    op.create_index(op.f("ix_search_docs_meeting_id"), "search_docs", ["meeting_id"], unique=False)
    op.create_index("ix_search_docs_body_date", "search_docs", ["body_id", "meeting_date"], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_FTS if dialect == "sqlite" else _PG_FTS if dialect == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("search_docs_au", "search_docs_ad", "search_docs_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("search_docs")
    op.drop_table("archives")
    op.drop_table("signer_certificates")
    op.drop_table("minutes_signatures")
    op.drop_table("minutes_versions")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("agenda_log")
        batch_op.drop_column("current_item_id")
