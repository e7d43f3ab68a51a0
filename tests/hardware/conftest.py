from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pulse_audio import VirtualMicrophone


@pytest.fixture(scope="module")
def virtual_mic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualMicrophone]:
    """A 2-channel 48 kHz real-time virtual microphone (PulseAudio null sink), one daemon per module. In CI
    (``MEETING_ROOM_TEST_REQUIRE_AUDIO=1``) a missing PulseAudio fails; elsewhere the test skips."""
    why = VirtualMicrophone.available()
    if why is not None:
        if os.environ.get("MEETING_ROOM_TEST_REQUIRE_AUDIO"):
            pytest.fail(f"virtual microphone unavailable: {why}")
        pytest.skip(why)
    mic = VirtualMicrophone(Path(tmp_path_factory.mktemp("pulse")))
    mic.start()
    yield mic
    mic.stop()
