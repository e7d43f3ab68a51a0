#!/usr/bin/env bash
# Install what is missing (PostgreSQL for the store tests, the test packages), then run every test.
# Arguments are passed to pytest, e.g. -k store -x.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
apt_install postgresql espeak-ng  # espeak-ng: the tests' generated Vietnamese speech
# the minutes' font; pdftotext/pdfsig read the PDFs back; certutil builds pdfsig's trust store
apt_install fonts-liberation2 poppler-utils libnss3-tools softhsm2
apt_install zbar-tools  # zbarimg reads back the QR codes of invitation and hall links
# the web pages are tested in Debian's chromium, driven by Playwright (never a downloaded browser)
apt_install chromium fonts-noto-core
# room devices: PortAudio, and a PulseAudio null sink as a real-time virtual microphone
apt_install libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins
# systemd-analyze checks the service unit that `meeting-room install-service` writes
apt_install systemd
# Janus, the SFU of large online sessions: the tests start it through the server (janus = "run")
apt_install janus
ensure_venv "test"
ensure_web_libs  # pdf.js for the document viewer (its browser test reads a PDF in the page)
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYANNOTE_METRICS_ENABLED=0 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ -n "${CI:-}" ]; then
    # In CI what is installed above must run, not skip (tests/needs.py; $CI alone does the same)
    export MEETING_ROOM_TEST_REQUIRE_POSTGRES=1 MEETING_ROOM_TEST_REQUIRE_BROWSER=1 MEETING_ROOM_TEST_REQUIRE_AUDIO=1 \
        MEETING_ROOM_TEST_REQUIRE_PACKAGES=1 MEETING_ROOM_TEST_REQUIRE_JANUS=1
fi
say "lint: ruff check"
"$VENV/bin/ruff" check --quiet meeting_room speech vision voting webrtc hardware transcripts tests benchmarks scripts
say "types: mypy"
"$VENV/bin/python" -m mypy  # the packages and the strictness per package: [tool.mypy] in pyproject.toml
say "running the test suite: pytest $* ($(nproc) cores)"
exec "$VENV/bin/python" -m pytest "$@"
