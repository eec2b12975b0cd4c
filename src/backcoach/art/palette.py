"""Named colour tokens in the generated SVGs, and the colours each theme gives them.

The SVG files never hold real colours: each colour is a sentinel such as `#c0de03` that
stands for a role (the body, the highlighted part...). `apply_theme` swaps the sentinels for
a theme's colours as the app loads a file, so one file serves the light, dark and
high-contrast themes.
"""

from __future__ import annotations

import re

# role -> sentinel colour written in the SVG files
TOKENS: dict[str, str] = {
    "background": "#c0de01",
    "mat": "#c0de02",
    "mat-edge": "#c0de03",
    "body": "#c0de04",
    "body-far": "#c0de05",
    "accent": "#c0de06",
    "accent-far": "#c0de07",
    "prop": "#c0de08",
}
SENTINEL = re.compile(r"#c0de0[0-9a-f]", re.IGNORECASE)

THEMES: dict[str, dict[str, str]] = {
    "light": {
        "background": "#f6f3ec",
        "mat": "#bfe0d8",
        "mat-edge": "#8fc3b7",
        "body": "#2c3a4f",
        "body-far": "#8e9aab",
        "accent": "#e8642a",
        "accent-far": "#f3a77f",
        "prop": "#7a56c2",
    },
    "dark": {
        "background": "#1d2228",
        "mat": "#365e5a",
        "mat-edge": "#4b7a74",
        "body": "#e9edf2",
        "body-far": "#7d8896",
        "accent": "#ff8a4c",
        "accent-far": "#a65a35",
        "prop": "#b89cf5",
    },
    "high-contrast": {
        "background": "#000000",
        "mat": "#3a3a3a",
        "mat-edge": "#8a8a8a",
        "body": "#ffffff",
        "body-far": "#a8a8a8",
        "accent": "#ffd400",
        "accent-far": "#b89a00",
        "prop": "#00e5ff",
    },
}
THEME_NAMES = tuple(THEMES)


def apply_theme(svg: str, theme: str) -> str:
    """The SVG text with every colour token replaced by the theme's colour.

    Raises KeyError for an unknown theme; a sentinel without a role is left as the body
    colour so that nothing is ever drawn in a sentinel colour.
    """
    colours = THEMES[theme]
    by_sentinel = {TOKENS[role].lower(): colour for role, colour in colours.items()}
    return SENTINEL.sub(lambda m: by_sentinel.get(m.group(0).lower(), colours["body"]), svg)
