"""Polls over HTTP and the meeting WebSocket: the chair's tablet and the members' votes."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from meeting_room import auth
from meeting_room import events as ev
from meeting_room.api import create_app
from meeting_room.attendance import AttendanceStatus
from meeting_room.bus import Transient
from meeting_room.chain import StoredEvent
from meeting_room.db import tables as t
from meeting_room.lifecycle import MeetingState
from meeting_room.roles import BodyKind
from meeting_room.services import attendance, bodies, meetings, polls
from meeting_room.settings import Settings
from tests.conftest import World, login, snapshot

VOTERS = ("chair", "secretary", "member1", "member2")


def _url(world: World, suffix: str = "") -> str:
    return f"/api/meetings/{world.meeting_id}/polls{suffix}"


def _session_with_attendance(client: TestClient, world: World, present: tuple[str, ...] = VOTERS) -> dict[str, str]:
    chair = login(client, "chair")
    for target in ("open", "in_session"):
        assert client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": target}, headers=chair).status_code == 200
    for who in present:
        r = client.put(f"/api/meetings/{world.meeting_id}/attendance/{world.ids[who]}", json={"status": "present_in_room"}, headers=chair)
        assert r.status_code == 200
    return chair


def test_named_motion_from_the_tablet_to_the_published_result(client: TestClient, world: World) -> None:
    sec = login(client, "secretary")
    r = client.post(
        _url(world),
        json={
            "title": "Thông qua Nghị quyết về dự toán ngân sách 2027",
            "rule": {"preset": "hdnd_resolution"},
            "agenda_item_id": world.item_ids[1],
        },
        headers=sec,
    )
    assert r.status_code == 201, r.text
    poll = r.json()
    pid = poll["id"]
    assert [o["label"] for o in poll["options"]] == ["Tán thành", "Không tán thành", "Không biểu quyết"]
    assert poll["state_label"] == "Chưa mở" and "quá 1/2 tổng số thành viên" in poll["rule"]["description"]

    chair = login(client, "chair")
    r = client.post(_url(world, f"/{pid}/open"), json={}, headers=chair)
    assert r.status_code == 409 and "Đã lên lịch" in r.json()["error"]["message"]  # the meeting is not in session
    _session_with_attendance(client, world, present=("chair", "secretary", "member1"))
    assert client.post(_url(world, f"/{pid}/open"), json={}, headers=sec).status_code == 403  # the chair opens
    r = client.post(_url(world, f"/{pid}/open"), json={}, headers=chair)
    assert r.status_code == 200 and r.json()["electorate"] == {"members": 4, "present": 3, "eligible": 3}

    heads = {who: login(client, who) for who in VOTERS}
    receipts = {}
    for who, choice in (("chair", "yes"), ("secretary", "yes"), ("member1", "yes")):
        r = client.post(_url(world, f"/{pid}/ballots"), json={"options": [choice]}, headers=heads[who])
        assert r.status_code == 201, r.text
        receipts[who] = r.json()["receipt"]
    before = snapshot(world.store)
    r = client.post(_url(world, f"/{pid}/ballots"), json={"options": ["no"]}, headers=heads["member1"])
    assert r.status_code == 409 and "đã bỏ phiếu" in r.json()["error"]["message"]
    r = client.post(_url(world, f"/{pid}/ballots"), json={"options": ["yes"]}, headers=heads["member2"])
    assert r.status_code == 403  # absent when the vote opened
    r = client.post(_url(world, f"/{pid}/ballots"), json={"options": ["yes"]}, headers=login(client, "guest"))
    assert r.status_code == 403
    r = client.post(_url(world, f"/{pid}/ballots"), json={"options": ["maybe"]}, headers=heads["member1"])
    assert r.status_code == 422 and r.json()["error"]["details"]["accepted"] == ["abstain", "no", "yes"]
    r = client.post(_url(world, f"/{pid}/ballots"), json={"options": ["yes"]}, headers=login(client, "outsider"))
    assert r.status_code == 404
    assert snapshot(world.store) == before

    live = client.get(_url(world, f"/{pid}"), headers=chair).json()
    assert live["live_counts"] == {"yes": 3, "no": 0, "abstain": 0} and live["ballots_cast"] == 3
    mine = client.get(_url(world, f"/{pid}"), headers=heads["member1"]).json()
    assert mine["live_counts"] is None and mine["you"] == {"eligible": True, "voted": True, "needs_own_login": False}

    closed = client.post(_url(world, f"/{pid}/close"), headers=chair).json()
    assert closed["state"] == "closed"
    assert closed["result"]["outcome"] == "passed"  # 3 of 4 present meets the 2/3 quorum; 3 > 1/2 of ALL 4
    r = client.post(_url(world, f"/{pid}/ballots"), json={"options": ["yes"]}, headers=heads["member2"])
    assert r.status_code == 409 and "không nhận phiếu" in r.json()["error"]["message"]
    assert client.get(_url(world, f"/{pid}"), headers=heads["member1"]).json()["result"] is None  # not yet published
    assert client.get(_url(world, f"/{pid}/ballots"), headers=heads["member1"]).status_code == 409

    client.post(_url(world, f"/{pid}/publish"), headers=chair)
    result = client.get(_url(world, f"/{pid}"), headers=heads["member2"]).json()["result"]
    assert result["reason"].startswith("Thông qua: tán thành 3/4 tổng số thành viên (75,00%)")
    ballots = client.get(_url(world, f"/{pid}/ballots"), headers=heads["member2"]).json()
    assert sorted(b["voter_name"] for b in ballots["ballots"]) == ["Người chair", "Người member1", "Người secretary"]
    r = client.post(_url(world, f"/{pid}/receipt"), json={"receipt": receipts["member1"]}, headers=heads["member1"]).json()
    assert r["found"] and r["labels"] == ["Tán thành"]
    assert client.post(_url(world, f"/{pid}/receipt"), json={"receipt": "nonsense"}, headers=heads["member1"]).status_code == 422

    audit = client.get("/api/store/verify", headers=login(client, "clerk")).json()
    assert audit["ok"] and audit["polls_checked"] == 1


def test_secret_poll_live_tally_is_counts_only_on_the_websocket(client: TestClient, world: World) -> None:
    chair = _session_with_attendance(client, world)
    election = {
        "title": "Bầu Phó Chủ tịch",
        "kind": "election",
        "options": ["Nguyễn Văn An", "Trần Thị Bình"],
        "seats": 1,
        "secrecy": "secret",
        "rule": {"preset": "hdnd_election"},
    }
    secret = client.post(_url(world), json=election, headers=chair).json()
    named = client.post(_url(world), json={"title": "Thông qua chương trình", "rule": {"preset": "majority_present"}}, headers=chair).json()
    assert client.post(_url(world, f"/{secret['id']}/open"), json={"duration_s": 600}, headers=chair).status_code == 200
    refused = client.post(_url(world, f"/{named['id']}/open"), json={}, headers=chair)  # one vote at a time
    assert refused.status_code == 409 and refused.json()["error"]["details"]["open_poll_id"] == secret["id"]
    assert "Bầu Phó Chủ tịch" in refused.json()["error"]["message"]
    with _following(client, world, chair) as ws:
        member = login(client, "member1")
        assert client.post(_url(world, f"/{secret['id']}/ballots"), json={"options": ["o2"]}, headers=member).status_code == 201
        assert client.get(_url(world, f"/{secret['id']}"), headers=chair).json()["live_counts"] is None
        assert client.post(_url(world, f"/{secret['id']}/close"), headers=chair).status_code == 200
        assert client.post(_url(world, f"/{named['id']}/open"), json={"duration_s": 600}, headers=chair).status_code == 200
        assert client.post(_url(world, f"/{named['id']}/ballots"), json={"options": ["no"]}, headers=member).status_code == 201
        messages = [ws.receive_json()]
        while messages[-1]["kind"] != "tally":
            messages.append(ws.receive_json())
    events = [m["event"] for m in messages if m["kind"] == "event"]
    cast = [e for e in events if e["type"] == "poll.ballot_cast"]
    assert [e["data"]["poll_id"] for e in cast] == [secret["id"], named["id"]]
    assert cast[0]["data"]["ballots_cast"] == 1 and "o2" not in str(cast[0]) and "selection" not in str(cast[0])
    assert all(m.get("poll_id") != secret["id"] for m in messages if m["kind"] == "tally")  # a secret poll: counts of ballots only
    assert messages[-1] == {
        "kind": "tally",
        "poll_id": named["id"],
        "ballots_cast": 1,
        "eligible": 4,
        "counts": {"yes": 0, "no": 1, "abstain": 0},
    }


def _open_named_poll(client: TestClient, world: World) -> tuple[dict[str, str], dict[str, Any]]:
    """The meeting in session with its voters present, and a named poll open: the chair's headers and the poll."""
    chair = _session_with_attendance(client, world)
    poll = client.post(_url(world), json={"title": "Thông qua chương trình", "rule": {"preset": "majority_present"}}, headers=chair).json()
    assert client.post(_url(world, f"/{poll['id']}/open"), json={"duration_s": 600}, headers=chair).status_code == 200
    return chair, poll


