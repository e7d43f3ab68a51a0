"""The floor over HTTP: members ask to speak, the chair gives the floor in turn, pages see floor.* events."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World, login, snapshot


def _url(world: World, suffix: str = "") -> str:
    return f"/api/meetings/{world.meeting_id}/floor{suffix}"


def _in_session(client: TestClient, world: World) -> dict[str, str]:
    chair = login(client, "chair")
    for target in ("open", "in_session"):
        assert client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": target}, headers=chair).status_code == 200
    return chair


def test_queue_in_order_give_end_and_the_events(client: TestClient, world: World) -> None:
    m1, m2 = login(client, "member1"), login(client, "member2")
    r = client.post(_url(world, "/requests"), headers=m1)
    assert r.status_code == 409 and "Đã lên lịch" in r.json()["error"]["message"]  # not in session yet
    chair = _in_session(client, world)

    assert client.post(_url(world, "/requests"), headers=m1).status_code == 201
    r = client.post(_url(world, "/requests"), headers=m2)
    assert [w["full_name"] for w in r.json()["queue"]] == ["Người member1", "Người member2"]
    before = snapshot(world.store)
    r = client.post(_url(world, "/requests"), headers=m1)  # a double tap
    assert r.status_code == 409 and "đã đăng ký phát biểu" in r.json()["error"]["message"]
    assert snapshot(world.store) == before

    assert client.put(_url(world, "/speaker"), json={"member_id": world.ids["member1"]}, headers=m2).status_code == 403
    r = client.put(_url(world, "/speaker"), json={"member_id": world.ids["member1"]}, headers=chair)
    assert r.status_code == 200
    assert r.json()["speaker"]["member_id"] == world.ids["member1"] and [w["member_id"] for w in r.json()["queue"]] == [
        world.ids["member2"]
    ]
    # giving the floor to the next one ends the current turn in the same step
    r = client.put(_url(world, "/speaker"), json={"member_id": world.ids["member2"]}, headers=chair)
    assert r.json()["speaker"]["member_id"] == world.ids["member2"] and r.json()["queue"] == []
    assert client.delete(_url(world, "/speaker"), headers=m1).status_code == 403  # not theirs to end
    assert client.delete(_url(world, "/speaker"), headers=m2).json()["speaker"] is None  # the speaker finishes
    assert client.delete(_url(world, "/speaker"), headers=chair).status_code == 409

    events = client.get(f"/api/meetings/{world.meeting_id}/events", headers=chair).json()["events"]
    floor = [(e["type"], e["data"]["member_id"]) for e in events if e["type"].startswith("floor.")]
    assert floor == [
        ("floor.requested", world.ids["member1"]),
        ("floor.requested", world.ids["member2"]),
        ("floor.given", world.ids["member1"]),
        ("floor.ended", world.ids["member1"]),
        ("floor.given", world.ids["member2"]),
        ("floor.ended", world.ids["member2"]),
    ]


def test_withdraw_decline_outsiders_and_closing_clears_the_queue(client: TestClient, world: World) -> None:
    chair = _in_session(client, world)
    m1, m2, outsider = login(client, "member1"), login(client, "member2"), login(client, "outsider")
    assert client.post(_url(world, "/requests"), headers=outsider).status_code == 404  # cannot even see the meeting
    r = client.put(_url(world, "/speaker"), json={"member_id": world.ids["outsider"]}, headers=chair)
    assert r.status_code == 404 and "không tham dự" in r.json()["error"]["message"]
    client.post(_url(world, "/requests"), headers=m1)
    client.post(_url(world, "/requests"), headers=m2)
    assert client.delete(_url(world, f"/requests/{world.ids['member1']}"), headers=m2).status_code == 403
    assert client.delete(_url(world, f"/requests/{world.ids['member1']}"), headers=m1).status_code == 200
    assert client.delete(_url(world, f"/requests/{world.ids['member1']}"), headers=m1).status_code == 409
    r = client.delete(_url(world, f"/requests/{world.ids['member2']}"), headers=chair)  # the chair declines
    assert r.json()["queue"] == []
    client.post(_url(world, "/requests"), headers=m1)
    assert client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": "closed"}, headers=chair).status_code == 200
    assert client.get(_url(world), headers=m1).json() == {"speaker": None, "queue": [], "limit_s": None, "ends_at": None}
    assert client.post(_url(world, "/requests"), headers=m1).status_code == 409
