"""Certificates the administrator looks after: members' signing certificates (PKCS#12, registered
through ``/api/members/{id}/certificate``) and the server's HTTPS certificate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from meeting_room.access import require_roles
from meeting_room.api.deps import ActorDep, StoreDep, runtime_of
from meeting_room.api.routes.files import minutes_files
from meeting_room.api.uploads import file_and_fields, file_schema
from meeting_room.db import tables as t
from meeting_room.operations import tls
from meeting_room.services import certificates

router = APIRouter(tags=["members"])
EXPIRING = timedelta(days=30)  # a signer needs time to renew with their certificate authority


class SignerCertificateOut(BaseModel):
    member_id: str
    full_name: str
    common_name: str
    issuer: str
    fingerprint_sha256: str
    not_before: datetime
    not_after: datetime
    registered_at: datetime
    state: str  # valid | expiring (within 30 days) | expired | not_yet_valid


class TlsOut(BaseModel):
    https: bool
    source: str  # local_ca | configured | off
    fingerprint_sha256: str | None
    names: list[str]
    not_after: datetime | None
    ca_url: str | None


def _state(row: t.SignerCertificate, now: datetime) -> str:
    if row.not_before > now:
        return "not_yet_valid"
    if row.not_after <= now:
        return "expired"
    return "expiring" if row.not_after - now <= EXPIRING else "valid"


@router.get("/api/certificates")
def signer_certificates(store: StoreDep, actor: ActorDep) -> list[SignerCertificateOut]:
    """Every registered signing certificate, soonest expiry first (administrator)."""
    require_roles(actor, action_vi="xem chứng thư số", action_en="see signing certificates")
    now = datetime.now(UTC)
    with store.read() as session:
        rows = session.execute(
            select(t.SignerCertificate, t.Member.full_name)
            .join(t.Member, t.Member.id == t.SignerCertificate.member_id)
            .order_by(t.SignerCertificate.not_after)
        ).all()
        return [
            SignerCertificateOut(
                member_id=c.member_id,
                full_name=name,
                common_name=c.common_name,
                issuer=c.issuer,
                fingerprint_sha256=c.fingerprint_sha256,
                not_before=c.not_before,
                not_after=c.not_after,
                registered_at=c.registered_at,
                state=_state(c, now),
            )  # fmt: skip
            for c, name in rows
        ]


@router.get("/api/tls")
def https_certificate(actor: ActorDep, request: Request) -> TlsOut:
    """The server's HTTPS: where its certificate comes from, what it covers, what to compare (administrator)."""
    require_roles(actor, action_vi="xem chứng thư HTTPS", action_en="see the HTTPS certificate")
    s = tls.status(runtime_of(request).settings)
    return TlsOut(
        https=s.https, source=s.source, fingerprint_sha256=s.fingerprint, names=list(s.names), not_after=s.not_after,
        ca_url="/tls/ca.crt" if s.ca_download else None,
    )  # fmt: skip


class CertificateOut(BaseModel):
    member_id: str
    common_name: str
    issuer: str
    fingerprint_sha256: str
    not_before: datetime
    not_after: datetime


@router.post(
    "/api/members/{member_id}/certificate",
    status_code=201,
    tags=["minutes"],
    openapi_extra=file_schema(
        "file",
        "PKCS#12 (.p12/.pfx) with the key and certificate, the passphrase in the 'passphrase' field; "
        "or the certificate alone (PEM/DER) when the key is on the signer's USB token",
    ),
)
async def register_certificate(member_id: str, request: Request, store: StoreDep, actor: ActorDep) -> CertificateOut:
    """Register a member's signing certificate (administrator); a passphrase is checked, never stored."""
    upload, fields = await file_and_fields(request, "file", "PKCS#12 (.p12/.pfx)")
    try:
        data = await upload.read(minutes_files(request).max_certificate_bytes + 1)
    finally:
        await upload.close()
    info = await run_in_threadpool(
        certificates.register, store, actor, member_id, data, fields.get("passphrase", ""), minutes_files(request)
    )
    return CertificateOut(
        member_id=member_id,
        common_name=info.common_name,
        issuer=info.issuer,
        fingerprint_sha256=info.fingerprint_sha256,
        not_before=info.not_before,
        not_after=info.not_after,
    )
