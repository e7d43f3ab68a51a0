"""Rooms, their seat labels and who usually sits where."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World, login
from tests.meeting_room.api.test_auth import _admin_password


def _occupants(room: dict) -> dict[str, str | None]:  # type: ignore[type-arg]  # the JSON of a room
    return {s["label"]: s["member_name"] for s in room["seats"]}


def test_the_admin_names_rooms_and_seats_and_who_sits_where(client: TestClient, world: World) -> None:
    admin = login(client, "admin", _admin_password(world))
    room = client.post("/api/rooms", json={"name": "Phòng họp B", "location": "Tầng 3", "seats": ["B1", "B2", "B3"]}, headers=admin).json()
    seats = {s["label"]: s["id"] for s in room["seats"]}
    url = f"/api/rooms/{room['id']}/seats"
    r = client.put(f"{url}/{seats['B2']}/occupant", json={"member_id": world.ids["member1"]}, headers=admin)
    assert r.status_code == 200, r.text
    assert _occupants(r.json()) == {"B1": None, "B2": "Người member1", "B3": None}
    assert r.json()["seats"][1]["member_id"] == world.ids["member1"]

    # one usual seat per person per room: the clash names the seat
    clash = client.put(f"{url}/{seats['B3']}/occupant", json={"member_id": world.ids["member1"]}, headers=admin)
    assert clash.status_code == 409 and "B2" in clash.json()["error"]["message"]

    # relabelling keeps a seat (and its occupant) by label; a new label is a new, empty seat
    r = client.patch(f"/api/rooms/{room['id']}", json={"name": "Phòng họp B (mới)", "seats": ["B0", "B1", "B2"]}, headers=admin)
    assert r.json()["name"] == "Phòng họp B (mới)"
    assert _occupants(r.json()) == {"B0": None, "B1": None, "B2": "Người member1"}
    assert world.store.rebuild() > 0  # the read model comes back from the log the same
    assert _occupants(client.get(f"/api/rooms/{room['id']}", headers=admin).json()) == {"B0": None, "B1": None, "B2": "Người member1"}

    assert client.put(f"{url}/{seats['B2']}/occupant", json={"member_id": None}, headers=admin).status_code == 200
    assert _occupants(client.get(f"/api/rooms/{room['id']}", headers=admin).json())["B2"] is None


def test_seat_rules(client: TestClient, world: World) -> None:
    admin = login(client, "admin", _admin_password(world))
    rooms = client.get("/api/rooms", headers=admin).json()
    room, seat = rooms[0], rooms[0]["seats"][0]["id"]
    other = client.post("/api/rooms", json={"name": "Phòng khác", "seats": ["X1"]}, headers=admin).json()
    put = f"/api/rooms/{room['id']}/seats/{seat}/occupant"
    assert client.put(put, json={"member_id": "no-such"}, headers=admin).status_code == 404
    assert (
        client.put(f"/api/rooms/{room['id']}/seats/{other['seats'][0]['id']}/occupant", json={"member_id": None}, headers=admin).status_code
        == 404
    )
    assert client.put(put, json={"member_id": world.ids["member1"]}, headers=login(client, "chair")).status_code == 403
    client.patch(f"/api/members/{world.ids['member2']}", json={"active": False}, headers=admin)
    disabled = client.put(put, json={"member_id": world.ids["member2"]}, headers=admin)
    assert disabled.status_code == 409 and "khóa" in disabled.json()["error"]["message"]
    assert client.post("/api/rooms", json={"name": "Phòng trùng ghế", "seats": ["A", "A"]}, headers=admin).status_code == 422
