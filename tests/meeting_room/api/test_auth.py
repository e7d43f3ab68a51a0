"""Log-in, sessions, and that nothing is served to anyone not logged in."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from meeting_room.files import recordings
from speech.diarization import DiarizationOptions
from speech.voiceprint import VoiceRules
from tests.conftest import PASSWORD, World, login, snapshot


def test_login_with_bearer_and_cookie(client: TestClient, world: World) -> None:
    r = client.post("/api/auth/login", json={"username": "Chair ", "password": PASSWORD})
    assert r.status_code == 200
    assert r.json()["member"]["username"] == "chair"
    assert "meeting_room_session" in r.cookies
    assert client.get("/api/auth/me").json()["id"] == world.ids["chair"]  # the cookie works
    client.cookies.clear()
    token = r.json()["token"]
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_me_gives_the_pages_the_upload_rules_the_server_checks(client: TestClient, world: World) -> None:
    # the pages say these before a file is chosen; the server's own rules, so that a site's change shows
    limits = client.get("/api/auth/me", headers=login(client, "secretary")).json()["upload_limits"]
    assert limits["recording_formats"] == recordings.ACCEPTED_VI and limits["recording_formats_en"] == recordings.ACCEPTED
    assert limits["recording_hours"] == recordings.MAX_HOURS
    assert limits["diarization_hours"] == DiarizationOptions().max_duration_s / 3600
    assert limits["voice_min_speech_s"] == VoiceRules().min_speech_s
    assert limits["recording_mb"] > 0 and limits["face_import_mb"] > 0


@pytest.mark.parametrize(("username", "password"), [("chair", "wrong-password"), ("nobody", PASSWORD), ("chair", "")])
def test_bad_login_is_401_with_the_same_message(client: TestClient, world: World, username: str, password: str) -> None:
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code in (401, 422)
    if r.status_code == 401:
        assert r.json()["error"]["message"] == "Sai tên đăng nhập hoặc mật khẩu"


def test_passwords_are_stored_as_argon2_hashes(world: World) -> None:
    from meeting_room.db import tables as t

    with world.store.read() as session:
        cred = session.get_one(t.Credential, world.ids["chair"])
    assert cred.password_hash.startswith("$argon2id$") and PASSWORD not in cred.password_hash
    assert not any(PASSWORD in e.message().__repr__() for e in world.store.events())


def test_logout_ends_the_token(client: TestClient, world: World) -> None:
    headers = login(client, "member1")
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_several_authorization_headers_are_refused_whichever_comes_first(client: TestClient, world: World) -> None:
    """A proxy that took the last header would disagree with a server that took the first about who calls."""
    valid = login(client, "member1")["Authorization"]
    for order in ([valid, "Bearer khong-hop-le"], ["Bearer khong-hop-le", valid], [valid, valid]):
        r = client.get("/api/auth/me", headers=[("authorization", value) for value in order])
        assert r.status_code == 401 and "several Authorization headers" in r.json()["error"]["message_en"], r.text
    assert client.get("/api/auth/me", headers={"Authorization": valid}).status_code == 200


def test_garbage_token_is_401(client: TestClient, world: World) -> None:
    r = client.get("/api/auth/me", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_every_api_route_refuses_anonymous_requests(app: FastAPI, client: TestClient, world: World) -> None:
    before = snapshot(world.store)
    open_routes = {"/api/auth/login", "/api/health", "/tls/ca.crt", "/join/{token}"}  # the CA to trust; a link is its own credential
    checked = 0
    for template, operations in app.openapi()["paths"].items():
        if template in open_routes:
            continue
        path = template.format(
            meeting_id=world.meeting_id,
            item_id=world.item_ids[0],
            member_id=world.ids["member1"],
            body_id=world.body_id,
            room_id=world.room_id,
            document_id="d",
            poll_id="p",
            recording_id="r",
            pass_id="x",
            cluster="c",
            invitation_id="i",
            page=1,
            seat_id="s",
            import_id="f",
        )
        for method in operations:
            r = client.request(method, path, json={})
            assert r.status_code == 401, (method, path, r.status_code)
            assert set(r.json()) == {"error"}
            checked += 1
    assert checked >= 25
    assert snapshot(world.store) == before


def test_change_own_password_needs_the_current_one(client: TestClient, world: World) -> None:
    headers = login(client, "member1")
    r = client.post(f"/api/members/{world.ids['member1']}/password", json={"new_password": "mot-mat-khau-moi"}, headers=headers)
    assert r.status_code == 401
    r = client.post(
        f"/api/members/{world.ids['member1']}/password",
        json={"new_password": "ngan", "current_password": PASSWORD},
        headers=headers,
    )
    assert r.status_code == 422 and "ít nhất 10" in r.json()["error"]["message"]
    r = client.post(
        f"/api/members/{world.ids['member1']}/password",
        json={"new_password": "mot-mat-khau-moi", "current_password": PASSWORD},
        headers=headers,
    )
    assert r.status_code == 204
    assert client.get("/api/auth/me", headers=headers).status_code == 401  # sessions end
    login(client, "member1", "mot-mat-khau-moi")


def test_member_cannot_reset_someone_elses_password(client: TestClient, world: World) -> None:
    headers = login(client, "member1")
    r = client.post(f"/api/members/{world.ids['member2']}/password", json={"new_password": "xxxxxxxxxx"}, headers=headers)
    assert r.status_code == 403


def test_disabled_account_cannot_log_in_and_its_sessions_end(client: TestClient, world: World) -> None:
    member = login(client, "member2")
    admin = login(client, "admin", _admin_password(world))
    assert client.patch(f"/api/members/{world.ids['member2']}", json={"active": False}, headers=admin).status_code == 200
    assert client.get("/api/auth/me", headers=member).status_code == 401
    assert client.post("/api/auth/login", json={"username": "member2", "password": PASSWORD}).status_code == 401


def test_last_admin_cannot_lose_the_role(client: TestClient, world: World) -> None:
    admin = login(client, "admin", _admin_password(world))
    r = client.patch(f"/api/members/{world.ids['admin']}", json={"roles": ["member"]}, headers=admin)
    assert r.status_code == 409


def _admin_password(world: World) -> str:
    """The fixture's admin got a random password; give it a known one."""
    from meeting_room import auth
    from meeting_room.services.members import set_password_hash

    set_password_hash(world.store, world.ids["admin"], auth.hash_password(PASSWORD), actor_id=None)
    return PASSWORD


