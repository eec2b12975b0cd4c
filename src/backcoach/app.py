"""The composition root: builds the parts (catalogue, settings, history, voice, window)
and wires them together. Nothing else creates long-lived objects."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backcoach.dataclass_code import DataclassCode
    from backcoach.store.paths import AppPaths

log = logging.getLogger(__name__)

NO_DISPLAY_MESSAGE = (
    "backcoach: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set).\n"
    "Start BackCoach from a desktop session. To run it without a screen (for scripts and\n"
    "tests; nothing is shown), set QT_QPA_PLATFORM=offscreen. `backcoach doctor` checks\n"
    "the whole set-up.")


def display_problem(environ: dict[str, str] | os._Environ = os.environ) -> str | None:
    """Why Qt would abort for want of a display, or None when it can start."""
    if not sys.platform.startswith("linux") or environ.get("QT_QPA_PLATFORM"):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return NO_DISPLAY_MESSAGE


def run(args: argparse.Namespace) -> int:
    """Open the window (and a routine if asked); returns the exit status."""
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2

    from backcoach.store.paths import resolve_paths

    paths = resolve_paths(args.home)
    from backcoach.dataclass_code import CACHE_FILE, DataclassCode

    code = DataclassCode(paths.cache_dir / CACHE_FILE).install()
    try:
        return _run(args, paths, code)
    finally:
        code.uninstall()


def _run(args: argparse.Namespace, paths: AppPaths, code: DataclassCode) -> int:
    """run(), once the paths are known and the kept dataclass code is installed."""
    import_qt_free_modules()  # before PySide6: see there
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    spare_pyside_the_standard_library()
    spare_pyside_our_modules()

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("BackCoach")
    app.setApplicationDisplayName("BackCoach")
    app.setDesktopFileName("io.github.backcoach.BackCoach")
    from backcoach.ui.single_instance import claim_instance, window_request_handler
    instance = claim_instance(paths.config_dir, args)  # one BackCoach per user and home
    if isinstance(instance, int):  # the running one took the request (0), or not (2, 3)
        return instance
    parts = build_app(paths.config_dir.parent if args.home else None, trace=args.trace,
                      kiosk=getattr(args, "kiosk", False), guess_system_theme=True)
    code.uninstall()  # the window's classes are all defined now
    QTimer.singleShot(CODE_SAVE_MS, code.save_and_forget)  # off the start's path
    instance.set_handler(window_request_handler(parts.window))
    window = parts.window
    if args.routine:  # (the command modules are not loaded for a plain start)
        from backcoach.commands.catalog_commands import resolve_routine_and_level

        routine_id, level = resolve_routine_and_level(window.catalog, args.routine, args.level)
    window.restore_window_state()
    window.show()
    QTimer.singleShot(SCHEME_CHECK_MS, window, window.confirm_system_theme)  # see build_app
    forget_module_sources()
    gc.enable()  # off since cli.main; the objects made so far live as long as the app,
    gc.freeze()  # so later collections (pauses during a session) need not look at them

    def first_moments() -> None:
        # The safety notice comes first; a routine asked for on the command line starts
        # only once it has been read, so no hold runs behind a dialog.
        if parts.kiosk.active and not parts.kiosk.ensure_pin():  # staff set the PIN first
            print("backcoach: kiosk mode needs a staff PIN; none was set.", file=sys.stderr)
            app.exit(1)
            return
        window.show_first_run_notice()
        if args.routine:
            window.start_routine(routine_id, level)

    parts.load_voice_when_needed()
    QTimer.singleShot(0, first_moments)
    status = app.exec()
    parts.close()
    instance.release()
    return status


def _release_memory_soon(window) -> None:
    """Once the summary has been drawn, let go of the session page (rebuilt for the next
    session), then give the session's freed memory back to the system (and drop the sources
    of the modules the session loaded, see forget_module_sources)."""
    from PySide6.QtCore import QTimer

    from backcoach.memory import release_free_memory

    def release() -> None:
        from PySide6.QtGui import QPixmapCache

        QPixmapCache.clear()  # the style's pictures of the session page's buttons and frames
        forget_module_sources()
        gc.collect()  # the page's Python side: its slots and lambdas refer to it in cycles
        release_free_memory()

    def drop_page() -> None:
        window.drop_session_view()
        QTimer.singleShot(DELETE_SETTLE_MS, window, release)  # once Qt has deleted it

    QTimer.singleShot(MEMORY_SETTLE_MS, window, drop_page)


# The Qt-free modules the window's start-up uses (domain core, storage, recorder).
QT_FREE_START_MODULES = (
    "backcoach.catalog.loader",
    "backcoach.recorder",
    "backcoach.resources",
    "backcoach.session.plan",
    "backcoach.store.history",
    "backcoach.store.logs",
    "backcoach.store.paths",
    "backcoach.store.profiles",
    "backcoach.store.settings_store",
    "backcoach.store.staff",
)


def import_qt_free_modules() -> None:
    """Import the Qt-free modules start-up needs before PySide6 is imported.

    Once loaded, PySide6 looks at every module imported after it for its `__feature__`
    switch by reading the module's whole source (shibokensupport's feature_imported calls
    inspect.getsource): about 90 files at start-up, some 5 ms, and their text kept in
    linecache. Modules imported before PySide6 are never read that way.
    """
    import importlib

    for name in QT_FREE_START_MODULES:
        importlib.import_module(name)


def _pyside_feature_dict() -> dict | None:
    """PySide6's record of which modules use it (see below), or None if it has none."""
    try:
        from shibokensupport.feature import pyside_feature_dict
    except ImportError:
        return None
    return pyside_feature_dict if isinstance(pyside_feature_dict, dict) else None


