"""Sealing a meeting: its record written once into an archive directory, then nothing may change.

The archive holds the signed minutes, the minutes' text, the signed conclusion notice (when there is
one), the recordings, the transcript, the attendance, the polls with every ballot, the agenda
documents and the meeting's events with their chain hashes. ``archive.sealed`` records the
manifest's SHA-256 in the log and moves the meeting to ``archived``; from then on the store refuses
every event of the meeting.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, require_overseer
from meeting_room.auth import LoginThrottle
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError
from meeting_room.files.documents import DocumentFiles
from meeting_room.files.minutes_files import MinutesFiles
from meeting_room.files.recordings import RecordingFiles
from meeting_room.lifecycle import MeetingState, check_transition
from meeting_room.reads.transcript_reads import current_pass, lines
from meeting_room.services import minutes as minutes_service
from meeting_room.services import notice as notice_service
from meeting_room.store import Store
from transcripts import archive
from transcripts.archive import ArchiveReport
from transcripts.bilingual import BilingualError
from voting import published_order

log = logging.getLogger(__name__)


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str).encode()


def _collect(
    store: Store, session: Session, meeting_id: str, files: MinutesFiles, recordings: RecordingFiles, documents: DocumentFiles
) -> dict[str, bytes | Path]:
    signed = minutes_service.signatures(session, meeting_id)
    chair = signed["chair"]
    version = minutes_service.version_of(session, meeting_id, chair.version)
    out: dict[str, bytes | Path] = {
        "bien-ban-da-ky.pdf": files.get_pdf(chair.pdf_sha256),
        "bien-ban.json": _json(
            {
                "version": version.version,
                "number": version.number,
                "place": version.place,
                "opening": version.opening,
                "closing": version.closing,
                "recipients": version.recipients,
                "sections": version.sections,
                "signatures": {
                    role: {
                        "member_id": s.member_id,
                        "fingerprint_sha256": s.fingerprint_sha256,
                        "pdf_sha256": s.pdf_sha256,
                        "signed_at": s.signed_at.isoformat(),
                        "timestamped": s.timestamped,
                    }
                    for role, s in signed.items()
                },
            }
        ),
    }
    notice = notice_service.signature(session, meeting_id)
    if notice is not None:  # after the seal the store takes no event of the meeting: no notice comes later
        out["thong-bao-ket-luan-da-ky.pdf"] = files.get_pdf(notice.payload.pdf_sha256)
    run = current_pass(session, meeting_id)
    out["ban-ghi-loi-noi.json"] = _json(
        {
            "pass_id": run.id if run else None,
            "kind": run.kind if run else None,
            "model": run.model if run else None,
            "lines": [dataclasses.asdict(line) for line in lines(session, run.id)] if run else [],
        }
    )
    attendance = session.scalars(select(t.Attendance).where(t.Attendance.meeting_id == meeting_id).order_by(t.Attendance.member_id))
    out["diem-danh.json"] = _json(
        [
            {"member_id": a.member_id, "status": a.status, "source": a.source, "reason": a.reason, "recorded_at": a.recorded_at}
            for a in attendance
        ]
    )
    polls = []
    for poll in session.scalars(select(t.Poll).where(t.Poll.meeting_id == meeting_id).order_by(t.Poll.created_at)):
        found = session.scalars(select(t.Ballot).where(t.Ballot.poll_id == poll.id))
        ballots = sorted(found, key=lambda b: published_order(b.selection, b.text, b.receipt_hash))
        polls.append(
            {
                "poll_id": poll.id,
                "title": poll.title,
                "agenda_item_id": poll.agenda_item_id,
                "state": poll.state,
                "rule": poll.rule,
                "result": poll.result,
                "ballots": [
                    {"receipt_hash": b.receipt_hash, "selection": b.selection, "text": b.text, "voter_id": b.voter_id} for b in ballots
                ],
            }
        )
    out["bieu-quyet.json"] = _json(polls)
    out["nhat-ky-su-kien.jsonl"] = "".join(
        json.dumps(e.record(), ensure_ascii=False, sort_keys=True) + "\n" for e in store.events(meeting_id=meeting_id)
    ).encode()
    for recording in session.scalars(select(t.Recording).where(t.Recording.meeting_id == meeting_id)):
        out[f"ghi-am/{recording.sha256[:12]}-{recording.filename}"] = recordings.open(recording.sha256)
    for document in session.scalars(select(t.Document).where(t.Document.meeting_id == meeting_id)):
        out[f"tai-lieu/{document.sha256[:12]}-{document.filename}"] = documents.open(document.sha256)
    return out


def _signed_notice(session: Session, meeting_id: str) -> str | None:
    signed = notice_service.signature(session, meeting_id)
    return signed.payload.pdf_sha256 if signed else None


@dataclass(frozen=True)
class SealResult:
    directory: Path
    files: int
    size: int
    manifest_sha256: str


def seal(
    store: Store, actor: Actor | None, meeting_id: str, files: MinutesFiles, recordings: RecordingFiles, documents: DocumentFiles
) -> SealResult:
    """Write the archive and seal the meeting (after both signatures; a clerk may retry a failed seal)."""
    with _one_seal_at_a_time(files, meeting_id):
        return _seal(store, actor, meeting_id, files, recordings, documents)


@contextmanager
def _one_seal_at_a_time(files: MinutesFiles, meeting_id: str) -> Iterator[None]:
    """A second seal of the meeting waits for the first (then finds it sealed): two would write the same staging
    folder and remove each other's files, and the first to record its manifest would seal a damaged archive
    (a clerk's tap while the chair's automatic seal still copied the recordings). A file lock: across processes too."""
    directory = files.archive_path(meeting_id)
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.with_name(directory.name + ".lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, even if the process dies
        yield


def _seal(
    store: Store, actor: Actor | None, meeting_id: str, files: MinutesFiles, recordings: RecordingFiles, documents: DocumentFiles
) -> SealResult:
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        if actor is not None:
            require_overseer(session, actor, meeting, action_vi="niêm phong lưu trữ", action_en="seal the archive")
        if session.get(t.ArchiveRecord, meeting_id) is not None:  # said plainly to one who waited for another's seal
            raise ConflictError("Cuộc họp đã được niêm phong", "The meeting is already sealed", meeting_id=meeting_id)
        check_transition(meeting.id, MeetingState(meeting.state), MeetingState.ARCHIVED, title=meeting.title)
        content = _collect(store, session, meeting_id, files, recordings, documents)
        notice_in = _signed_notice(session, meeting_id)
    directory = files.archive_path(meeting_id)
    if directory.exists():  # a seal that wrote its files but never reached the log: not sealed, redo it
        shutil.rmtree(directory)
    sealed = archive.seal(directory, content, meeting_id=meeting_id, sealed_at=store.now().isoformat())
    size = sum(e.size for e in sealed.entries)

    def decide(session: Session) -> list[ev.EventPayload]:
        meeting = get_meeting(session, meeting_id)
        check_transition(meeting.id, MeetingState(meeting.state), MeetingState.ARCHIVED, title=meeting.title)
        if _signed_notice(session, meeting_id) != notice_in:  # signed while the files were written: not in them
            raise ConflictError(
                "Thông báo kết luận vừa được ký trong lúc niêm phong: hãy niêm phong lại để hồ sơ có thông báo đã ký",
                "The conclusion notice was signed while the archive was being written: seal again so that it holds the notice",
                meeting_id=meeting_id,
            )
        return [
            ev.ArchiveSealed(meeting_id=meeting_id, manifest_sha256=sealed.manifest_sha256, files=len(sealed.entries), size=size),
            ev.MeetingStateChanged(meeting_id=meeting_id, from_state=MeetingState(meeting.state), to_state=MeetingState.ARCHIVED),
        ]

    store.append_all(decide, actor_id=actor.member_id if actor else None)
    return SealResult(directory, len(sealed.entries), size, sealed.manifest_sha256)


@dataclass(frozen=True)
class Signed:
    signature: minutes_service.SignResult
    sealed: SealResult | None  # the chair's signature seals the archive
    seal_problem: BilingualError | None = None  # the chair's signature is recorded but the seal did not complete: why


def sign(
    store: Store,
    actor: Actor,
    meeting_id: str,
    passphrase: str,
    files: MinutesFiles,
    recordings: RecordingFiles,
    documents: DocumentFiles,
    *,
    tz: ZoneInfo,
    throttle: LoginThrottle | None = None,
    client: str = "?",
) -> Signed:
    """Sign the minutes (``minutes.sign``); the chair's signature, the last one, then seals the meeting's archive.
    The seal is the server's own act (no actor): the chair may sign without being allowed to seal by hand."""
    # a notice someone wrote is signed before this seals the meeting (a key on the server signs both; a token's
    # holder, who could not sign the notice, signs through ``accept_signed`` and is warned by the page)
    done = minutes_service.sign(
        store, actor, meeting_id, passphrase, files, tz=tz, throttle=throttle, client=client,
        before_seal=notice_service.require_signed_before_seal,
    )  # fmt: skip
    return _sealed_after(store, done, meeting_id, files, recordings, documents)


