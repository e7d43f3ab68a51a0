"""The event store itself: integrity of the hash chain."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from meeting_room.access import require_roles
from meeting_room.api.deps import ActorDep, StoreDep
from meeting_room.roles import Role

router = APIRouter(prefix="/api/store", tags=["store"])


class VerifyOut(BaseModel):
    ok: bool
    events: int
    head: str
    broken_at: int | None
    problem: str | None
    message: str


@router.get("/verify")
def verify(store: StoreDep, actor: ActorDep) -> VerifyOut:
    """Check every link of the event log's hash chain (admin, clerk); names the first broken event."""
    require_roles(actor, Role.CLERK, action_vi="kiểm tra toàn vẹn dữ liệu", action_en="verify the event log")
    r = store.verify()
    message = (
        f"Chuỗi băm nguyên vẹn: {r.events} sự kiện"
        if r.ok
        else f"Chuỗi băm bị hỏng tại sự kiện {r.broken_at} ({r.events} sự kiện đầu hợp lệ)"
    )
    return VerifyOut(ok=r.ok, events=r.events, head=r.head, broken_at=r.broken_at, problem=r.problem, message=message)
