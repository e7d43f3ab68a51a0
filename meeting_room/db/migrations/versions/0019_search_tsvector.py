"""search: PostgreSQL keeps each document's tsvector (a stored generated column, GIN-indexed)

Ranking and phrase checks then read the stored vector instead of parsing every hit's text again
(``to_tsvector`` per hit, twice, was most of a common query's time). SQLite is unchanged (FTS5).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE search_docs ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', folded)) STORED")
    op.execute("DROP INDEX IF EXISTS ix_search_docs_tsv")
    op.execute("CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_search_docs_tsv")
    op.execute("ALTER TABLE search_docs DROP COLUMN tsv")
    op.execute("CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (to_tsvector('simple', folded))")
