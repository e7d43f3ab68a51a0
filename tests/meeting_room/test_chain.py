from __future__ import annotations

from dataclasses import replace

from meeting_room.chain import GENESIS, ChainLink, canonical_json, link_hash, verify_links


def _chain(n: int) -> list[ChainLink]:
    links, prev = [], GENESIS
    for seq in range(1, n + 1):
        payload = canonical_json({"n": seq, "tên": "Hội đồng"})
        h = link_hash(seq, prev, "x.happened", "m1", "a1", f"2026-11-23T00:00:0{seq}+00:00", payload)
        links.append(ChainLink(seq, "x.happened", "m1", "a1", f"2026-11-23T00:00:0{seq}+00:00", payload, prev, h))
        prev = h
    return links


def test_canonical_json_is_order_independent_and_keeps_vietnamese() -> None:
    assert canonical_json({"b": 1, "a": "Độc lập"}) == canonical_json({"a": "Độc lập", "b": 1}) == '{"a":"Độc lập","b":1}'


def test_intact_chain() -> None:
    report = verify_links(_chain(5))
    assert report.ok and report.events == 5 and report.head == _chain(5)[-1].hash


def test_changed_payload_is_found_at_its_event() -> None:
    links = _chain(5)
    links[2] = replace(links[2], payload=links[2].payload.replace("Hội", "Hoi"))
    report = verify_links(links)
    assert (report.ok, report.broken_at, report.events) == (False, 3, 2)
    assert "content changed" in (report.problem or "")


def test_rehashed_event_breaks_the_next_link() -> None:
    links = _chain(5)
    forged = replace(links[1], actor_id="someone-else")
    forged = replace(
        forged, hash=link_hash(2, forged.prev_hash, forged.type, forged.meeting_id, forged.actor_id, forged.occurred_at, forged.payload)
    )
    links[1] = forged
    report = verify_links(links)
    assert report.broken_at == 3 and "prev_hash" in (report.problem or "")


def test_missing_event_is_a_gap() -> None:
    links = _chain(5)
    del links[3]
    report = verify_links(links)
    assert report.broken_at == 5 and "gap" in (report.problem or "")


def test_an_events_live_frame_is_what_send_json_would_write_once_per_kind_of_viewer() -> None:
    import json

    from meeting_room.chain import StoredEvent

    data = {"meeting_id": "m", "invitation_id": "i", "member_id": "a", "token_hash": "secret-hash", "note": "Đại biểu"}
    event = StoredEvent(7, "meeting.invitation_created", "m", "a", "2026-12-02T00:00:00+00:00", data, "h7", "h6")
    for overseer in (False, True):
        expected = {"kind": "event", "event": event.message(overseer)}
        assert event.frame(overseer) == json.dumps(expected, ensure_ascii=False, separators=(",", ":"))  # Starlette's form
        assert event.frame(overseer) is event.frame(overseer)  # made once, shared by every socket
    assert "secret-hash" not in event.frame(False) + event.frame(True)  # what a viewer must not see stays out
    assert event == StoredEvent(7, "meeting.invitation_created", "m", "a", "2026-12-02T00:00:00+00:00", data, "h7", "h6")
