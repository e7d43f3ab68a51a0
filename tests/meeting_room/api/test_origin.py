"""Requests on the session cookie from another origin are refused: state-changing HTTP (403) and
every WebSocket (4403), comparing scheme, host and port; Bearer clients need no Origin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from meeting_room.lifecycle import MeetingState
from meeting_room.services import meetings
from tests.conftest import PASSWORD, World, login

OWN = "https://testserver"  # the server speaks HTTPS by default
WSS = "wss://testserver"  # (the test client's sockets default to ws://)
FOREIGN = {
    "wrong scheme": "http://testserver",
    "wrong port": "https://testserver:8443",
    "wrong host": "https://evil.example",
    "missing": None,
}


@pytest.fixture
def https(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=OWN) as c:
        yield c


def _cookie(client: TestClient, who: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": who, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Cookie": f"meeting_room_session={r.json()['token']}"}


def _with(headers: dict[str, str], origin: str | None) -> dict[str, str]:
    return {**headers, "Origin": origin} if origin is not None else headers


@pytest.mark.parametrize("why", FOREIGN)
def test_cookie_requests_that_change_state_need_the_servers_own_origin(https: TestClient, world: World, why: str) -> None:
    cookie = _cookie(https, "chair")
    url, body = f"/api/meetings/{world.meeting_id}/agenda", {"title": "Mục mới"}
    refused = https.post(url, json=body, headers=_with(cookie, FOREIGN[why]))
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["code"] == "permission_denied" and "nguồn khác" in error["message"] and "scheme, host and port" in error["message_en"]
    assert https.get(url, headers=_with(cookie, FOREIGN[why])).status_code == 200  # reading is not changing
    assert https.post(url, json=body, headers=_with(cookie, OWN)).status_code == 201
    assert https.post(url, json=body, headers=_with(cookie, OWN + ":443")).status_code == 201  # the default port, spelt out


def test_bearer_requests_need_no_origin(https: TestClient, world: World) -> None:
    bearer = login(https, "chair")
    assert https.post(f"/api/meetings/{world.meeting_id}/agenda", json={"title": "Mục mới"}, headers=bearer).status_code == 201


@pytest.mark.parametrize("why", FOREIGN)
@pytest.mark.parametrize("path", ["stream", "call", "live/audio"])
def test_cookie_websockets_need_the_servers_own_origin(https: TestClient, world: World, why: str, path: str) -> None:
    cookie = _cookie(https, "chair")
    with https.websocket_connect(f"{WSS}/api/meetings/{world.meeting_id}/{path}", headers=_with(cookie, FOREIGN[why])) as ws:
        message = ws.receive_json()
        assert message["error"]["code"] == "permission_denied" and message["error"]["message_en"].startswith("Request from another origin")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4403 and closed.value.reason.startswith("Nguồn kết nối không được phép / ")


def test_websockets_from_the_own_origin_or_with_a_token_pass(https: TestClient, world: World) -> None:
    cookie = _cookie(https, "chair")
    token = login(https, "chair")
    stream = f"{WSS}/api/meetings/{world.meeting_id}/stream"
    query = f"{stream}?token={token['Authorization'][7:]}"
    for headers, url in ((_with(cookie, OWN), stream), (token, stream), ({}, query), (cookie, query)):  # a programme's jar
        with https.websocket_connect(url, headers=headers) as ws:
            assert ws.receive_json()["kind"] == "event"
    # a token does not excuse a foreign page: an Origin that is sent must match
    with https.websocket_connect(stream, headers=_with(token, "https://evil.example")) as ws:
        assert ws.receive_json()["error"]["code"] == "permission_denied"
    meetings.transition(world.store, world.actor("chair"), world.meeting_id, MeetingState.OPEN)
    with https.websocket_connect(f"{WSS}/api/meetings/{world.meeting_id}/call", headers=_with(cookie, OWN)) as ws:
        assert ws.receive_json()["type"] == "welcome"


def test_a_made_up_query_token_does_not_let_the_cookie_through_without_origin(https: TestClient, world: World) -> None:
    """No Origin is excused for a programme's own ?token=; the cookie riding along must not then
    authenticate the socket (found by an attacker's probe)."""
    cookie = _cookie(https, "chair")
    for token in ("made-up", ""):  # an empty one too: it names no credential, and the cookie is still not it
        with https.websocket_connect(f"{WSS}/api/meetings/{world.meeting_id}/stream?token={token}", headers=cookie) as ws:
            message = ws.receive_json()
            assert message["kind"] == "error" and message["error"]["code"] == "authentication_required", message
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
        assert closed.value.code == 4401


def test_a_token_in_the_query_is_not_taken_over_plain_http(client: TestClient, world: World) -> None:
    token = login(client, "chair")["Authorization"][7:]
    assert client.get(f"/api/meetings/{world.meeting_id}?token={token}").status_code == 401


def test_logging_in_again_with_a_stale_cookie_needs_no_origin_but_a_foreign_one_is_refused(https: TestClient, world: World) -> None:
    cookie = _cookie(https, "chair")  # a programme's cookie jar still holds the last session
    again = https.post("/api/auth/login", json={"username": "member1", "password": PASSWORD}, headers=cookie)
    assert again.status_code == 200, again.text
    foreign = https.post("/api/auth/login", json={"username": "member1", "password": PASSWORD}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
