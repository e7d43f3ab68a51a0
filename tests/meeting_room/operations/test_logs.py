"""The server's log lines: JSON when asked, each with the request id of its request, no token in
uvicorn's request lines, rotated by size when written to a file."""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from meeting_room.api import access_log
from meeting_room.api.request_metrics import RequestMetrics
from meeting_room.operations.logs import logging_config
from meeting_room.settings import Settings

NAMES = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "meeting_room")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """dictConfig changes the process's loggers: put them back as they were."""
    saved = {n: (lg.handlers[:], lg.level, lg.propagate, lg.filters[:]) for n in NAMES for lg in [logging.getLogger(n or None)]}
    yield
    for name, (handlers, level, propagate, filters) in saved.items():
        logger = logging.getLogger(name or None)
        for h in logger.handlers[:]:
            if h not in handlers:
                h.close()
        logger.handlers[:], logger.filters[:] = handlers, filters
        logger.level, logger.propagate = level, propagate


def _lines(path: Path) -> list[dict[str, str]]:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_json_lines_carry_the_request_id_and_no_token(tmp_path: Path, restore_logging: None) -> None:
    log = tmp_path / "server.log"
    logging.config.dictConfig(logging_config(Settings(data_dir=tmp_path / "var", log_format="json", log_file=log)))
    access_log.install()
    app = FastAPI()
    app.add_middleware(RequestMetrics)

    @app.get("/work")
    def work() -> dict[str, str]:
        logging.getLogger("meeting_room.test").warning("biểu quyết đã mở")
        return {}

    with TestClient(app) as client:
        rid = client.get("/work", headers={"X-Request-ID": "tablet-7"}).headers["x-request-id"]
        other = client.get("/work").headers["x-request-id"]
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "10.0.0.9", "GET", "/join/s3cr3t-link?token=abc", "1.1", 200)
    lines = _lines(log)
    worked = [ln for ln in lines if ln["logger"] == "meeting_room.test"]
    assert [ln["request_id"] for ln in worked] == [rid, other] and rid == "tablet-7"
    assert worked[0]["message"] == "biểu quyết đã mở" and worked[0]["level"] == "warning" and worked[0]["time"].endswith("+00:00")
    access = next(ln for ln in lines if ln["logger"] == "uvicorn.access")
    assert "s3cr3t" not in access["message"] and "abc" not in access["message"] and "[redacted]" in access["message"]
    assert access["request_id"] == "-"  # outside a request


def test_a_log_file_is_rotated_by_size(tmp_path: Path, restore_logging: None) -> None:
    log = tmp_path / "server.log"
    logging.config.dictConfig(logging_config(Settings(data_dir=tmp_path / "var", log_file=log, log_max_mb=1, log_backups=2)))
    chunk = "x" * 1000
    for i in range(3000):  # ~3 MB of text
        logging.getLogger("meeting_room.test").warning("%d %s", i, chunk)
    kept = sorted(p.name for p in tmp_path.glob("server.log*"))
    assert kept == ["server.log", "server.log.1", "server.log.2"]
    assert all(p.stat().st_size <= (1 << 20) + 2000 for p in tmp_path.glob("server.log*"))
    assert "2999" in log.read_text() and " [-]: 2999 " in log.read_text()  # the text format, with the request id slot


def test_an_error_logs_the_route_or_a_quoted_path_never_a_link_token() -> None:
    from meeting_room.api.errors import logged_path

    class Route:
        path = "/api/meetings/{meeting_id}/polls"

    assert logged_path({"route": Route(), "path": "/api/meetings/abc/polls"}) == "/api/meetings/{meeting_id}/polls"
    raw = "/join/s3cr3t-token\n2026-11-30 INFO forged line"
    shown = logged_path({"path": raw})
    assert "s3cr3t" not in shown and "\n" not in shown and shown.startswith("/join/[redacted]")
