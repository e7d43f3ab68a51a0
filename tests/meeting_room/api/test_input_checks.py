"""Bad input is a clear 422, never a 500: integers out of range in queries and bodies, control
characters and bidi overrides in text (tab and newline only where text has several lines)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import World, login, snapshot


@pytest.mark.parametrize(
    "path",
    [
        "events?after=1e30",
        "events?after=-1",
        f"events?after={2**63}",
        "events?limit=99999999999999999999",
        "minutes?version=1e30",
        f"minutes?version={2**63}",
        "minutes.pdf?version=99999999999",
        "minutes.docx?version=-5",
    ],
)
def test_integers_out_of_range_are_422(client: TestClient, world: World, path: str) -> None:
    chair = login(client, "chair")
    r = client.get(f"/api/meetings/{world.meeting_id}/{path}", headers=chair)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_input"


def test_integers_out_of_range_in_bodies_are_422(client: TestClient, world: World) -> None:
    chair = login(client, "chair")
    r = client.post(
        f"/api/meetings/{world.meeting_id}/invitations", json={"member_id": world.ids["member1"], "hours": 10**30}, headers=chair
    )
    assert r.status_code == 422, r.text
    r = client.put(f"/api/meetings/{world.meeting_id}/minutes", json={"base_version": 2**70}, headers=chair)
    assert r.status_code == 422, r.text


@pytest.mark.parametrize(
    "bad", ["Họp\x07", "Họp\x00", "Họp\x1b[31m", "Họp\x85họp", "Họp\u202egnub", "Họp\u2066x", "Họp\tthường kỳ", "Họp\nhai dòng"]
)
def test_control_characters_in_a_title_are_refused_naming_the_field(client: TestClient, world: World, bad: str) -> None:
    chair = login(client, "chair")
    before = snapshot(world.store)
    r = client.patch(f"/api/meetings/{world.meeting_id}", json={"title": bad}, headers=chair)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert "title" in error["message"] and "title" in error["message_en"]
    assert "U+" in error["message_en"] and "ký tự điều khiển" in error["message"]
    assert snapshot(world.store) == before
    # the minutes export that used to fail on such a title still works
    assert client.get(f"/api/meetings/{world.meeting_id}/minutes.docx", headers=chair).status_code == 200


def test_tab_and_newline_are_allowed_in_multi_line_text_only(client: TestClient, world: World) -> None:
    chair = login(client, "chair")
    url = f"/api/meetings/{world.meeting_id}/agenda"
    r = client.post(url, json={"title": "Mục mới", "description": "Dòng một\nDòng hai\tcó tab"}, headers=chair)
    assert r.status_code == 201, r.text
    r = client.post(url, json={"title": "Mục mới", "description": "Dòng một\x0bdọc"}, headers=chair)
    assert r.status_code == 422 and "description" in r.json()["error"]["message_en"]


def test_a_document_file_name_with_a_bidi_override_is_refused_and_nothing_stored(client: TestClient, world: World) -> None:
    chair = login(client, "chair")
    before = snapshot(world.store)
    item = world.item_ids[0]
    files = {"file": ("hoa-don\u202efdp.exe", b"%PDF-1.4 not really", "application/pdf")}
    r = client.post(f"/api/meetings/{world.meeting_id}/agenda/{item}/documents", files=files, headers=chair)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"]["field"] == "filename"
    assert snapshot(world.store) == before


def test_a_refused_form_is_explained_in_vietnamese_field_by_field(client: TestClient, world: World) -> None:
    """A secretary who left the title empty and typed a time wrong reads what to fix in Vietnamese
    (with the field's own name beside it), not pydantic's English; English stays second (found in a
    new user's walk-through)."""
    secretary = login(client, "secretary")
    body = {"body_id": world.body_id, "title": "", "starts_at": "mai lúc 8 giờ", "options_unknown": 1}
    r = client.post("/api/meetings", json=body, headers=secretary)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert "Tiêu đề (title): không được để trống" in error["message"], error["message"]
    assert "Thời gian bắt đầu (starts_at): phải là ngày giờ ISO 8601" in error["message"], error["message"]
    assert "title: must not be empty" in error["message_en"]  # plain English, the field named as sent
    assert "should have" not in error["message"]  # no English inside the Vietnamese text
    fields = {f["field"]: f for f in error["details"]["fields"]}
    assert fields["title"]["type"] == "string_too_short" and fields["title"]["problem_vi"] == "không được để trống"
    r = client.get("/api/search?q=ngân+sách&limit=0", headers=secretary)
    assert r.status_code == 422 and "Số dòng (limit): phải ≥ 1" in r.json()["error"]["message"], r.text
