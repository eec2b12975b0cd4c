"""`backcoach contact-sheet` and `backcoach render-illustrations`: look at and make the art."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

SHEET_COLUMNS = 4
CELL_WIDTH = 360
LABEL_HEIGHT = 58
PADDING = 14


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the illustration commands."""
    p = subparsers.add_parser(
        "contact-sheet", help="render every exercise illustration, labelled, into one PNG")
    p.add_argument("out", metavar="OUT.png", help="the PNG file to write")
    p.add_argument("--theme", default="light", choices=("light", "dark", "high-contrast"),
                   help="colour theme (default: light)")
    p.add_argument("--mirrored", action="store_true", help="draw the right-side (mirrored) view")
    p.set_defaults(func=cmd_contact_sheet)
    p = subparsers.add_parser(
        "render-illustrations",
        help="(developers) regenerate resources/illustrations/*.svg and the icons from the pose data")
    p.add_argument("--check", action="store_true",
                   help="only report files that are out of date (exit status 1 if any)")
    p.set_defaults(func=cmd_render_illustrations)


def _qt_app():  # type: ignore[no-untyped-def]
    """The running Qt application, or a new offscreen-capable one."""
    if not os.environ.get("QT_QPA_PLATFORM") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() or QGuiApplication([sys.argv[0] if sys.argv else "backcoach"])


def contact_sheet(out: Path, theme: str = "light", mirrored: bool = False) -> int:
    """Render every illustration of the built-in catalogue into one labelled PNG; returns the count."""
    app = _qt_app()  # noqa: F841 - kept alive while painting
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter

    from backcoach.art.palette import THEMES
    from backcoach.catalog.loader import load_builtin_catalog
    from backcoach.ui.illustration import thumbnail

    catalog = load_builtin_catalog()
    cells = [(ex, pos) for ex in sorted(catalog.exercises.values(), key=lambda e: e.name)
             for pos in ex.positions]
    cell_h = round(CELL_WIDTH * 2 / 3) + LABEL_HEIGHT
    rows = (len(cells) + SHEET_COLUMNS - 1) // SHEET_COLUMNS
    width = SHEET_COLUMNS * (CELL_WIDTH + PADDING) + PADDING
    height = rows * (cell_h + PADDING) + PADDING
    colours = THEMES[theme]
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(colours["mat-edge"] if theme != "high-contrast" else "#202020"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    title_font, body_font = QFont(), QFont()
    title_font.setPixelSize(16)
    title_font.setBold(True)
    body_font.setPixelSize(12)
    for i, (ex, pos) in enumerate(cells):
        x = PADDING + (i % SHEET_COLUMNS) * (CELL_WIDTH + PADDING)
        y = PADDING + (i // SHEET_COLUMNS) * (cell_h + PADDING)
        painter.fillRect(QRectF(x, y, CELL_WIDTH, cell_h), QColor(colours["background"]))
        painter.drawPixmap(x, y, thumbnail(ex, pos.id, CELL_WIDTH, theme, mirrored))
        painter.setPen(QColor(colours["body"]))
        painter.setFont(title_font)
        text_y = y + cell_h - LABEL_HEIGHT
        painter.drawText(QRectF(x + 8, text_y, CELL_WIDTH - 16, 20),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, ex.name)
        painter.setFont(body_font)
        painter.drawText(QRectF(x + 8, text_y + 20, CELL_WIDTH - 16, LABEL_HEIGHT - 22),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                         | int(Qt.TextFlag.TextWordWrap), f"{pos.id}: {pos.name}")
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        raise OSError(f"cannot write {out}")
    return len(cells)


def cmd_contact_sheet(args: argparse.Namespace) -> int:
    """Write the contact sheet PNG."""
    count = contact_sheet(Path(args.out), args.theme, args.mirrored)
    print(f"wrote {args.out}: {count} illustrations ({args.theme})")
    return 0


def render_illustrations(check: bool = False) -> list[Path]:
    """Regenerate the SVGs (and icon PNGs); with `check`, only list the out-of-date files."""
    from backcoach.art.build import ICON_SIZES, stale_files, write_files
    from backcoach.catalog.loader import load_builtin_catalog
    from backcoach.resources import resources_dir

    resources = resources_dir()
    catalog = load_builtin_catalog()
    if check:
        return stale_files(resources, catalog.exercises)
    written = write_files(resources, catalog.exercises)
    _qt_app()
    from backcoach.ui.illustration import render_icon_png

    for size in ICON_SIZES:
        png = resources / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "backcoach.png"
        png.parent.mkdir(parents=True, exist_ok=True)
        image = render_icon_png(size)
        if not image.save(str(png), "PNG"):
            raise OSError(f"cannot write {png}")
    return written


def cmd_render_illustrations(args: argparse.Namespace) -> int:
    """Regenerate (or check) the generated illustrations."""
    paths = render_illustrations(check=args.check)
    verb = "out of date" if args.check else "written"
    for path in paths:
        print(f"{verb}: {path}")
    if not paths:
        print("all illustrations are up to date" if args.check else "nothing changed")
    return 1 if args.check and paths else 0
