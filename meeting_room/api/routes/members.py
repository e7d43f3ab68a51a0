"""Members, their roles and passwords."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from meeting_room import events as ev
from meeting_room.access import require_roles
from meeting_room.api.deps import ActorDep, StoreDep, poke_sessions, runtime_of
from meeting_room.api.paging import PAGED, PageDep, fetch_page, page_of
from meeting_room.api.routes.schemas import MemberOut, Out, member_out
from meeting_room.api.uploads import file_schema, one_file
from meeting_room.db import tables as t
from meeting_room.roles import Role
from meeting_room.services import member_import, members
from meeting_room.services.lookup import fetch
from meeting_room.services.member_directory import Directory, directory_for
from meeting_room.text import Email, Name, Username, matches_words

router = APIRouter(prefix="/api/members", tags=["members"])
_SEE_MEMBERS = (Role.CHAIR, Role.SECRETARY, Role.CLERK, Role.MEMBER)


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    full_name: Name
    title: Name | None = None
    body_id: str | None = None
    roles: list[Role] = Field(default_factory=lambda: [Role.MEMBER], min_length=1)
    username: Username | None = Field(None, description="Required (the service says so in both languages)")
    password: str | None = Field(None, max_length=1024, description="Required: the initial password, checked by the password policy")
    email: Email | None = Field(None, description="Where invitations and reminders are sent")


class MemberPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    full_name: Name | None = None
    title: Name | None = None
    body_id: str | None = None
    roles: list[Role] | None = Field(None, min_length=1)
    username: Username | None = None
    active: bool | None = None
    email: Email | None = None


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    new_password: str = Field(max_length=1024)
    current_password: str | None = Field(None, max_length=1024)


def _out(directory: Directory, member: t.Member) -> MemberOut:
    shown = member_out(member, email=directory.sees_email(member))
    return shown if directory.sees_username(member) else shown.model_copy(update={"username": None})


@router.get("", responses=PAGED)
def list_members(
    store: StoreDep,
    actor: ActorDep,
    page: PageDep,
    request: Request,
    response: Response,
    body_id: str | None = None,
    q: Annotated[str, Query(max_length=200, description="Words of the name or username, with or without diacritics")] = "",
    active: bool | None = None,
) -> list[MemberOut]:
    """Members by name, optionally of one body, whose name has every word of ``q``, a page at a time
    (not for guests). A member who is no officer sees the members of their own body only, without usernames."""
    require_roles(actor, *_SEE_MEMBERS, action_vi="xem danh sách thành viên", action_en="list members")
    query = select(t.Member).order_by(t.Member.full_name, t.Member.id)
    with store.read() as session:
        directory = directory_for(session, actor)
        body_id = directory.body_to_list(body_id)
        if body_id is None and not directory.everyone:
            return page_of([], page, request, response)  # a member of no body sees only themselves (GET /{id})
        if body_id is not None:
            query = query.where(t.Member.body_id == body_id)
        if active is not None:
            query = query.where(t.Member.active.is_(active))
        if not q.strip():
            return [_out(directory, m) for m in fetch_page(session, query, page, request, response)]
        # Folding diacritics is done in Python (one rule, meeting_room.text), so a search pages in memory.
        # Usernames are searched only for whoever sees them.
        found = [m for m in session.scalars(query) if matches_words(q, m.full_name, m.username if directory.sees_username(m) else "")]
        return [_out(directory, m) for m in page_of(found, page, request, response)]


@router.post("", status_code=201)
def create_member(body: MemberIn, store: StoreDep, actor: ActorDep) -> MemberOut:
    """Add a member (admin): a username and an initial password are required."""
    member_id = members.create_member(store, actor, **body.model_dump())
    return get_member(member_id, store, actor)


@router.get("/{member_id}")
def get_member(member_id: str, store: StoreDep, actor: ActorDep) -> MemberOut:
    """One member (anyone may see themselves; a member who is no officer, those of their own body)."""
    if member_id != actor.member_id:
        require_roles(actor, *_SEE_MEMBERS, action_vi="xem thông tin thành viên", action_en="see members")
    with store.read() as session:
        member = fetch(session, t.Member, member_id)
        directory = directory_for(session, actor)
        directory.check_sees(member)
        return _out(directory, member)


@router.patch("/{member_id}")
def update_member(member_id: str, body: MemberPatch, store: StoreDep, actor: ActorDep, request: Request) -> MemberOut:
    """Change a member's details, roles or whether the account is active (admin). Open sockets of a
    disabled account close; those of changed roles close so that they reconnect with the new rights."""
    members.update_member(store, actor, ev.MemberUpdated(member_id=member_id, **body.model_dump(exclude_unset=True)))
    poke_sessions(request)
    return get_member(member_id, store, actor)


@router.post("/{member_id}/password", status_code=204)
def set_password(member_id: str, body: PasswordIn, request: Request, store: StoreDep, actor: ActorDep) -> Response:
    """Change your own password (giving the current one), or reset anyone's (admin). Ends their sessions and closes their sockets."""
    client = request.client.host if request.client else "?"
    throttle = runtime_of(request).login_throttle
    members.change_password(store, actor, member_id, body.new_password, body.current_password, throttle=throttle, client=client)
    poke_sessions(request)
    return Response(status_code=204)


