"""The dashboard's catalogs are complete and compiled: every text the templates and the
dashboard's code mark (extracted as ``make translations`` does, from babel.cfg) has a
Chinese translation with the same placeholders, and the committed ``.mo`` holds exactly
the ``.po`` (a fresh clone and the wheel use it as it is)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from page_tracker.dashboard.i18n import LOCALES, TRANSLATIONS

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{\w+\}")


def _marked() -> set[str]:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
    return {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords
        )
    }


@pytest.mark.parametrize("locale", [locale for locale in LOCALES if locale != "en"])
def test_should_translate_every_marked_text(locale: str) -> None:
    marked = _marked()
    assert len(marked) > 100  # the extraction found the templates
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=locale)
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(marked - set(translated))
    assert missing == [], "run `make translations` and translate these"
    for source in marked:
        assert sorted(PLACEHOLDER.findall(translated[source])) == sorted(
            PLACEHOLDER.findall(source)
        ), source


@pytest.mark.parametrize("locale", [locale for locale in LOCALES if locale != "en"])
def test_should_ship_the_compiled_catalog_of_the_po(locale: str) -> None:
    folder = TRANSLATIONS / locale / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as po, (folder / "messages.mo").open("rb") as mo:
        source, compiled = read_po(po, locale=locale), read_mo(mo)
    wanted = {m.id: m.string for m in source if m.id and m.string and not m.fuzzy}
    shipped = {m.id: m.string for m in compiled if m.id}
    assert shipped == wanted, "run `make translations` (it compiles the .mo) and commit it"
