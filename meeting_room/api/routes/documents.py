"""Documents: PDF upload to an agenda item, listing, download, removal."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from meeting_room.access import get_meeting, require_view
from meeting_room.api.deps import ActorDep, FilesDep, StoreDep
from meeting_room.api.routes.agenda import DocumentOut, document_out
from meeting_room.db import tables as t
from meeting_room.errors import InvalidInputError
from meeting_room.services import documents
from meeting_room.store import Store
from meeting_room.text import Title

router = APIRouter(prefix="/api/meetings/{meeting_id}", tags=["documents"])


_UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The PDF document"},
                        "title": {"type": "string", "maxLength": 500, "description": "Shown title; default: the file name"},
                    },
                }
            }
        },
    }
}


# The form is parsed by hand and documented through openapi_extra; the BodyLimit middleware
# refuses an oversized body before it is read, and DocumentFiles.ingest counts again.
async def _store_upload(request: Request, store: Store, save: Callable[..., str]) -> DocumentOut:
    """Read the multipart form's ``file`` and optional ``title``, hand them to ``save`` off the event loop."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInputError(
            "Hãy gửi tệp dạng multipart/form-data, trường “file”",
            "Send the file as multipart/form-data in the field 'file'",
            accepted="multipart/form-data",
        )
    async with request.form(max_files=1, max_fields=4) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInputError("Thiếu trường “file” chứa tệp PDF", "The form has no 'file' field with the PDF", field="file")
        title = form.get("title")
        document_id = await run_in_threadpool(
            save, source=upload.file, filename=upload.filename, title=title if isinstance(title, str) else None
        )
    return await run_in_threadpool(_document_out, store, document_id)  # no blocking I/O on the event loop


@router.post("/agenda/{item_id}/documents", status_code=201, openapi_extra=_UPLOAD_SCHEMA)
async def upload(meeting_id: str, item_id: str, request: Request, store: StoreDep, files: FilesDep, actor: ActorDep) -> DocumentOut:
    """Attach a PDF to an agenda item: multipart form with ``file`` (PDF) and optional ``title``."""
    await run_in_threadpool(documents.may_attach, store, actor, meeting_id, item_id)  # before the upload is read
    return await _store_upload(request, store, partial(documents.attach, store, files, actor, meeting_id, item_id))


@router.put("/documents/{document_id}/file", status_code=201, openapi_extra=_UPLOAD_SCHEMA)
async def replace(meeting_id: str, document_id: str, request: Request, store: StoreDep, files: FilesDep, actor: ActorDep) -> DocumentOut:
    """Replace a document's PDF (same form as an upload): the new document takes its item and, unless given, its title."""
    await run_in_threadpool(documents.may_replace, store, actor, meeting_id, document_id)  # before the upload is read
    return await _store_upload(request, store, partial(documents.replace, store, files, actor, meeting_id, document_id))


def _document_out(store: Store, document_id: str) -> DocumentOut:
    with store.read() as session:
        return document_out(session.get_one(t.Document, document_id))


@router.get("/documents")
def list_documents(meeting_id: str, store: StoreDep, actor: ActorDep) -> list[DocumentOut]:
    """Every document of the meeting."""
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
        docs = session.scalars(select(t.Document).where(t.Document.meeting_id == meeting_id).order_by(t.Document.uploaded_at))
        return [document_out(d) for d in docs]


@router.get("/documents/{document_id}/file", response_class=FileResponse)
def download(meeting_id: str, document_id: str, store: StoreDep, files: FilesDep, actor: ActorDep, download: bool = False) -> FileResponse:
    """The PDF itself (shown inline, or as an attachment with ?download=true)."""
    with store.read() as session:
        doc = documents.document_of(session, actor, meeting_id, document_id)
    return FileResponse(
        files.open(doc.sha256),
        media_type="application/pdf",
        filename=doc.filename,
        content_disposition_type="attachment" if download else "inline",
        headers={"ETag": f'"{doc.sha256}"', "Cache-Control": "private, no-store"},
    )


class DocumentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title = Field(description="The title the document shows (its file name gives one without diacritics)")


@router.patch("/documents/{document_id}")
def rename(meeting_id: str, document_id: str, body: DocumentPatch, store: StoreDep, actor: ActorDep) -> DocumentOut:
    """Rename a document (the meeting's chair or secretary, while its documents may change)."""
    documents.rename(store, actor, meeting_id, document_id, body.title)
    return _document_out(store, document_id)


@router.delete("/documents/{document_id}", status_code=204)
def remove(meeting_id: str, document_id: str, store: StoreDep, actor: ActorDep) -> Response:
    """Detach a document (the file stays on disk for the record)."""
    documents.remove(store, actor, meeting_id, document_id)
    return Response(status_code=204)
