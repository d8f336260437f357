"""A sparkline as the ``points`` of an SVG polyline, drawn by the server (no script, no
request per site): x from 0 to :data:`WIDTH`, the largest value at the top."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

WIDTH: Final = 120
HEIGHT: Final = 28
PAD: Final = 2  # keeps the line's stroke inside the box


def points(values: Sequence[int]) -> str:
    if not values:
        return ""
    top = max(values) or 1
    step = WIDTH / max(len(values) - 1, 1)
    usable = HEIGHT - 2 * PAD
    return " ".join(
        f"{round(i * step, 1):g},{round(HEIGHT - PAD - value * usable / top, 1):g}"
        for i, value in enumerate(values)
    )
