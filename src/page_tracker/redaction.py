"""Secrets never reach a log line or an error message: :func:`redact` and the logging
filter :class:`RedactSecretsFilter` built on it.

Exception texts of the clients we use carry the arguments of the command that failed:
redis-py writes a failed pipeline command whole (``Command # 1 (SET pt:salt:DAY <the
salt> NX EX 172800) of pipeline caused error: ...``), SQLAlchemy appends the statement's
``[parameters: ...]`` and the databases quote the offending values (``Duplicate entry
'...'``, ``DETAIL: Key (...)=(...)``); a connection error may name a URL with its
password. :func:`redact` replaces each of those arguments with ``<redacted>`` and keeps
the rest (the command name, the error), which is what an operator needs. It works on
patterns, not on a list of known secrets, so it also covers a salt created a second ago.

:func:`page_tracker.logs.load_logging_config` adds the filter to every handler of the
logging configuration (the packaged one or an operator's ``LOG_CONFIG``), and the
engine hides SQL parameters from its exceptions in the first place
(``hide_parameters``, :func:`page_tracker.db.make_engine`).
"""

from __future__ import annotations

import logging
import re

REDACTED = "<redacted>"

# (pattern, replacement); DOTALL: a salt's bytes may contain line breaks.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # redis-py: "Command # 3 (SET key value NX) of pipeline caused error: ..."; keep the
    # command's name.
    (
        re.compile(r"(Command # \d+ \(\s*[A-Za-z.]+)\b.*?(\) of pipeline caused error)", re.S),
        rf"\1 {REDACTED}\2",
    ),
    # SQLAlchemy: "[parameters: (...)]" up to the end of that line (or of the text).
    (re.compile(r"\[parameters: .*?\](?=\s*(?:\n|\(Background on this error|$))", re.S), ""),
    # MySQL/MariaDB: "Duplicate entry 'value' for key ..."
    (re.compile(r"(Duplicate entry ')(.*?)(' for key)", re.S), rf"\1{REDACTED}\3"),
    # PostgreSQL: "DETAIL:  Key (salt)=(\x...) already exists."
    (
        re.compile(r"(Key \([^)]*\)=\().*?(\)(?: already exists| is not present|\.|\s*$))", re.S),
        rf"\1{REDACTED}\2",
    ),
    # URLs with a password: scheme://user:password@host
    (re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@"), rf"\1{REDACTED}@"),
)
# Cheap markers: a text without any of them is returned as it is (most log lines).
_MARKERS = ("Command # ", "[parameters: ", "Duplicate entry", "Key (", "://")


def redact(text: str) -> str:
    """``text`` with command arguments, SQL parameters, quoted key values and URL
    passwords replaced by ``<redacted>``."""
    if not any(marker in text for marker in _MARKERS):
        return text
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Redacts a record's message and its exception text (:func:`redact`) before any
    handler formats it; never drops a record."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
