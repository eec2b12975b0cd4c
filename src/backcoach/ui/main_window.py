"""The main window: home, session and done pages, the menus, and every shortcut.

Each control is a QAction with its shortcut shown in a menu and reused by the on-screen
buttons, so the keyboard, the menus and the buttons can never drift apart. Session
actions are enabled only during a session, which also frees the arrow keys and Space for
the home screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

import backcoach
from backcoach.catalog.loader import Catalog
from backcoach.catalog.model import Level
from backcoach.session.plan import PlanOptions, Timeline, build_plan
from backcoach.store.settings import WindowState
from backcoach.store.settings_store import SettingsStore
from backcoach.ui.home import HomeView
from backcoach.ui.qt_names import named_action, set_by_name
from backcoach.ui.theme import palette_for, resolve_theme, style_sheet

# The session's engine, events, driver, pages and summary load with the first session (its
# get-ready time hides that), not with the home screen: see tests/test_startup_imports.py.
if TYPE_CHECKING:
    from PySide6.QtWidgets import QMessageBox

    from backcoach.session.engine import Clock
    from backcoach.session.events import Finished
    from backcoach.ui.driver import EngineDriver
    from backcoach.ui.session_view import SessionView
    from backcoach.ui.summary import SessionSummary, SummaryView

APP_TITLE = "BackCoach"
SAFETY_NOTICE = (
    "BackCoach guides general exercises for a runner's lower back. It is not medical "
    "advice and does not replace a physiotherapist or doctor.\n\n"
    "Move slowly and within comfort. Stop at once if anything hurts, feels sharp, or "
    "causes numbness or tingling, and seek advice if back pain persists.")


class Banner(QFrame):
    """A dismissible strip at the top of the window for problems the user should know."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.label = QLabel(objectName="bannerText")
        self.label.setWordWrap(True)
        set_by_name(self.label, "textInteractionFlags", "TextSelectableByMouse")
        close = QPushButton("Dismiss", objectName="bannerDismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 8, 8)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.messages: list[str] = []
        self.hide()

    def show_message(self, text: str) -> None:
        """Show `text` (several messages stack, newest last, without repeats)."""
        if text not in self.messages:
            self.messages.append(text)
        self.label.setText("\n".join(self.messages[-3:]))
        self.setAccessibleName("Notice: " + text)
        self.show()

    def hideEvent(self, event) -> None:
        """Dismissed messages are forgotten."""
        self.messages.clear()
        super().hideEvent(event)


class SafetyNotice(QDialog):
    """The first-run notice, large enough to read, with one clear way on."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("safetyNotice")
        self.setWindowTitle("Before you start")
        self.setModal(True)
        title = QLabel("Before you start")
        title.setProperty("role", "title")
        body = QLabel(SAFETY_NOTICE)
        body.setWordWrap(True)
        body.setStyleSheet("font-size: 14pt;")
        body.setMinimumWidth(520)
        ok = QPushButton("I understand", objectName="safetyOk")
        ok.setProperty("primary", True)
        ok.setMinimumSize(220, 52)
        ok.setDefault(True)
        ok.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(ok)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 28, 32, 24)
        layout.setSpacing(16)
        layout.addWidget(title)
        layout.addWidget(body)
        layout.addLayout(row)


class MainWindow(QMainWindow):
    """Home, session and done pages with the menus and shortcuts that drive them."""

    session_started = Signal(object)  # EngineDriver
    session_finished = Signal(object, object)  # SessionSummary, Finished
    summary_home_requested = Signal()  # the summary page's "Back to home"
    mute_toggled = Signal(bool)
    data_dir = None  # the user data folder (Path), set by app.build_app
    routine_editor = None  # the RoutineEditorPage, made on first use
    # Loads (once) and returns the voice coach; set by app.py, None when there is no voice.
    load_voice: Callable[[], object] | None = None
    voice_coach = None  # the VoiceCoach once loaded

    def __init__(self, catalog: Catalog, settings: SettingsStore,
                 clock: Clock = time.monotonic, *, system_dark: bool | None = None) -> None:
        """`system_dark`: the desktop's colour scheme as guessed at start-up (see
        theme.palette_prefers_dark; confirm_system_theme checks it), None to ask."""
        super().__init__()
        self.catalog = catalog
        self.settings_store = settings
        self.clock = clock
        self.driver: EngineDriver | None = None
        self.last_summary: SessionSummary | None = None
        self.last_done_segments: frozenset[int] = frozenset()
        self.leave_dialog: QMessageBox | None = None
        # Asked before quitting, leaving full screen, opening settings and the like; the
        # gym PC's kiosk mode replaces it with a staff-PIN check.
        self.gatekeeper: Callable[[str], bool] = lambda action: True
        self.setWindowTitle(APP_TITLE)
        self.setMinimumSize(760, 560)

        self._session_view: SessionView | None = None  # built for the first session
        self._summary_view: SummaryView | None = None  # built when one ends
        # The style sheet first, and the home page made inside the window: its widgets are
        # then polished once, under the style sheet, rather than once without it and again
        # with it (1-1.5 ms of start-up).
        self.apply_theme(system_dark)
        self.actions_by_name = self._make_actions()
        self.stack = QStackedWidget()
        self.banner = Banner()
        central = QWidget(objectName="page")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        level = Level(settings.settings.default_level)
        self.home = HomeView(catalog, level, self.plan_options(), self.stack,
                             selected_id=settings.settings.last_routine)
        self.stack.addWidget(self.home)
        self._make_menus()

        self.home.start_requested.connect(self.start_routine)
        self.home.level_changed.connect(
            lambda lv: self._report(self.settings_store.update(default_level=lv.value)))
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_color_scheme_changed)
        self.go_home()
        if settings.load_problem:
            self.banner.show_message(settings.load_problem)

    @property
    def session_view(self) -> SessionView:
        """The follow-along page, built on first use: the home screen does not need its
        illustration, painted widgets and their imports at start-up."""
        if self._session_view is None:
            from backcoach.ui import session_view as page

            self._session_view = page.SessionView(self.actions_by_name)
            self.stack.addWidget(self._session_view)
            self._session_view.set_theme(self.theme)
        return self._session_view

    def drop_session_view(self) -> None:
        """Let go of the follow-along page between sessions (the next session builds it
        again, behind its get-ready time): its widgets and their Python side are about 1 MB
        that a window left on the summary or home screen would otherwise keep."""
        view = self._session_view
        if view is None or self.driver is not None:
            return
        self._session_view = None
        self.stack.removeWidget(view)
        view.deleteLater()

    @property
    def summary_view(self) -> SummaryView:
        """The "well done" page, built when the first session ends."""
        if self._summary_view is None:
            from backcoach.ui.summary import SummaryView

            self._summary_view = SummaryView()
            self.stack.addWidget(self._summary_view)
            self._summary_view.home_requested.connect(self.go_home)
            self._summary_view.home_requested.connect(self.summary_home_requested)
        return self._summary_view

    def showing_summary(self) -> bool:
        """Whether the summary page is the one shown (without building it)."""
        return self._summary_view is not None and \
            self.stack.currentWidget() is self._summary_view

    def clear_summary(self) -> None:
        """Forget what the summary page shows (a kiosk's next member must not see it)."""
        if self._summary_view is not None:
            self._summary_view.clear()

    # -- actions and menus -----------------------------------------------------------
    def _action(self, name: str, text: str, keys: list[str], slot: Callable[[], None],
                checkable: bool = False) -> QAction:
        action = named_action(self, name, text)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden (fullscreen)
        return action

    def _make_actions(self) -> dict[str, QAction]:
        a = {
            "pause": self._action("pause", "Pause", ["Space"], self.toggle_pause),
            "next": self._action("next", "Next step", ["Right"], lambda: self._drive("next")),
            "previous": self._action("previous", "Previous step", ["Left"],
                                     lambda: self._drive("previous")),
            "restart": self._action("restart", "Restart step", ["R"],
                                    lambda: self._drive("restart_step")),
            "leave": self._action("leave", "Leave session", ["Esc"], self.confirm_leave),
            "mute": self._action("mute", "Mute voice", ["M"], self._on_mute, checkable=True),
            "test_voice": self._action("test_voice", "Test voice", [], self._test_voice),
            "fullscreen": self._action("fullscreen", "Full screen", ["F11", "F"],
                                       self.toggle_fullscreen, checkable=True),
            "high_contrast": self._action("high_contrast", "High contrast", ["Ctrl+Shift+H"],
                                          self._on_high_contrast, checkable=True),
            "safety": self._action("safety", "Safety notice", [], self.show_safety_notice),
            "about": self._action("about", "About BackCoach", [], self.show_about),
            "quit": self._action("quit", "Quit", ["Ctrl+Q"], self.close),
            "edit_routines": self._action("edit_routines", "Edit routines…", ["Ctrl+E"],
                                          self.open_routine_editor),
        }
        for name, label in (("pause", "Pause or resume"), ("next", "Next step"),
                            ("previous", "Previous step"), ("restart", "Restart this step"),
                            ("leave", "Leave the session"), ("mute", "Mute the voice")):
            a[name].setToolTip(f"{label} ({a[name].shortcut().toString()})")
        a["high_contrast"].setChecked(self.settings_store.settings.theme == "high-contrast")
        return a

    def _make_menus(self) -> None:
        a = self.actions_by_name
        bar = self.menuBar()
        file_menu = self.file_menu = bar.addMenu("&File")  # profiles/kiosk actions join it
        file_menu.addAction(a["quit"])
        session = bar.addMenu("&Session")
        for name in ("pause", "next", "previous", "restart"):
            session.addAction(a[name])
        session.addSeparator()
        session.addAction(a["leave"])
        view = self.view_menu = bar.addMenu("&View")
        view.addAction(a["fullscreen"])
        view.addAction(a["high_contrast"])
        voice = self.voice_menu = bar.addMenu("V&oice")
        voice.addAction(a["mute"])
        voice.addAction(a["test_voice"])
        routines_menu = bar.addMenu("&Routines")
        routines_menu.addAction(a["edit_routines"])
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(a["safety"])
        help_menu.addAction(a["about"])
        self._set_session_actions(False)

    def _set_session_actions(self, enabled: bool) -> None:
        for name in ("pause", "next", "previous", "restart", "leave"):
            self.actions_by_name[name].setEnabled(enabled)

    def _report(self, problem: str | None) -> None:
        if problem:
            self.banner.show_message(problem)

    # -- pages -----------------------------------------------------------------------
    def plan_options(self) -> PlanOptions:
        """Get-ready and switch lengths from the settings."""
        s = self.settings_store.settings
        voice = s.voice
        spoken = voice.enabled and (voice.cues.announce or voice.cues.caution)
        return PlanOptions(get_ready=float(s.get_ready_seconds),
                           switch_gap=float(s.switch_gap_seconds),
                           speech_wpm=float(voice.rate) if spoken else None)

    def go_home(self) -> None:
        """Show the home screen, ready for the keyboard."""
        self.stack.setCurrentWidget(self.home)
        self.setWindowTitle(APP_TITLE)
        self._set_session_actions(False)
        self.home.setFocus()

    def open_routine_editor(self) -> None:
        """Ctrl+E: the routine editor as a page (staff only in kiosk mode)."""
        if self.driver is not None or not self.gatekeeper("editor"):
            return
        from backcoach.store.paths import resolve_paths
        from backcoach.ui.editor import RoutineEditorPage

        if self.routine_editor is None:
            data_dir = self.data_dir or resolve_paths().data_dir
            self.routine_editor = RoutineEditorPage(self.catalog, data_dir, self.theme)
            self.stack.addWidget(self.routine_editor)
            self.routine_editor.catalog_changed.connect(self._on_catalog_changed)
            self.routine_editor.back_requested.connect(self.go_home)
        self.routine_editor.set_theme(self.theme)
        self.routine_editor.set_plan_options(self.plan_options())
        self.routine_editor.set_catalog(self.catalog)
        self.stack.setCurrentWidget(self.routine_editor)
        self.setWindowTitle(f"{APP_TITLE} — Routines")
        self.routine_editor.setFocus()

    def _on_catalog_changed(self) -> None:
        """The editor saved, deleted or imported: reload the catalogue and the home cards."""
        from backcoach.catalog.loader import load_builtin_catalog
        from backcoach.store.paths import resolve_paths

        self.catalog = load_builtin_catalog((self.data_dir or resolve_paths().data_dir,))
        self.home.set_catalog(self.catalog)

    def start_routine(self, routine_id: str, level: Level) -> None:
        """Plan the routine and start following it."""
        if self.driver is not None:
            self._end_driver()
        routine = self.catalog.routines[routine_id]
        timeline = build_plan(routine, self.catalog.exercises, level, self.plan_options())
        self._report(self.settings_store.update(last_routine=routine_id))
        self.start_timeline(timeline)

    def start_timeline(self, timeline: Timeline) -> None:
        """Follow an already planned timeline."""
        from backcoach.ui.driver import EngineDriver

        driver = EngineDriver(timeline, self.clock, parent=self)
        self.driver = driver
        driver.finished.connect(self._on_finished)
        driver.state_changed.connect(self._on_state_changed)
        self.session_view.bind(driver)
        self.stack.setCurrentWidget(self.session_view)
        self.setWindowTitle(f"{APP_TITLE} — {timeline.routine_name}")
        self._set_session_actions(True)
        self.session_started.emit(driver)
        driver.start()
        self.session_view.setFocus()

    def _drive(self, method: str) -> None:
        if self.driver is not None:
            getattr(self.driver, method)()

    def toggle_pause(self) -> None:
        """Space: pause or resume."""
        self._drive("toggle_pause")

    def _on_state_changed(self, event) -> None:
        from backcoach.session.events import State

        paused = event.new is State.PAUSED
        self.actions_by_name["pause"].setText("Resume" if paused else "Pause")

    def _on_finished(self, event: Finished) -> None:
        from backcoach.ui.summary import summarise

        driver = self.driver
        if driver is None:
            return
        engine = driver.engine
        done = set(engine.done_segments)
        active = sum(engine.timeline.segments[i].duration for i in done)
        summary = summarise(engine.timeline, done, event.completed, active)
        self.last_summary = summary
        self.last_done_segments = frozenset(done)
        self._end_driver()
        self.summary_view.show_summary(summary)
        self.stack.setCurrentWidget(self.summary_view)
        self.setWindowTitle(APP_TITLE)
        self._set_session_actions(False)
        self.summary_view.setFocus()
        self.session_finished.emit(summary, event)

    def _end_driver(self) -> None:
        if self.driver is None:
            return
        if self._session_view is not None:
            self._session_view.unbind()
        from backcoach.session.events import State

        if self.driver.engine.state is not State.FINISHED:
            self.driver.finished.disconnect(self._on_finished)
            self.driver.stop()
        self.driver.deleteLater()
        self.driver = None

    def discard_session(self) -> None:
        """Stop any session without a summary, forget the last one, go home (kiosk reset)."""
        self._end_driver()
        self.last_summary = None
        self.last_done_segments = frozenset()
        self.go_home()

    def confirm_leave(self) -> None:
        """Esc: ask before leaving; the session waits, paused, while the question is open."""
        if self.driver is None:
            return
        from PySide6.QtWidgets import QMessageBox

        from backcoach.session.events import State

        was_running = self.driver.engine.state is State.RUNNING
        self.driver.pause("confirm-leave")
        box = QMessageBox(QMessageBox.Icon.Question, "Leave this session?",
                          "Leave this session? What you have done so far is kept.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setObjectName("leaveDialog")
        box.button(QMessageBox.StandardButton.Yes).setText("Leave")
        box.button(QMessageBox.StandardButton.No).setText("Keep going")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        self.leave_dialog = box
        box.exec()
        clicked = box.clickedButton()
        leave = clicked is not None and \
            box.standardButton(clicked) == QMessageBox.StandardButton.Yes
        self.leave_dialog = None
        if self.driver is None:
            return
        if leave:
            self.driver.stop()
        elif was_running:
            self.driver.resume()

    # -- view ------------------------------------------------------------------------
    def toggle_fullscreen(self) -> None:
        """F11 or F: full screen on and off (remembered)."""
        if self.isFullScreen():
            if not self.gatekeeper("leave-fullscreen"):
                self.actions_by_name["fullscreen"].setChecked(True)
                return
            self.showNormal()
        else:
            self.showFullScreen()
        self.actions_by_name["fullscreen"].setChecked(self.isFullScreen())

    def _test_voice(self) -> None:
        if self.load_voice is not None:
            self.load_voice().test_voice()

    def _on_mute(self) -> None:
        self.mute_toggled.emit(self.actions_by_name["mute"].isChecked())

    def _on_high_contrast(self) -> None:
        on = self.actions_by_name["high_contrast"].isChecked()
        self._report(self.settings_store.update(theme="high-contrast" if on else "system"))
        self.apply_theme()

    def apply_theme(self, system_dark: bool | None = None) -> None:
        """Apply the theme from the settings (system follows the desktop, or `system_dark`
        when given)."""
        theme = resolve_theme(self.settings_store.settings.theme, system_dark)
        self.theme = theme
        app = QApplication.instance()
        if app is not None:
            app.setPalette(palette_for(theme))
        self.setStyleSheet(style_sheet(theme))
        if self._session_view is not None:
            self._session_view.set_theme(theme)

    @Slot()
    def _on_color_scheme_changed(self) -> None:
        """Follow the desktop when it switches between light and dark (Qt's own signal for
        it, rather than checking every palette change the window receives)."""
        self.confirm_system_theme()

    def confirm_system_theme(self) -> None:
        """On the "system" theme, switch if the desktop's exact colour scheme is not the
        one shown (a start-up guess, or a change on the desktop)."""
        if self.settings_store.settings.theme == "system":
            current = resolve_theme("system")
            if current.name != getattr(self, "theme", current).name:
                QTimer.singleShot(0, self, self.apply_theme)  # dropped if the window goes

    # -- dialogs ---------------------------------------------------------------------
    def show_safety_notice(self) -> None:
        """The short notice: not medical advice, stop if it hurts."""
        SafetyNotice(self).exec()

    def show_first_run_notice(self) -> None:
        """Show the safety notice once, the first time the app opens."""
        if not self.settings_store.settings.first_run_notice_seen:
            self.show_safety_notice()
            self._report(self.settings_store.update(first_run_notice_seen=True))

    def show_about(self) -> None:
        """Version and a word on what the app is."""
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.about(self, "About BackCoach",
                          f"BackCoach {backcoach.__version__}\n\nA coach for lower-back strength and "
                          "mobility routines for runners.\n\n" + SAFETY_NOTICE)

    # -- window state ----------------------------------------------------------------
    def restore_window_state(self) -> None:
        """Size, position and full screen as they were last time."""
        state = self.settings_store.settings.window
        if state.geometry:
            from PySide6.QtCore import QByteArray  # here: a first start has none to restore

            self.restoreGeometry(QByteArray.fromBase64(state.geometry.encode("ascii")))
        else:
            # First run: most of the screen, since the user reads it from the floor.
            screen = self.screen().availableGeometry()
            self.resize(max(self.minimumWidth(), int(screen.width() * 0.9)),
                        max(self.minimumHeight(), int(screen.height() * 0.9)))
            self.move(screen.center() - self.rect().center())
        if state.fullscreen:
            self.showFullScreen()
            self.actions_by_name["fullscreen"].setChecked(True)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Remember the window, end a running session, then close."""
        if not self.gatekeeper("quit"):
            event.ignore()
            return
        if self.driver is not None:
            self.driver.stop()
        geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        self._report(self.settings_store.update(
            window=WindowState(geometry=geometry, fullscreen=self.isFullScreen())))
        event.accept()
