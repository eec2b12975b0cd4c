"""Choose exercises from the catalogue: a search box, focus and posture filters, thumbnails.

Enter or a double click adds the highlighted exercise (`exercise_chosen`); so does the
Add button. The search matches the name, the summary and the id.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backcoach.catalog.loader import Catalog
from backcoach.catalog.model import FOCUSES, POSTURES, Exercise
from backcoach.ui.editor.common import combo, select_data
from backcoach.ui.illustration import thumbnail

THUMB = 72
ALL = ""


def exercise_icon(exercise: Exercise, theme: str, size: int = THUMB) -> QIcon:
    """The exercise's first position as a small picture (an empty icon if it cannot be drawn)."""
    try:
        return QIcon(thumbnail(exercise, exercise.first_position.id, size, theme))
    except (OSError, ValueError, KeyError):
        return QIcon()


def matches(exercise: Exercise, text: str, focus: str, posture: str) -> bool:
    """Whether the exercise passes the search text and both filters."""
    if focus and exercise.focus != focus:
        return False
    if posture and exercise.posture != posture:
        return False
    words = text.lower().split()
    haystack = f"{exercise.name} {exercise.summary} {exercise.id}".lower()
    return all(word in haystack for word in words)


class _PickList(QListWidget):
    """The results; Enter adds the current one."""

    enter_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter or Return: add."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.enter_pressed.emit()
            return
        super().keyPressEvent(event)


class CataloguePicker(QWidget):
    """The catalogue with a search box and filters; emits `exercise_chosen(id)`."""

    exercise_chosen = Signal(str)

    def __init__(self, catalog: Catalog, theme: str = "light", own_ids: frozenset[str] = frozenset(),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cataloguePicker")
        self._theme = theme
        self._icons: dict[tuple[str, str], QIcon] = {}
        self.search = QLineEdit(objectName="pickerSearch")
        self.search.setPlaceholderText("Search exercises")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search exercises")
        self.focus_filter = combo("pickerFocus", "Filter by focus",
                                  [("Any focus", ALL), *((f.capitalize(), f) for f in FOCUSES)])
        self.posture_filter = combo("pickerPosture", "Filter by posture",
                                    [("Any posture", ALL), *((p.capitalize(), p) for p in POSTURES)])
        self.results = _PickList(objectName="pickerResults")
        self.results.setIconSize(QSize(THUMB, round(THUMB * 2 / 3)))
        self.results.setAccessibleName("Exercises in the catalogue")
        self.results.setUniformItemSizes(True)
        self.results.setWordWrap(True)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setSpacing(2)
        self.count = QLabel()
        self.count.setProperty("role", "muted")
        self.add_button = QPushButton("Add to routine", objectName="pickerAdd")
        self.add_button.setToolTip("Add the highlighted exercise at the end (Enter)")

        filters = QHBoxLayout()
        filters.addWidget(self.focus_filter, 1)
        filters.addWidget(self.posture_filter, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count, 1)
        bottom.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.search)
        layout.addLayout(filters)
        layout.addWidget(self.results, 1)
        layout.addLayout(bottom)

        self.search.textChanged.connect(self.apply_filters)
        self.search.returnPressed.connect(self._search_enter)
        self.focus_filter.currentIndexChanged.connect(self.apply_filters)
        self.posture_filter.currentIndexChanged.connect(self.apply_filters)
        self.results.itemActivated.connect(lambda item: self._choose(item))
        self.results.enter_pressed.connect(lambda: self._choose(self.results.currentItem()))
        self.add_button.clicked.connect(lambda: self._choose(self.results.currentItem()))
        self.set_catalog(catalog, own_ids)

    # -- content ---------------------------------------------------------------------
    def set_catalog(self, catalog: Catalog, own_ids: frozenset[str] = frozenset()) -> None:
        """List every exercise, sorted by name; the user's own are marked."""
        current = self.current_id()
        self.results.clear()
        for exercise in sorted(catalog.exercises.values(), key=lambda e: e.name.lower()):
            mine = "  · yours" if exercise.id in own_ids else ""
            sides = "each side" if exercise.sides.value == "each" else "both sides"
            item = QListWidgetItem(f"{exercise.name}{mine}\n{exercise.focus} · {exercise.posture}")
            item.setData(Qt.ItemDataRole.UserRole, exercise.id)
            item.setData(Qt.ItemDataRole.UserRole + 1, exercise)
            item.setIcon(self._icon(exercise))
            item.setToolTip(exercise.summary)
            item.setData(Qt.ItemDataRole.AccessibleTextRole,
                         f"{exercise.name}, {exercise.focus}, {exercise.posture}, {sides}")
            self.results.addItem(item)
        self.apply_filters()
        self.select_id(current)

    def set_theme(self, theme: str) -> None:
        """Redraw the thumbnails in the theme's colours."""
        if theme == self._theme:
            return
        self._theme = theme
        for row in range(self.results.count()):
            item = self.results.item(row)
            item.setIcon(self._icon(item.data(Qt.ItemDataRole.UserRole + 1)))

    def _icon(self, exercise: Exercise) -> QIcon:
        key = (exercise.id + exercise.first_position.illustration, self._theme)
        if key not in self._icons:
            self._icons[key] = exercise_icon(exercise, self._theme)
        return self._icons[key]

    # -- filtering -------------------------------------------------------------------
    def apply_filters(self) -> None:
        """Hide what does not match; keep a visible row highlighted."""
        text = self.search.text()
        focus = self.focus_filter.currentData()
        posture = self.posture_filter.currentData()
        shown = 0
        for row in range(self.results.count()):
            item = self.results.item(row)
            ok = matches(item.data(Qt.ItemDataRole.UserRole + 1), text, focus, posture)
            item.setHidden(not ok)
            shown += ok
        self.count.setText(f"{shown} exercise{'s' if shown != 1 else ''}")
        current = self.results.currentItem()
        if current is None or current.isHidden():
            first = self.visible_ids()
            self.select_id(first[0] if first else None)
        self.add_button.setEnabled(shown > 0)

    def set_filters(self, text: str = "", focus: str = ALL, posture: str = ALL) -> None:
        """Set the search text and both filters at once."""
        self.search.setText(text)
        select_data(self.focus_filter, focus)
        select_data(self.posture_filter, posture)
        self.apply_filters()

    def visible_ids(self) -> list[str]:
        """Ids of the exercises shown, in order."""
        return [self.results.item(r).data(Qt.ItemDataRole.UserRole)
                for r in range(self.results.count()) if not self.results.item(r).isHidden()]

    def current_id(self) -> str | None:
        """The highlighted exercise."""
        item = self.results.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def select_id(self, exercise_id: str | None) -> None:
        """Highlight an exercise (if shown)."""
        for row in range(self.results.count()):
            item = self.results.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == exercise_id and not item.isHidden():
                self.results.setCurrentItem(item)
                return
        self.results.setCurrentItem(None)

    def _search_enter(self) -> None:
        """Enter in the search box adds the first match when there is exactly one."""
        shown = self.visible_ids()
        if len(shown) == 1:
            self.exercise_chosen.emit(shown[0])
        elif shown:
            self.results.setFocus()

    def _choose(self, item: QListWidgetItem | None) -> None:
        if item is not None and not item.isHidden():
            self.exercise_chosen.emit(item.data(Qt.ItemDataRole.UserRole))
