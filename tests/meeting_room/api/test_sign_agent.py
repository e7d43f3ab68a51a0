"""`meeting-room sign` on the signer's computer: a PKCS#11 token (SoftHSM2, holding a key and certificate
from the suite's test CA) signs the minutes fetched over HTTPS from a running server, and the server
checks the upload before it keeps it. A tampered upload, or one signed with another certificate, is
refused with the reason and nothing is kept."""

from __future__ import annotations

import base64
import ipaddress
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from meeting_room.api.app import create_app
from meeting_room.settings import Settings
from tests.conftest import PASSWORD, World, login, snapshot
from tests.meeting_room.api.held_meeting import hold_meeting, register_certificate
from tests.pki import member_cert, root_ca
from tests.signature_pictures import signature_png
from transcripts.fonts import find_fonts, stamp_font
from transcripts.signing import SignRequest, sign_pdf

SOFTHSM = Path("/usr/lib/softhsm/libsofthsm2.so")
USER_PIN, SO_PIN, TOKEN, KEY = "246810", "13579111", "the-ky-so", "thu-ky"
pytestmark = pytest.mark.skipif(
    not SOFTHSM.is_file() or shutil.which("softhsm2-util") is None, reason="SoftHSM2 (Debian softhsm2) is not installed"
)


@dataclass(frozen=True)
class HttpsServer:
    base: str
    ca: Path


