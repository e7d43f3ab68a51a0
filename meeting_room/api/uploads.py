"""Multipart uploads: the OpenAPI description of a file field, and reading exactly one file."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from meeting_room.errors import InvalidInputError


def file_schema(field: str, description: str) -> dict[str, object]:
    schema = {
        "type": "object",
        "required": [field],
        "properties": {field: {"type": "string", "format": "binary", "description": description}},
    }
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


async def one_file(request: Request, field: str, accepted: str) -> UploadFile:
    return (await file_and_fields(request, field, accepted))[0]


async def file_and_fields(request: Request, field: str, accepted: str) -> tuple[UploadFile, dict[str, str]]:
    """The one file of a multipart form, and its plain text fields (e.g. a passphrase)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInputError(
            f"Hãy gửi tệp dạng multipart/form-data, trường “{field}”",
            f"Send the file as multipart/form-data in the field '{field}'",
            accepted="multipart/form-data",
        )
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get(field)
    if not isinstance(upload, UploadFile):
        await form.close()
        raise InvalidInputError(f"Thiếu trường “{field}” ({accepted})", f"The form has no '{field}' field ({accepted})", field=field)
    texts = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    repeated = sorted({name for name, _ in texts if sum(1 for other, _ in texts if other == name) > 1})
    if repeated:  # which one counts would be a guess (an attacker's probe: the last one did)
        await form.close()
        raise InvalidInputError(
            f"Trường “{repeated[0]}” được gửi nhiều lần; mỗi trường chỉ một lần",
            f"The field '{repeated[0]}' was sent more than once; send each field once",
            field=repeated[0],
        )
    return upload, dict(texts)
