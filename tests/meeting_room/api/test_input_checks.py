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


@pytest.mark.parametrize(
    ("bad", "multiline"),
    [
        ("Họp\uffff", True), ("Họp\ufdd0", True), ("Họp\U0010ffff", True),
        ("Họp\u200ftên", False), ("Họp\u061c", False), ("Họp\u2028hai", False),
    ],  # fmt: skip
)
def test_noncharacters_anywhere_and_direction_marks_or_separators_in_one_line_are_refused(
    client: TestClient, world: World, bad: str, multiline: bool
) -> None:
    """An opinion with U+FFFF broke the minutes' Word copy for everyone; a direction mark or a line
    separator in a name reorders or splits how it reads (an attacker's probe)."""
    chair = login(client, "chair")
    before = snapshot(world.store)
    url = f"/api/meetings/{world.meeting_id}/agenda"
    body = {"title": "Mục mới", "description": bad} if multiline else {"title": bad}
    r = client.post(url, json=body, headers=chair)
    assert r.status_code == 422, r.text
    assert "U+" in r.json()["error"]["message_en"] and ("description" if multiline else "title") in r.json()["error"]["message_en"]
    assert snapshot(world.store) == before
    if not multiline:  # in text of several lines a mark may stay (quoted Arabic or Hebrew, a pasted paragraph)
        assert client.post(url, json={"title": "Mục mới", "description": bad}, headers=chair).status_code == 201
    assert client.get(f"/api/meetings/{world.meeting_id}/minutes.docx", headers=chair).status_code == 200


@pytest.mark.parametrize(
    "patch",
    [
        {"starts_at": "9999-12-31T23:59:59Z"},
        {"starts_at": "0001-01-01T00:00:00+14:00"},
        {"starts_at": "9999-12-31T23:59:59-12:00"},
        {"ends_at": "2100-01-01T00:00:00Z"},
        {"starts_at": "1999-12-31T23:00:00Z"},
        {"starts_at": 1800000000},  # Unix seconds: pydantic alone takes them
        {"starts_at": "1800000000"},
        {"starts_at": "2026-12-20T08:00:00+23:59"},  # no time zone is that far from UTC
        {"ends_at": "2026-12-20T08:00:00-12:30"},
    ],
)
def test_a_meeting_time_outside_the_years_2000_to_2099_is_422(client: TestClient, world: World, patch: dict[str, str]) -> None:
    """Year 9999 was accepted and then broke the minutes and the close of the meeting (an attacker's probe)."""
    chair = login(client, "chair")
    before = snapshot(world.store)
    r = client.patch(f"/api/meetings/{world.meeting_id}", json=patch, headers=chair)
    assert r.status_code == 422, r.text
    said = r.json()["error"]
    assert ("2000" in said["message"] and "2099" in said["message_en"]) or "ISO 8601" in said["message"]
    new = {"body_id": world.body_id, "title": "Họp năm 9999", "starts_at": "2027-01-05T01:00:00Z", **patch}
    assert client.post("/api/meetings", json=new, headers=login(client, "secretary")).status_code == 422
    assert snapshot(world.store) == before


def test_a_meeting_cannot_end_before_it_starts(client: TestClient, world: World) -> None:
    chair = login(client, "chair")
    before = snapshot(world.store)
    starts = client.get(f"/api/meetings/{world.meeting_id}", headers=chair).json()["starts_at"]
    r = client.patch(f"/api/meetings/{world.meeting_id}", json={"ends_at": "2000-01-02T00:00:00Z"}, headers=chair)
    assert r.status_code == 422 and "ends_at" in r.json()["error"]["message_en"], (starts, r.text)
    assert snapshot(world.store) == before
