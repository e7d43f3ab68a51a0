"""The one place where errors become HTTP responses: ``{"error": {code, message, message_en, details}}``."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hardware import errors as hardware_errors
from meeting_room import errors as e
from meeting_room.api.access_log import redact
from meeting_room.operations.health import disk_full_error, is_disk_full
from meeting_room.validation_text import describe
from speech import errors as speech_errors
from speech.voiceprint import VoiceEnrolmentError
from transcripts import errors as transcript_errors
from transcripts.bilingual import BilingualError
from vision import errors as vision_errors
from voting import errors as voting_errors
from voting.sealing import SealingError
from webrtc import errors as webrtc_errors

log = logging.getLogger(__name__)


# Each error class's HTTP status; a class not named takes its nearest named ancestor's, and an error
# of any package that no ancestor names is the client's fault (400), never a bare 500.
_STATUS: dict[type[BilingualError], int] = {
    e.SettingsError: 500,
    e.ChainError: 500,
    e.BackupError: 500,
    e.DatabaseDamagedError: 500,
    e.NotFoundError: 404,
    e.ConflictError: 409,
    e.InvalidInputError: 422,
    e.UploadRejectedError: 415,
    e.UploadTooLargeError: 413,
    e.AuthenticationError: 401,
    e.TooManyAttemptsError: 429,
    e.TooManyConnectionsError: 429,
    e.StillRunningError: 429,
    e.PermissionDeniedError: 403,
    e.DiskFullError: 507,
    voting_errors.PollDefinitionError: 422,
    voting_errors.BallotError: 422,
    voting_errors.PollStateError: 409,
    SealingError: 422,
    transcript_errors.MinutesError: 422,
    transcript_errors.FontError: 503,
    transcript_errors.SigningError: 422,
    transcript_errors.SignatureCheckError: 422,
    transcript_errors.SignatureImageError: 415,
    transcript_errors.SignatureImageTooLargeError: 413,
    transcript_errors.ArchiveError: 409,
    transcript_errors.SearchQueryError: 422,
    hardware_errors.ConfigError: 500,
    hardware_errors.DeviceError: 503,
    hardware_errors.RecordingError: 500,
    hardware_errors.AudioError: 415,
    hardware_errors.SourceError: 502,
    webrtc_errors.IceConfigError: 500,
    webrtc_errors.SignallingError: 422,
    speech_errors.ModelError: 503,
    VoiceEnrolmentError: 422,
    vision_errors.ImageError: 415,
    vision_errors.ImageTooLargeError: 413,
    vision_errors.EnrolmentPhotoError: 422,
    vision_errors.ModelError: 503,
}


def status_of(exc: BilingualError) -> int:
    """The HTTP status of an error: that of its class or its nearest ancestor in ``_STATUS``."""
    return next((_STATUS[cls] for cls in type(exc).__mro__ if cls in _STATUS), 400)


def error_body(code: str, message_vi: str, message_en: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message_vi, "message_en": message_en, "details": details or {}}}


def _domain(request: Request, exc: Exception) -> JSONResponse:
    """Every error of every package, through the one base: its status, code, both messages and details."""
    assert isinstance(exc, BilingualError)
    status = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 429:
        headers = {"Retry-After": str(exc.details.get("retry_after", 60))}
    return JSONResponse(error_body(exc.code, exc.message_vi, exc.message_en, exc.details), status, headers=headers)


def _domain_validation(request: Request, exc: Exception) -> JSONResponse:
    return _domain(request, e.from_validation(exc))


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return JSONResponse(
            error_body(
                "malformed_json",
                "Nội dung gửi lên không phải JSON hợp lệ",
                "The request body is not valid JSON",
                {"position": problems[0].get("ctx", {}).get("error")},
            ),
            400,
        )
    vi, en, fields = describe(problems, skip=1)
    return JSONResponse(
        error_body("invalid_input", f"Dữ liệu gửi lên không hợp lệ — {vi}", f"Invalid request — {en}", {"fields": fields}), 422
    )


_HTTP_TEXT = {
    404: ("Không tìm thấy địa chỉ này", "No such address"),
    405: ("Phương thức không được hỗ trợ cho địa chỉ này", "Method not allowed for this address"),
}


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    vi, en = _HTTP_TEXT.get(exc.status_code, (str(exc.detail), str(exc.detail)))
    return JSONResponse(error_body(f"http_{exc.status_code}", vi, en), exc.status_code, headers=exc.headers)


INTERNAL = ("internal_error", "Lỗi máy chủ; thao tác chưa được lưu", "Server error; nothing was saved")


class CatchAll:
    """Pure ASGI middleware: an unexpected error becomes a bilingual JSON 500 and the request ends
    there. (Starlette's own last-resort handler answers and then re-raises, and the server drops the
    keep-alive connection.) Once a response has started nothing better can be said: the error goes on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception:
            if started:
                raise
            log.exception("unhandled error on %s %s", scope.get("method"), logged_path(scope))
            await JSONResponse(error_body(*INTERNAL), 500)(scope, receive, send)


def logged_path(scope: Scope) -> str:
    """A request's path as a log line may hold it: the route's template when one matched, else the
    path quoted (no line breaks) with any link token taken out."""
    route = getattr(scope.get("route"), "path", None)
    return route if isinstance(route, str) else redact(quote(str(scope.get("path", "")), safe="/-._~"))


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if is_disk_full(exc):  # whatever was writing: a file, SQLite, PostgreSQL
        log.error("disk full on %s %s: %s", request.method, logged_path(request.scope), exc)
        return _domain(request, disk_full_error())
    log.exception("unhandled error on %s %s", request.method, logged_path(request.scope))
    return JSONResponse(error_body(*INTERNAL), 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(BilingualError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ValidationError, _domain_validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    # A full disk, wherever it is met, is a 507; anything else unexpected is CatchAll's JSON 500.
    app.add_exception_handler(OSError, _unexpected)
    app.add_exception_handler(DBAPIError, _unexpected)
