"""A missing tool skips a test here and fails it in CI, for every kind CI installs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import needs


@pytest.mark.parametrize("variable", [needs.POSTGRES, needs.BROWSER, needs.AUDIO, needs.PACKAGES])
def test_a_missing_tool_skips_here_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    for name in ("CI", needs.POSTGRES, needs.BROWSER, needs.AUDIO, needs.PACKAGES):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(pytest.skip.Exception, match="gone"):
        needs.unavailable("gone", variable)
    monkeypatch.setenv(variable, "1")
    with pytest.raises(pytest.fail.Exception, match="gone"):
        needs.unavailable("gone", variable)
    monkeypatch.delenv(variable)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="gone"):
        needs.unavailable("gone", variable)


def test_espeak_missing_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests import speech_audio

    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng on it
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="espeak-ng"):
        speech_audio.speak(tmp_path / "x.wav", "xin chào")


def test_a_missing_package_is_named() -> None:
    with pytest.raises((pytest.skip.Exception, pytest.fail.Exception), match="no_such_package_here"):
        needs.module("no_such_package_here")
