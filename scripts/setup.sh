#!/usr/bin/env bash
# Shared set-up for scripts/run, scripts/test and scripts/bench, on Debian/Ubuntu with
# Python 3.11+: system packages (rbldnsd, python3-venv) and the project's virtualenv.
# Usage: scripts/setup.sh [EXTRA]   (EXTRA: "", test or bench, the pyproject extras)
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "setup: need root (or sudo) to run: $*" >&2; return 1
  fi
}

apt_install() {
  # Install Debian packages, refreshing the package lists once if they are stale or missing.
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1; then
    as_root apt-get update -qq >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  fi
}

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup: Python 3.11 or newer is needed (found: $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi

# rbldnsd: the tests, the benchmark and the demo serve blocklist zones with it on loopback.
if ! command -v rbldnsd >/dev/null 2>&1 && [ ! -x /usr/sbin/rbldnsd ]; then
  echo "setup: installing rbldnsd" >&2
  apt_install rbldnsd
fi

if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv >/dev/null 2>&1; then
    echo "setup: installing python3-venv" >&2
    rm -rf .venv
    apt_install python3-venv
    "$PYTHON" -m venv .venv
  fi
fi

# Reinstall only when pyproject.toml or the wanted extras change.
stamp=".venv/.blcheck-installed-${extra:-base}"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  spec="."
  [ -n "$extra" ] && spec=".[$extra]"
  log="$(mktemp)"
  if ! .venv/bin/python -m pip install -q -e "$spec" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    echo "setup: pip install failed (output above)" >&2
    exit 1
  fi
  rm -f "$log"
  echo "$want" > "$stamp"
fi
