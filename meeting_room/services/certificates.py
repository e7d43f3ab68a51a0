"""Signing certificates: the administrator registers a member's PKCS#12 (.p12/.pfx) file."""

from __future__ import annotations

from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, require_roles
from meeting_room.db import tables as t
from meeting_room.errors import UploadTooLargeError
from meeting_room.files.minutes_files import MinutesFiles
from meeting_room.services.lookup import fetch
from meeting_room.store import Store
from transcripts.signing import CertificateInfo, certificate_info, token_certificate_info, x509_certificate


def register(store: Store, actor: Actor, member_id: str, data: bytes, passphrase: str, files: MinutesFiles) -> CertificateInfo:
    """Check the file opens with the member's passphrase and is valid now, keep it, and record it. A bare
    certificate (PEM/DER, no key) registers a signer whose key is on a USB token (``meeting-room sign``)."""
    require_roles(actor, action_vi="đăng ký chứng thư số", action_en="register signing certificates")
    if len(data) > files.max_certificate_bytes:
        raise UploadTooLargeError(
            f"Tệp chứng thư số quá lớn; giới hạn {files.max_certificate_bytes // 1024} KB",
            f"The certificate file is too large; the limit is {files.max_certificate_bytes // 1024} KB",
            size=len(data),
            limit=files.max_certificate_bytes,
        )
    with store.read() as session:
        fetch(session, t.Member, member_id)
    token_cert = x509_certificate(data)
    if token_cert is not None:  # the key stays on the signer's USB token: they sign with `meeting-room sign`
        info = token_certificate_info(token_cert, now=store.now())
        files.put_token_certificate(member_id, info.fingerprint_sha256, data)
    else:
        info = certificate_info(data, passphrase, now=store.now())  # the passphrase is only used here, never kept
        files.put_certificate(member_id, info.fingerprint_sha256, data)

    def decide(session: Session) -> ev.EventPayload:
        fetch(session, t.Member, member_id)
        return ev.CertificateRegistered(
            member_id=member_id,
            fingerprint_sha256=info.fingerprint_sha256,
            common_name=info.common_name,
            issuer=info.issuer,
            not_before=info.not_before,
            not_after=info.not_after,
        )

    store.append(decide, actor_id=actor.member_id)
    return info