class TemporaryPasswordOut(BaseModel):
    member_id: str
    temporary_password: str = Field(description="Shown this once; the member must change it at the next log-in")


@router.post("/{member_id}/password-reset")
def reset_password(member_id: str, request: Request, store: StoreDep, actor: ActorDep, response: Response) -> TemporaryPasswordOut:
    """Give a member a new temporary password (admin): returned once, to be changed at their next log-in; their sessions end."""
    password = members.reset_password(store, actor, member_id)
    poke_sessions(request)
    response.headers["Cache-Control"] = "no-store"
    return TemporaryPasswordOut(member_id=member_id, temporary_password=password)


# --- import -----------------------------------------------------------------------------------------

_IMPORT_FILE = file_schema("file", "CSV (UTF-8, with or without BOM) or XLSX: username, full name, title, body, roles")


class RowProblemOut(Out):
    row: int = Field(description="The row as the spreadsheet numbers it (the header is row 1)")
    column: str | None = Field(description="username, full_name, title, body or roles; null for the whole row")
    code: str
    message: str
    message_en: str


class ImportRowOut(Out):
    row: int
    username: str
    full_name: str
    title: str | None
    body_id: str | None
    body_name: str | None
    roles: list[Role]


class ImportPreviewOut(BaseModel):
    rows: list[ImportRowOut] = Field(description="The members that would be created")
    problems: list[RowProblemOut] = Field(description="Every bad row and why: while there is one, nothing can be imported")
    columns: list[str] = Field(description="The columns recognised in the header")


class IssuedOut(Out):
    member_id: str
    username: str
    full_name: str
    temporary_password: str


async def _import_file(request: Request) -> bytes:
    upload = await one_file(request, "file", "CSV / XLSX")
    try:
        return await upload.read(member_import.MAX_BYTES + 1)
    finally:
        await upload.close()


@router.post("/import/preview", openapi_extra=_IMPORT_FILE)
async def preview_import(request: Request, store: StoreDep, actor: ActorDep) -> ImportPreviewOut:
    """Check a member list (admin): the members it would create and every bad row (row, column, reason). Stores nothing."""
    data = await _import_file(request)
    result = await run_in_threadpool(member_import.preview, store, actor, data)
    return ImportPreviewOut.model_validate(result, from_attributes=True)


@router.post("/import", status_code=201, openapi_extra=_IMPORT_FILE)
async def import_members(request: Request, store: StoreDep, actor: ActorDep, response: Response) -> list[IssuedOut]:
    """Create every member of the file, or none (422 naming each bad row) (admin). Each gets a temporary
    password, returned this once, to be changed at the first log-in."""
    data = await _import_file(request)
    issued = await run_in_threadpool(member_import.import_members, store, actor, data)
    response.headers["Cache-Control"] = "no-store"
    return [IssuedOut.model_validate(i) for i in issued]
