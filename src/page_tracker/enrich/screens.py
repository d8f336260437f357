"""Screen size classes from the ``WxH`` string that the tracking script reports."""

from __future__ import annotations

import re

_SCREEN = re.compile(r"\s*(\d{1,5})\s*[x\u00d7*]\s*(\d{1,5})\s*", re.IGNORECASE)

# Upper width bounds (exclusive, CSS pixels) and the class below each bound.
_CLASSES: tuple[tuple[int, str], ...] = (
    (600, "phone"),
    (1024, "tablet"),
    (1440, "laptop"),
    (2560, "desktop"),
)


def screen_class(screen: str | None) -> str | None:
    """Classify a screen by its width: "phone" (< 600), "tablet" (< 1024), "laptop"
    (< 1440), "desktop" (< 2560) or "large"; ``None`` when absent or malformed
    (not ``WxH`` with positive integer sides)."""
    if not screen:
        return None
    match = _SCREEN.fullmatch(screen)
    if match is None:
        return None
    width, height = int(match[1]), int(match[2])
    if width <= 0 or height <= 0:
        return None
    for bound, name in _CLASSES:
        if width < bound:
            return name
    return "large"