def _tls_files(directory: Path) -> tuple[Path, Path]:
    """A server certificate for 127.0.0.1 issued by the test CA (the signer's computer trusts that CA)."""
    ca = root_ca()
    key = member_cert("127.0.0.1").key
    now = datetime.now(UTC) - timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def https_server(msettings: Settings, mworld: World, tmp_path: Path) -> Iterator[HttpsServer]:
    """The app over the test world, served over HTTPS by uvicorn on loopback in a thread."""
    cert, key = _tls_files(tmp_path)
    config = uvicorn.Config(
        create_app(msettings, mworld.store), host="127.0.0.1", port=0, log_level="warning", ssl_certfile=str(cert), ssl_keyfile=str(key)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the HTTPS test server did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    ca = tmp_path / "ca.crt"
    ca.write_bytes(root_ca().pem)
    yield HttpsServer(f"https://127.0.0.1:{port}", ca)
    server.should_exit = True
    thread.join(timeout=20)


@pytest.fixture
def token(tmp_path: Path) -> dict[str, str]:
    """A SoftHSM2 token in a temporary folder holding the secretary's key and certificate; the environment that finds it."""
    folder = tmp_path / "softhsm"
    (folder / "tokens").mkdir(parents=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    issued = member_cert("Người secretary")
    key_pem = folder / "key.pem"
    pkcs8 = serialization.PrivateFormat.PKCS8
    key_pem.write_bytes(issued.key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption()))
    util = ["softhsm2-util"]
    subprocess.run([*util, "--init-token", "--free", "--label", TOKEN, "--so-pin", SO_PIN, "--pin", USER_PIN], env=env, check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run([*util, "--import", str(key_pem), "--token", TOKEN, "--label", KEY, "--id", "01", "--pin", USER_PIN], env=env,
                   check=True, capture_output=True)  # fmt: skip
    key_pem.unlink()  # from here on the key lives only on the token
    # the certificate goes onto the token beside its key, as a certificate authority's token ships it
    script = (
        "import sys, pkcs11\n"
        "from pkcs11 import Attribute\n"
        "from pkcs11.util.x509 import decode_x509_certificate\n"
        f"lib = pkcs11.lib({str(SOFTHSM)!r})\n"
        f"with lib.get_token(token_label={TOKEN!r}).open(rw=True, user_pin={USER_PIN!r}) as s:\n"
        "    cert = decode_x509_certificate(sys.stdin.buffer.read())\n"
        f"    cert.update({{Attribute.TOKEN: True, Attribute.LABEL: {KEY!r}, Attribute.ID: b'\\x01'}})\n"
        "    s.create_object(cert)\n"
    )
    der = issued.cert.public_bytes(serialization.Encoding.DER)
    subprocess.run([sys.executable, "-c", script], input=der, env=env, check=True, capture_output=True)
    return env


def _agent(server: HttpsServer, env: dict[str, str], meeting_id: str, user: str, pin: str = USER_PIN) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "meeting_room", "sign", meeting_id, "--server", server.base, "--username", user,
        "--pkcs11-module", str(SOFTHSM), "--token-label", TOKEN, "--key-label", KEY, "--ca", str(server.ca),
    ]  # fmt: skip
    agent_env = {**env, "MEETING_ROOM_PASSWORD": PASSWORD, "MEETING_ROOM_TOKEN_PIN": pin, "XDG_CACHE_HOME": env["SOFTHSM2_CONF"] + ".cache"}
    return subprocess.run(command, env=agent_env, capture_output=True, text=True, timeout=300)


def test_the_secretary_signs_with_her_token_over_https_and_the_server_keeps_it(
    mclient: TestClient, mworld: World, https_server: HttpsServer, token: dict[str, str]
) -> None:
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    hold_meeting(client, world)
    admin, sec = login(client, "admin"), login(client, "secretary")
    pem = member_cert("Người secretary").pem  # the certificate alone, as exported from her token: its key never leaves it
    r = client.post(f"/api/members/{world.ids['secretary']}/certificate", files={"file": ("thu-ky.crt", pem, "application/x-pem-file")},
                    headers=admin)  # fmt: skip
    assert r.status_code == 201 and r.json()["common_name"] == "Người secretary", r.text
    assert client.get(f"{url}/minutes", headers=sec).json()["signing_key"] == "token"  # the page says so before any passphrase
    before = snapshot(world.store)
    r = client.post(f"{url}/minutes/sign", json={"passphrase": "x"}, headers=sec)  # no key on the server to sign with
    assert r.status_code == 409 and "meeting-room sign" in r.json()["error"]["message"]
    assert snapshot(world.store) == before
    assert client.put(f"/api/members/{world.ids['secretary']}/signature-image", files={"file": ("s.png", signature_png(), "image/png")},
                      headers=sec).status_code == 200  # fmt: skip

    wrong = _agent(https_server, token, world.meeting_id, "secretary", pin="000000")
    assert wrong.returncode == 2 and "Mã PIN của thiết bị ký số (token) không đúng" in wrong.stderr, wrong.stderr + wrong.stdout
    assert client.get(f"{url}/minutes", headers=sec).json()["signatures"] == []
    done = _agent(https_server, token, world.meeting_id, "secretary")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "Đã ký biên bản (phiên bản 1) với vai trò Thư ký" in done.stdout and "Signed the minutes" in done.stdout

    (report,) = client.get(f"{url}/minutes/verify", headers=sec).json()
    assert report["field"] == "ChuKy_ThuKy" and report["signer"] == "Người secretary" and report["ok"], report
    minutes = client.get(f"{url}/minutes", headers=sec).json()
    assert [s["role"] for s in minutes["signatures"]] == ["secretary"] and not minutes["can_sign"]
    again = _agent(https_server, token, world.meeting_id, "secretary")  # the secretary has signed: nothing left to sign
    assert again.returncode == 2 and "đã ký" in again.stderr, again.stderr


def _chair_job(client: TestClient, world: World) -> tuple[dict[str, object], bytes, SignRequest]:
    r = client.post(f"/api/meetings/{world.meeting_id}/minutes/to-sign", headers=login(client, "chair"))
    assert r.status_code == 200, r.text
    job = r.json()
    box = job["box"]
    request = SignRequest(job["role"], job["signer_name"], job["signer_title"], job["page"], (box[0], box[1], box[2], box[3]))
    return job, base64.b64decode(job["pdf_base64"]), request


def _upload(client: TestClient, world: World, source_sha: object, pdf: bytes) -> dict[str, object]:
    r = client.post(f"/api/meetings/{world.meeting_id}/minutes/signed", data={"source_sha256": str(source_sha)},
                    files={"file": ("bb.pdf", pdf, "application/pdf")}, headers=login(client, "chair"))  # fmt: skip
    return {"status": r.status_code, **r.json()}


def test_a_tampered_upload_or_another_certificate_is_refused_and_nothing_is_kept(
    mclient: TestClient, mworld: World, msettings: Settings, tmp_path: Path
) -> None:
    client, world = mclient, mworld
    hold_meeting(client, world)
    admin = login(client, "admin")
    for who, passphrase in (("secretary", "thu-ky"), ("chair", "chu-toa")):
        assert register_certificate(client, world, who, passphrase, admin).status_code == 201
    r = client.post(f"/api/meetings/{world.meeting_id}/minutes/sign", json={"passphrase": "thu-ky"}, headers=login(client, "secretary"))
    assert r.status_code == 200, r.text
    job, source, request = _chair_job(client, world)
    font = stamp_font(find_fonts(), tmp_path)
    before = snapshot(world.store), sorted(msettings.minutes_dir.rglob("*.pdf"))

    tampered = bytearray(source)
    at = tampered.index(b"stream", len(source) // 3) + 20  # inside a page of the minutes: the text the secretary signed
    tampered[at] ^= 0x01
    signed = sign_pdf(bytes(tampered), member_cert("Người chair").pkcs12("x", (root_ca().cert,)), "x", request, font)
    out = _upload(client, world, job["source_sha256"], signed)
    assert out["status"] == 422 and out["error"]["code"] == "signature_refused", out  # type: ignore[index]
    assert "nội dung đã khác" in out["error"]["message"]  # type: ignore[index]

    someone_else = sign_pdf(source, member_cert("Người member1").pkcs12("x", (root_ca().cert,)), "x", request, font)
    out = _upload(client, world, job["source_sha256"], someone_else)
    assert out["status"] == 422 and "không phải chứng thư số đã đăng ký cho bạn" in out["error"]["message"], out  # type: ignore[index]

    out = _upload(client, world, "0" * 64, sign_pdf(source, member_cert("Người chair").pkcs12("x"), "x", request, font))
    assert out["status"] == 409 and "không phải bản biên bản hiện hành" in out["error"]["message"], out  # type: ignore[index]
    for name, pdf in (("bb.pdf", source), ("bb.txt", b"")):  # someone who is not a signer: refused before the file is looked at
        r = client.post(f"/api/meetings/{world.meeting_id}/minutes/signed", data={"source_sha256": job["source_sha256"]},
                        files={"file": (name, pdf, "text/plain")}, headers=login(client, "member1"))  # fmt: skip
        assert r.status_code == 403 and "Chỉ thư ký và chủ tọa" in r.json()["error"]["message"], r.text
    r = client.post(f"/api/meetings/{world.meeting_id}/minutes/signed", content=b"x" * 1000, headers=login(client, "member1"))
    assert r.status_code == 403, r.text  # not even told what shape the upload should have
    assert (snapshot(world.store), sorted(msettings.minutes_dir.rglob("*.pdf"))) == before  # nothing kept, nothing logged

    good = sign_pdf(source, member_cert("Người chair").pkcs12("x", (root_ca().cert,)), "x", request, font)
    out = _upload(client, world, job["source_sha256"], good)
    assert out["status"] == 200 and out["role"] == "chair" and out["sealed"], out


def test_the_agent_never_sends_the_password_or_the_minutes_in_clear(tmp_path: Path) -> None:
    from meeting_room.errors import InvalidInputError
    from meeting_room.sign_agent import Token, sign_minutes

    token = Token(module=Path("/nonexistent.so"), token_label="t", key_label="k", pin="1234")
    with pytest.raises(InvalidInputError, match="https://"):
        sign_minutes("http://hop.sonha.gov.vn", "thu.ky", PASSWORD, "m1", token, cache_dir=tmp_path)
