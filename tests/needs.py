"""What a test needs from the machine. Here a missing tool skips the test and says why; in CI
(``$CI``, or the ``MEETING_ROOM_TEST_REQUIRE_*`` variable that scripts/test.sh sets there) it fails:
what CI installs must run, never skip unseen."""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest

POSTGRES = "MEETING_ROOM_TEST_REQUIRE_POSTGRES"
BROWSER = "MEETING_ROOM_TEST_REQUIRE_BROWSER"
AUDIO = "MEETING_ROOM_TEST_REQUIRE_AUDIO"  # PulseAudio's virtual devices and espeak-ng's speech
JANUS = "MEETING_ROOM_TEST_REQUIRE_JANUS"  # Debian's janus (the SFU of large online sessions)
PACKAGES = "MEETING_ROOM_TEST_REQUIRE_PACKAGES"  # the optional test packages (pyproject's `test` extra)


def required(variable: str) -> bool:
    return bool(os.environ.get(variable) or os.environ.get("CI"))


def unavailable(why: str, variable: str) -> NoReturn:
    """Skip the test because ``why``; fail instead where ``variable`` (or ``$CI``) is set."""
    if required(variable):
        pytest.fail(f"{why} (required here: ${variable} or $CI is set)", pytrace=False)
    pytest.skip(why)


def module(name: str) -> ModuleType:
    """Import an optional test package, or skip (fail in CI) naming it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        unavailable(f"the {name} package is not installed ({exc}); scripts/test.sh installs it", PACKAGES)


def janus() -> str:
    """The janus program, or skip (fail in CI) naming the Debian package."""
    import shutil

    found = shutil.which("janus")
    if found is None:
        unavailable("janus is not installed (Debian package janus; scripts/setup.sh installs it)", JANUS)
    return found