@contextlib.contextmanager
def _following(client: TestClient, world: World, headers: dict[str, str]) -> Iterator[WebSocketTestSession]:
    """The meeting's live stream as that session's page has it, past its backlog."""
    token = headers["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream?token={token}") as ws:
        while ws.receive_json()["kind"] != "ready":
            pass
        yield ws


def test_a_members_page_gets_the_others_ballots_as_counts_and_its_own_as_an_event(client: TestClient, world: World) -> None:
    chair, poll = _open_named_poll(client, world)
    member1, member2 = login(client, "member1"), login(client, "member2")
    with _following(client, world, member2) as ws:
        assert client.post(_url(world, f"/{poll['id']}/ballots"), json={"options": ["yes"]}, headers=member1).status_code == 201
        assert ws.receive_json() == {"kind": "count", "poll_id": poll["id"], "ballots_cast": 1, "eligible": 4}
        assert client.post(_url(world, f"/{poll['id']}/ballots"), json={"options": ["no"]}, headers=member2).status_code == 201
        own = ws.receive_json()
    assert own["kind"] == "event" and own["event"]["type"] == "poll.ballot_cast"
    assert own["event"]["data"]["voter_id"] == world.ids["member2"] and own["event"]["data"]["ballots_cast"] == 2
    # the record is whole: both ballots' events are listed to the member, as before
    listed = client.get(f"/api/meetings/{world.meeting_id}/events", headers=member2).json()["events"]
    assert [e["data"]["ballots_cast"] for e in listed if e["type"] == "poll.ballot_cast"] == [1, 2]


