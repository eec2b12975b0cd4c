"""BackCoach's illustrations as data: a posable figure, its pose files and an SVG renderer.

Pure Python (no Qt): `pose` turns joint angles into a 3-D skeleton, `render` draws it as
an SVG string with named colour tokens, `palette` swaps the tokens for a theme's colours
and `build` writes every `resources/illustrations/*.svg` from `resources/poses/*.toml`.
"""
