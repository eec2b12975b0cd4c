"""The app's live settings: one object holding the current values and saving each change.

A failed save (full disk, read-only folder) never loses the change in memory and never
touches the previous file; the caller gets the message to show the user.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from backcoach.store.atomic import StorageError
from backcoach.store.settings import LoadResult, Settings, load_settings, save_settings

log = logging.getLogger(__name__)


class SettingsStore:
    """Current settings plus the file they live in; listeners hear about each change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        result: LoadResult = load_settings(path)
        self.settings: Settings = result.settings
        self.load_problem: str | None = result.problem
        self._listeners: list[Callable[[Settings], None]] = []

    def subscribe(self, listener: Callable[[Settings], None]) -> None:
        """Call `listener(settings)` after every change."""
        self._listeners.append(listener)

    def update(self, **changes: object) -> str | None:
        """Change top-level fields, save, notify; returns an error message if saving failed."""
        return self.replace(dataclasses.replace(self.settings, **changes))

    def replace(self, settings: Settings) -> str | None:
        """Adopt a whole new Settings value, save it, notify listeners."""
        self.settings = settings
        problem = self.save()
        for listener in list(self._listeners):
            listener(settings)
        return problem

    def save(self) -> str | None:
        """Write the current settings atomically; a message for the user if that failed."""
        try:
            save_settings(self.path, self.settings)
        except StorageError as exc:
            log.warning("settings not saved: %s", exc)
            return f"Your settings could not be saved. {exc}"
        return None
