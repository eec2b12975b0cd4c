#!/usr/bin/env bash
# Set up BackCoach on Debian or Ubuntu and run it:
#   ./setup.sh run [ARGS...]   install everything, then open the app (ARGS go to backcoach)
#   ./setup.sh test [PYTEST ARGS...]  install everything, then run lint and the whole test suite
# System packages come from apt when run as root; otherwise the exact sudo line is printed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
mode="${1:-}"
case "$mode" in
  run|test) shift ;;
  *) echo "usage: ./setup.sh run [backcoach args] | ./setup.sh test [pytest args]" >&2; exit 2 ;;
esac

# What the app needs: Python, Qt's libraries (offscreen and X11), speech and audio.
runtime_pkgs=(python3 python3-venv
  libglib2.0-0 libegl1 libgl1 libx11-6 libx11-xcb1 libdbus-1-3 libfontconfig1 libfreetype6
  libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0
  libxcb-keysyms1 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxcb-randr0
  libxcb-xinerama0 libxcb-xfixes0 libxrender1 fonts-dejavu-core
  libespeak-ng1 alsa-utils libpulse0)
# What the tests add: a virtual X server, window tools, and the packaging validators.
test_pkgs=(xvfb xauth xdotool x11-utils imagemagick desktop-file-utils appstream)

pkgs=("${runtime_pkgs[@]}")
[ "$mode" = test ] && pkgs+=("${test_pkgs[@]}")

if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
      echo "==> installing system packages: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "BackCoach needs these system packages first. Run:" >&2
      echo "  sudo apt-get install ${missing[*]}" >&2
      echo "then run ./setup.sh $mode again." >&2
      exit 1
    fi
  fi
else
  echo "note: not a Debian/Ubuntu system; make sure Python 3.11+, Qt's system libraries" >&2
  echo "      and an espeak-ng library are installed (see README.md)." >&2
fi

# A Python of 3.11 or newer for the virtual environment.
python=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    python="$(command -v "$candidate")"; break
  fi
done
if [ -z "$python" ]; then
  echo "BackCoach needs Python 3.11 or newer (Debian 12: sudo apt-get install python3 python3-venv)." >&2
  exit 1
fi

venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  echo "==> creating $venv with $python"
  "$python" -m venv "$venv"
fi
extra=""
[ "$mode" = test ] && extra="[dev]"
stamp="$venv/.installed$extra"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing BackCoach and its Python packages into .venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".$extra"
  touch "$stamp"
fi

if [ "$mode" = run ]; then
  exec "$venv/bin/backcoach" "$@"
fi

export QT_QPA_PLATFORM=offscreen
echo "==> ruff"
"$venv/bin/ruff" check .
echo "==> import-linter (the domain core stays free of Qt)"
"$venv/bin/lint-imports"
echo "==> pytest"
exec "$venv/bin/python" -m pytest "$@"
