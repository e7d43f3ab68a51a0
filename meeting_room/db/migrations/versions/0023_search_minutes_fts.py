"""SQLite: a word index of the minutes alone, for searches of the minutes

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01

A search of the minutes only read every match of a word in the whole archive (transcript lines are
about twenty for each minutes section) to keep the minutes among them: on a 10,000-meeting archive
a common word took up to ~150 ms at p99. FTS5 cannot narrow its postings by a column of the
documents, so the minutes get an index of their own (external content over ``search_docs``, the
same folding and tokenizer as ``search_fts``), kept in step by triggers that look at the kind.
PostgreSQL already has this as a partial GIN index (0022); nothing changes there.
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_MINUTES = "search_fts_minutes"
_TRIGGERS = ("search_docs_minutes_ai", "search_docs_minutes_ad", "search_docs_minutes_au")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(f"CREATE VIRTUAL TABLE {_MINUTES} USING fts5(folded, content='search_docs', content_rowid='id', tokenize='unicode61')")
    op.execute(
        "CREATE TRIGGER search_docs_minutes_ai AFTER INSERT ON search_docs WHEN new.kind = 'minutes' BEGIN "
        f"INSERT INTO {_MINUTES}(rowid, folded) VALUES (new.id, new.folded); END"
    )
    op.execute(
        "CREATE TRIGGER search_docs_minutes_ad AFTER DELETE ON search_docs WHEN old.kind = 'minutes' BEGIN "
        f"INSERT INTO {_MINUTES}({_MINUTES}, rowid, folded) VALUES ('delete', old.id, old.folded); END"
    )
    op.execute(  # a row may change kind: out of the index if it was minutes, into it if it is
        "CREATE TRIGGER search_docs_minutes_au AFTER UPDATE ON search_docs BEGIN "
        f"INSERT INTO {_MINUTES}({_MINUTES}, rowid, folded) SELECT 'delete', old.id, old.folded WHERE old.kind = 'minutes'; "
        f"INSERT INTO {_MINUTES}(rowid, folded) SELECT new.id, new.folded WHERE new.kind = 'minutes'; END"
    )
    op.execute(f"INSERT INTO {_MINUTES}(rowid, folded) SELECT id, folded FROM search_docs WHERE kind = 'minutes'")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute(f"DROP TABLE IF EXISTS {_MINUTES}")
