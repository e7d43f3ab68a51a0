"""Teller keys through the API: a member makes one, sees its fingerprint, and replaces it only with its passphrase."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, World, login

FIRST, SECOND = "đèn xanh bên hồ Gươm lúc nửa đêm", "mưa phùn tháng ba trên đồi chè Tân Cương"


def test_a_member_makes_a_teller_key_and_replaces_it_only_with_its_passphrase(client: TestClient, world: World) -> None:
    m1 = login(client, "member1")
    assert client.get("/api/tellers/me", headers=m1).json() == {"has_key": False, "fingerprint": None, "created_at": None}
    for weak in ("ngắn", PASSWORD):  # too short; the login password
        r = client.put("/api/tellers/me", json={"passphrase": weak}, headers=m1)
        assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "passphrase", r.text
    made = client.put("/api/tellers/me", json={"passphrase": FIRST}, headers=m1).json()
    assert made["has_key"] and len(made["fingerprint"]) == 16 and made["created_at"]
    assert client.get("/api/tellers/me", headers=m1).json() == made

    r = client.put("/api/tellers/me", json={"passphrase": SECOND}, headers=m1)
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "current_passphrase"
    assert client.put("/api/tellers/me", json={"passphrase": SECOND, "current_passphrase": "sai mật khẩu"}, headers=m1).status_code == 422
    assert client.get("/api/tellers/me", headers=m1).json() == made  # refused: the key stays
    replaced = client.put("/api/tellers/me", json={"passphrase": SECOND, "current_passphrase": FIRST}, headers=m1).json()
    assert replaced["has_key"] and replaced["fingerprint"] != made["fingerprint"]
    assert client.get("/api/tellers/me", headers=login(client, "chair")).json()["has_key"]  # the world's tellers have theirs
