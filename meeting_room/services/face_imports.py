"""Face photos of many members at once: a ZIP of one folder per member, enrolled by a job.

An administrator uploads the archive; everything that can be checked without the face models is
checked then (the layout, the file types and sizes, each folder naming an active member who has
consented), and any problem refuses the whole archive with the list. The job (``FaceImportJobs``:
the queue's workers on PostgreSQL, the server's thread on SQLite) then enrols one member after the
other with the uploader's authority, checked again when it runs. A member's faces and the line
saying so in ``results`` are written in one transaction, so that a job retried after a crash
resumes with the next member and enrols nobody twice. A photo refused (no face, two faces, too
small, blurred) is named in the results; the member's other photos are still enrolled. When the
job ends, however it ends, the archive is emptied and scrubbed from the database's free pages.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, require_roles
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, MeetingRoomError, NotFoundError
from meeting_room.files import photo_archive
from meeting_room.files.photo_archive import Problem
from meeting_room.roles import Role
from meeting_room.services import faces
from meeting_room.services.consent import require_consent
from meeting_room.store import Decided, Store
from vision.enrolment import EnrolledFace, EnrolmentRules
from vision.errors import VisionError
from vision.faces import FaceEngine

ACTIVE = ("queued", "running")
_TABLE = t.FaceImport.__tablename__


@dataclass(frozen=True)
class MemberResult:
    """What the job did for one member's folder."""

    folder: str
    member_id: str
    full_name: str
    enrolled: int
    refused: list[dict[str, str]] = field(default_factory=list)  # {"photo", "message_vi", "message_en"}
    error_vi: str | None = None  # the whole folder failed (consent withdrawn meanwhile, ...)
    error_en: str | None = None


@dataclass(frozen=True)
class FaceImportView:
    id: str
    created_at: datetime
    created_by: str
    filename: str
    state: str
    members_total: int
    photos_total: int
    results: list[MemberResult]
    tries: int
    error: str | None
    ended_at: datetime | None


def may_import(actor: Actor) -> None:
    require_roles(actor, action_vi="nhập ảnh khuôn mặt", action_en="import face photos")


def create(store: Store, actor: Actor, filename: str, data: bytes, *, max_photo_bytes: int) -> str:
    """Check the archive and store it as a queued import; returns its id. Nothing is stored on a problem."""
    may_import(actor)
    folders, problems = photo_archive.check_folders(data, max_photo_bytes=max_photo_bytes, max_photos=faces.MAX_PHOTOS)
    names = [f.name for f in folders]
    plan: list[dict[str, Any]] = []
    with store.read() as session:
        found = session.scalars(select(t.Member).where(or_(t.Member.id.in_(names), t.Member.username.in_([n.lower() for n in names]))))
        by_name: dict[str, t.Member] = {}
        for m in found:
            by_name[m.id] = m
            if m.username:
                by_name[m.username] = m
        folder_of: dict[str, str] = {}
        for folder in folders:
            member = by_name.get(folder.name) or by_name.get(folder.name.lower())
            if member is None:
                problems.append(Problem(folder.name, "không có thành viên có tên đăng nhập hoặc mã này",
                                        "no member has this username or id"))  # fmt: skip
                continue
            try:
                require_consent(member)
            except ConflictError as exc:
                problems.append(Problem(folder.name, exc.message_vi, exc.message_en))
                continue
            if member.id in folder_of:
                problems.append(Problem(folder.name, f"cùng một người với thư mục {folder_of[member.id]}",
                                        f"the same member as the folder {folder_of[member.id]}"))  # fmt: skip
                continue
            folder_of[member.id] = folder.name
            plan.append({"folder": folder.name, "member_id": member.id, "full_name": member.full_name, "entries": list(folder.entries)})
    if problems:
        raise photo_archive.refuse(problems)
    digest, import_id = hashlib.sha256(data).hexdigest(), str(uuid.uuid4())

    def decide(session: Session) -> Decided[None]:
        same = session.scalar(select(t.FaceImport.id).where(t.FaceImport.sha256 == digest, t.FaceImport.state.in_(ACTIVE)))
        if same is not None:
            raise ConflictError("Tệp này đang được nhập; xem tiến độ ở danh sách bên dưới",
                                "This archive is already being imported; see its progress below", import_id=same)  # fmt: skip
        session.add(
            t.FaceImport(
                id=import_id, created_at=store.now(), created_by=actor.member_id, filename=filename[:255] or "ảnh.zip", sha256=digest,
                state="queued", plan=json.dumps(plan, ensure_ascii=False), results="[]", tries=0, archive=data,
            )
        )  # fmt: skip
        return Decided([], None)

    store.decide(decide, actor_id=actor.member_id)
    return import_id


def _view(row: t.FaceImport) -> FaceImportView:
    plan = json.loads(row.plan)
    return FaceImportView(
        id=row.id, created_at=row.created_at, created_by=row.created_by, filename=row.filename, state=row.state,
        members_total=len(plan), photos_total=sum(len(p["entries"]) for p in plan),
        results=[MemberResult(**r) for r in json.loads(row.results)], tries=row.tries, error=row.error, ended_at=row.ended_at,
    )  # fmt: skip


def listed(store: Store, actor: Actor, limit: int = 20) -> list[FaceImportView]:
    """The newest imports first (an administrator)."""
    may_import(actor)
    with store.read() as session:
        rows = session.scalars(select(t.FaceImport).order_by(t.FaceImport.created_at.desc()).limit(limit))
        return [_view(r) for r in rows]


