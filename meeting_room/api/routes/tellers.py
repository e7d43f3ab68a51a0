"""Teller keys: the chair and the secretary each keep one lock of every secret ballot box."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from meeting_room.api.deps import ActorDep, StoreDep
from meeting_room.services import tellers

router = APIRouter(prefix="/api/tellers", tags=["tellers"])


class TellerKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    passphrase: str = Field(min_length=1, max_length=1024, description="At least 10 characters; only you know it")
    current_passphrase: str | None = Field(None, max_length=1024, description="To replace an existing key")


class TellerKeyOut(BaseModel):
    has_key: bool
    fingerprint: str | None = None
    created_at: datetime | None = None


def _out(info: tellers.TellerKeyInfo | None) -> TellerKeyOut:
    return (
        TellerKeyOut(has_key=False)
        if info is None
        else TellerKeyOut(has_key=True, fingerprint=info.fingerprint, created_at=info.created_at)
    )


@router.get("/me")
def my_key(store: StoreDep, actor: ActorDep) -> TellerKeyOut:
    """Whether you have a teller key (needed by a meeting's chair and secretary to open secret votes)."""
    return _out(tellers.info(store, actor.member_id))


@router.put("/me")
def set_my_key(body: TellerKeyIn, store: StoreDep, actor: ActorDep) -> TellerKeyOut:
    """Make your teller key (or replace it, giving the current passphrase); the passphrase is never stored."""
    return _out(tellers.set_key(store, actor, body.passphrase, body.current_passphrase))
