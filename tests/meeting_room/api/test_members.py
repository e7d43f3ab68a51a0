"""Members by the administrator: adding needs a login, editing, deactivating, temporary passwords."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from meeting_room.db import tables as t
from tests.conftest import PASSWORD, World, login
from tests.meeting_room.api.test_auth import _admin_password


def _error(r: object) -> dict[str, object]:
    body = r.json()["error"]  # type: ignore[attr-defined]  # an httpx Response
    assert body["message"] and body["message_en"] and body["message"] != body["message_en"]  # Vietnamese, then English
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"full_name": "Lê Thị Hoa"}, "username"),
        ({"full_name": "Lê Thị Hoa", "username": "hoa.lt"}, "password"),
        ({"full_name": "Lê Thị Hoa", "password": "mot-cau-mat-khau-dai"}, "username"),
    ],
)
def test_adding_a_member_needs_a_username_and_an_initial_password(
    client: TestClient, world: World, body: dict[str, str], field: str
) -> None:
    admin = login(client, "admin", _admin_password(world))
    r = client.post("/api/members", json=body, headers=admin)
    assert r.status_code == 422
    error = _error(r)
    assert error["code"] == "invalid_input" and error["details"]["field"] == field  # type: ignore[index]
    assert "tên đăng nhập" in str(error["message"]).lower()
    assert all(m["full_name"] != "Lê Thị Hoa" for m in client.get("/api/members", headers=admin).json())


def test_the_initial_password_meets_the_policy(client: TestClient, world: World) -> None:
    admin = login(client, "admin", _admin_password(world))
    weak = client.post("/api/members", json={"full_name": "Lê Thị Hoa", "username": "hoa.lt", "password": "hoa.lt2026"}, headers=admin)
    assert weak.status_code == 422 and _error(weak)["details"]["field"] == "password"  # type: ignore[index]
    ok = client.post(
        "/api/members", json={"full_name": "Lê Thị Hoa", "username": "hoa.lt", "password": "ba-con-meo-trèo-cây-cau"}, headers=admin
    )
    assert ok.status_code == 201, ok.text
    login(client, "hoa.lt", "ba-con-meo-trèo-cây-cau")


def test_the_service_refuses_a_member_without_a_login_too(world: World) -> None:
    from meeting_room.errors import InvalidInputError
    from meeting_room.roles import Role
    from meeting_room.services import members

    with pytest.raises(InvalidInputError):
        members.create_member(world.store, world.actor("admin"), full_name="Không Tên", roles=[Role.MEMBER], username=None)


def test_the_admin_edits_name_title_body_and_roles(client: TestClient, world: World) -> None:
    admin = login(client, "admin", _admin_password(world))
    other = client.post("/api/bodies", json={"name": "Ủy ban nhân dân tỉnh Thử Nghiệm", "short_name": "UBND"}, headers=admin).json()
    change = {"full_name": "Nguyễn Thị Mai", "title": "Phó Chủ tịch", "body_id": other["id"], "roles": ["secretary", "member"]}
    r = client.patch(f"/api/members/{world.ids['member1']}", json=change, headers=admin)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in change} == change
    assert client.patch(f"/api/members/{world.ids['member1']}", json={"roles": ["king"]}, headers=admin).status_code == 422
    assert client.patch(f"/api/members/{world.ids['member1']}", json={"body_id": "no-such"}, headers=admin).status_code == 404
    member = login(client, "member2")
    assert client.patch(f"/api/members/{world.ids['member1']}", json={"title": "X"}, headers=member).status_code == 403


def test_deactivation_ends_the_token_and_the_socket_and_reactivation_lets_them_back(client: TestClient, world: World) -> None:
    member = login(client, "member1")
    admin = login(client, "admin", _admin_password(world))
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers=member) as ws:
        while ws.receive_json()["kind"] != "ready":
            pass
        r = client.patch(f"/api/members/{world.ids['member1']}", json={"active": False}, headers=admin)
        assert r.status_code == 200 and r.json()["active"] is False
        while (msg := ws.receive_json())["kind"] != "error":
            pass
        assert msg["error"]["code"] == "authentication_required"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401
    assert client.get("/api/auth/me", headers=member).status_code == 401
    assert client.post("/api/auth/login", json={"username": "member1", "password": PASSWORD}).status_code == 401
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers=member) as ws:
        assert ws.receive_json()["kind"] == "error"
    assert client.patch(f"/api/members/{world.ids['member1']}", json={"active": True}, headers=admin).json()["active"] is True
    assert client.get("/api/auth/me", headers=member).status_code == 401  # the old session stays ended
    login(client, "member1")


def test_a_reset_gives_a_temporary_password_that_must_be_changed_first(client: TestClient, world: World) -> None:
    before = login(client, "member1")
    admin = login(client, "admin", _admin_password(world))
    r = client.post(f"/api/members/{world.ids['member1']}/password-reset", headers=admin)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    temporary = r.json()["temporary_password"]
    assert len(temporary) >= 16
    assert client.get("/api/auth/me", headers=before).status_code == 401  # every session of theirs ended
    assert client.post("/api/auth/login", json={"username": "member1", "password": PASSWORD}).status_code == 401

    r = client.post("/api/auth/login", json={"username": "member1", "password": temporary})
    assert r.status_code == 200 and r.json()["must_change_password"] is True
    session = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.get("/api/auth/me", headers=session).json()["must_change_password"] is True
    refused = client.get(f"/api/meetings/{world.meeting_id}", headers=session)
    assert refused.status_code == 403 and _error(refused)["code"] == "password_change_required"
    assert "mật khẩu tạm thời" in str(_error(refused)["message"])
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream", headers=session) as ws:
        assert ws.receive_json()["error"]["code"] == "password_change_required"

    me = f"/api/members/{world.ids['member1']}/password"
    same = client.post(me, json={"current_password": temporary, "new_password": temporary}, headers=session)
    assert same.status_code == 422
    changed = client.post(me, json={"current_password": temporary, "new_password": "hai-con-cho-chay-qua-cau"}, headers=session)
    assert changed.status_code == 204, changed.text
    after = login(client, "member1", "hai-con-cho-chay-qua-cau")
    assert client.get(f"/api/meetings/{world.meeting_id}", headers=after).status_code == 200
    assert client.get("/api/auth/me", headers=after).json()["must_change_password"] is False
    with world.store.read() as s:
        assert s.get_one(t.Credential, world.ids["member1"]).must_change is False
    stored = [e.data for e in world.store.events() if e.type == "member.password_set" and e.data["member_id"] == world.ids["member1"]]
    assert [d.get("temporary") for d in stored[-2:]] == [True, False]
    assert all(temporary not in str(e.data) for e in world.store.events())  # the log never holds it


def test_only_an_admin_resets_and_not_their_own(client: TestClient, world: World) -> None:
    admin = login(client, "admin", _admin_password(world))
    assert client.post(f"/api/members/{world.ids['admin']}/password-reset", headers=admin).status_code == 409
    chair = login(client, "chair")
    assert client.post(f"/api/members/{world.ids['member1']}/password-reset", headers=chair).status_code == 403
    assert client.post("/api/members/no-such/password-reset", headers=admin).status_code == 404


def test_import_over_http_preview_then_all_at_once(client: TestClient, world: World) -> None:
    admin = login(client, "admin", _admin_password(world))
    lines = ["username,full name,title,body,roles", *(f"nguoi{i},Người Số {i},,HĐND,member" for i in range(1, 6))]
    bad = "\n".join([*lines, "nguoi1,Người Trùng,,,"]).encode()
    r = client.post("/api/members/import/preview", files={"file": ("ds.csv", bad, "text/csv")}, headers=admin)
    assert r.status_code == 200, r.text
    assert [(p["row"], p["column"], p["code"]) for p in r.json()["problems"]] == [(7, "username", "duplicate_in_file")]
    assert len(r.json()["rows"]) == 5
    refused = client.post("/api/members/import", files={"file": ("ds.csv", bad, "text/csv")}, headers=admin)
    assert refused.status_code == 422 and _error(refused)["code"] == "import_rows_invalid"
    assert _error(refused)["details"]["problems"][0]["row"] == 7  # type: ignore[index]
    good = "\n".join(lines).encode()
    assert client.post("/api/members/import", files={"file": ("ds.csv", good)}, headers=login(client, "chair")).status_code == 403
    done = client.post("/api/members/import", files={"file": ("ds.csv", good, "text/csv")}, headers=admin)
    assert done.status_code == 201 and done.headers["cache-control"] == "no-store"
    issued = done.json()
    assert [m["username"] for m in issued] == [f"nguoi{i}" for i in range(1, 6)]
    r = client.post("/api/auth/login", json={"username": "nguoi2", "password": issued[1]["temporary_password"]})
    assert r.status_code == 200 and r.json()["must_change_password"] is True
    listed = {m["username"] for m in client.get("/api/members", headers=admin).json()}
    assert {f"nguoi{i}" for i in range(1, 6)} <= listed


def test_import_refuses_what_is_not_a_file_or_too_big(client: TestClient, world: World) -> None:
    admin = login(client, "admin", _admin_password(world))
    assert client.post("/api/members/import/preview", json={"file": "x"}, headers=admin).status_code == 422
    huge = client.post("/api/members/import/preview", files={"file": ("x.csv", b"a" * (2 << 20))}, headers=admin)
    assert huge.status_code == 413
    big = client.post("/api/members/import/preview", files={"file": ("x.csv", b"a,b\n" * 150_000)}, headers=admin)
    assert big.status_code == 422 and _error(big)["code"] == "import_file_invalid"


def test_an_email_address_is_seen_by_the_admin_and_its_owner_only(client: TestClient, world: World) -> None:
    admin = login(client, "admin")
    address = "member1@hdnd.sonha.gov.vn"
    assert client.patch(f"/api/members/{world.ids['member1']}", json={"email": address}, headers=admin).status_code == 200

    def seen(who: str) -> tuple[object, object]:
        headers = login(client, who)
        one = client.get(f"/api/members/{world.ids['member1']}", headers=headers).json()
        listed = next(m for m in client.get("/api/members", headers=headers).json() if m["id"] == world.ids["member1"])
        return one["email"], listed["email"]

    assert seen("admin") == (address, address) and seen("member1") == (address, address)
    assert seen("secretary") == (None, None) and seen("member2") == (None, None)


def test_a_member_sees_the_members_of_their_own_body_without_usernames(client: TestClient, world: World) -> None:
    renamed = client.patch(f"/api/members/{world.ids['member2']}", json={"username": "daibieu.hai"}, headers=login(client, "admin"))
    assert renamed.status_code == 200
    member = login(client, "member1")
    listed = client.get("/api/members", headers=member).json()
    assert {m["id"] for m in listed} == {world.ids[w] for w in ("chair", "secretary", "member1", "member2")}
    assert {m["username"] for m in listed if m["id"] != world.ids["member1"]} == {None}
    assert next(m for m in listed if m["id"] == world.ids["member1"])["username"] == "member1"  # their own
    assert client.get("/api/members", params={"q": "daibieu"}, headers=member).json() == []  # no guessing by username
    assert [m["id"] for m in client.get("/api/members", params={"q": "Người member2"}, headers=member).json()] == [world.ids["member2"]]
    assert client.get(f"/api/members/{world.ids['member2']}", headers=member).json()["username"] is None

    other_body = client.get("/api/members", params={"body_id": "another-body"}, headers=member)
    assert other_body.status_code == 403 and "cơ quan mình" in _error(other_body)["message"]  # type: ignore[operator]
    outside = client.get(f"/api/members/{world.ids['clerk']}", headers=member)
    assert outside.status_code == 403 and "own body" in str(_error(outside)["message_en"])

    alone = login(client, "outsider")  # a member of no body: nobody else
    assert client.get("/api/members", headers=alone).json() == []
    assert client.get(f"/api/members/{world.ids['outsider']}", headers=alone).json()["username"] == "outsider"

    officer = login(client, "secretary")  # officers prepare meetings for every body: everyone, with usernames
    everyone = client.get("/api/members", headers=officer).json()
    assert {m["id"] for m in everyone} == set(world.ids.values())
    assert all(m["username"] for m in everyone)
    assert [m["id"] for m in client.get("/api/members", params={"q": "daibieu"}, headers=officer).json()] == [world.ids["member2"]]
