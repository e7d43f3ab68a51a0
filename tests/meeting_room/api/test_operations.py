"""What operators read: /metrics (Prometheus text, administrators or allowed hosts only, no personal
data, routes by template) and /api/health's details; request ids on every answer."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from meeting_room.api.app import create_app
from meeting_room.operations import health as health_module
from meeting_room.operations.clock import clock_status
from meeting_room.roles import Role
from meeting_room.services import members
from meeting_room.settings import Settings
from meeting_room.store import Store
from tests.conftest import World, login, password_hash

LOCAL = ("127.0.0.1", 50000)  # a scrape from the machine itself


def _families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Samples by their own name (``…_total``, ``…_count``, ``…_bucket``)."""
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_metrics_are_for_administrators_and_allowed_hosts_only(app: FastAPI, world: World) -> None:
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 401
        refused = client.get("/metrics", headers=login(client, "chair"))
        assert refused.status_code == 403 and "metrics_allow" in refused.json()["error"]["message_en"]
        assert client.get("/metrics", headers=login(client, "admin")).status_code == 200
    with TestClient(app, client=LOCAL) as local:
        scrape = local.get("/metrics")
        assert scrape.status_code == 200 and scrape.headers["content-type"].startswith("text/plain")
    with TestClient(app, client=("10.1.2.3", 50000)) as other:
        assert other.get("/metrics").status_code == 401


def test_metrics_count_requests_by_route_and_say_nothing_personal(app: FastAPI, world: World) -> None:
    with TestClient(app) as client, TestClient(app, client=LOCAL) as local:
        chair = login(client, "chair")
        before = _families(local.get("/metrics").text)
        url = f"/api/meetings/{world.meeting_id}"
        for target in ("open", "in_session"):
            assert client.post(f"{url}/transitions", json={"to": target}, headers=chair).status_code == 200
        assert client.get(url, headers=chair).status_code == 200
        assert client.get(f"/api/meetings/{'0' * 8}-nope", headers=chair).status_code == 404
        text = local.get("/metrics").text
    after = _families(text)
    requests = {(s["method"], s["route"], s["status"]): v for s, v in after["meeting_room_http_requests_total"] if "route" in s}
    assert requests[("GET", "/api/meetings/{meeting_id}", "2xx")] >= 1
    assert requests[("POST", "/api/meetings/{meeting_id}/transitions", "2xx")] >= 2
    assert requests[("GET", "/api/meetings/{meeting_id}", "4xx")] >= 1
    assert all(world.meeting_id not in route for _, route, _ in requests)  # templates, not paths

    count = "meeting_room_event_append_seconds_count"
    assert after[count][0][1] >= before[count][0][1] + 2  # the two transitions, timed
    assert after["meeting_room_websocket_subscribers"][0][1] >= 0
    assert after["meeting_room_disk_free_bytes"][0][1] > 0
    assert "meeting_room_call_participants" in after and "meeting_room_transcription_jobs" in after
    # the process's counts (tests/webrtc: they grow where the loss happens)
    assert after["meeting_room_call_audio_dropped_frames_total"][0][1] >= 0
    assert after["meeting_room_call_mixer_skipped_frames_total"][0][1] >= 0
    # nothing that names a person or a meeting: no member's name or id, no title, no meeting id, no token
    for secret in ("Người chair", "Phiên họp thường kỳ", "Bearer", world.ids["chair"], world.meeting_id):
        assert secret not in text, secret
    assert before.keys() <= after.keys()


