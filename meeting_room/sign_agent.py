"""``meeting-room sign``: sign the minutes on the signer's own computer, with their PKCS#11 USB token.

The private key never leaves the token, and never reaches the server: the agent logs in over HTTPS
with the signer's own account, asks for the minutes whose signature waits for them (the server
records which file it handed out), signs locally through pyHanko with the same appearance the server
draws (``transcripts.signing``), and uploads the result, which the server checks before it keeps
anything (``services.minutes.accept_signed``).
"""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from meeting_room.errors import AuthenticationError, ConflictError, InvalidInputError, MeetingRoomError
from transcripts.fonts import find_fonts, stamp_font
from transcripts.signing import SignRequest, pkcs11_signer, sign_pdf_with


@dataclass(frozen=True)
class Token:
    """Which PKCS#11 token and key sign: the vendor's module (.so/.dll), the token's label, the key's label."""

    module: Path
    pin: str
    token_label: str | None = None
    key_label: str | None = None


@dataclass(frozen=True)
class Signed:
    role: str
    version: int
    pdf_sha256: str
    sealed: bool
    seal_problem: tuple[str, str] | None = None  # (vi, en): signed, but the seal after the chair's signature did not complete


def _error(response: httpx.Response) -> MeetingRoomError:
    try:
        error = response.json()["error"]
        vi, en = error["message"], error["message_en"]
    except (ValueError, KeyError, TypeError):
        vi = en = f"HTTP {response.status_code}: {response.text[:200]}"
    kind = AuthenticationError if response.status_code == 401 else ConflictError
    return kind(f"Máy chủ từ chối: {vi}", f"The server refused: {en}", status=response.status_code)


def sign_minutes(
    server: str,
    username: str,
    password: str,
    meeting_id: str,
    token: Token,
    *,
    ca_file: Path | None = None,
    fonts_dir: Path | None = None,
    cache_dir: Path,
) -> Signed:
    """Log in, fetch the minutes to sign, sign them with the token, upload; returns what the server recorded."""
    if not server.lower().startswith("https://"):  # the password and the minutes never cross the network in clear
        raise InvalidInputError(
            f"Địa chỉ máy chủ phải bắt đầu bằng https:// (nhận được: {server})",
            f"The server's address must start with https:// (got: {server})",
            field="server",
        )
    verify: str | bool = str(ca_file) if ca_file else True
    with httpx.Client(base_url=server.rstrip("/"), verify=verify, timeout=120) as client:
        r = client.post("/api/auth/login", json={"username": username, "password": password})
        if r.status_code != 200:
            raise _error(r)
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        try:
            r = client.post(f"/api/meetings/{meeting_id}/minutes/to-sign", headers=headers)
            if r.status_code != 200:
                raise _error(r)
            job = r.json()
            request = SignRequest(
                job["role"],
                job["signer_name"],
                job["signer_title"],
                job["page"],
                (job["box"][0], job["box"][1], job["box"][2], job["box"][3]),
                None,
                _bytes(job["signature_png_base64"]),
                _bytes(job["seal_png_base64"]),
            )
            font = stamp_font(find_fonts([fonts_dir] if fonts_dir else []), cache_dir)
            pdf = base64.b64decode(job["pdf_base64"])
            # The token's library may leave errors in OpenSSL's queue (SoftHSM2 does), which Python's ssl would
            # then raise on this connection; that queue is per thread, so the token is used in a thread of its own.
            with ThreadPoolExecutor(1, thread_name_prefix="token") as pool:
                signed = pool.submit(_sign_on_token, pdf, token, request, font, job["tsa_url"]).result()
            r = client.post(
                f"/api/meetings/{meeting_id}/minutes/signed",
                headers=headers,
                data={"source_sha256": job["source_sha256"]},
                files={"file": (f"bien-ban-{meeting_id}.pdf", signed, "application/pdf")},
            )
            if r.status_code != 200:
                raise _error(r)
            out = r.json()
            problem = (out["seal_problem"], out.get("seal_problem_en") or "") if out.get("seal_problem") else None
            return Signed(out["role"], out["version"], out["pdf_sha256"], out["sealed"], problem)
        finally:
            client.post("/api/auth/logout", headers=headers)


def _sign_on_token(pdf: bytes, token: Token, request: SignRequest, font: Path, tsa_url: str | None) -> bytes:
    with pkcs11_signer(token.module, token.pin, token_label=token.token_label, key_label=token.key_label) as signer:
        return sign_pdf_with(pdf, signer, request, font, tsa_url=tsa_url)


def _bytes(text: str | None) -> bytes | None:
    return base64.b64decode(text) if text else None
