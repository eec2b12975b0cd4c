"""House rules that a reviewer would otherwise have to check by eye."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_every_test_says_what_it_proves() -> None:
    """Each test function has a one-line docstring (the handbook's rule)."""
    missing = []
    for path in sorted(TESTS.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and \
                    node.name.startswith("test_"):
                doc = ast.get_docstring(node)
                if not doc or "\n" in doc.strip():
                    missing.append(f"{path.name}::{node.name}")
    assert missing == []
