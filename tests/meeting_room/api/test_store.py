from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update

from meeting_room.db import tables as t
from tests.conftest import World, login


def test_clerk_verifies_the_chain_and_sees_the_broken_event(client: TestClient, world: World) -> None:
    clerk = login(client, "clerk")
    r = client.get("/api/store/verify", headers=clerk).json()
    assert r["ok"] and r["events"] > 10 and "nguyên vẹn" in r["message"]
    with world.store.engine.begin() as conn:
        conn.execute(update(t.EventRow).where(t.EventRow.seq == 5).values(actor_id="forged"))
    r = client.get("/api/store/verify", headers=clerk).json()
    assert (r["ok"], r["broken_at"]) == (False, 5) and "sự kiện 5" in r["message"]


def test_members_may_not_verify(client: TestClient, world: World) -> None:
    assert client.get("/api/store/verify", headers=login(client, "member1")).status_code == 403
