"""secret ballots sealed to the poll's key; teller keys; receipt checks

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from meeting_room.db.engine import MigrationRefused

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sealed_ballots",
        sa.Column("poll_id", sa.String(36), primary_key=True),
        sa.Column("member_id", sa.String(36), primary_key=True),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "receipt_checks",
        sa.Column("poll_id", sa.String(36), primary_key=True),
        sa.Column("member_id", sa.String(36), primary_key=True),
        sa.Column("check", sa.String(64), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "poll_key_shares",
        sa.Column("poll_id", sa.String(36), primary_key=True),
        sa.Column("teller_id", sa.String(36), primary_key=True),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "teller_keys",
        sa.Column("member_id", sa.String(36), primary_key=True),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("locked_private", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    # A plain ADD COLUMN: a batch copy of ``polls`` would trip the foreign keys of its children.
    op.add_column("polls", sa.Column("ballot_key", sa.String(64), nullable=True))
    # Secret ballots left in the clear by an older version while a poll was open: refuse to carry
    # them on silently; such polls must be closed by the old version before upgrading.
    conn = op.get_bind()
    open_secret = conn.execute(
        sa.text("SELECT count(*) FROM ballot_box b JOIN polls p ON p.id = b.poll_id WHERE p.secrecy = 'secret'")
    ).scalar()
    if open_secret:
        raise MigrationRefused(
            "Có phiên biểu quyết kín đang mở với phiếu do phiên bản trước lưu: hãy kết thúc nó bằng phiên bản trước rồi nâng cấp",
            "A secret poll is open with ballots stored by the previous version: close it with that version, then upgrade",
        )


def downgrade() -> None:
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.drop_column("ballot_key")
    op.drop_table("teller_keys")
    op.drop_table("poll_key_shares")
    op.drop_table("receipt_checks")
    op.drop_table("sealed_ballots")
