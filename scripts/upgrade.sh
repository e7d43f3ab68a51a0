#!/usr/bin/env bash
# Upgrade the installed server to this release (README: "Nâng cấp / Upgrading"). Run it from the new
# release's folder beside the running one (/opt/meeting-room/releases/NEW), as root:
#   1. install the new release's packages and .venv;
#   2. `meeting-room upgrade --check`: refuse while a meeting is in progress (pass --force to cut it off);
#   3. stop the service; `meeting-room upgrade`: a backup first, the migrations in one transaction, the
#      event log checked and every poll recounted;
#   4. success: /opt/meeting-room/current points here and the service starts the new release;
#      failure: the database is as it was and the service starts the previous release again.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
FORCE=()
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=(--force) ;;
        *) die "unknown argument $arg (accepted: --force)" ;;
    esac
done
BASE="${MEETING_ROOM_BASE:-/opt/meeting-room}"
UNIT=meeting-room.service
SERVICE_USER="${MEETING_ROOM_USER:-meeting-room}"
export MEETING_ROOM_CONFIG="${MEETING_ROOM_CONFIG:-/etc/meeting-room/settings.toml}"
[ -f "$MEETING_ROOM_CONFIG" ] || die "no settings file $MEETING_ROOM_CONFIG (set MEETING_ROOM_CONFIG, or install with scripts/install-service.sh)"

systemd_up() { [ -d /run/systemd/system ] && systemctl cat "$UNIT" >/dev/null 2>&1; }
# The data directory belongs to the service's user: run as that user so new files stay theirs.
as_service() {
    if [ "$(id -u)" -eq 0 ] && id "$SERVICE_USER" >/dev/null 2>&1; then
        runuser -u "$SERVICE_USER" -- env MEETING_ROOM_CONFIG="$MEETING_ROOM_CONFIG" "$@"
    else
        "$@"
    fi
}
start_service() { if systemd_up; then say "starting $UNIT ($(readlink -f "$BASE/current" 2>/dev/null || echo "$ROOT"))"; systemctl start "$UNIT"; fi; }

apt_install fonts-liberation2 libportaudio2
ensure_venv ""
say "checking the database against release $ROOT"
set +e
as_service "$VENV/bin/meeting-room" upgrade --check "${FORCE[@]}"
rc=$?
set -e
[ $rc -eq 3 ] && die "a meeting is in progress: nothing was changed. Upgrade after it closes, or pass --force"
[ $rc -eq 0 ] || die "the check failed (exit $rc): nothing was changed"

if systemd_up; then say "stopping $UNIT"; systemctl stop "$UNIT"; else say "systemd does not run $UNIT here: not stopping or starting it"; fi
if as_service "$VENV/bin/meeting-room" upgrade "${FORCE[@]}"; then
    if [ -d "$BASE" ] && [[ "$ROOT" == "$BASE/releases/"* ]]; then
        ln -sfn "$ROOT" "$BASE/current.new" && mv -T "$BASE/current.new" "$BASE/current"
        say "current release: $ROOT"
    fi
    start_service
    say "upgrade complete"
else
    say "the upgrade failed: the database is as it was before; the previous release starts again"
    start_service
    exit 1
fi
