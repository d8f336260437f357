"""Secrets in exception texts are redacted before they reach a log line or the CLI."""

from __future__ import annotations

import logging
import sys

import pytest

from page_tracker.redaction import REDACTED, RedactSecretsFilter, redact

SALT = "\ufffd\u0003k9 ) of pipeline\nX\ufffdsecret-salt-bytes"
REDIS_PIPELINE = (
    f"Command # 1 (SET pt:salt:2026-12-01 {SALT} NX EX 172800) of pipeline caused error: "
    "command not allowed when used memory > 'maxmemory'."
)
SQLALCHEMY = (
    "(sqlite3.IntegrityError) UNIQUE constraint failed: tracking_salts.day\n"
    "[SQL: INSERT INTO tracking_salts (day, salt) VALUES (?, ?)]\n"
    "[parameters: ('2026-12-01', b'secret-salt-bytes]\\n')]\n"
    "(Background on this error at: https://sqlalche.me/e/20/gkpj)"
)
MARIADB = "(1062, \"Duplicate entry 'secret-batch' for key 'PRIMARY'\")"
POSTGRES = (
    'duplicate key value violates unique constraint "pk_tracking_flushed_batches"\n'
    "DETAIL:  Key (batch_id)=(secret-batch) already exists."
)
URL = "cannot connect to redis://default:secret-password@redis:6379/0 (refused)"


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        (REDIS_PIPELINE, "secret-salt-bytes", "Command # 1 (SET <redacted>) of pipeline caused"),
        (REDIS_PIPELINE, "pt:salt:2026-12-01", "used memory > 'maxmemory'"),
        (SQLALCHEMY, "secret-salt-bytes", "[SQL: INSERT INTO tracking_salts (day, salt)"),
        (MARIADB, "secret-batch", "Duplicate entry '<redacted>' for key 'PRIMARY'"),
        (POSTGRES, "secret-batch", "Key (batch_id)=(<redacted>) already exists."),
        (URL, "secret-password", "redis://default:<redacted>@redis:6379/0 (refused)"),
    ],
)
def test_should_redact_the_secret_and_keep_what_the_operator_needs(
    text: str, secret: str, kept: str
) -> None:
    clean = redact(text)
    assert secret not in clean
    assert kept in clean


def test_should_leave_ordinary_text_alone() -> None:
    line = "flushed 40 hits (3 batches, 0 already counted) from https://example.com/"
    assert redact(line) == line


def test_should_redact_message_arguments_and_the_traceback_of_a_record() -> None:
    try:
        raise RuntimeError(REDIS_PIPELINE)
    except RuntimeError as error:
        record = logging.LogRecord(
            "page_tracker.test",
            logging.ERROR,
            __file__,
            1,
            "hit not stored: %s",
            (str(error),),
            sys.exc_info(),
        )
    assert RedactSecretsFilter().filter(record)
    assert "secret-salt-bytes" not in record.getMessage()
    assert REDACTED in record.getMessage()
    assert record.exc_text is not None
    assert "secret-salt-bytes" not in record.exc_text
    assert "RuntimeError" in record.exc_text
