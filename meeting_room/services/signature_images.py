"""Signature images of members and seal images of bodies: checked, kept by hash, recorded in the log.

An upload is checked and re-encoded (``transcripts.signature_images``) before anything is written:
a refused file leaves no trace. The minutes' signatures put the signer's image, and on the chair's
signature (the body's) the body's seal, into the appearance (``services.minutes``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, require_signature_image_owner
from meeting_room.db import tables as t
from meeting_room.errors import NotFoundError
from meeting_room.files.minutes_files import MinutesFiles
from meeting_room.services.lookup import fetch
from meeting_room.store import Store
from transcripts.signature_images import ImageKind, check_image


@dataclass(frozen=True)
class ImageInfo:
    kind: str
    owner_id: str
    sha256: str
    width: int
    height: int


def _owner(session: Session, kind: ImageKind, owner_id: str) -> None:
    if kind is ImageKind.SIGNATURE:
        fetch(session, t.Member, owner_id)
    else:
        fetch(session, t.Body, owner_id)


def put(store: Store, actor: Actor, kind: ImageKind, owner_id: str, data: bytes, files: MinutesFiles) -> ImageInfo:
    """Check the PNG (refusals name what is wrong and keep nothing), keep its clean copy, record it."""
    require_signature_image_owner(actor, kind, owner_id, action_vi=f"đặt {kind.vi.lower()}", action_en=f"set {kind.en.lower()}")
    with store.read() as session:
        _owner(session, kind, owner_id)
    image = check_image(data, kind)
    sha = files.images.put(image.png)

    def decide(session: Session) -> ev.EventPayload:
        _owner(session, kind, owner_id)
        return ev.SignatureImageSet(kind=kind.value, owner_id=owner_id, sha256=sha, width=image.width, height=image.height)

    store.append(decide, actor_id=actor.member_id)
    return ImageInfo(kind.value, owner_id, sha, image.width, image.height)


def remove(store: Store, actor: Actor, kind: ImageKind, owner_id: str) -> None:
    require_signature_image_owner(actor, kind, owner_id, action_vi=f"xóa {kind.vi.lower()}", action_en=f"remove {kind.en.lower()}")

    def decide(session: Session) -> ev.EventPayload:
        _found(session, kind, owner_id)
        return ev.SignatureImageRemoved(kind=kind.value, owner_id=owner_id)

    store.append(decide, actor_id=actor.member_id)


def _found(session: Session, kind: ImageKind, owner_id: str) -> t.SignatureImage:
    row = session.get(t.SignatureImage, (kind.value, owner_id))
    if row is None:
        raise NotFoundError(f"Chưa có {kind.vi.lower()}", f"No {kind.en.removeprefix('The ')} has been set", kind=kind.value, id=owner_id)
    return row


def describe(store: Store, actor: Actor, kind: ImageKind, owner_id: str) -> ImageInfo:
    require_signature_image_owner(actor, kind, owner_id, action_vi=f"xem {kind.vi.lower()}", action_en=f"see {kind.en.lower()}")
    with store.read() as session:
        row = _found(session, kind, owner_id)
        return ImageInfo(row.kind, row.owner_id, row.sha256, row.width, row.height)


def find(store: Store, actor: Actor, kind: ImageKind, owner_id: str) -> ImageInfo | None:
    """``describe``, or None when no image was set."""
    require_signature_image_owner(actor, kind, owner_id, action_vi=f"xem {kind.vi.lower()}", action_en=f"see {kind.en.lower()}")
    with store.read() as session:
        row = session.get(t.SignatureImage, (kind.value, owner_id))
        return ImageInfo(row.kind, row.owner_id, row.sha256, row.width, row.height) if row else None


def read(store: Store, actor: Actor, kind: ImageKind, owner_id: str, files: MinutesFiles) -> bytes:
    """The PNG itself, for its owner and administrators."""
    return files.images.read(describe(store, actor, kind, owner_id).sha256)


def png_of(session: Session, kind: ImageKind, owner_id: str | None, files: MinutesFiles) -> bytes | None:
    """The image for a signature's appearance, or None when none was set."""
    row = session.get(t.SignatureImage, (kind.value, owner_id)) if owner_id else None
    return files.images.read(row.sha256) if row is not None else None


def listed(store: Store, actor: Actor) -> list[ImageInfo]:
    """Every image set (administrator): which members and bodies have theirs."""
    require_signature_image_owner(actor, "", "", action_vi="xem danh sách ảnh chữ ký và con dấu", action_en="list signature images")
    with store.read() as session:
        rows = session.scalars(select(t.SignatureImage).order_by(t.SignatureImage.kind, t.SignatureImage.owner_id))
        return [ImageInfo(r.kind, r.owner_id, r.sha256, r.width, r.height) for r in rows]
