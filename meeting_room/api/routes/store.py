"""The event store itself: integrity of the hash chain, and every poll recounted from its ballots."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from meeting_room.access import require_roles
from meeting_room.api.deps import ActorDep, StoreDep
from meeting_room.roles import Role
from meeting_room.services.polls import verify_polls

router = APIRouter(prefix="/api/store", tags=["store"])


class VerifyOut(BaseModel):
    ok: bool
    events: int
    head: str
    broken_at: int | None
    problem: str | None
    polls_checked: int
    poll_problems: list[str]
    message: str


@router.get("/verify")
def verify(store: StoreDep, actor: ActorDep) -> VerifyOut:
    """Check the hash chain and recount every closed poll from its stored ballots (admin, clerk)."""
    require_roles(actor, Role.CLERK, action_vi="kiểm tra toàn vẹn dữ liệu", action_en="verify the event log")
    r = store.verify()
    audit = verify_polls(store)
    message = (
        f"Chuỗi băm nguyên vẹn: {r.events} sự kiện"
        if r.ok
        else f"Chuỗi băm bị hỏng tại sự kiện {r.broken_at} ({r.events} sự kiện đầu hợp lệ)"
    )
    message += f"; kiểm lại {audit.checked} phiên biểu quyết: " + ("khớp" if audit.ok else f"{len(audit.problems)} sai lệch")
    return VerifyOut(
        ok=r.ok and audit.ok,
        events=r.events,
        head=r.head,
        broken_at=r.broken_at,
        problem=r.problem,
        polls_checked=audit.checked,
        poll_problems=audit.problems,
        message=message,
    )
