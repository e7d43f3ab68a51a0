"""Speaking statistics through the API: a held meeting's figures for whoever sees its transcript,
a body's period for its record keepers and staff, and bilingual refusals of bad dates."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from meeting_room.reads.speaking_stats import UNNAMED_VI
from tests.conftest import World, login
from tests.meeting_room.api.held_meeting import hold_meeting


def test_a_held_meetings_speaking_stats(mclient: TestClient, mworld: World) -> None:
    client, world = mclient, mworld
    url = f"/api/meetings/{world.meeting_id}/speaking-stats"
    empty = client.get(url, headers=login(client, "member1"))
    assert empty.status_code == 200 and empty.json() == {"speakers": [], "total_s": 0.0, "turns": 0}  # no transcript yet
    hold_meeting(client, world)
    r = client.get(url, headers=login(client, "member1"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total_s"] == 9.5 and body["turns"] == 2
    assert [(s["name"], s["member_id"], s["turns"], s["seconds"], s["longest_s"]) for s in body["speakers"]] == [
        ("Người member1", world.ids["member1"], 1, 6.0, 6.0),
        ("Người chair", world.ids["chair"], 1, 3.5, 3.5),
    ]
    assert [s["share"] for s in body["speakers"]] == [round(6 / 9.5, 4), round(3.5 / 9.5, 4)]
    # the transcript's rule: someone who does not see the meeting gets a 404, as for the transcript
    outsider = login(client, "outsider")
    assert client.get(f"/api/meetings/{world.meeting_id}/transcript", headers=outsider).status_code == 404
    refused = client.get(url, headers=outsider)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert client.get("/api/meetings/nothing/speaking-stats", headers=login(client, "clerk")).status_code == 404


def test_a_bodys_period(mclient: TestClient, mworld: World) -> None:
    client, world = mclient, mworld
    hold_meeting(client, world)
    today = date.today()
    period = {"body_id": world.body_id, "date_from": str(today - timedelta(days=30)), "date_to": str(today + timedelta(days=30))}
    for who in ("clerk", "chair", "secretary", "admin"):
        r = client.get("/api/speaking-stats", params=period, headers=login(client, who))
        assert r.status_code == 200, (who, r.text)
        body = r.json()
        assert [m["id"] for m in body["meetings"]] == [world.meeting_id]
        assert [(s["name"], s["turns"], s["seconds"]) for s in body["speakers"]] == [("Người member1", 1, 6.0), ("Người chair", 1, 3.5)]
        assert body["date_from"] == period["date_from"] and body["body_id"] == world.body_id
    # a period without the meeting: nothing counted, said as an empty result
    before = {**period, "date_from": "2020-01-01", "date_to": "2020-01-31"}
    r = client.get("/api/speaking-stats", params=before, headers=login(client, "clerk")).json()
    assert r["meetings"] == [] and r["speakers"] == [] and r["total_s"] == 0.0
    # a member, or someone of no body, is refused; an unknown body is a 404
    for who in ("member1", "outsider"):
        refused = client.get("/api/speaking-stats", params=period, headers=login(client, who))
        assert refused.status_code == 403 and refused.json()["error"]["message"].startswith("Bạn không có quyền xem thống kê phát biểu")
    assert client.get("/api/speaking-stats", params={**period, "body_id": "nothing"}, headers=login(client, "clerk")).status_code == 404


def test_unnamed_speakers_over_a_period_are_one_row(mclient: TestClient, mworld: World) -> None:
    from meeting_room.services import transcripts
    from speech.transcript import Segment

    client, world = mclient, mworld
    hold_meeting(client, world)
    pass_id = transcripts.new_pass(world.store, world.meeting_id, "final", "whisper-base")
    transcripts.add_segment(world.store, world.meeting_id, pass_id, Segment(1.0, 3.0, "Xin cảm ơn."), "S0")
    transcripts.end_pass(world.store, world.meeting_id, pass_id, "completed", audio_s=5.0)
    today = date.today()
    period = {"body_id": world.body_id, "date_from": str(today), "date_to": str(today + timedelta(days=2))}
    r = client.get("/api/speaking-stats", params=period, headers=login(client, "clerk")).json()
    assert [(s["name"], s["member_id"], s["seconds"]) for s in r["speakers"]] == [(UNNAMED_VI, None, 2.0)]  # the final pass counts


def test_bad_dates_are_refused_in_both_languages(mclient: TestClient, mworld: World) -> None:
    clerk = login(mclient, "clerk")
    reversed_ = mclient.get("/api/speaking-stats", params={"body_id": mworld.body_id, "date_from": "2026-03-31", "date_to": "2026-03-01"},
                            headers=clerk)  # fmt: skip
    assert reversed_.status_code == 422
    error = reversed_.json()["error"]
    assert error["message"] == "Ngày bắt đầu (31/03/2026) sau ngày kết thúc (01/03/2026)"
    assert error["message_en"] == "The start date (2026-03-31) is after the end date (2026-03-01)"
    malformed = mclient.get("/api/speaking-stats", params={"body_id": mworld.body_id, "date_from": "31/03/2026", "date_to": "2026-04-01"},
                            headers=clerk)  # fmt: skip
    assert malformed.status_code == 422
    error = malformed.json()["error"]
    assert error["code"] == "invalid_input" and "date_from" in error["message"] and "date_from" in error["message_en"]
    missing = mclient.get("/api/speaking-stats", params={"body_id": mworld.body_id}, headers=clerk)
    assert missing.status_code == 422 and missing.json()["error"]["message"].startswith("Dữ liệu gửi lên không hợp lệ")
