"""The administrator's view of certificates: members' signing certificates with their expiry, and
the server's HTTPS certificate (local CA, an organisation's own, or off)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from fastapi.testclient import TestClient

from meeting_room.api.app import create_app
from meeting_room.operations.tls import ensure_tls
from meeting_room.server import open_store
from meeting_room.settings import Settings
from tests.conftest import World, _settings, login, make_world
from tests.pki import _build, member_cert, root_ca


def _client(settings: Settings) -> Iterator[tuple[TestClient, World]]:
    store = open_store(settings)
    world = make_world(store)
    with TestClient(create_app(settings, store)) as c:
        yield c, world
    store.engine.dispose()


@pytest.fixture
def trusting(tmp_path: Path) -> Iterator[tuple[TestClient, World]]:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(root_ca().pem)
    yield from _client(_settings(tmp_path, trust_roots=[ca]))


def _register(client: TestClient, world: World, who: str, p12: bytes, admin: dict[str, str]) -> None:
    files = {"file": (f"{who}.p12", p12, "application/x-pkcs12")}
    r = client.post(f"/api/members/{world.ids[who]}/certificate", files=files, data={"passphrase": "mk"}, headers=admin)
    assert r.status_code == 201, r.text


def test_signing_certificates_soonest_expiry_first(trusting: tuple[TestClient, World]) -> None:
    client, world = trusting
    admin = login(client, "admin")
    assert client.get("/api/certificates", headers=admin).json() == []
    _register(client, world, "secretary", member_cert("Người secretary").pkcs12("mk", (root_ca().cert,)), admin)
    ten_days = _build("Người chair (10 ngày)", root_ca(), days=10)  # issued yesterday: 9 days left
    _register(client, world, "chair", ten_days.pkcs12("mk", (root_ca().cert,)), admin)
    rows = client.get("/api/certificates", headers=admin).json()
    assert [(r["full_name"], r["common_name"], r["state"]) for r in rows] == [
        ("Người chair", "Người chair (10 ngày)", "expiring"),
        ("Người secretary", "Người secretary", "valid"),
    ]
    assert all(len(r["fingerprint_sha256"]) == 64 for r in rows)
    r = client.get("/api/certificates", headers=login(client, "chair"))
    assert r.status_code == 403 and r.json()["error"]["message"], r.text


def test_https_status_local_ca(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    for client, _world in _client(settings):
        admin = login(client, "admin")
        before = client.get("/api/tls", headers=admin).json()
        assert (before["https"], before["source"], before["fingerprint_sha256"], before["ca_url"]) == (True, "local_ca", None, None)
        files = ensure_tls(settings)  # what `serve` does at start
        now = client.get("/api/tls", headers=admin).json()
        assert now["fingerprint_sha256"] == files.fingerprint and now["ca_url"] == "/tls/ca.crt"
        assert "127.0.0.1" in now["names"] and "localhost" in now["names"]
        assert files.ca is not None  # the local CA, not a configured certificate
        assert client.get(now["ca_url"]).content == files.ca.read_bytes()
        assert client.get("/api/tls", headers=login(client, "member1")).status_code == 403


def test_https_status_configured_and_off(tmp_path: Path) -> None:
    issued = _build("meeting.example.vn", root_ca(), days=90)
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    cert.write_bytes(issued.pem)
    key.write_bytes(issued.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    for client, _world in _client(_settings(tmp_path / "a", tls_cert=cert, tls_key=key)):
        t = client.get("/api/tls", headers=login(client, "admin")).json()
        assert (t["source"], t["ca_url"]) == ("configured", None) and t["fingerprint_sha256"].count(":") == 31
        assert client.get("/tls/ca.crt").status_code == 404
    for client, _world in _client(_settings(tmp_path / "b", https=False)):
        t = client.get("/api/tls", headers=login(client, "admin")).json()
        assert (t["https"], t["source"], t["fingerprint_sha256"]) == (False, "off", None)
