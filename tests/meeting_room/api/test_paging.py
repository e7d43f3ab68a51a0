"""Paged lists: ``limit``/``offset`` in, ``X-Total-Count`` and a ``Link`` to the next page out, the
body the same JSON list as before."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx2 as httpx
from fastapi.testclient import TestClient

from tests.conftest import World, login

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _next(response: httpx.Response) -> str | None:
    link = response.headers.get("link")
    if link is None:
        return None
    found = re.fullmatch(r'<(/api/[^>]+)>; rel="next"', link)
    assert found, link
    return found.group(1)


def _all_pages(client: TestClient, url: str, headers: dict[str, str]) -> tuple[list[list[dict[str, Any]]], set[int]]:
    pages, totals = [], set()
    next_url: str | None = url
    while next_url is not None:
        r = client.get(next_url, headers=headers)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        totals.add(int(r.headers["x-total-count"]))
        next_url = _next(r)
    return pages, totals


def _schedule(client: TestClient, world: World, headers: dict[str, str], title: str, starts: datetime) -> str:
    body = {"body_id": world.body_id, "title": title, "starts_at": starts.isoformat(), "invite_body_members": False}
    r = client.post("/api/meetings", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_meetings_come_a_page_at_a_time_newest_first(client: TestClient, world: World) -> None:
    admin, clerk = login(client, "admin"), login(client, "clerk")
    # a month ahead: clear of the test world's meeting, which starts a day from now (any time of day)
    base = datetime.combine(datetime.now(VN).date() + timedelta(days=30), time(8, 0), tzinfo=VN)
    made = [_schedule(client, world, admin, f"Họp số {i}", base + timedelta(days=i)) for i in range(5)]

    everything = client.get("/api/meetings", headers=clerk)  # a caller that knows nothing of pages gets them all (under the default)
    assert everything.headers["x-total-count"] == "6" and "link" not in everything.headers and len(everything.json()) == 6

    pages, totals = _all_pages(client, "/api/meetings?limit=2", clerk)
    assert [len(p) for p in pages] == [2, 2, 2] and totals == {6}
    ids = [m["id"] for p in pages for m in p]
    assert ids == [m["id"] for m in everything.json()] and set(made) < set(ids)
    starts = [m["starts_at"] for m in everything.json()]
    assert starts == sorted(starts, reverse=True)

    # filters travel with the next page's link
    day = [(base + timedelta(days=i)).date().isoformat() for i in range(7)]
    pages, totals = _all_pages(client, f"/api/meetings?limit=1&date_from={day[1]}&date_to={day[3]}", clerk)
    assert [m["title"] for p in pages for m in p] == ["Họp số 3", "Họp số 2", "Họp số 1"] and totals == {3}
    # a day is the server's day: 00:30 on the 6th in Hà Nội is still the 5th in UTC
    late = _schedule(client, world, admin, "Họp đêm", datetime.combine(base.date() + timedelta(days=5), time(0, 30), tzinfo=VN))
    assert [m["id"] for m in client.get(f"/api/meetings?date_from={day[5]}&date_to={day[5]}", headers=clerk).json()] == [late]


def test_several_states_in_one_list(client: TestClient, world: World) -> None:
    admin, chair = login(client, "admin"), login(client, "chair")
    later = datetime.combine(datetime.now(VN).date() + timedelta(days=20), time(8, 0), tzinfo=VN)
    cancelled = _schedule(client, world, admin, "Họp bị hủy", later)
    client.post(f"/api/meetings/{cancelled}/transitions", json={"to": "cancelled"}, headers=admin)
    for to in ("open", "in_session", "closed"):
        assert client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": to}, headers=chair).status_code == 200
    r = client.get("/api/meetings?state=closed&state=cancelled&state=archived", headers=login(client, "clerk"))
    assert {m["id"]: m["state"] for m in r.json()} == {cancelled: "cancelled", world.meeting_id: "closed"}
    assert r.headers["x-total-count"] == "2"
    pages, _ = _all_pages(client, "/api/meetings?state=closed&state=cancelled&limit=1", admin)  # every state on every page
    assert sorted(m["id"] for p in pages for m in p) == sorted([cancelled, world.meeting_id])
    assert [m["id"] for m in client.get("/api/meetings?state=cancelled", headers=admin).json()] == [cancelled]


def test_members_come_a_page_at_a_time_by_name(client: TestClient, world: World) -> None:
    admin = login(client, "admin")
    pages, totals = _all_pages(client, "/api/members?limit=3", admin)
    names = [m["full_name"] for p in pages for m in p]
    assert totals == {len(world.ids)} and len(names) == len(world.ids) and names == sorted(names)
    assert [len(p) for p in pages] == [3, 3, 2]
    r = client.get(f"/api/members?body_id={world.body_id}&limit=1&offset=1", headers=admin)
    assert r.headers["x-total-count"] == "4" and len(r.json()) == 1 and _next(r) == f"/api/members?body_id={world.body_id}&offset=2&limit=1"


def test_page_bounds_are_checked_and_documented(client: TestClient, world: World) -> None:
    admin = login(client, "admin")
    for query in ("limit=0", "limit=501", "offset=-1", "limit=x"):
        assert client.get(f"/api/meetings?{query}", headers=admin).status_code == 422, query
    past = client.get("/api/meetings?offset=50", headers=admin)
    assert past.json() == [] and past.headers["x-total-count"] == "1" and "link" not in past.headers
    spec = client.get("/openapi.json").json()
    for path in ("/api/meetings", "/api/members"):
        answer = spec["paths"][path]["get"]["responses"]["200"]
        assert {"X-Total-Count", "Link"} <= set(answer["headers"]), path
        assert {"limit", "offset"} <= {p["name"] for p in spec["paths"][path]["get"]["parameters"]}
