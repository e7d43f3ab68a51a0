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

import contextlib
import difflib
import hashlib
import json
import unicodedata
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, or_, select
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
from transcripts.text import fold
from vision.enrolment import EnrolledFace, EnrolmentRules
from vision.errors import VisionError
from vision.faces import FaceEngine

ACTIVE = ("queued", "running")
_ARCHIVES = t.FaceImportArchive.__tablename__


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
    known: int = 0  # photos already enrolled for the member (the same archive imported again): skipped
    skipped: bool = False  # the folder was left out at upload for a problem (``create(skip_problems=True)``)


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
    not_done: list[str]  # the folders of the plan not yet in the results (all of them that an ended import left)
    tries: int
    error: str | None
    ended_at: datetime | None


def may_import(actor: Actor) -> None:
    require_roles(actor, action_vi="nhập ảnh khuôn mặt", action_en="import face photos")


def _members_named(
    session: Session, folders: list[photo_archive.Folder], problems: list[Problem], known: dict[str, t.Member] | None = None
) -> list[dict[str, Any]]:
    """The plan: each folder's member, who must be one, active, consenting, and in no other folder
    (``known``: filled with each folder's one member, the refused ones too)."""
    names = [f.name for f in folders]
    found = session.scalars(select(t.Member).where(or_(t.Member.id.in_(names), t.Member.username.in_([n.lower() for n in names]))))
    by_name: dict[str, list[t.Member]] = {}
    for m in found:
        by_name.setdefault(m.id, []).append(m)
        if m.username and m.username != m.id:
            by_name.setdefault(m.username, []).append(m)
    plan: list[dict[str, Any]] = []
    folder_of: dict[str, str] = {}
    guess = _Guesses(session)
    for folder in folders:
        named = by_name.get(folder.name) or by_name.get(folder.name.lower()) or []
        if not named:
            near = guess(folder.name)
            hint_vi, hint_en = (f" (có phải “{near}”?)", f" (did you mean “{near}”?)") if near else ("", "")
            problems.append(Problem(folder.name, "không có thành viên có tên đăng nhập hoặc mã này" + hint_vi,
                                    "no member has this username or id" + hint_en, folder.name))  # fmt: skip
            continue
        if len(named) != 1:  # one member's id that is another's username
            problems.append(Problem(folder.name,
                                    "vừa là mã của một thành viên vừa là tên đăng nhập của người khác: đặt tên thư mục rõ ràng",
                                    "one member's id and another's username: name the folder unambiguously", folder.name))  # fmt: skip
            continue
        member = named[0]
        if known is not None:
            known[folder.name] = member
        try:
            require_consent(member)
        except ConflictError as exc:
            consent = (member.id, member.full_name) if member.active else None  # a disabled account is not a matter of consent
            problems.append(Problem(folder.name, exc.message_vi, exc.message_en, folder.name, needs_consent=consent))
            continue
        if member.id in folder_of:
            problems.append(Problem(folder.name, f"cùng một người với thư mục {folder_of[member.id]}",
                                    f"the same member as the folder {folder_of[member.id]}", folder.name))  # fmt: skip
            continue
        folder_of[member.id] = folder.name
        plan.append({"folder": folder.name, "member_id": member.id, "full_name": member.full_name, "entries": list(folder.entries)})
    return plan


class _Guesses:
    """The username a folder that names nobody was probably meant to be: a member's full name written as
    the folder (with or without diacritics), or a username a typo away. Read once, for the first folder
    that needs it (the administrator, who imports, sees every username anyway)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._usernames: list[str] | None = None
        self._by_name: dict[str, str] = {}

    def __call__(self, folder: str) -> str | None:
        if self._usernames is None:
            rows = self._session.execute(select(t.Member.username, t.Member.full_name).where(t.Member.active.is_(True))).all()
            self._usernames = [u for u, _ in rows if u]
            for username, full_name in rows:
                if username:
                    self._by_name.setdefault(_folded(full_name), username)
        wanted = _folded(folder)
        if wanted in self._by_name:
            return self._by_name[wanted]
        near = difflib.get_close_matches(folder.lower(), self._usernames, n=1, cutoff=0.75)
        return near[0] if near else None


def _folded(name: str) -> str:
    return " ".join(fold(name).replace("_", " ").replace(".", " ").split())


def _clean_name(filename: str) -> str:
    """The uploaded file's name as shown on the page: NFC, without control or direction characters."""
    name = "".join(c for c in unicodedata.normalize("NFC", filename) if unicodedata.category(c) not in ("Cc", "Cf")).strip()
    return name[:255] or "ảnh.zip"


