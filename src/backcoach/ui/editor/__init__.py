"""The routine editor: build and change routines and custom exercises, import and export them.

`RoutineEditorPage` is the page the main window shows (Routines > Edit routines…, Ctrl+E).
"""

from backcoach.ui.editor.editor_page import RoutineEditorPage

__all__ = ["RoutineEditorPage"]
