"""The dashboard's languages: English and Simplified Chinese with Flask-Babel.

A reader's choice from the language switch (the ``pt_lang`` cookie) wins; without one,
``Accept-Language`` decides (``zh-CN``, ``zh-Hans``, ``zh`` -> Chinese); anything else
is English. The catalogs live in ``dashboard/translations`` (``make translations``
extracts, updates and compiles them; the compiled ``.mo`` files are committed so a fresh
clone and the wheel need no build step).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_babel import Babel

from page_tracker.extensions import Extension

ENGLISH = "en"
CHINESE = "zh"
LOCALES = (ENGLISH, CHINESE)
# What the switch shows: each language in its own words.
NAMES = {ENGLISH: "English", CHINESE: "中文"}
# The page's <html lang>: the catalog is Simplified Chinese.
HTML_LANG = {ENGLISH: "en", CHINESE: "zh-Hans"}
COOKIE = "pt_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
TRANSLATIONS = Path(__file__).parent / "translations"
# Flask-Babel keeps its configuration under this key itself (we only declare it).
BABEL: Extension[Any] = Extension("babel", "Flask-Babel's configuration of the app")


def select_locale() -> str:
    """The language of this request's pages."""
    chosen = request.cookies.get(COOKIE, "")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or ENGLISH


def init_i18n(app: Flask) -> None:
    """Flask-Babel with our catalogs; it installs ``_``/``gettext`` into Jinja."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.config["BABEL_DEFAULT_LOCALE"] = ENGLISH
    Babel(app, locale_selector=select_locale)