def get(store: Store, actor: Actor, import_id: str) -> FaceImportView:
    may_import(actor)
    with store.read() as session:
        return _view(_row(session, import_id))


def _row(session: Session, import_id: str) -> t.FaceImport:
    row = session.get(t.FaceImport, import_id)
    if row is None:
        raise NotFoundError(f"Không có lượt nhập ảnh {import_id}", f"No face import {import_id}", import_id=import_id)
    return row


def active_ids(store: Store) -> list[str]:
    with store.read() as session:
        return list(session.scalars(select(t.FaceImport.id).where(t.FaceImport.state.in_(ACTIVE)).order_by(t.FaceImport.created_at)))


def end(store: Store, import_id: str, state: str, error: str | None = None) -> bool:
    """End the import (done, failed, stopped) unless it has ended; the photos go with it. True if it was this call that ended it."""

    def decide(session: Session) -> Decided[bool]:
        row = _row(session, import_id)
        if row.state not in ACTIVE:
            return Decided([], False)
        row.state, row.error, row.archive, row.ended_at = state, error, None, store.now()
        return Decided([], True)

    ended = store.decide(decide)[1]
    if ended:
        store.scrub(_TABLE)  # the photos' pages, zeroed by SQLite's secure_delete, out of the WAL too
    return ended


def stop(store: Store, actor: Actor, import_id: str) -> None:
    """An administrator stops an import: members already done stay enrolled; the photos are deleted."""
    may_import(actor)
    with store.read() as session:
        row = _row(session, import_id)
        if row.state not in ACTIVE:
            raise ConflictError("Lượt nhập ảnh này đã kết thúc", "This face import has already ended", state=row.state)
    end(store, import_id, "stopped")


def run(store: Store, import_id: str, engine: Callable[[], FaceEngine], rules: EnrolmentRules, *, max_photo_bytes: int) -> str:
    """Run (or resume) the import: each member not yet in the results, in the plan's order. Returns
    the state it ends in; a stop by an administrator is seen before each member. An error that is
    not about a member's photos (the database away) is raised, and the import stays ``running``."""

    def begin(session: Session) -> Decided[tuple[str, str, bytes | None, str, str]]:
        row = _row(session, import_id)
        if row.state in ACTIVE:
            row.state, row.tries = "running", row.tries + 1
        return Decided([], (row.state, row.created_by, row.archive, row.plan, row.results))

    state, uploader, archive, plan, results = store.decide(begin)[1]
    if state != "running":
        return state
    done = {r["folder"] for r in json.loads(results)}
    for item in json.loads(plan):
        if item["folder"] in done:
            continue
        if archive is None:
            end(store, import_id, "failed", "Tệp ảnh không còn / The photo archive is gone")
            return "failed"
        result, checked = _check_member(item, archive, engine, rules, max_photo_bytes)
        outcome = _record(store, uploader, import_id, result, checked)
        if outcome == "revoked":
            end(store, import_id, "failed", "Người tải tệp lên không còn là quản trị viên / The uploader is no longer an administrator")
            return "failed"
        if outcome == "stopped":
            return "stopped"
    return "done" if end(store, import_id, "done") else "stopped"


def _check_member(
    item: dict[str, Any], archive: bytes, engine: Callable[[], FaceEngine], rules: EnrolmentRules, max_photo_bytes: int
) -> tuple[MemberResult, list[EnrolledFace]]:
    """The member's photos checked one by one (CPU-heavy, outside the store's lock)."""
    base = {"folder": item["folder"], "member_id": item["member_id"], "full_name": item["full_name"]}
    try:
        photos = photo_archive.read_photos(archive, tuple(item["entries"]), max_photo_bytes=max_photo_bytes)
    except MeetingRoomError as exc:
        return MemberResult(**base, enrolled=0, error_vi=exc.message_vi, error_en=exc.message_en), []
    checked, refused = [], []
    for name, data in photos:
        try:
            checked.append(faces.check_photo(engine(), name, data, rules))
        except (VisionError, MeetingRoomError) as exc:
            refused.append({"photo": name, "message_vi": exc.message_vi, "message_en": exc.message_en})
    return MemberResult(**base, enrolled=len(checked), refused=refused), checked


def _record(store: Store, uploader: str, import_id: str, result: MemberResult, checked: list[EnrolledFace]) -> str:
    """The member's faces and their line in the results, in one transaction, with the uploader's
    authority as it is now: "ok", "stopped" (by an administrator meanwhile) or "revoked"."""

    def decide(session: Session) -> Decided[str]:
        row = _row(session, import_id)
        if row.state != "running":
            return Decided([], "stopped")
        member = session.get(t.Member, uploader)
        if member is None or not member.active or Role.ADMIN.value not in member.roles:
            return Decided([], "revoked")
        events: list[ev.EventPayload] = []
        line = result
        if checked:
            try:
                events = faces.add_faces(store, session, result.member_id, checked)
            except MeetingRoomError as exc:  # consent withdrawn or account disabled since the upload
                line = MemberResult(result.folder, result.member_id, result.full_name, 0, result.refused, exc.message_vi, exc.message_en)
        row.results = json.dumps([*json.loads(row.results), asdict(line)], ensure_ascii=False)
        return Decided(events, "ok")

    return store.decide(decide, actor_id=uploader)[1]
