"""The server's logs: one line per record, text or JSON (``log_format``), each with the request id
of the HTTP request it belongs to; to the standard error (journald keeps and rotates it under
systemd) or to ``log_file``, rotated by size. Tokens never reach a log line (``access_log``'s
filter runs on uvicorn's loggers), and the code logs members by id, not by name."""

from __future__ import annotations

import json
import logging
import logging.handlers
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from meeting_room.settings import Settings

request_id: ContextVar[str] = ContextVar("request_id", default="-")


class RequestId(logging.Filter):
    """Puts the current request's id on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def logging_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for our loggers and uvicorn's (passed to ``uvicorn.run``)."""
    formatter: dict[str, Any] = {"()": JsonLines} if settings.log_format == "json" else {"format": TEXT_FORMAT}
    handler: dict[str, Any]
    if settings.log_file is not None:
        handler = {
            "class": "logging.handlers.RotatingFileHandler",
            "filename": str(settings.log_file),
            "maxBytes": settings.log_max_mb * (1 << 20),
            "backupCount": settings.log_backups,
            "encoding": "utf-8",
        }
    else:
        handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    handler.update(formatter="main", filters=["request_id"])
    level = settings.log_level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestId}},
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "root": {"handlers": ["main"], "level": level},
        "loggers": {
            name: {"handlers": ["main"], "level": level, "propagate": False} for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
