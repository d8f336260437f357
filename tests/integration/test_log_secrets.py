"""No secret in the logs: each failure path whose exception text carries a secret is
forced for real (a full Redis refusing the salt write, database errors quoting their
parameters and keys) and the log files of the packaged logging configuration are read
back."""

from __future__ import annotations

import json
import logging
import logging.config
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, create_engine, insert
from sqlalchemy.exc import SQLAlchemyError

from page_tracker import create_app
from page_tracker.app import close_app
from page_tracker.buffer.models import FlushedBatch
from page_tracker.db import get_session, make_engine
from page_tracker.ingest.salts import DatabaseSaltStore
from page_tracker.logs import configure_logging
from page_tracker.settings import load_settings
from page_tracker.sites.services import create_site
from tests.services import RedisServer, fill_redis

log = logging.getLogger("page_tracker.test_log_secrets")
READER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    """The packaged logging configuration, writing into a fresh folder."""
    folder = tmp_path / "log"
    configure_logging(None, folder)
    yield folder
    # Detach the file handlers without disabling the loggers later tests log through.
    logging.config.dictConfig(
        {"version": 1, "disable_existing_loggers": False, "root": {"handlers": []}}
    )


def logged(folder: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return "".join(path.read_text("utf-8") for path in sorted(folder.glob("*.log")))


def forms(secret: bytes) -> list[str]:
    """How a secret's bytes could appear in a line of text."""
    return [secret.decode("utf-8", "replace"), repr(secret), secret.hex()]


def test_should_keep_the_salt_out_of_the_logs_when_a_full_redis_refuses_it(
    log_dir: Path, clean_database: str, capped_redis: RedisServer
) -> None:
    today = datetime.now(UTC).date()
    engine = make_engine(clean_database)
    client = redis.Redis.from_url(capped_redis.url)
    settings = load_settings(
        PAGE_TRACKER_ENV="test",
        DATABASE_URL=clean_database,
        REDIS_URL=capped_redis.url,
        LOG_DIR=str(log_dir),
    )
    app = create_app(settings=settings, configure_logging=False)
    try:
        with app.app_context():
            site = create_site(get_session(), "example.com")
            get_session().commit()
        # Given today's salt in the database and a full Redis
        salt = DatabaseSaltStore(engine).salt_for(today)
        fill_redis(client)
        # When a worker starting now takes a hit (Redis refuses the salt and the batch)
        response = app.test_client().post(
            "/api/v1/hits",
            data=json.dumps({"site": site.id, "url": "https://example.com/"}),
            headers={"Content-Type": "text/plain", "User-Agent": READER},
        )
        assert response.headers["X-Page-Tracker-Reason"] == "accepted"
        # and the refused salt write itself is logged, as message and as traceback
        key = f"pt:salt:{today.isoformat()}"
        pipe = client.pipeline()
        pipe.set(key, salt, nx=True, ex=172800)
        with pytest.raises(redis.exceptions.OutOfMemoryError) as refused:
            pipe.execute()
        # what must not leak: the salt as redis-py writes it into the error's text
        as_written = str(refused.value).split(f"{key} ", 1)[1].rsplit(" NX EX", 1)[0]
        assert len(as_written) >= 16
        log.error("salt not stored: %s", refused.value, exc_info=refused.value)
        # Then the logs say what failed and hold no form of the salt
        text = logged(log_dir)
        assert "comes from the database" in text
        assert "Command # 1 (SET <redacted>) of pipeline caused error" in text
        for form in [as_written, *forms(salt)]:
            assert form not in text
    finally:
        close_app(app)
        client.close()
        engine.dispose()


def duplicate_batch_error(engine: Engine, secret: str) -> SQLAlchemyError:
    """The database's error for a batch id inserted twice (it quotes the key)."""
    row = {"batch_id": secret, "flushed_at": datetime(2026, 12, 1)}
    with engine.begin() as connection:
        connection.execute(insert(FlushedBatch).values(row))
    with pytest.raises(SQLAlchemyError) as failed, engine.begin() as connection:
        connection.execute(insert(FlushedBatch).values(row))
    return failed.value


@pytest.mark.parametrize("hidden", [False, True], ids=["plain-engine", "page-tracker-engine"])
def test_should_keep_sql_parameters_and_keys_out_of_the_logs(
    log_dir: Path, clean_database: str, hidden: bool
) -> None:
    # Given an engine as page-tracker makes it, or a plain one that quotes parameters
    engine = make_engine(clean_database) if hidden else create_engine(clean_database)
    secret = secrets.token_hex(16)
    try:
        # When a statement carrying a secret fails and the error is logged
        error = duplicate_batch_error(engine, secret)
        if not hidden:
            assert secret in str(error)  # what must not leak
        log.error("database error: %s", error, exc_info=error)
        # and a connection URL with a password is logged
        log.warning("cannot reach postgresql+psycopg://tracker:%s@db:5432/pt", secret)
    finally:
        engine.dispose()
    # Then the logs name the error and hold no secret
    text = logged(log_dir)
    assert "IntegrityError" in text
    assert secret not in text