def accept_signed(
    store: Store,
    actor: Actor,
    meeting_id: str,
    source_sha: str,
    signed: bytes,
    files: MinutesFiles,
    recordings: RecordingFiles,
    documents: DocumentFiles,
    *,
    tz: ZoneInfo,
) -> Signed:
    """Take minutes signed on the signer's own computer (``minutes.accept_signed``); the chair's seals, as above."""
    done = minutes_service.accept_signed(store, actor, meeting_id, source_sha, signed, files, tz=tz)
    return _sealed_after(store, done, meeting_id, files, recordings, documents)


def _sealed_after(
    store: Store,
    done: minutes_service.SignResult,
    meeting_id: str,
    files: MinutesFiles,
    recordings: RecordingFiles,
    documents: DocumentFiles,
) -> Signed:
    if minutes_service.ROLE_ORDER[-1] != done.role:
        return Signed(done, None)
    # the signature is recorded whatever happens to the seal: the signer is told so, and why the seal did not
    # complete, not given an error as if nothing was signed; a record keeper seals again (the record page offers it)
    try:
        return Signed(done, seal(store, None, meeting_id, files, recordings, documents))
    except BilingualError as exc:
        log.warning("minutes of %s signed, the seal did not complete: %s", meeting_id, exc)
        return Signed(done, None, exc)
    except OSError as exc:
        log.exception("minutes of %s signed, the seal could not be written", meeting_id)
        problem = ConflictError(
            f"Không ghi được hồ sơ lưu trữ ({exc.strerror or exc})", f"The archive could not be written ({exc.strerror or exc})"
        )
        return Signed(done, None, problem)


def verify_all(store: Store, files: MinutesFiles) -> list[tuple[str, ArchiveReport]]:
    """Every sealed archive checked against the manifest hash its ``archive.sealed`` event recorded."""
    with store.read() as session:
        records = list(session.scalars(select(t.ArchiveRecord).order_by(t.ArchiveRecord.sealed_at)))
    return [(r.meeting_id, archive.verify(files.archive_path(r.meeting_id), r.manifest_sha256)) for r in records]