def spare_pyside_the_standard_library() -> None:
    """Tell PySide6 up front that the standard library's loaded modules do not use it.

    PySide6 decides, once per module named in an import statement run after it is loaded,
    whether that module uses PySide (for its `__feature__` switches), by reading the
    module's whole source and looking for "PySide6" (shibokensupport.feature: its
    pyside_feature_dict keeps the answer, -1 for no). Our window's modules import from
    typing, logging, datetime, os, pathlib and the like: about 3 ms of reading files whose
    answer is known. This records that answer for the standard library's modules already
    loaded (none mentions PySide6), and for the top-level names of those a session loads
    later (wave, ctypes, queue...: sys.stdlib_module_names), whose sources read on the
    get-ready screen stayed in memory as scattered fragments; everything else is still
    read by PySide. If PySide's internals change, nothing is done."""
    known = _pyside_feature_dict()
    if known is None:
        return
    for name in sys.stdlib_module_names:
        known.setdefault(name, -1)
    stdlib = os.path.dirname(os.__file__) + os.sep
    for name, module in list(sys.modules.items()):
        if name in known:
            continue
        path = getattr(module, "__file__", None)
        if path is None:  # built in (sys, time, errno): no source to read
            if name in sys.builtin_module_names:
                known[name] = -1
        elif path.startswith(stdlib) and "-packages" + os.sep not in path:
            known[name] = -1


def spare_pyside_our_modules() -> None:
    """Tell PySide6 up front that our modules use it with no `__feature__` switched on.

    The same scan as above reads each of our modules named in an import statement after
    PySide6 is loaded, about 22 of them at start-up (3 ms). Its answer for a module whose
    source mentions PySide6 is 0: PySide, default features. That is what every module of
    ours runs with, since none imports `__feature__` (tests/test_pyside_scan.py checks),
    so this records 0 for all of them, by name, before they are imported. For a module
    that does not mention PySide6 the scan would record -1, "ignore this module": its
    code then runs under whichever feature set is current, which is always that same
    default. If PySide's internals change, or the modules are not files, nothing is done.
    """
    known = _pyside_feature_dict()
    if known is None:
        return
    folders = [(os.path.dirname(__file__), __package__)]
    while folders:
        folder, package = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name.endswith(".py"):
                known.setdefault(package if name == "__init__.py" else f"{package}.{name[:-3]}",
                                 0)
            elif name.isidentifier() and entry.is_dir():
                folders.append((entry.path, f"{package}.{name}"))


def forget_module_sources() -> None:
    """Drop the module sources linecache holds: PySide6's import scan (see
    import_qt_free_modules) leaves the text of each module it read there, about 1.8 MB of
    text in some 45,000 line strings at start-up. A traceback reads the files again."""
    import linecache

    linecache.clearcache()


MEMORY_SETTLE_MS = 1000
CODE_SAVE_MS = 500  # once the window is up: see dataclass_code
SCHEME_CHECK_MS = 250  # the desktop's exact colour scheme, once the window is up
DELETE_SETTLE_MS = 100


