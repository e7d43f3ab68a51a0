"""Derived tables come from a flag, and a log with every event type rebuilds every read model exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from meeting_room import events as ev
from meeting_room.db import tables as t
from meeting_room.store import Store

H = "a" * 64
T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
NOT_DERIVED = {
    "events",
    "credentials",
    "auth_sessions",
    "meeting_views",
    "face_encodings",
    "voice_prints",
    "document_notes",  # a person's private notes: never events, never emptied by a rebuild
    "ballot_box",
    "sealed_ballots",
    "receipt_checks",
    "poll_key_shares",
    "teller_keys",
    "mail_outbox",
    "mail_cursor",
    "face_imports",  # a job and its report: the log records each face enrolled
    "face_import_archives",  # the photos of a job under way (biometric data), never in the log
    "worker_credentials",  # a worker machine's key (hashed), like a person's credentials: not a meeting change
}


def every_event() -> list[ev.EventPayload]:
    """One log that uses every event type the registry knows (in an order the projections accept)."""
    m, p, tp = "mt", "p1", "tp1"
    return [
        ev.BodyCreated(body_id="b1", name="Hội đồng nhân dân xã Thử", short_name="HĐND"),
        ev.BodyUpdated(body_id="b1", parent_name="Tỉnh A"),
        ev.MemberCreated(member_id="m1", body_id="b1", full_name="Nguyễn Thị Thu", roles=["member"], username="thu"),
        ev.MemberCreated(member_id="m2", body_id="b1", full_name="Lê Văn Nam", roles=["chair", "member"], username="nam"),
        ev.MemberCreated(member_id="m3", body_id="b1", full_name="Trần Hoa", roles=["secretary"], username="hoa"),
        ev.MemberUpdated(member_id="m1", title="Đại biểu", email="thu@hdnd.example.vn"),
        ev.MemberPasswordSet(member_id="m1"),
        ev.BiometricConsent(member_id="m1", given=True, note="Phiếu 1"),
        ev.FaceEnrolled(member_id="m1", face_id="f1", face_px=120, sharpness=80.0),
        ev.VoiceEnrolled(member_id="m1", voice_id="v1", speech_s=25.0, level_db=-20.0),
        ev.BiometricsDeleted(member_id="m1", reason="requested", faces=1, voices=1),
        ev.CertificateRegistered(
            member_id="m2", fingerprint_sha256=H, common_name="Lê Văn Nam", issuer="CA", not_before=T0, not_after=T0 + timedelta(days=365)
        ),  # fmt: skip
        ev.RoomCreated(room_id="r1", name="Phòng 1", seats=[ev.SeatSpec(seat_id="s1", label="A1", position=1)]),
        ev.RoomUpdated(room_id="r1", location="Tầng 2", seats=[ev.SeatSpec(seat_id="s2", label="A2", position=1)]),
        ev.SeatOccupantSet(room_id="r1", seat_id="s2", member_id="m1"),
        ev.MeetingScheduled(meeting_id=m, body_id="b1", title="Kỳ họp", room_id="r1", starts_at=T0, chair_id="m2", secretary_id="m3"),
        ev.MeetingUpdated(meeting_id=m, ends_at=T0 + timedelta(hours=2)),
        ev.ParticipantAdded(meeting_id=m, member_id="m1", role="member"),
        ev.ParticipantAdded(meeting_id=m, member_id="m3", role="guest"),
        ev.MeetingSeatAssigned(meeting_id=m, seat_id="s2", member_id="m3"),
        ev.MeetingSeatReset(meeting_id=m, seat_id="s2"),
        ev.MeetingSeatAssigned(meeting_id=m, seat_id="s2", member_id="m1"),
        ev.MeetingPublished(meeting_id=m),
        ev.ParticipantRemoved(meeting_id=m, member_id="m3"),
        ev.InvitationReplied(meeting_id=m, member_id="m1", answer="deputy", deputy_id="m3"),
        ev.AgendaItemAdded(meeting_id=m, item_id="i1", position=1, title="Một"),
        ev.AgendaItemAdded(meeting_id=m, item_id="i2", position=2, title="Hai"),
        ev.AgendaItemAdded(meeting_id=m, item_id="i3", position=3, title="Ba"),
        ev.AgendaItemUpdated(meeting_id=m, item_id="i1", description="Mô tả"),
        ev.AgendaItemRemoved(meeting_id=m, item_id="i3"),
        ev.AgendaReordered(meeting_id=m, item_ids=["i2", "i1"]),
        ev.InvitationCreated(meeting_id=m, invitation_id="inv1", member_id="m1", token_hash=H, expires_at=T0 + timedelta(days=1)),
        ev.InvitationCreated(meeting_id=m, invitation_id="hall1", member_id=None, token_hash="b" * 64, expires_at=T0 + timedelta(days=1)),
        ev.InvitationUsed(meeting_id=m, invitation_id="inv1"),
        ev.InvitationRevoked(meeting_id=m, invitation_id="inv1"),
        ev.DocumentAttached(
            meeting_id=m, document_id="d1", agenda_item_id="i1", title="Tờ trình", filename="to-trinh.pdf", sha256=H, size=100, pages=2
        ),  # fmt: skip
        ev.DocumentAttached(
            meeting_id=m, document_id="d2", agenda_item_id="i1", title="Phụ lục", filename="pl.pdf", sha256=H, size=1, pages=1
        ),
        ev.DocumentRemoved(meeting_id=m, document_id="d2"),
        ev.DocumentRenamed(meeting_id=m, document_id="d1", title="Tờ trình dự toán ngân sách"),
        ev.MeetingStateChanged(meeting_id=m, from_state="scheduled", to_state="open"),
        ev.MeetingStateChanged(meeting_id=m, from_state="open", to_state="in_session"),
        ev.AttendanceRecorded(meeting_id=m, member_id="m1", status="present_in_room", source="face", confidence=0.9, camera="cam"),
        ev.AttendanceRecorded(meeting_id=m, member_id="m2", status="present_in_room", source="manual"),
        ev.OnlineFaceChecked(meeting_id=m, member_id="m1", result="mismatch", distance=0.71, looks_like="m2"),
        ev.UnknownFacesSeen(meeting_id=m, camera="cam", count=2),
        ev.RoomDeviceChanged(meeting_id=m, device="mic-1", kind="microphone", state="lost", detail="rút cáp"),
        ev.AgendaItemTaken(meeting_id=m, item_id="i2"),
        ev.FloorRequested(meeting_id=m, member_id="m1"),
        ev.FloorRequested(meeting_id=m, member_id="m2"),
        ev.FloorWithdrawn(meeting_id=m, member_id="m2"),
        ev.FloorGiven(meeting_id=m, member_id="m1"),
        ev.FloorEnded(meeting_id=m, member_id="m1"),
        ev.SpeakingLimitSet(meeting_id=m, seconds=180),
        ev.SpeakingLimitSet(meeting_id=m, item_id="i2", seconds=60),
        ev.PollCreated(
            meeting_id=m,
            poll_id=p,
            agenda_item_id="i2",
            title="Thông qua",
            kind="motion",
            options=[ev.PollOptionSpec(option_id="yes", label="Tán thành"), ev.PollOptionSpec(option_id="no", label="Không")],
            min_choices=1,
            max_choices=1,
            secrecy="named",
            eligibility="present",
            allow_change=False,
            rule=ev.RuleSpec(preset="majority_present"),
        ),  # fmt: skip
        ev.PollOpened(meeting_id=m, poll_id=p, eligible=["m1", "m2"], members=2, present=2),
        ev.BallotCast(meeting_id=m, poll_id=p, voter_id="m1", ballots_cast=1, eligible=2),
        ev.PollClosed(
            meeting_id=m, poll_id=p, ballots=[ev.BallotRecord(receipt_hash=H, selection=["yes"], voter_id="m1")], result={"passed": True}
        ),  # fmt: skip
        ev.PollPublished(meeting_id=m, poll_id=p),
        ev.PollCreated(
            meeting_id=m,
            poll_id="p2",
            title="Hủy",
            kind="motion",
            options=[ev.PollOptionSpec(option_id="yes", label="Có")],
            min_choices=1,
            max_choices=1,
            secrecy="secret",
            eligibility="present",
            allow_change=False,
            rule=ev.RuleSpec(preset="majority_present"),
        ),  # fmt: skip
        ev.PollCancelled(meeting_id=m, poll_id="p2", from_state="created", reason="nhầm"),
        ev.RecordingAdded(meeting_id=m, recording_id="rec1", filename="hop.wav", sha256=H, size=10, duration_s=3.0, channels=1),
        ev.TranscriptPassStarted(meeting_id=m, pass_id=tp, kind="final", model="whisper-base", recording_id="rec1"),
        ev.TranscriptSpeakers(meeting_id=m, pass_id=tp, speakers=[ev.SpeakerSpec(cluster="c0", name="Người nói 1", source="anonymous")]),
        ev.TranscriptSegment(
            meeting_id=m,
            pass_id=tp,
            segment_id="l1",
            start=0.0,
            end=1.5,
            text="Xin chào các đại biểu",
            cluster="c0",
            confidence=0.8,
            words=[(0.0, 0.5, "Xin", 0.9)],
        ),  # fmt: skip
        ev.TranscriptPassEnded(meeting_id=m, pass_id=tp, state="completed", segments=1, audio_s=3.0),
        ev.SpeakerRelabelled(meeting_id=m, pass_id=tp, cluster="c0", name="Lê Văn Nam", member_id="m2"),
        ev.MeetingStateChanged(meeting_id=m, from_state="in_session", to_state="closed"),
        ev.MinutesSaved(
            meeting_id=m, version=1, number="01", sections=[ev.MinutesSection(item_id="i1", text="Đã thảo luận")], generated=True
        ),  # fmt: skip
        ev.SignatureImageSet(kind="signature", owner_id="m3", sha256=H, width=600, height=240),
        ev.SignatureImageSet(kind="seal", owner_id="b1", sha256=H, width=400, height=400),
        ev.SignatureImageRemoved(kind="seal", owner_id="b1"),
        ev.NoticeSaved(meeting_id=m, version=1, number="/TB", items=[ev.MinutesSection(item_id="i1", text="Thống nhất.")]),
        ev.NoticeSigned(meeting_id=m, version=1, member_id="m1", fingerprint_sha256=H, signed_from_sha256=H, pdf_sha256=H, size=1),
        ev.MinutesSigningPrepared(meeting_id=m, version=1, role="secretary", member_id="m3", source_sha256=H),
        ev.MinutesSigned(
            meeting_id=m, version=1, role="secretary", member_id="m3", fingerprint_sha256=H, signed_from_sha256=H, pdf_sha256=H, size=10
        ),  # fmt: skip
        ev.MeetingStateChanged(meeting_id=m, from_state="closed", to_state="minutes_signed"),
        ev.ArchiveSealed(meeting_id=m, manifest_sha256=H, files=3, size=100),
        ev.MeetingStateChanged(meeting_id=m, from_state="minutes_signed", to_state="archived"),
    ]


def _read_models(store: Store) -> dict[str, list[dict[str, Any]]]:
    out = {}
    with store.read() as session:
        for table in t.DERIVED_TABLES:
            columns = [c for c in table.columns if not (table.name == "search_docs" and c.name == "id")]  # a serial on PostgreSQL
            rows = [dict(r._mapping) for r in session.execute(select(*columns))]
            out[table.name] = sorted(rows, key=repr)
    return out


def test_derived_tables_come_from_the_flag_children_first() -> None:
    names = {table.name for table in t.DERIVED_TABLES}
    assert names == set(t.Base.metadata.tables) - NOT_DERIVED
    assert "invitations" in names
    position = {table.name: i for i, table in enumerate(t.DERIVED_TABLES)}
    for table in t.DERIVED_TABLES:
        for fk in table.foreign_keys:  # a child is emptied before the table it points at
            assert position[table.name] < position[fk.column.table.name], (table.name, fk.column.table.name)


def test_a_log_with_every_event_type_rebuilds_every_read_model(any_store: Store) -> None:
    log = every_event()
    missing = sorted(set(ev.EVENT_TYPES) - {p.type for p in log})
    assert not missing, f"add a case for the new event type(s) {missing} to every_event()"
    for payload in log:
        any_store.append(payload)
    before = _read_models(any_store)
    assert all(before[name] for name in ("invitations", "ballots", "transcript_lines", "archives", "search_docs"))
    assert any_store.rebuild() == len(log)
    assert _read_models(any_store) == before
