#!/usr/bin/env bash
# Install what is missing, then start the server (SQLite under ./var by default).
# Arguments are passed to `meeting-room serve`, e.g. --host 0.0.0.0 --port 8080.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
apt_install fonts-liberation2  # Liberation Serif: Times New Roman metrics for the minutes (Decree 30)
apt_install libportaudio2  # the room's microphones (sounddevice)
apt_install janus  # the SFU of large online sessions (setting janus = "run"; the server writes its configuration)
ensure_venv ""
ensure_web_libs  # pdf.js: documents open inside the meeting pages
say "starting the server: meeting-room serve $*"
exec "$VENV/bin/meeting-room" serve "$@"
