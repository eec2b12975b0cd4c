#!/usr/bin/env bash
# Add BackCoach to this user's application menu (or take it out again):
#   packaging/linux/install-desktop-files.sh              install the menu entry, metadata, icons
#   packaging/linux/install-desktop-files.sh --uninstall  remove them
# Files go under ${XDG_DATA_HOME:-~/.local/share}: applications/, metainfo/, icons/hicolor/.
# Run from a source checkout, the icons come from resources/icons/; run from a bundle built by
# packaging/build.sh (dist/backcoach/linux/), they come from the bundle, and ~/.local/bin/backcoach
# is linked to the bundle's executable so that the menu entry's `Exec=backcoach` finds it.
set -euo pipefail

app_id="io.github.backcoach.BackCoach"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

mode=install
case "${1:-}" in
  "") ;;
  --uninstall) mode=uninstall ;;
  -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [--uninstall]" >&2; exit 2 ;;
esac

data="${XDG_DATA_HOME:-$HOME/.local/share}"
apps="$data/applications"
metainfo="$data/metainfo"
hicolor="$data/icons/hicolor"
bindir="$HOME/.local/bin"

# Where the icons are: a source checkout (packaging/linux/ -> resources/) or a bundle
# (dist/backcoach/linux/ -> dist/backcoach/_internal/backcoach/resources/).
bundle_exe=""
if [ -d "$here/../../resources" ]; then
  resources="$(cd "$here/../../resources" && pwd)"
elif [ -d "$here/../_internal/backcoach/resources" ]; then
  resources="$(cd "$here/../_internal/backcoach/resources" && pwd)"
  bundle_exe="$(cd "$here/.." && pwd)/backcoach"
else
  echo "install-desktop-files.sh: cannot find BackCoach's resources folder next to $here" >&2
  exit 1
fi

refresh_caches() {
  if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$apps" 2>/dev/null || true
  fi
  if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -d "$hicolor" ]; then
    gtk-update-icon-cache -q -f -t "$hicolor" 2>/dev/null || true
  fi
}

if [ "$mode" = uninstall ]; then
  rm -f "$apps/$app_id.desktop" "$metainfo/$app_id.metainfo.xml"
  rm -f "$hicolor"/*/apps/backcoach.png "$hicolor"/scalable/apps/backcoach.svg
  # Only a link this script made (to a bundle's executable); a pip-installed script stays.
  if [ -L "$bindir/backcoach" ] && [ -d "$(dirname "$(readlink "$bindir/backcoach")")/_internal" ]; then
    rm -f "$bindir/backcoach"
  fi
  refresh_caches
  echo "BackCoach's menu entry, metadata and icons are removed from $data."
  exit 0
fi

install -D -m 644 "$here/$app_id.desktop" "$apps/$app_id.desktop"
install -D -m 644 "$here/$app_id.metainfo.xml" "$metainfo/$app_id.metainfo.xml"

# Icons: resources/icons/hicolor/<size>/apps/backcoach.png (made by
# `backcoach render-illustrations`), and the scalable SVG when present.
icons=0
for png in "$resources"/icons/hicolor/*/apps/backcoach.png; do
  [ -f "$png" ] || continue
  size="$(basename "$(dirname "$(dirname "$png")")")"
  install -D -m 644 "$png" "$hicolor/$size/apps/backcoach.png"
  icons=$((icons + 1))
done
if [ -f "$resources/icons/backcoach.svg" ]; then
  install -D -m 644 "$resources/icons/backcoach.svg" "$hicolor/scalable/apps/backcoach.svg"
  icons=$((icons + 1))
fi
if [ "$icons" -eq 0 ]; then
  echo "warning: no icons in $resources/icons/hicolor/*/apps/ yet; the menu entry will have a" >&2
  echo "         generic icon (run \`backcoach render-illustrations\`, then this script again)." >&2
fi

if [ -n "$bundle_exe" ] && [ -x "$bundle_exe" ]; then
  mkdir -p "$bindir"
  ln -sfn "$bundle_exe" "$bindir/backcoach"
  echo "Linked $bindir/backcoach -> $bundle_exe"
fi

refresh_caches
echo "BackCoach is in the application menu ($apps/$app_id.desktop, $icons icon files)."
if ! command -v backcoach >/dev/null 2>&1 && [ ! -x "$bindir/backcoach" ]; then
  echo "note: no \`backcoach\` command on PATH: install BackCoach (pip install . or a bundle) so" >&2
  echo "      that the menu entry can start it." >&2
elif ! command -v backcoach >/dev/null 2>&1; then
  echo "note: add $bindir to PATH (log out and in again on most desktops) for the menu entry." >&2
fi