class AppParts:
    """Everything the running app is made of, so tests can build and inspect it."""

    def __init__(self, window, history, recorder, trace) -> None:
        self.window = window
        self.history = history
        self.recorder = recorder
        self.trace = trace

    voice = None  # the VoiceCoach, once start_voice has run

    def load_voice_when_needed(self) -> None:
        """Load the voice at its first use (a session starting, "Test voice", the settings
        dialog's voice list) rather than at start-up: the speech engine, the audio stack and
        their worker thread cost start-up time and some 20 MB that the home screen does not
        need. Their set-up then happens while the get-ready screen is up."""
        self.window.load_voice = self.start_voice
        self.window.session_started.connect(lambda _driver: self.start_voice())

    def start_voice(self):
        """Create the voice coach and wire it in (once); returns it."""
        if self.voice is not None:
            return self.voice
        from backcoach.voice.coach import VoiceCoach

        window = self.window
        store = window.settings_store
        coach = VoiceCoach(store.settings.voice, parent=window)
        coach.problem.connect(window.banner.show_message)
        window.session_started.connect(coach.attach)
        window.mute_toggled.connect(coach.set_muted)
        store.subscribe(lambda settings: coach.apply_settings(settings.voice))
        if self.trace is not None:
            coach.decision.connect(lambda decision: self.trace.write(decision.record()))
        window.voice_coach = coach
        self.voice = coach
        if window.driver is not None:  # the session whose start loaded the voice
            coach.attach(window.driver)
        return coach

    def close(self) -> None:
        """Release files and the database."""
        if self.voice is not None:
            self.voice.shutdown()
        if getattr(self, "kiosk", None) is not None:
            self.kiosk.idle.stop()  # drop the application-wide input filter
        if self.trace is not None:
            self.trace.close()
        if self.history is not None:
            self.history.close()


def build_app(home: Path | None = None, *, clock=None, trace: str | None = None,
              kiosk: bool = False, wall_clock=None, today=None,
              guess_system_theme: bool = False) -> AppParts:
    """Build the window and its collaborators (a QApplication must exist).

    `guess_system_theme` takes the desktop's colour scheme from its palette, for the first
    paint (the caller then has the window confirm it, see theme.palette_prefers_dark);
    `kiosk` forces kiosk mode for this run (else the stored kiosk setting decides);
    `wall_clock` (epoch seconds) times the staff PIN lock, `today` dates the kiosk counts."""
    import time
    from datetime import date

    from backcoach.catalog.loader import load_builtin_catalog
    from backcoach.recorder import HistoryRecorder
    from backcoach.store.history import History
    from backcoach.store.logs import setup_logging
    from backcoach.store.paths import resolve_paths
    from backcoach.store.profiles import ProfileStore
    from backcoach.store.settings_store import SettingsStore
    from backcoach.store.staff import load_kiosk_config
    from backcoach.ui.kiosk import install_kiosk
    from backcoach.ui.main_window import MainWindow
    from backcoach.ui.profiles import install_profiles
    from backcoach.ui.theme import palette_prefers_dark

    paths = resolve_paths(home)
    problems: list[str] = []
    try:
        paths.ensure()
        log_file = setup_logging(paths.log_dir)
        log.info("BackCoach starting; log file %s", log_file)
    except OSError as exc:
        problems.append(f"{exc} BackCoach carries on, but cannot keep logs or history.")
    kiosk_config, kiosk_problem = load_kiosk_config(paths.config_dir)
    kiosk_on = kiosk or kiosk_config.enabled
    profiles = ProfileStore(paths)  # home profiles; a kiosk always uses the default one
    profile = profiles.default if kiosk_on else profiles.active()
    problems += [p for p in (kiosk_problem, profiles.problem) if p]
    settings = SettingsStore(profile.settings_file)  # was paths.settings_file
    catalog = load_builtin_catalog((paths.data_dir,), cache_dir=paths.cache_dir)
    for bad in catalog.problems:
        problems.append(f"Skipped a routine file with a problem: {bad}")
    window = MainWindow(catalog, settings, clock or time.monotonic,
                        system_dark=palette_prefers_dark() if guess_system_theme else None)
    window.data_dir = paths.data_dir  # where user routines and exercises live
    history = None
    try:
        history = History(profile.history_db)  # was paths.history_db
        if history.problem:
            problems.append(history.problem)
    except OSError as exc:
        problems.append(f"Your history cannot be opened, so this session will not be "
                        f"saved. {exc}")
    recorder = (HistoryRecorder(history, window)  # no personal history on a gym PC
                if history is not None and not kiosk_on else None)
    trace_writer = None
    if trace:
        from backcoach.trace import TraceWriter

        trace_writer = TraceWriter(Path(trace))
        window.session_started.connect(
            lambda driver: driver.event.connect(trace_writer.engine_event))
    from backcoach.ui.settings_and_history import SettingsAndHistory

    window.session_finished.connect(lambda *_: _release_memory_soon(window))

    # A shared gym PC shows no personal history (anonymous counts are behind the staff PIN).
    window.settings_and_history = SettingsAndHistory(window, None if kiosk_on else history)
    for problem in problems:
        log.warning("%s", problem)
        window.banner.show_message(problem)
    parts = AppParts(window, history, recorder, trace_writer)
    parts.kiosk = install_kiosk(parts, paths, kiosk_config, active=kiosk_on,
                                clock=window.clock, wall_clock=wall_clock or time.time,
                                today=today or date.today)
    parts.profiles = install_profiles(parts, profiles, parts.kiosk)
    return parts