def test_repeated_wrong_passwords_slow_that_name_at_that_address_only(app: FastAPI, client: TestClient, world: World) -> None:
    for _ in range(3):
        assert client.post("/api/auth/login", json={"username": "member1", "password": "doan-mo-1"}).status_code == 401
    r = client.post("/api/auth/login", json={"username": "member1", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert "quá nhiều lần" in r.json()["error"]["message"]
    login(client, "member2")  # another person from the same address is not slowed
    with TestClient(app, base_url="https://testserver", client=("10.0.0.5", 50000)) as own_tablet:
        login(own_tablet, "member1")  # nor the same person at her own tablet: a name cannot be locked out


def test_throttle_grows_per_user_and_address_and_never_locks_the_name() -> None:
    from meeting_room.auth import LoginThrottle
    from meeting_room.errors import TooManyAttemptsError

    now = [0.0]
    throttle = LoginThrottle(free=3, max_delay=60, per_address=100, window=600, clock=lambda: now[0])
    for _ in range(3):  # the first failures cost nothing
        throttle.check("chair", "10.0.0.9")
        throttle.failed("chair", "10.0.0.9")
    waits = []
    for _ in range(5):  # then each one doubles the wait
        with pytest.raises(TooManyAttemptsError) as info:
            throttle.check("chair", "10.0.0.9")
        waits.append(info.value.details["retry_after"])
        now[0] += waits[-1]
        throttle.check("chair", "10.0.0.9")
        throttle.failed("chair", "10.0.0.9")
    assert waits == [1, 2, 4, 8, 16]
    throttle.check("chair", "10.0.0.5")  # the chair at her own tablet is not slowed at all
    throttle.check("member", "10.0.0.9")  # nor another name from the guessing tablet
    throttle.failed("chair", "10.0.0.5")
    throttle.succeeded("chair", "10.0.0.5")
    throttle.check("chair", "10.0.0.5")
    for _ in range(12):
        throttle.failed("chair", "10.0.0.9")
    with pytest.raises(TooManyAttemptsError) as info:
        throttle.check("chair", "10.0.0.9")
    assert info.value.details["retry_after"] == 60  # capped at max_delay
    now[0] += 601
    throttle.check("chair", "10.0.0.9")  # a quiet window forgets


def test_one_address_guessing_many_names_runs_out_of_budget() -> None:
    from meeting_room.auth import LoginThrottle
    from meeting_room.errors import TooManyAttemptsError

    now = [0.0]
    throttle = LoginThrottle(free=3, per_address=5, window=60, clock=lambda: now[0])
    for i in range(5):
        throttle.failed(f"user{i}", "10.0.0.9")
    with pytest.raises(TooManyAttemptsError) as info:
        throttle.check("someone-else", "10.0.0.9")
    assert info.value.details["retry_after"] == 60
    throttle.check("someone-else", "10.0.0.8")
    now[0] = 61
    throttle.check("someone-else", "10.0.0.9")


@pytest.mark.parametrize("weak", ["password123", "matkhau2026", "0123456789", "qwertyuiop123", "Thanh2026!", "nguyenvanthanh", "ngan"])
def test_short_and_guessable_passwords_are_refused(client: TestClient, world: World, weak: str) -> None:
    admin = login(client, "admin", _admin_password(world))
    client.patch(f"/api/members/{world.ids['member1']}", json={"full_name": "Nguyễn Văn Thành"}, headers=admin)
    before = snapshot(world.store)
    r = client.post(f"/api/members/{world.ids['member1']}/password", json={"new_password": weak}, headers=admin)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["details"]["field"] == "password" and error["message"] and error["message_en"]
    assert snapshot(world.store) == before
    strong = "tre-xanh-bao-nhieu-tuoi"
    assert client.post(f"/api/members/{world.ids['member1']}/password", json={"new_password": strong}, headers=admin).status_code == 204


def test_an_admin_gives_her_current_password_to_change_her_own(client: TestClient, world: World) -> None:
    admin = login(client, "admin", _admin_password(world))
    url = f"/api/members/{world.ids['admin']}/password"
    assert client.post(url, json={"new_password": "tre-xanh-bao-nhieu-tuoi"}, headers=admin).status_code == 401
    wrong = {"new_password": "tre-xanh-bao-nhieu-tuoi", "current_password": "khong-phai-dau"}
    assert client.post(url, json=wrong, headers=admin).status_code == 401
    right = {"new_password": "tre-xanh-bao-nhieu-tuoi", "current_password": PASSWORD}
    assert client.post(url, json=right, headers=admin).status_code == 204
    login(client, "admin", "tre-xanh-bao-nhieu-tuoi")


def test_wrong_current_passwords_are_throttled(client: TestClient, world: World) -> None:
    member = login(client, "member1")
    url = f"/api/members/{world.ids['member1']}/password"
    statuses = [
        client.post(url, json={"new_password": "tre-xanh-bao-nhieu-tuoi", "current_password": f"doan-{i}"}, headers=member).status_code
        for i in range(5)
    ]
    assert statuses[:3] == [401, 401, 401] and statuses[-1] == 429
    r = client.post(url, json={"new_password": "tre-xanh-bao-nhieu-tuoi", "current_password": PASSWORD}, headers=member)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0  # even the right one waits its turn


def test_the_navigation_follows_standing_roles(client: TestClient, world: World) -> None:
    def can(username: str) -> dict[str, bool]:
        can: dict[str, bool] = client.get("/api/auth/me", headers=login(client, username)).json()["can"]
        return can

    no = {"administer": False, "browse_archive": False, "hold_teller_key": False, "schedule_meetings": False}
    assert can("admin") == no | {"administer": True, "browse_archive": True, "schedule_meetings": True}
    assert can("clerk") == no | {"browse_archive": True}
    assert can("chair") == can("secretary") == no | {"browse_archive": True, "hold_teller_key": True, "schedule_meetings": True}
    assert can("member1") == no
