"""voices, recordings and transcripts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "voice_prints",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("speech_s", sa.Float(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_prints")),
    )
    op.create_index(op.f("ix_voice_prints_member_id"), "voice_prints", ["member_id"], unique=False)
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voices_enrolled", sa.Integer(), nullable=False, server_default="0"))

    op.create_table(
        "recordings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("added_at", _TS, nullable=False),
        sa.Column("added_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_recordings_meeting_id_meetings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
    )
    op.create_index(op.f("ix_recordings_meeting_id"), "recordings", ["meeting_id"], unique=False)
    op.create_table(
        "transcript_passes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("recording_id", sa.String(length=36), nullable=True),
        sa.Column("diarization", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("progress_s", sa.Float(), nullable=False),
        sa.Column("audio_s", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("ended_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_transcript_passes_meeting_id_meetings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript_passes")),
    )
    op.create_index(op.f("ix_transcript_passes_meeting_id"), "transcript_passes", ["meeting_id"], unique=False)
    op.create_table(
        "transcript_speakers",
        sa.Column("pass_id", sa.String(length=36), nullable=False),
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["pass_id"], ["transcript_passes.id"], name=op.f("fk_transcript_speakers_pass_id_transcript_passes")),
        sa.PrimaryKeyConstraint("pass_id", "cluster", name=op.f("pk_transcript_speakers")),
    )
    op.create_table(
        "transcript_lines",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("pass_id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("cluster", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_transcript_lines_meeting_id_meetings")),
        sa.ForeignKeyConstraint(["pass_id"], ["transcript_passes.id"], name=op.f("fk_transcript_lines_pass_id_transcript_passes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript_lines")),
    )
    op.create_index(op.f("ix_transcript_lines_meeting_id"), "transcript_lines", ["meeting_id"], unique=False)
    op.create_index(op.f("ix_transcript_lines_pass_id"), "transcript_lines", ["pass_id"], unique=False)
    op.create_index("ix_transcript_lines_pass_start", "transcript_lines", ["pass_id", "start"], unique=False)


def downgrade() -> None:
    for index, table in (
        ("ix_transcript_lines_pass_start", "transcript_lines"),
        (op.f("ix_transcript_lines_pass_id"), "transcript_lines"),
        (op.f("ix_transcript_lines_meeting_id"), "transcript_lines"),
    ):
        op.drop_index(index, table_name=table)
    op.drop_table("transcript_lines")
    op.drop_table("transcript_speakers")
    op.drop_index(op.f("ix_transcript_passes_meeting_id"), table_name="transcript_passes")
    op.drop_table("transcript_passes")
    op.drop_index(op.f("ix_recordings_meeting_id"), table_name="recordings")
    op.drop_table("recordings")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("voices_enrolled")
    op.drop_index(op.f("ix_voice_prints_member_id"), table_name="voice_prints")
    op.drop_table("voice_prints")
