#!/usr/bin/env bash
# Install this checkout as the server's systemd service (README: "Vận hành / Operating").
# Put each release in its own folder, e.g. /opt/meeting-room/releases/2026.12 (a clone or an unpacked
# archive); this script installs its packages and .venv, points /opt/meeting-room/current at it, and
# runs `meeting-room install-service` (system user, /etc/meeting-room/settings.toml, data directory,
# unit enabled and started). Arguments go to install-service, e.g. --database-url, --room, --port.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
[ "$(id -u)" -eq 0 ] || die "run as root (sudo): it creates a system user and a systemd unit"
apt_install fonts-liberation2 libportaudio2 systemd
ensure_venv ""
BASE="${MEETING_ROOM_BASE:-/opt/meeting-room}"
venv=("--venv" "$VENV")
if [[ "$ROOT" == "$BASE/releases/"* ]]; then
    say "current release: $ROOT"
    ln -sfn "$ROOT" "$BASE/current.new" && mv -T "$BASE/current.new" "$BASE/current"
    venv=("--venv" "$BASE/current/.venv")
else
    say "this checkout is not under $BASE/releases/: the unit runs it from $ROOT (scripts/upgrade.sh needs the releases layout)"
fi
"$VENV/bin/meeting-room" install-service "${venv[@]}" "$@"
