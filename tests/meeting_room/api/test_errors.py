"""Every error of every package reaches a client the same way, through the one base: the status the
API gives its class (or its nearest ancestor), its code, the Vietnamese and the English message and
the details; a 500 only for the server's own faults, never for an error nobody mapped."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hardware.errors import ConfigError, DeviceError, HardwareError, RecordingError
from meeting_room.api.errors import status_of
from meeting_room.errors import (
    BackupError,
    ChainError,
    ConflictError,
    DatabaseDamagedError,
    SettingsError,
    TooManyAttemptsError,
    UploadTooLargeError,
)
from meeting_room.services.polls import BallotBoxLockedError
from tests.bilingual_errors import EN, PACKAGES, VI, every_error_class, make
from transcripts.bilingual import BilingualError
from vision.errors import ImageTooLargeError
from webrtc.errors import IceConfigError, SignallingError, WebRTCError

ERRORS = every_error_class()
# The server's own faults (its settings, its disk, its database): the only errors that answer 500.
SERVER_FAULTS = {SettingsError, ChainError, BackupError, DatabaseDamagedError, ConfigError, RecordingError, IceConfigError}


def test_the_search_finds_the_errors_of_every_package() -> None:
    found = set(ERRORS)
    assert {HardwareError, DeviceError, WebRTCError, BallotBoxLockedError} <= found
    assert {c.__module__.split(".")[0] for c in ERRORS} == set(PACKAGES)


@pytest.fixture
def raising(app: FastAPI, client: TestClient) -> TestClient:
    by_name = {f"{c.__module__}.{c.__qualname__}": c for c in ERRORS}

    def fail(name: str) -> None:
        raise make(by_name[name])

    app.add_api_route("/api/test-errors/{name}", fail)
    return client


def test_every_error_answers_with_its_status_and_both_messages(raising: TestClient) -> None:
    answers = {}
    for cls in ERRORS:
        r = raising.get(f"/api/test-errors/{cls.__module__}.{cls.__qualname__}")
        error = r.json()["error"]
        answers[cls] = (r.status_code, error["code"], error["message"], error["message_en"])
    assert answers == {cls: (status_of(make(cls)), cls.code, VI, EN) for cls in ERRORS}
    assert {cls for cls, (status, *_) in answers.items() if status >= 500 and status not in (502, 503, 507)} == {
        cls for cls in ERRORS if any(issubclass(cls, fault) for fault in SERVER_FAULTS)
    }


@pytest.mark.parametrize(
    ("cls", "status"),
    [
        (HardwareError, 400),  # was a bare 500: no handler knew the package
        (DeviceError, 503),
        (TooManyAttemptsError, 429),  # not its parent's 401
        (UploadTooLargeError, 413),  # not its parents' 415 or 422
        (ImageTooLargeError, 413),
        (BallotBoxLockedError, 409),  # inherited from ConflictError
        (ConflictError, 409),
        (SignallingError, 422),
    ],
)
def test_a_subclass_has_its_own_status_or_inherits_its_parents(cls: type[BilingualError], status: int) -> None:
    assert status_of(make(cls)) == status


def test_a_rate_limited_login_says_when_to_retry(raising: TestClient) -> None:
    r = raising.get("/api/test-errors/meeting_room.errors.TooManyAttemptsError")
    assert r.status_code == 429 and r.headers["Retry-After"] == "60"
