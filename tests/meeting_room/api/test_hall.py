"""The hall display: its link (that meeting's public view only, read-only, revocable), what the hall
receives over its stream (never a count of a vote before it is published), speaking time and
attendance at speed."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from meeting_room import events as ev
from meeting_room.live.live_sessions import SESSION_ENDED
from meeting_room.services import meetings, transcripts
from speech.transcript import Segment
from tests.conftest import World, login, snapshot
from tests.meeting_room.live.test_live_sessions import Closing

VOTERS = ("chair", "secretary", "member1", "member2")


def _url(world: World, suffix: str = "") -> str:
    return f"/api/meetings/{world.meeting_id}{suffix}"


def _display(client: TestClient, world: World, headers: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    r = client.post(_url(world, "/displays"), json={}, headers=headers)
    assert r.status_code == 201, r.text
    link = r.json()
    return link, {"Authorization": f"Bearer {link['url'].split('#', 1)[1]}"}


def _in_session(client: TestClient, world: World, present: tuple[str, ...] = VOTERS) -> dict[str, str]:
    chair = login(client, "chair")
    for target in ("open", "in_session"):
        assert client.post(_url(world, "/transitions"), json={"to": target}, headers=chair).status_code == 200
    for who in present:
        r = client.put(_url(world, f"/attendance/{world.ids[who]}"), json={"status": "present_in_room"}, headers=chair)
        assert r.status_code == 200
    return chair


def _hall_until(ws: WebSocketTestSession, ok: Any, seen: list[dict[str, Any]]) -> dict[str, Any]:
    """Hall views from the stream until one satisfies ``ok``; every message is kept in ``seen``."""
    while True:
        msg = ws.receive_json()
        seen.append(msg)
        if msg["kind"] == "hall" and ok(msg["hall"]):
            return dict(msg["hall"])


def test_a_display_link_shows_that_meetings_hall_only_until_it_is_revoked(client: TestClient, world: World) -> None:
    chair, member = login(client, "chair"), login(client, "member1")
    before = snapshot(world.store)
    assert client.post(_url(world, "/displays"), json={}, headers=member).status_code == 403  # the chair or secretary creates it
    assert client.post(_url(world, "/displays"), json={"hours": 0}, headers=chair).status_code == 422
    assert snapshot(world.store) == before

    link, display = _display(client, world, chair)
    assert f"://testserver/hall/{world.meeting_id}#" in link["url"] and not link["revoked"]
    token = display["Authorization"].removeprefix("Bearer ")
    assert token not in repr([e.message(True) for e in world.store.events()])  # only its hash is kept
    assert client.get(f"/join/{token}", follow_redirects=False).status_code == 410  # it opens no session, nobody's account

    client.cookies.clear()
    view = client.get(_url(world, "/hall"), headers=display)
    assert view.status_code == 200, view.text
    assert view.json()["title"] == "Phiên họp thường kỳ tháng 11"
    assert view.json()["quorum"] == {"present": 0, "expected": 4, "needed": 3, "reached": False}
    for path in ("", "/polls", "/attendance", "/events", "/floor", "/displays"):  # nothing but the hall, read-only
        refused = client.get(_url(world, path), headers=display)
        assert refused.status_code == 403 and "hall display" in refused.json()["error"]["message_en"], path
    assert client.post(_url(world, "/floor/requests"), headers=display).status_code == 403
    assert client.get("/api/meetings", headers=display).status_code == 403
    assert client.get("/api/auth/me", headers=display).status_code == 403
    other = meetings.new_meeting_id()
    assert client.get(f"/api/meetings/{other}/hall", headers=display).status_code == 403  # another meeting's hall
    assert client.get(_url(world, "/hall"), headers=login(client, "outsider")).status_code == 404

    listed = client.get(_url(world, "/displays"), headers=chair).json()
    assert [(d["id"], d["revoked"], d["url"]) for d in listed] == [(link["id"], False, None)]
    assert client.get(_url(world, "/invitations"), headers=chair).json() == []  # a display is nobody's invitation

    with client.websocket_connect(_url(world, f"/hall/stream?token={token}")) as ws:
        assert ws.receive_json()["kind"] == "hall"
        closing = Closing(ws)
        revoked_at = time.monotonic()
        assert client.delete(_url(world, f"/displays/{link['id']}"), headers=chair).status_code == 204
        code, reason, at = closing.closed()
    assert code == SESSION_ENDED.code and reason == SESSION_ENDED.reason and at - revoked_at < 1.5
    assert closing.messages[-1]["kind"] == "error"
    gone = client.get(_url(world, "/hall"), headers=display)
    assert gone.status_code == 401 and "thu hồi" in gone.json()["error"]["message"]
    assert client.get(_url(world, "/displays"), headers=chair).json()[0]["revoked"] is True
    assert client.delete(_url(world, f"/displays/{link['id']}"), headers=chair).status_code == 409


def test_the_hall_sees_ballots_cast_but_no_count_until_the_result_is_published(client: TestClient, world: World) -> None:
    chair = _in_session(client, world)
    _, display = _display(client, world, chair)
    token = display["Authorization"].removeprefix("Bearer ")
    heads = {who: login(client, who) for who in VOTERS}
    election = {"title": "Bầu Phó Chủ tịch", "kind": "election", "options": ["Nguyễn Văn An", "Trần Thị Bình"], "seats": 1,
                "secrecy": "secret", "rule": {"preset": "hdnd_election"}}  # fmt: skip
    for spec in (election, {"title": "Thông qua chương trình kỳ họp", "rule": {"preset": "majority_present"}}):
        poll = client.post(_url(world, "/polls"), json=spec, headers=chair).json()
        pid, choice = poll["id"], poll["options"][0]["id"]
        seen: list[dict[str, Any]] = []
        with client.websocket_connect(_url(world, f"/hall/stream?token={token}")) as ws:
            assert client.post(_url(world, f"/polls/{pid}/open"), json={"duration_s": 600}, headers=chair).status_code == 200
            opened = _hall_until(ws, lambda v, pid=pid: v["vote"] and v["vote"]["poll_id"] == pid, seen)
            assert (opened["vote"]["state"], opened["vote"]["ballots_cast"], opened["vote"]["eligible"]) == ("open", 0, 4)
            assert opened["vote"]["secret"] is (spec is election) and opened["vote"]["rule"]
            for who in ("member1", "member2", "secretary"):
                assert client.post(_url(world, f"/polls/{pid}/ballots"), json={"options": [choice]}, headers=heads[who]).status_code == 201
            cast = _hall_until(ws, lambda v: v["vote"]["ballots_cast"] == 3, seen)
            assert cast["vote"]["result"] is None
            assert client.post(_url(world, f"/polls/{pid}/close"), headers=chair).status_code == 200
            closed = _hall_until(ws, lambda v: v["vote"]["state"] == "closed", seen)
            assert closed["vote"]["result"] is None and closed["vote"]["ballots_cast"] == 3  # awaiting publication
            # (the first view may show the vote before, published: only this one's matters here)
            before_publish = json.dumps([m for m in seen if m["kind"] != "hall" or (m["hall"]["vote"] or {}).get("poll_id") == pid])
            assert client.post(_url(world, f"/polls/{pid}/publish"), headers=chair).status_code == 200
            published = _hall_until(ws, lambda v: v["vote"]["state"] == "published", seen)
        # nothing the hall received before the result was published counts anyone's choice, or names a voter
        assert '"votes"' not in before_publish and "selection" not in before_publish and "counts" not in before_publish
        assert all(world.ids[who] not in before_publish for who in VOTERS)
        result = published["vote"]["result"]
        assert [(o["label"], o["votes"]) for o in result["options"]][0] == (poll["options"][0]["label"], 3)
        assert result["outcome_label"] and result["reason"] and published["vote"]["rule"]


def test_speaking_time_a_meeting_default_an_item_override_and_the_turn_that_runs_against_it(client: TestClient, world: World) -> None:
    chair = login(client, "chair")
    member = login(client, "member1")
    assert client.put(_url(world, "/floor/limit"), json={"seconds": 180}, headers=member).status_code == 403
    assert client.put(_url(world, "/floor/limit"), json={"seconds": 5}, headers=chair).status_code == 422
    assert client.put(_url(world, "/floor/limit"), json={"seconds": 60, "item_id": "nope"}, headers=chair).status_code == 404
    r = client.put(_url(world, "/floor/limit"), json={"seconds": 180}, headers=chair)  # before the meeting: prepared
    assert r.status_code == 200 and r.json()["limit_s"] == 180
    assert client.put(_url(world, "/floor/limit"), json={"seconds": 90, "item_id": world.item_ids[1]}, headers=chair).status_code == 200
    limits = [e.data for e in world.store.events() if e.type == "floor.limit_set"]
    assert [(d["item_id"], d["seconds"]) for d in limits] == [(None, 180), (world.item_ids[1], 90)]  # stored as events

    _in_session(client, world)
    assert client.post(_url(world, f"/agenda/{world.item_ids[0]}/take"), headers=chair).status_code == 204
    assert client.get(_url(world, "/floor"), headers=member).json()["limit_s"] == 180  # the meeting's default
    assert client.post(_url(world, f"/agenda/{world.item_ids[1]}/take"), headers=chair).status_code == 204
    assert client.post(_url(world, "/floor/requests"), headers=member).status_code == 201
    assert client.get(_url(world, "/hall"), headers=chair).json()["waiting"] == 1  # someone asked to speak
    floor = client.put(_url(world, "/floor/speaker"), json={"member_id": world.ids["member1"]}, headers=chair).json()
    assert floor["limit_s"] == 90  # the item's own
    since, ends = datetime.fromisoformat(floor["speaker"]["since"]), datetime.fromisoformat(floor["ends_at"])
    assert ends - since == timedelta(seconds=90)
    hall = client.get(_url(world, "/hall"), headers=chair).json()
    assert hall["speaker"]["full_name"] == "Người member1" and hall["speaker"]["limit_s"] == 90 and hall["waiting"] == 0
    assert datetime.fromisoformat(hall["speaker"]["ends_at"]) == ends
    back = client.put(_url(world, "/floor/limit"), json={"seconds": None, "item_id": world.item_ids[1]}, headers=chair)
    assert back.json()["limit_s"] == 180  # the item's own removed: the meeting's again
    assert client.put(_url(world, "/floor/limit"), json={"seconds": None}, headers=chair).json() | {"speaker": None} == {
        "speaker": None, "queue": [], "limit_s": None, "ends_at": None,
    }  # fmt: skip


def test_all_present_in_one_tap_keeps_excused_absences_and_their_reasons(client: TestClient, world: World) -> None:
    chair = _in_session(client, world, present=("chair",))
    member = login(client, "member1")
    no_reason = client.put(_url(world, f"/attendance/{world.ids['member2']}"), json={"status": "absent_excused"}, headers=chair)
    assert no_reason.status_code == 422 and no_reason.json()["error"]["details"]["field"] == "reason"
    excused = {"status": "absent_excused", "reason": "Đi công tác tại Hà Nội"}
    assert client.put(_url(world, f"/attendance/{world.ids['member2']}"), json=excused, headers=chair).status_code == 200
    r = client.put(_url(world, f"/attendance/{world.ids['secretary']}"), json={"status": "absent_unexcused"}, headers=chair)
    assert r.status_code == 200
    assert client.post(_url(world, "/attendance/all-present"), headers=member).status_code == 403
    r = client.post(_url(world, "/attendance/all-present"), headers=chair)
    assert r.status_code == 200, r.text
    records = {x["full_name"]: (x["status"], x["reason"]) for x in r.json()["records"]}
    assert records == {
        "Người chair": ("present_in_room", None), "Người secretary": ("present_in_room", None),
        "Người member1": ("present_in_room", None), "Người guest": ("present_in_room", None),
        "Người member2": ("absent_excused", "Đi công tác tại Hà Nội"),
    }  # fmt: skip
    assert r.json()["summary"]["present"] == 3 and r.json()["summary"]["absent_excused"] == 1
    marked = [e for e in world.store.events() if e.type == "attendance.recorded"][-3:]
    assert sorted(e.data["member_id"] for e in marked) == sorted(world.ids[w] for w in ("secretary", "member1", "guest"))
    assert [e.seq for e in marked] == list(range(marked[0].seq, marked[0].seq + 3))  # appended together
    before = snapshot(world.store)
    assert client.post(_url(world, "/attendance/all-present"), headers=chair).status_code == 200
    assert snapshot(world.store) == before  # nothing left to mark: nothing written


def test_the_hall_gets_live_captions_and_nothing_else_that_is_not_its_own(client: TestClient, world: World) -> None:
    chair = _in_session(client, world)
    _, display = _display(client, world, chair)
    token = display["Authorization"].removeprefix("Bearer ")
    pass_id = transcripts.new_pass(world.store, world.meeting_id, "live", "whisper-base")
    spec = ev.SpeakerSpec(cluster="ch1", name="Người member1", member_id=world.ids["member1"], source="channel")
    transcripts.add_speakers(world.store, world.meeting_id, pass_id, [spec])
    seen: list[dict[str, Any]] = []
    with client.websocket_connect(_url(world, f"/hall/stream?token={token}")) as ws:
        _hall_until(ws, lambda v: True, seen)
        world.store.bus.publish_transient(world.meeting_id, {"kind": "calls", "calls": [{"member_id": world.ids["member2"]}]})
        caption = {"kind": "caption", "final": False, "pass_id": pass_id, "stream": "ch1", "start": 1.0, "end": 2.0,
                   "text": "Tôi đề nghị", "speaker": "Người member1"}  # fmt: skip
        world.store.bus.publish_transient(world.meeting_id, caption)
        partial = ws.receive_json()
        assert partial == {"kind": "caption", "final": False, "text": "Tôi đề nghị", "speaker": "Người member1"}  # the calls were not
        transcripts.add_segment(world.store, world.meeting_id, pass_id, Segment(1.0, 3.0, "Tôi đề nghị tăng chi cho giáo dục."), "ch1")
        view = _hall_until(ws, lambda v: bool(v["captions"]), seen)
    assert view["captions"] == [{"speaker": "Người member1", "text": "Tôi đề nghị tăng chi cho giáo dục."}]
    assert world.ids["member2"] not in json.dumps(seen) and world.ids["member1"] not in json.dumps(seen)


def test_a_display_ends_with_its_meeting(client: TestClient, world: World) -> None:
    chair = _in_session(client, world)
    _, display = _display(client, world, chair)
    token = display["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect(_url(world, f"/hall/stream?token={token}")) as ws:
        assert ws.receive_json()["kind"] == "hall"
        closing = Closing(ws)
        assert client.post(_url(world, "/transitions"), json={"to": "closed"}, headers=chair).status_code == 200
        code, _, _ = closing.closed()
    assert code == SESSION_ENDED.code  # the screen goes dark: what was said is the record's now, not the hall's
    gone = client.get(_url(world, "/hall"), headers=display)
    error = gone.json()["error"]
    assert gone.status_code == 401 and error["code"] == "meeting_ended", error  # not "the link went away"
    assert "meeting has ended" in error["message_en"].lower()


def test_an_opinion_asked_before_the_meeting_is_not_the_hall_s_vote(client: TestClient, world: World) -> None:
    # seen in a walk-through: an opinion request still open sat on the big screen as "ĐANG BIỂU QUYẾT",
    # before the meeting and over every result published after it
    from tests.meeting_room.api.test_opinions import _ask

    chair = login(client, "chair")
    asked = _ask(client, world, chair)
    assert asked.status_code == 201, asked.text
    _, display = _display(client, world, chair)
    assert client.get(_url(world, "/hall"), headers=display).json()["vote"] is None
    _in_session(client, world)
    motion = client.post(_url(world, "/polls"), json={"title": "Thông qua chương trình kỳ họp"}, headers=chair).json()
    assert client.post(_url(world, f"/polls/{motion['id']}/open"), json={}, headers=chair).status_code == 200
    vote = client.get(_url(world, "/hall"), headers=display).json()["vote"]
    assert (vote["title"], vote["state"]) == ("Thông qua chương trình kỳ họp", "open"), vote
