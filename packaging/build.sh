#!/usr/bin/env bash
# Build the BackCoach one-folder bundle (dist/backcoach/) with PyInstaller.
#   packaging/build.sh            build in build/venv (made on first use) and print the size
#   PYTHON=python3.12 packaging/build.sh   choose the Python (3.11 or newer)
# Works from a clean clone on Linux and macOS (and Git Bash on Windows). The bundle runs on
# machines of the same OS and CPU with the system libraries listed in packaging/README.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

python="${PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.13 python3.12 python3.11 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      python="$candidate"; break
    fi
  done
fi
if [ -z "$python" ]; then
  echo "build.sh: BackCoach needs Python 3.11 or newer (set PYTHON=...)." >&2
  exit 1
fi

venv="$root/build/venv"
if [ -x "$venv/bin/python" ]; then vpy="$venv/bin/python"
elif [ -x "$venv/Scripts/python.exe" ]; then vpy="$venv/Scripts/python.exe"
else
  echo "==> creating $venv with $python"
  "$python" -m venv "$venv"
  if [ -x "$venv/bin/python" ]; then vpy="$venv/bin/python"; else vpy="$venv/Scripts/python.exe"; fi
fi

echo "==> installing BackCoach and PyInstaller into build/venv"
pip=("$vpy" -m pip install -q --disable-pip-version-check)
"${pip[@]}" --upgrade pip
# A plain (not editable) install, so the bundle holds exactly what a user would install;
# reinstalled every time so that a rebuilt checkout never bundles an older copy.
"${pip[@]}" . "pyinstaller>=6.22,<7"
"${pip[@]}" --force-reinstall --no-deps .
case "$(uname -s 2>/dev/null || echo unknown)" in
  Darwin|MINGW*|MSYS*|CYGWIN*) "${pip[@]}" pillow ;;  # turns the PNG icon into .icns / .ico
esac

echo "==> running PyInstaller"
start=$(date +%s)
rm -rf "$root/dist/backcoach"
"$vpy" -m PyInstaller --noconfirm --clean --log-level WARN \
  --workpath "$root/build/pyinstaller" --distpath "$root/dist" packaging/backcoach.spec
elapsed=$(( $(date +%s) - start ))

# Desktop integration files travel with the Linux bundle (see packaging/README.md).
if [ "$(uname -s)" = Linux ]; then
  mkdir -p dist/backcoach/linux
  cp packaging/linux/io.github.backcoach.BackCoach.desktop \
     packaging/linux/io.github.backcoach.BackCoach.metainfo.xml \
     packaging/linux/install-desktop-files.sh dist/backcoach/linux/
fi

bundle="$root/dist/backcoach"
size="$(du -sh "$bundle" | cut -f1)"
files="$(find "$bundle" -type f | wc -l | tr -d ' ')"
echo "==> built $bundle in ${elapsed}s: $size in $files files"
exe="$bundle/backcoach"
[ -x "$exe" ] || exe="$bundle/backcoach.exe"
echo "    try: QT_QPA_PLATFORM=offscreen $exe --version"
