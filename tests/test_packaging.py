"""The packaging files: the desktop entry, the AppStream metadata, their install script and
the PyInstaller spec. The bundle itself is built by packaging/build.sh, not here (minutes)."""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from backcoach.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
LINUX = PACKAGING / "linux"
APP_ID = "io.github.backcoach.BackCoach"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
INSTALL_SCRIPT = LINUX / "install-desktop-files.sh"
SPEC = PACKAGING / "backcoach.spec"


def require_tool(name: str) -> str:
    """The tool's path; skips the test when it is missing, except in CI, where it fails."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian: desktop-file-utils / appstream)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def desktop_groups(path: Path) -> dict[str, dict[str, str]]:
    """The groups of a .desktop file as {group: {key: value}}."""
    groups: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = groups.setdefault(line[1:-1], {})
        else:
            key, _, value = line.partition("=")
            current[key.strip()] = value.strip()
    return groups


def exec_lines() -> list[str]:
    """Every Exec= value of the desktop file: the main entry and each action."""
    return [keys["Exec"] for keys in desktop_groups(DESKTOP).values() if "Exec" in keys]


def test_desktop_file_validates() -> None:
    """desktop-file-validate reports nothing at all for the desktop entry."""
    tool = require_tool("desktop-file-validate")
    result = subprocess.run([tool, str(DESKTOP)], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_metainfo_validates() -> None:
    """appstreamcli validate --no-net finds no errors or warnings in the AppStream file."""
    tool = require_tool("appstreamcli")
    result = subprocess.run([tool, "validate", "--no-net", str(METAINFO)],
                            capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not re.search(r"^[EW]:", output, re.MULTILINE), output


def test_desktop_and_metainfo_agree() -> None:
    """The metainfo launches this desktop file, and both name the same binary and id."""
    text = METAINFO.read_text(encoding="utf-8")
    assert f"<id>{APP_ID}</id>" in text
    assert f'<launchable type="desktop-id">{DESKTOP.name}</launchable>' in text
    assert "<binary>backcoach</binary>" in text
    entry = desktop_groups(DESKTOP)["Desktop Entry"]
    assert entry["Icon"] == "backcoach"
    assert "start-default" in entry["Actions"].split(";")


def test_exec_lines_are_real_commands() -> None:
    """Every Exec line of the desktop file parses with the app's own command-line parser."""
    lines = exec_lines()
    assert "backcoach start lower-back-for-runners" in lines
    for line in lines:
        argv = [arg for arg in shlex.split(line) if not re.fullmatch(r"%[fFuUick]", arg)]
        assert argv[0] == "backcoach", line
        try:
            args = build_parser().parse_args(argv[1:])
        except SystemExit as exc:  # argparse exits on an unknown command or argument
            pytest.fail(f"{line!r} does not parse: exit {exc.code}")
        if getattr(args, "routine", None):
            assert (ROOT / "resources" / "routines" / f"{args.routine}.toml").is_file(), line


def test_install_script_installs_and_uninstalls(tmp_path: Path) -> None:
    """The install script fills a temporary HOME's menu and icons; --uninstall leaves nothing."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["HOME"] = str(home)
    data = home / ".local" / "share"

    result = subprocess.run(["bash", str(INSTALL_SCRIPT)], env=env, capture_output=True, text=True,
                            check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (data / "applications" / DESKTOP.name).read_bytes() == DESKTOP.read_bytes()
    assert (data / "metainfo" / METAINFO.name).read_bytes() == METAINFO.read_bytes()
    pngs = sorted((ROOT / "resources" / "icons" / "hicolor").glob("*/apps/backcoach.png"))
    for png in pngs:
        size = png.parent.parent.name
        assert (data / "icons" / "hicolor" / size / "apps" / "backcoach.png").read_bytes() == png.read_bytes()
    if not pngs:
        assert "no icons" in result.stderr

    result = subprocess.run(["bash", str(INSTALL_SCRIPT), "--uninstall"], env=env, capture_output=True,
                            text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    left = [p for p in home.rglob("*") if "backcoach" in p.name.lower()]
    assert left == [], left


def test_install_script_rejects_unknown_options(tmp_path: Path) -> None:
    """An unknown option stops the install script with a usage line and exit status 2."""
    env = {**os.environ, "HOME": str(tmp_path)}
    result = subprocess.run(["bash", str(INSTALL_SCRIPT), "--frobnicate"], env=env, capture_output=True,
                            text=True, check=False, timeout=60)
    assert result.returncode == 2 and "usage" in result.stderr
    assert not any(tmp_path.iterdir())


def spec_paths() -> list[Path]:
    """The repository paths the spec builds on: every `ROOT / "..." / ...` expression."""
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    inner = {id(node.left) for node in ast.walk(tree) if isinstance(node, ast.BinOp)}
    paths = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and id(node) not in inner:
            parts: list[str] = []
            while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                if not isinstance(node.right, ast.Constant):
                    break
                parts.insert(0, node.right.value)
                node = node.left
            else:
                if isinstance(node, ast.Name) and node.id in ("ROOT", "RESOURCES"):
                    base = ROOT if node.id == "ROOT" else ROOT / "resources"
                    paths.append(base.joinpath(*parts))
    return paths


def test_spec_references_existing_paths() -> None:
    """The PyInstaller spec's entry point, resources and pyproject exist (the icon may not yet)."""
    text = SPEC.read_text(encoding="utf-8")
    ast.parse(text)  # the spec is plain Python
    paths = spec_paths()
    assert ROOT / "src" / "backcoach" / "__main__.py" in paths
    assert ROOT / "resources" in paths or any(p.parent == ROOT / "resources" for p in paths)
    for path in paths:
        if path.suffix == ".png":  # the icon is optional: the spec checks is_file() itself
            continue
        assert path.exists(), f"backcoach.spec names {path}, which does not exist"
    assert 'copy_metadata("backcoach")' in text
    assert '"backcoach/resources"' in text
    assert 'name="backcoach"' in text


def test_build_script_files_exist() -> None:
    """build.sh and the install script are executable, and build.sh copies files that exist."""
    build = PACKAGING / "build.sh"
    assert os.access(build, os.X_OK) and os.access(INSTALL_SCRIPT, os.X_OK)
    for name in re.findall(r"packaging/[\w./-]*\w", build.read_text(encoding="utf-8")):
        assert (ROOT / name).exists(), f"build.sh names {name}, which does not exist"