def test_health_details_for_administrators_warnings_for_users_and_little_for_anyone(app: FastAPI, world: World) -> None:
    clock = clock_status()
    with TestClient(app) as client:
        anyone = client.get("/api/health").json()
        user = client.get("/api/health", headers=login(client, "chair")).json()
        admin = client.get("/api/health", headers=login(client, "admin")).json()
    assert anyone["status"] == user["status"] == admin["status"] == "ok"
    # anyone (a load balancer): whether it stores, and what kind of thing is wrong; no path, size, host, version
    assert set(anyone) == {"status", "database", "disk", "warnings"} and set(anyone["disk"]) == {"writable", "low", "error"}
    assert set(anyone["database"]) == {"readable", "writable"} and all(set(w) == {"part"} for w in anyone["warnings"])
    assert "clock" not in user and "models" not in user and "path" not in user["disk"]
    assert admin["clock"]["synchronized"] == clock.synchronized and admin["clock"]["source"] in ("adjtimex", "timedatectl")
    assert {m["use"] for m in admin["models"]} == {"transcription", "live captions", "diarization"}
    assert admin["janus"] == {"state": "not_used"} and admin["workers"]["transcription_jobs"] == 0 and admin["disk"]["path"]
    clock_warnings = [w for w in user["warnings"] if w["part"] == "clock"]
    assert bool(clock_warnings) == (clock.synchronized is False)  # the chair console shows this one
    if clock_warnings:
        assert "NTP" in clock_warnings[0]["message"] and "not synchronised" in clock_warnings[0]["message_en"]


def test_an_administrator_with_a_temporary_password_reads_no_details_until_it_is_changed(app: FastAPI, world: World) -> None:
    # a temporary password opens nothing but the change of it (whoever learnt it on its way to them)
    admin = world.actor("admin")
    second = members.create_member(
        world.store, admin, full_name="Quản trị viên hai", roles=[Role.ADMIN], username="admin2", password_hash=password_hash()
    )
    temporary = members.reset_password(world.store, admin, second)
    with TestClient(app) as client:
        session = login(client, "admin2", temporary)
        assert client.get("/metrics", headers=session).status_code == 403
        health = client.get("/api/health", headers=session).json()
        assert set(health) == {"status", "database", "disk", "warnings"} and all(set(w) == {"part"} for w in health["warnings"])
        change = {"current_password": temporary, "new_password": "ba-con-meo-leo-cay-cau"}
        changed = client.post(f"/api/members/{second}/password", json=change, headers=session)
        assert changed.status_code == 204, changed.text
        assert client.get("/metrics", headers=login(client, "admin2", "ba-con-meo-leo-cay-cau")).status_code == 200


def test_a_flood_of_health_requests_probes_the_disk_once_a_second(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    probes: list[int] = []
    real = health_module.disk_health

    def counted(data_dir: Path) -> health_module.DiskHealth:
        probes.append(1)
        return real(data_dir)

    monkeypatch.setattr(health_module, "disk_health", counted)
    with TestClient(app) as client:
        started = time.monotonic()
        for _ in range(30):
            assert client.get("/api/health").status_code == 200
        elapsed = time.monotonic() - started
    assert 1 <= len(probes) <= elapsed / health_module.PROBE_EVERY_S + 2, (len(probes), elapsed)


def test_behind_a_proxy_an_address_proves_nothing_unless_the_proxy_is_named(tmp_path: Path, store: Store, world: World) -> None:
    plain = Settings(data_dir=tmp_path / "var", https=False)
    with TestClient(create_app(plain, store), client=LOCAL) as via_proxy:  # every client looks like the proxy
        assert via_proxy.get("/metrics").status_code == 401
        assert "clock" not in via_proxy.get("/api/health").json()
    named = Settings(data_dir=tmp_path / "var", https=False, trusted_proxies=["127.0.0.1/32"])
    with TestClient(create_app(named, store), client=LOCAL) as local:  # X-Forwarded-For now names the client
        assert local.get("/metrics").status_code == 200


def test_made_up_methods_share_one_label(app: FastAPI) -> None:
    with TestClient(app) as client, TestClient(app, client=LOCAL) as local:
        for i in range(20):
            client.request(f"X{i}", "/api/health")
        text = local.get("/metrics").text
    assert 'method="other"' in text and 'method="X1"' not in text


def test_every_answer_carries_a_request_id(app: FastAPI) -> None:
    with TestClient(app) as client:
        fresh = client.get("/api/health").headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{16}", fresh)
        assert client.get("/api/health", headers={"X-Request-ID": "lb-42.a_b"}).headers["x-request-id"] == "lb-42.a_b"
        forged = client.get("/api/health", headers={"X-Request-ID": 'x" injected=1 ' + "a" * 80}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{16}", forged)  # not a plain token: replaced, never written to a log as given
        assert client.get("/api/nowhere").headers["x-request-id"] != fresh
