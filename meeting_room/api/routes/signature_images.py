"""Signature images (one per member) and seal images (one per body), transparent PNGs for the minutes' signatures."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from meeting_room.api.deps import ActorDep, StoreDep
from meeting_room.api.routes.files import minutes_files
from meeting_room.api.uploads import file_schema, one_file
from meeting_room.services import signature_images as images
from meeting_room.services.signature_images import ImageInfo
from transcripts.signature_images import MAX_BYTES, ImageKind

router = APIRouter(tags=["minutes"])
PNG_HELP = "A PNG with a transparent background (alpha), 40 to 2000 pixels a side, at most 1 MB"


class ImageOut(BaseModel):
    kind: str
    owner_id: str
    sha256: str
    width: int
    height: int


def _out(info: ImageInfo) -> ImageOut:
    return ImageOut(kind=info.kind, owner_id=info.owner_id, sha256=info.sha256, width=info.width, height=info.height)


async def _put(kind: ImageKind, owner_id: str, request: Request, store: StoreDep, actor: ActorDep) -> ImageOut:
    upload = await one_file(request, "file", "PNG")
    try:
        data = await upload.read(MAX_BYTES + 1)  # one byte over is enough to refuse it as too large
    finally:
        await upload.close()
    return _out(await run_in_threadpool(images.put, store, actor, kind, owner_id, data, minutes_files(request)))


def _png(kind: ImageKind, owner_id: str, request: Request, store: StoreDep, actor: ActorDep) -> Response:
    data = images.read(store, actor, kind, owner_id, minutes_files(request))
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.get("/api/signature-images")
def list_images(store: StoreDep, actor: ActorDep) -> list[ImageOut]:
    """Which members have a signature image and which bodies a seal image (administrator)."""
    return [_out(i) for i in images.listed(store, actor)]


@router.put("/api/members/{member_id}/signature-image", openapi_extra=file_schema("file", PNG_HELP))
async def put_signature(member_id: str, request: Request, store: StoreDep, actor: ActorDep) -> ImageOut:
    """Set a member's signature image (the member themself or an administrator); a refused file keeps nothing."""
    return await _put(ImageKind.SIGNATURE, member_id, request, store, actor)


@router.get("/api/members/{member_id}/signature-image/info")
def signature_info(member_id: str, store: StoreDep, actor: ActorDep) -> ImageOut | None:
    """Whether a member has a signature image, and which (null when none; the member themself or an administrator)."""
    info = images.find(store, actor, ImageKind.SIGNATURE, member_id)
    return _out(info) if info else None


@router.get("/api/members/{member_id}/signature-image", response_class=Response)
def get_signature(member_id: str, request: Request, store: StoreDep, actor: ActorDep) -> Response:
    """A member's signature image as PNG (the member themself or an administrator)."""
    return _png(ImageKind.SIGNATURE, member_id, request, store, actor)


@router.delete("/api/members/{member_id}/signature-image", status_code=204)
def delete_signature(member_id: str, store: StoreDep, actor: ActorDep) -> Response:
    """Remove a member's signature image: their signatures show name, title and time only."""
    images.remove(store, actor, ImageKind.SIGNATURE, member_id)
    return Response(status_code=204)


@router.put("/api/bodies/{body_id}/seal-image", openapi_extra=file_schema("file", PNG_HELP))
async def put_seal(body_id: str, request: Request, store: StoreDep, actor: ActorDep) -> ImageOut:
    """Set a body's seal image (administrator); the chair's signature of its minutes carries it."""
    return await _put(ImageKind.SEAL, body_id, request, store, actor)


@router.get("/api/bodies/{body_id}/seal-image", response_class=Response)
def get_seal(body_id: str, request: Request, store: StoreDep, actor: ActorDep) -> Response:
    """A body's seal image as PNG (administrator)."""
    return _png(ImageKind.SEAL, body_id, request, store, actor)


@router.delete("/api/bodies/{body_id}/seal-image", status_code=204)
def delete_seal(body_id: str, store: StoreDep, actor: ActorDep) -> Response:
    """Remove a body's seal image."""
    images.remove(store, actor, ImageKind.SEAL, body_id)
    return Response(status_code=204)
