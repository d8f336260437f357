"""Text from readers, made safe for an operator's terminal.

Paths, titles, hosts and error messages come from the web: printed raw, an ESC or OSC
sequence in a page path could move the cursor, rewrite the screen, set the window title
or plant a clickable link in the operator's terminal. :func:`terminal_safe` writes every
control character (C0, DEL, C1), every bidirectional or invisible format character and
every lone surrogate as a visible Python escape (``\\x1b``, ``\\u202e``); the rest of the
text is unchanged.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Cc: C0, DEL and C1 controls; Cf: format characters (bidi overrides, zero-width
# joiners); Cs: lone surrogates, which a terminal's encoder cannot write.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


@lru_cache(maxsize=1024)
def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def terminal_safe(text: str) -> str:
    """``text`` with every control, format and surrogate character escaped."""
    if text.isprintable():  # the common case: nothing to escape (and fast)
        return text
    return "".join(
        char.encode("unicode_escape").decode("ascii") if _unsafe(char) else char for char in text
    )