def create(store: Store, actor: Actor, filename: str, data: bytes, *, max_photo_bytes: int, skip_problems: bool = False) -> str:
    """Check the archive and store it as a queued import; returns its id. Nothing is stored on a problem;
    with ``skip_problems`` the members' folders with a problem are left out (each reported at once, as
    that member's result) and the rest imported, while a problem of the archive itself still refuses it."""
    may_import(actor)
    folders, problems = photo_archive.check_folders(data, max_photo_bytes=max_photo_bytes, max_photos=faces.MAX_PHOTOS)
    if len(folders) > photo_archive.MAX_FOLDERS:  # already a problem: no lookup of that many names
        raise photo_archive.refuse(problems)
    known: dict[str, t.Member] = {}
    with store.read() as session:
        plan = _members_named(session, folders, problems, known)
    skipped: list[MemberResult] = []
    if problems and skip_problems and all(p.folder is not None for p in problems):
        plan, skipped = _skip(plan, problems, {name: (m.id, m.full_name) for name, m in known.items()})
    elif problems:
        faulty = {p.folder for p in problems}
        raise photo_archive.refuse(problems, importable=sum(1 for item in plan if item["entries"] and item["folder"] not in faulty))
    if not any(item["entries"] for item in plan):
        raise photo_archive.refuse(problems)  # every folder had a problem: nothing to import
    digest, import_id = hashlib.sha256(data).hexdigest(), str(uuid.uuid4())

    def decide(session: Session) -> Decided[None]:
        same = session.scalar(select(t.FaceImport.id).where(t.FaceImport.sha256 == digest, t.FaceImport.state.in_(ACTIVE)))
        if same is not None:
            raise ConflictError("Tệp này đang được nhập; xem tiến độ ở danh sách bên dưới",
                                "This archive is already being imported; see its progress below", import_id=same)  # fmt: skip
        session.add(
            t.FaceImport(
                id=import_id, created_at=store.now(), created_by=actor.member_id, filename=_clean_name(filename), sha256=digest,
                state="queued", plan=json.dumps(plan, ensure_ascii=False), tries=0,
                results=json.dumps([r.__dict__ for r in skipped], ensure_ascii=False),
            )
        )  # fmt: skip
        session.add(t.FaceImportArchive(import_id=import_id, data=data))
        return Decided([], None)

    store.decide(decide, actor_id=actor.member_id)
    return import_id


def _skip(
    plan: list[dict[str, Any]], problems: list[Problem], members: dict[str, tuple[str, str]]
) -> tuple[list[dict[str, Any]], list[MemberResult]]:
    """The plan without the folders that have a problem, which stay in it with no photos and their
    results written already: the page lists them (first, as failed), the job passes them by."""
    why: dict[str, list[Problem]] = {}
    for p in problems:
        why.setdefault(str(p.folder), []).append(p)
    named = {item["folder"]: item for item in plan}
    kept = [item for item in plan if item["folder"] not in why]
    skipped = []
    for folder, found in why.items():
        member_id, full_name = members.get(folder, ("", folder))  # a folder that names nobody: its name
        item = named.get(folder, {"member_id": member_id, "full_name": full_name})
        said_vi = "; ".join(p.message_vi if p.where == folder else f"{p.where}: {p.message_vi}" for p in found)
        said_en = "; ".join(p.message_en if p.where == folder else f"{p.where}: {p.message_en}" for p in found)
        skipped.append(MemberResult(folder=folder, member_id=item["member_id"], full_name=item["full_name"], enrolled=0,
                                    error_vi=f"bỏ qua, chưa nhập: {said_vi}", error_en=f"skipped, not imported: {said_en}",
                                    skipped=True))  # fmt: skip
    left_out = [{"folder": r.folder, "member_id": r.member_id, "full_name": r.full_name, "entries": []} for r in skipped]
    return kept + left_out, skipped