def test_a_count_is_not_held_back_by_a_caption_right_behind_the_ballot(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst that ends with a partial caption (the chair speaking while members vote) still ends: the
    count goes out then, not at the next stored event (before, it waited for one)."""
    chair, poll = _open_named_poll(client, world)
    member1, member2 = login(client, "member1"), login(client, "member2")
    bus, publish = world.store.bus, world.store.bus.publish
    caption = {
        "kind": "caption",
        "final": False,
        "pass_id": "p",
        "stream": "s",
        "start": 0.0,
        "end": 1.0,
        "text": "Xin mời",
        "speaker": None,
    }

    def ballot_then_caption(event: StoredEvent) -> None:  # queued together on the loop: the caption ends the burst
        if event.type != "poll.ballot_cast":
            return publish(event)

        def both() -> None:
            bus._deliver(event)
            bus._fan_out_transient(Transient(world.meeting_id, caption))

        bus._call(both)

    monkeypatch.setattr(bus, "publish", ballot_then_caption)
    with _following(client, world, member2) as ws:
        assert client.post(_url(world, f"/{poll['id']}/ballots"), json={"options": ["yes"]}, headers=member1).status_code == 201
        # should the count wait for the next stored event, one comes in 20 s (a test that fails, not hangs)
        later = threading.Timer(20, lambda: client.post(_url(world, f"/{poll['id']}/ballots"), json={"options": ["no"]}, headers=member2))
        later.start()
        try:
            started = time.monotonic()
            assert ws.receive_json() == caption
            assert ws.receive_json() == {"kind": "count", "poll_id": poll["id"], "ballots_cast": 1, "eligible": 4}
            assert time.monotonic() - started < 15, "the count waited for the next stored event"
        finally:
            later.cancel()


def test_bad_poll_definitions_get_clear_errors(client: TestClient, world: World) -> None:
    sec = login(client, "secretary")
    before = snapshot(world.store)
    cases = [
        ({"title": "X", "rule": {"preset": "unanimous"}}, "invalid_rule"),
        ({"title": "X", "rule": {"base": "present", "threshold": "half"}}, "invalid_rule"),
        ({"title": "X", "kind": "single_choice", "options": ["Một"]}, "invalid_poll"),
        ({"title": "X", "kind": "election", "options": ["A", "B"], "seats": 3}, "invalid_poll"),
        ({"title": "X", "rule": {"preset": "hdnd_resolution", "threshold": "> 1/2"}}, "invalid_input"),
        ({"title": "X", "kind": "referendum"}, "invalid_input"),
        ({"title": "X", "agenda_item_id": "nope"}, "not_found"),
    ]
    for body, code in cases:
        r = client.post(_url(world), json=body, headers=sec)
        assert r.json()["error"]["code"] == code, (body, r.text)
        assert r.json()["error"]["message"] and r.json()["error"]["message_en"]
    assert client.post(_url(world), json={"title": "X"}, headers=login(client, "member1")).status_code == 403
    assert snapshot(world.store) == before


def test_presets_are_listed_and_a_custom_rule_is_stored_in_full(client: TestClient, world: World) -> None:
    chair = login(client, "chair")
    presets = {p["preset"]: p for p in client.get("/api/voting/presets", headers=chair).json()}
    assert presets["hdnd_two_thirds"]["threshold"] == ">= 2/3" and presets["hdnd_resolution"]["quorum"] == ">= 2/3"
    poll = client.post(
        _url(world), json={"title": "Điều chỉnh quy hoạch", "rule": {"base": "present", "threshold": ">= 3/5"}}, headers=chair
    ).json()
    assert poll["rule"]["threshold"] == ">= 3/5" and poll["rule"]["base"] == "present"
    preset_poll = client.post(_url(world), json={"title": "Bãi nhiệm", "rule": {"preset": "hdnd_two_thirds"}}, headers=chair).json()
    rule = preset_poll["rule"]
    assert (rule["preset"], rule["base"], rule["threshold"], rule["quorum"]) == ("hdnd_two_thirds", "members", ">= 2/3", ">= 2/3")
    assert (preset_poll["rule"]["base"], preset_poll["rule"]["threshold"]) == ("members", ">= 2/3")


def test_closing_the_meeting_waits_for_open_polls(client: TestClient, world: World) -> None:
    chair = _session_with_attendance(client, world)
    pid = client.post(_url(world), json={"title": "Thông qua"}, headers=chair).json()["id"]
    client.post(_url(world, f"/{pid}/open"), json={}, headers=chair)
    r = client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": "closed"}, headers=chair)
    assert r.status_code == 409 and r.json()["error"]["details"]["open_polls"] == ["Thông qua"]
    client.post(_url(world, f"/{pid}/close"), headers=chair)
    assert client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": "closed"}, headers=chair).status_code == 200


def test_the_countdown_closes_the_poll_by_itself(settings: Settings, world: World) -> None:
    chair = world.actor("chair")
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
        meetings.transition(world.store, chair, world.meeting_id, state)
    attendance.record(world.store, chair, world.meeting_id, world.ids["chair"], AttendanceStatus.PRESENT_IN_ROOM)
    pid = polls.create_poll(world.store, chair, world.meeting_id, polls.PollSpec(title="Biểu quyết có giới hạn thời gian"))
    polls.open_poll(world.store, chair, pid, duration_s=60)
    polls.cast_ballot(world.store, chair, pid, ["yes"])
    later = world.store.now() + timedelta(seconds=60)
    world.store._clock = lambda: later  # the minute passes while the server is down
    with TestClient(create_app(settings, world.store)) as client:  # on start, the timer finds the poll due
        token = login(client, "chair")["Authorization"].removeprefix("Bearer ")
        with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream?token={token}") as ws:
            while (msg := ws.receive_json()).get("event", {}).get("type") != "poll.closed":
                pass
    assert msg["event"]["data"]["by_timer"] is True and msg["event"]["actor_id"] is None
    assert msg["event"]["data"]["result"]["ballots_cast"] == 1


def test_a_secret_ballots_receipt_shows_its_choice_to_its_voter_only(client: TestClient, world: World) -> None:
    chair = _session_with_attendance(client, world)
    poll = client.post(_url(world), json={"title": "Bầu kín", "secrecy": "secret", "allow_change": True}, headers=chair).json()
    assert client.post(_url(world, f"/{poll['id']}/open"), json={}, headers=chair).status_code == 200
    voter, other = login(client, "member1"), login(client, "member2")
    code = client.post(_url(world, f"/{poll['id']}/ballots"), json={"options": ["no"]}, headers=voter).json()["receipt"]
    assert client.post(_url(world, f"/{poll['id']}/ballots"), json={"options": ["yes"]}, headers=other).status_code == 201
    before = snapshot(world.store)
    stolen = client.post(_url(world, f"/{poll['id']}/ballots"), json={"options": ["yes"], "receipt": code}, headers=other)
    assert stolen.status_code == 403 and stolen.json()["error"]["message_en"].startswith("This receipt is not yours")
    assert snapshot(world.store) == before  # another member's receipt altered nothing
    for verb in ("close", "publish"):
        assert client.post(_url(world, f"/{poll['id']}/{verb}"), headers=chair).status_code == 200
    theirs = client.post(_url(world, f"/{poll['id']}/receipt"), json={"receipt": code}, headers=other).json()
    assert theirs["found"] and not theirs["own"] and theirs["options"] == [] and "chỉ người bỏ phiếu" in theirs["message"]
    mine = client.post(_url(world, f"/{poll['id']}/receipt"), json={"receipt": code}, headers=voter).json()
    assert mine["found"] and mine["own"] and mine["labels"] == ["Không tán thành"]
    # the voter's invitation link (which whoever made it may hold) is not the voter's own login (attacker probe)
    with world.store.read() as session:
        person = session.get_one(t.Member, world.ids["member1"])
    link = auth.open_session(world.store, person, datetime.now(UTC) + timedelta(hours=1), meeting_id=world.meeting_id).token
    through_link = client.post(_url(world, f"/{poll['id']}/receipt"), json={"receipt": code}, headers={"Authorization": f"Bearer {link}"})
    assert through_link.status_code == 200 and through_link.json()["found"], through_link.text
    assert not through_link.json()["own"] and through_link.json()["options"] == []
    # nowhere else does a receipt lead to its choice: the ballot list and the log show no receipt hashes
    listed = client.get(_url(world, f"/{poll['id']}/ballots"), headers=other).json()
    assert sorted(b["options"][0] for b in listed["ballots"]) == ["no", "yes"] and all(b["receipt_hash"] is None for b in listed["ballots"])
    for who, ballots in ((other, None), (chair, 2)):  # members get the count from the poll once published
        events = client.get(f"/api/meetings/{world.meeting_id}/events", headers=who).json()["events"]
        closed = next(e for e in events if e["type"] == "poll.closed")
        assert (
            "receipt_hash" not in str(closed) and (len(closed["data"]["ballots"]) if ballots else closed["data"].get("ballots")) == ballots
        )


def test_a_clerk_sees_the_live_count_over_http_and_on_the_stream_alike(client: TestClient, world: World) -> None:
    chair, poll = _open_named_poll(client, world)
    clerk, member = login(client, "clerk"), login(client, "member1")
    with _following(client, world, clerk) as ws:
        assert client.post(_url(world, f"/{poll['id']}/ballots"), json={"options": ["yes"]}, headers=member).status_code == 201
        message = ws.receive_json()
        while message["kind"] != "tally":
            message = ws.receive_json()
    assert message["counts"] == {"yes": 1, "no": 0, "abstain": 0}
    assert client.get(_url(world, f"/{poll['id']}"), headers=clerk).json()["live_counts"] == message["counts"]
    assert client.get(_url(world, f"/{poll['id']}"), headers=member).json()["live_counts"] is None  # a member waits for the result


def test_a_vote_without_a_rule_follows_the_rule_of_the_meeting_s_body(client: TestClient, world: World) -> None:
    # an API client that names no rule gets the law's rule for a council resolution, not "of those present"
    sec = login(client, "secretary")
    council = client.post(_url(world), json={"title": "Thông qua nghị quyết"}, headers=sec).json()
    assert council["rule"]["preset"] == "hdnd_resolution" and "tổng số" in council["rule"]["description"], council["rule"]
    bodies.update_body(world.store, world.actor("admin"), ev.BodyUpdated(body_id=world.body_id, kind=BodyKind.OTHER))
    other = client.post(_url(world), json={"title": "Thông qua chương trình"}, headers=sec).json()
    assert other["rule"]["preset"] == "majority_present" and "có mặt" in other["rule"]["description"], other["rule"]
    assert client.post(_url(world), json={"title": "X", "rule": None}, headers=sec).json()["rule"]["preset"] == "majority_present"
