"""Seats for one meeting: the room's usual occupants by default, changed for this meeting by its
officers (a guest in the usual occupant's place), one seat per person, participants only, until it ends."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import World, login
from tests.meeting_room.api.test_auth import _admin_password


def _who(seating: dict[str, Any]) -> dict[str, tuple[str | None, bool]]:
    """label -> (this meeting's occupant, overridden)"""
    return {s["label"]: (s["occupant"]["full_name"] if s["occupant"] else None, s["overridden"]) for s in seating["seats"]}


def test_a_guest_takes_the_usual_occupants_seat_for_one_meeting(client: TestClient, world: World) -> None:
    admin, chair = login(client, "admin", _admin_password(world)), login(client, "chair")
    room = client.get(f"/api/rooms/{world.room_id}", headers=admin).json()
    seat = {s["label"]: s["id"] for s in room["seats"]}
    for label, who in (("A1", "chair"), ("A2", "member1"), ("A3", "outsider")):  # the outsider does not attend this meeting
        r = client.put(f"/api/rooms/{world.room_id}/seats/{seat[label]}/occupant", json={"member_id": world.ids[who]}, headers=admin)
        assert r.status_code == 200, r.text
    url = f"/api/meetings/{world.meeting_id}/seats"

    # the defaults: the room's usual occupants who take part in the meeting
    got = client.get(url, headers=chair).json()
    assert _who(got) == {"A1": ("Người chair", False), "A2": ("Người member1", False), "A3": (None, False)}
    assert got["seats"][2]["usual"]["full_name"] == "Người outsider" and got["can_edit"] is True
    assert "Người guest" in {p["full_name"] for p in got["participants"]}
    assert "Người outsider" not in {p["full_name"] for p in got["participants"]}

    # the guest sits in the chair's seat; the chair moves to A3; the usual occupants stay the room's
    r = client.put(f"{url}/{seat['A1']}", json={"member_id": world.ids["guest"]}, headers=chair)
    assert r.status_code == 200, r.text
    assert r.json()["seats"][0]["usual"]["full_name"] == "Người chair"
    r = client.put(f"{url}/{seat['A3']}", json={"member_id": world.ids["chair"]}, headers=chair)
    assert _who(r.json()) == {"A1": ("Người guest", True), "A2": ("Người member1", False), "A3": ("Người chair", True)}
    assert client.get(f"/api/rooms/{world.room_id}", headers=admin).json()["seats"][0]["member_name"] == "Người chair"

    # one seat per person per meeting
    clash = client.put(f"{url}/{seat['A2']}", json={"member_id": world.ids["guest"]}, headers=chair)
    assert clash.status_code == 409 and "A1" in clash.json()["error"]["message"], clash.text
    # an empty seat for this meeting: member1 is away
    r = client.put(f"{url}/{seat['A2']}", json={"member_id": None}, headers=chair)
    assert _who(r.json())["A2"] == (None, True)
    assert world.store.rebuild() > 0  # the read model comes back from the log the same
    assert _who(client.get(url, headers=chair).json()) == {"A1": ("Người guest", True), "A2": (None, True), "A3": ("Người chair", True)}

    # back to the defaults: the chair's own seat is his again once he leaves A3
    r = client.delete(f"{url}/{seat['A1']}", headers=chair)
    assert _who(r.json())["A1"] == (None, False)  # the chair still sits in A3 for this meeting
    r = client.delete(f"{url}/{seat['A3']}", headers=chair)
    assert _who(r.json()) == {"A1": ("Người chair", False), "A2": (None, True), "A3": (None, False)}


def test_seating_rules(client: TestClient, world: World) -> None:
    admin, chair, member = login(client, "admin", _admin_password(world)), login(client, "chair"), login(client, "member1")
    room = client.get(f"/api/rooms/{world.room_id}", headers=admin).json()
    seat = room["seats"][0]["id"]
    url = f"/api/meetings/{world.meeting_id}/seats"
    # only participants of this meeting
    outsider = client.put(f"{url}/{seat}", json={"member_id": world.ids["outsider"]}, headers=chair)
    assert outsider.status_code == 422 and "không dự cuộc họp" in outsider.json()["error"]["message"], outsider.text
    # only the meeting's officers; others see the seating without the right to change it
    assert client.put(f"{url}/{seat}", json={"member_id": world.ids["member1"]}, headers=member).status_code == 403
    assert client.get(url, headers=member).json()["can_edit"] is False
    # a seat of another room is not this meeting's
    other = client.post("/api/rooms", json={"name": "Phòng khác", "seats": ["X1"]}, headers=admin).json()
    assert client.put(f"{url}/{other['seats'][0]['id']}", json={"member_id": None}, headers=chair).status_code == 404

    # a guest sits down mid-meeting; after the meeting closes, seating is over
    for target in ("open", "in_session"):
        assert client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": target}, headers=chair).status_code == 200
    assert client.put(f"{url}/{seat}", json={"member_id": world.ids["guest"]}, headers=chair).status_code == 200
    r = client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": "closed"}, headers=chair)
    assert r.status_code == 200, r.text
    assert client.put(f"{url}/{seat}", json={"member_id": None}, headers=chair).status_code == 409
    assert client.delete(f"{url}/{seat}", headers=chair).status_code == 409
    after = client.get(url, headers=chair).json()
    assert _who(after)["A1"] == ("Người guest", True) and after["can_edit"] is False  # what was is still shown
