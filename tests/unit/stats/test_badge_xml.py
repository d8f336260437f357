"""The badge is well-formed XML for any label: every Unicode code point, and random mixes
of the awkward ones (control characters, surrogates, non-characters, markup)."""

from __future__ import annotations

import random
import sys
from xml.etree import ElementTree as ET

from page_tracker.stats.public_counters import MAX_LABEL, render_badge

AWKWARD = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))] + [
    "\ud800",
    "\udfff",
    "\ufffe",
    "\uffff",
    "\U0010ffff",
    "<",
    "&",
    '"',
    "'",
    "]]>",
    "\u202e",
    "é",
]
SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def parsed_texts(label: str) -> list[str]:
    root = ET.fromstring(render_badge(label, "1,234"))  # noqa: S314
    return ["".join(text.itertext()) for text in root.iter(SVG_TEXT)]


def test_should_be_well_formed_for_every_code_point() -> None:
    # Every code point once, 512 at a time (about 2 200 badges).
    for start in range(0, sys.maxunicode + 1, 512):
        label = "".join(map(chr, range(start, min(start + 512, sys.maxunicode + 1))))
        parsed_texts(label)


def test_should_be_well_formed_for_random_mixes_of_awkward_characters() -> None:
    chance = random.Random(8)
    for _ in range(3000):
        label = "".join(chance.choice(AWKWARD) for _ in range(chance.randint(0, MAX_LABEL)))
        texts = parsed_texts(label)
        assert texts[1] == "1,234"


def test_should_keep_printable_text_and_drop_control_characters() -> None:
    assert parsed_texts("a\x01b<&>\u202e") == ["ab<&>\u202e", "1,234"]