def _view(row: t.FaceImport) -> FaceImportView:
    plan = json.loads(row.plan)
    results = [MemberResult(**r) for r in json.loads(row.results)]
    return FaceImportView(
        id=row.id, created_at=row.created_at, created_by=row.created_by, filename=row.filename, state=row.state,
        members_total=len(plan), photos_total=sum(len(p["entries"]) for p in plan),
        results=results, not_done=[p["folder"] for p in plan if p["folder"] not in {r.folder for r in results}],
        tries=row.tries, error=row.error, ended_at=row.ended_at,
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
        row.state, row.error, row.ended_at = state, error, store.now()
        session.execute(delete(t.FaceImportArchive).where(t.FaceImportArchive.import_id == import_id))
        return Decided([], True)

    ended = store.decide(decide)[1]
    if ended:
        store.scrub(_ARCHIVES)  # the photos' pages, zeroed by SQLite's secure_delete, out of the WAL too
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

    def begin(session: Session) -> Decided[tuple[str, str, datetime, str, str]]:
        row = _row(session, import_id)
        if row.state in ACTIVE:
            row.state, row.tries = "running", row.tries + 1
        return Decided([], (row.state, row.created_by, row.created_at, row.plan, row.results))

    state, uploader, uploaded_at, plan, results = store.decide(begin)[1]
    if state != "running":
        return state
    with store.read() as session:
        kept = session.get(t.FaceImportArchive, import_id)
        data = kept.data if kept is not None else None
    done = {r["folder"] for r in json.loads(results)}
    todo = [item for item in json.loads(plan) if item["folder"] not in done]
    if todo and data is None:  # a backup restored, say: its photos were never kept there
        end(store, import_id, "failed", "Tệp ảnh không còn / The photo archive is gone")
        return "failed"
    with contextlib.ExitStack() as stack:
        archive = stack.enter_context(photo_archive.open_archive(data)) if data is not None else None
        for item in todo:
            assert archive is not None
            result, checked = _check_member(item, archive, engine, rules, max_photo_bytes)
            outcome = _record(store, uploader, uploaded_at, import_id, result, checked)
            if outcome == "revoked":
                end(store, import_id, "failed", "Người tải tệp lên không còn là quản trị viên / The uploader is no longer an administrator")
                return "failed"
            if outcome == "stopped":
                return "stopped"
    return "done" if end(store, import_id, "done") else "stopped"


def _check_member(
    item: dict[str, Any], archive: zipfile.ZipFile, engine: Callable[[], FaceEngine], rules: EnrolmentRules, max_photo_bytes: int
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


def _record(store: Store, uploader: str, uploaded_at: datetime, import_id: str, result: MemberResult, checked: list[EnrolledFace]) -> str:
    """The member's faces and their line in the results, in one transaction, with the uploader's
    authority as it is now: "ok", "stopped" (by an administrator meanwhile) or "revoked"."""

    def decide(session: Session) -> Decided[str]:
        row = _row(session, import_id)
        if row.state != "running":
            return Decided([], "stopped")
        admin = session.get(t.Member, uploader)
        if admin is None or not admin.active or Role.ADMIN.value not in admin.roles:
            return Decided([], "revoked")
        events: list[ev.EventPayload] = []
        line = result
        member = session.get(t.Member, result.member_id)
        if checked and member is not None and member.biometric_consent_at is not None and member.biometric_consent_at > uploaded_at:
            # consent withdrawn and given again after the upload: these photos came before the new consent
            line = replace(result, enrolled=0, error_vi="Sự đồng ý được ghi nhận lại sau khi tải ảnh lên: hãy tải ảnh lên lại",
                           error_en="Consent was recorded again after the upload: upload the photos again")  # fmt: skip
        elif checked:
            new = _not_enrolled(session, result.member_id, checked)
            line = replace(result, enrolled=len(new), known=len(checked) - len(new))
            try:
                events = faces.add_faces(store, session, result.member_id, new) if new else []
            except MeetingRoomError as exc:  # consent withdrawn or account disabled since the upload
                line = replace(result, enrolled=0, error_vi=exc.message_vi, error_en=exc.message_en)
        row.results = json.dumps([*json.loads(row.results), asdict(line)], ensure_ascii=False)
        return Decided(events, "ok")

    return store.decide(decide, actor_id=uploader)[1]


SAME_PHOTO = 1e-4  # encodings this close come from the same picture (one person's photos differ by ~0.3)


def _not_enrolled(session: Session, member_id: str, checked: list[EnrolledFace]) -> list[EnrolledFace]:
    """The faces not already enrolled for the member (nor twice in this folder): an archive imported
    again, or a photo copied under two names, adds nothing."""
    known = [
        np.frombuffer(blob, "<f8") for blob in session.scalars(select(t.FaceEncoding.encoding).where(t.FaceEncoding.member_id == member_id))
    ]
    new: list[EnrolledFace] = []
    for face in checked:
        encoding = np.asarray(face.encoding, "<f8")
        if all(np.linalg.norm(encoding - k) > SAME_PHOTO for k in known):
            new.append(face)
            known.append(encoding)
    return new
