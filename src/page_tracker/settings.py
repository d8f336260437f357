"""One typed settings object, read from the environment and an optional ``.env`` file.

Nothing here runs at import time: call :func:`load_settings` (the app factory does).
Invalid configuration raises :class:`~page_tracker.errors.ConfigError` whose message is a
single line naming the variable, so start-up can print it and exit.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from limits import parse_many
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from page_tracker.db import pool_size_for
from page_tracker.errors import ConfigError
from page_tracker.extensions import Extension

# Values that must never sign anything outside a developer's machine.
_KNOWN_DEFAULT_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "development"})
_SUPPORTED_DB_SCHEMES = ("sqlite", "mysql+pymysql", "postgresql+psycopg")


_PERIODS = {"second": 1, "minute": 60, "hour": 3600}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)\s*$")


@dataclass(frozen=True)
class RateLimit:
    """``hits`` per ``seconds``, read from ``"1200/minute"`` (see :meth:`parse`)."""

    hits: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> RateLimit | None:
        """``"N/second"``, ``"N/minute"``, ``"N/hour"``; ``"off"`` or ``"0"``: no limit.
        Raises ``ValueError`` for anything else."""
        if text.strip().lower() in {"off", "0", "none", ""}:
            return None
        match = _RATE.match(text.lower())
        if match is None or int(match[1]) < 1:
            raise ValueError('must be "N/second", "N/minute", "N/hour" or "off"')
        return cls(int(match[1]), _PERIODS[match[2]])


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def default_database_url() -> str:
    """The embedded default: a SQLite file under ``./var/`` of the working directory."""
    return f"sqlite:///{(Path.cwd() / 'var' / 'page-tracker.sqlite3').as_posix()}"


class Settings(BaseSettings):
    """Everything page-tracker reads from its environment (see README, "Configuration")."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    env: Environment = Field(default=Environment.DEVELOPMENT, alias="PAGE_TRACKER_ENV")
    database_url: str = Field(default_factory=default_database_url, alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    celery_broker_url: str | None = Field(default=None, alias="CELERY_BROKER_URL")
    secret_key: SecretStr = Field(default=SecretStr(""), alias="SECRET_KEY")
    log_config: Path | None = Field(default=None, alias="LOG_CONFIG")
    log_dir: Path = Field(default=Path("var/log"), alias="LOG_DIR")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    # Access lines hold whole addresses, query strings and User-Agents only when on
    # (README "Privacy"); off, they are cut down (page_tracker.logs.PrivateAccessFilter).
    log_full_access: bool = Field(default=False, alias="LOG_FULL_ACCESS")
    redis_key_prefix: str = Field(default="pt:", alias="REDIS_KEY_PREFIX")
    # Group commit of hits (README "Redis mode and scaling"): the most hits one write
    # carries, and how long the writer waits for more before writing (0: never waits).
    ingest_batch_max: int = Field(default=512, ge=1, le=10_000, alias="INGEST_BATCH_MAX")
    ingest_batch_linger_ms: float = Field(default=0.0, ge=0, le=100, alias="INGEST_BATCH_LINGER_MS")
    # Reverse proxies in front of the app that append to X-Forwarded-For (nginx: 1).
    # The reader's address is taken that many entries from the right; 0 trusts none.
    trusted_proxies: int = Field(default=0, ge=0, le=10, alias="TRUSTED_PROXIES")
    # Comma-separated host globs ("*.example.com,blog.example.org"): a Busuanzi hit from a
    # matching host with no site yet creates the site. Empty: sites are created by hand.
    busuanzi_autocreate_hosts: str = Field(default="", alias="BUSUANZI_AUTOCREATE_HOSTS")
    # Failed sign-ins (POST /api/v1/tokens, /api/v1/session) allowed per client address
    # and per account, in flask-limiter's notation; more are answered 429.
    login_limits_per_address: str = Field(
        default="20/minute;200/day", alias="LOGIN_LIMITS_PER_ADDRESS"
    )
    login_limits_per_account: str = Field(
        default="5/minute;50/day", alias="LOGIN_LIMITS_PER_ACCOUNT"
    )
    # Counted hits per reader address (README "Limits"): beyond it a hit is answered as
    # usual but not counted. The default is far above what one reader sends.
    ingest_rate_limit: str = Field(default="1200/minute", alias="INGEST_RATE_LIMIT")
    # Embedded mode (no broker): the web process runs the periodic jobs itself, one
    # process at a time under an flock on this file (page_tracker.maintenance).
    embedded_jobs: bool = Field(default=True, alias="EMBEDDED_JOBS")
    maintenance_lock: Path = Field(default=Path("var/maintenance.lock"), alias="MAINTENANCE_LOCK")
    # Request threads per web process: `page-tracker serve` sets
    # it for its workers; the database pool is sized from it (README "Configuration").
    threads: int | None = Field(default=None, ge=1, le=1024, alias="PAGE_TRACKER_THREADS")
    db_pool_size: int | None = Field(default=None, ge=1, le=1024, alias="DB_POOL_SIZE")
    db_pool_timeout: float = Field(default=0.5, gt=0, le=60, alias="DB_POOL_TIMEOUT")
    # Redis mode refuses a Redis whose maxmemory-policy may evict its keys (anything but
    # noeviction: README "Redis memory") unless the operator accepts that risk here.
    redis_accept_eviction_risk: bool = Field(default=False, alias="REDIS_ACCEPT_EVICTION_RISK")
    # The read cache (README "Caching"): seconds the public counters and the stats
    # reports stay cached (0: not cached), entries kept per process, and how often
    # each process re-reads the site ids behind the Bloom filter of the public counters.
    cache_counters_ttl: float = Field(default=2.0, ge=0, le=3600, alias="CACHE_COUNTERS_TTL")
    cache_report_ttl: float = Field(default=30.0, ge=0, le=86_400, alias="CACHE_REPORT_TTL")
    # Who a token or session is and whose member they are, for read requests; keyed by
    # the access epoch, so a revocation is honoured at once whatever this is.
    cache_access_ttl: float = Field(default=300.0, ge=0, le=86_400, alias="CACHE_ACCESS_TTL")
    cache_local_size: int = Field(default=10_000, ge=1, le=10_000_000, alias="CACHE_LOCAL_SIZE")
    cache_known_sites_refresh: float = Field(
        default=10.0, gt=0, le=3600, alias="CACHE_KNOWN_SITES_REFRESH"
    )
    # Files uploaded to POST /api/v1/sites/{id}/imports wait here until imported (then
    # they are removed); in Redis mode the web processes and the workers must share it.
    import_dir: Path = Field(default=Path("var/imports"), alias="IMPORT_DIR")
    # The largest upload the import endpoint takes (bytes; larger is answered 413).
    import_max_bytes: int = Field(
        default=256 * 1024 * 1024, ge=1024, le=1 << 40, alias="IMPORT_MAX_BYTES"
    )
    # Seconds a running import stays "alive" without a heartbeat (its runner renews the
    # lease every second): after that it is shown abandoned and may be deleted or resumed.
    import_lease_seconds: float = Field(
        default=60.0, ge=0.05, le=86_400, alias="IMPORT_LEASE_SECONDS"
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = value.split("://", 1)[0]
        if "://" not in value or scheme not in _SUPPORTED_DB_SCHEMES:
            raise ValueError(
                f"must start with one of {', '.join(s + '://' for s in _SUPPORTED_DB_SCHEMES)}"
            )
        return value

    @field_validator("redis_url", "celery_broker_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return value or None

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("login_limits_per_address", "login_limits_per_account")
    @classmethod
    def _rate_limits(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError("must be limits like '5/minute;50/day'") from None
        return value

    @field_validator("ingest_rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        RateLimit.parse(value)
        return value

    @field_validator("log_config")
    @classmethod
    def _log_config_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"file {value} does not exist")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @model_validator(mode="after")
    def _secret_key_policy(self) -> Settings:
        key = self.secret_key.get_secret_value()
        if self.env is Environment.PRODUCTION:
            if key.strip().lower() in _KNOWN_DEFAULT_SECRETS:
                raise ValueError("SECRET_KEY: must be set to a non-default value in production")
            if len(key) < 16:
                raise ValueError("SECRET_KEY: must be at least 16 characters in production")
        elif not key:
            # A fresh random key per development/test run: sessions don't survive a
            # restart, which is the point - nothing ever signs with a guessable key.
            object.__setattr__(self, "secret_key", SecretStr(secrets.token_urlsafe(32)))
        return self

    @property
    def broker_url(self) -> str | None:
        """The Celery broker: ``CELERY_BROKER_URL``, falling back to ``REDIS_URL``."""
        return self.celery_broker_url or self.redis_url

    @property
    def busuanzi_autocreate_patterns(self) -> tuple[str, ...]:
        """``BUSUANZI_AUTOCREATE_HOSTS`` as a tuple of glob patterns."""
        patterns = (part.strip() for part in self.busuanzi_autocreate_hosts.split(","))
        return tuple(pattern for pattern in patterns if pattern)

    @property
    def rate_limit(self) -> RateLimit | None:
        """``INGEST_RATE_LIMIT`` parsed; ``None`` when off."""
        return RateLimit.parse(self.ingest_rate_limit)

    @property
    def pool_size(self) -> int:
        """``DB_POOL_SIZE``, else one connection per request thread plus two."""
        return self.db_pool_size or pool_size_for(self.threads)

    @property
    def uses_redis(self) -> bool:
        return self.redis_url is not None


SETTINGS: Extension[Settings] = Extension("page_tracker.settings", "the app's settings")


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    names = [str(part) for part in first.get("loc", ())]
    variable = names[0] if names else ""
    message = first.get("msg", "invalid value").removeprefix("Value error, ")
    if message.split(":", 1)[0].isupper():  # model-level messages already name the variable
        return f"invalid configuration: {message}"
    return f"invalid configuration: {variable}: {message}"


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; ``overrides`` use the variable names (``DATABASE_URL=...``)."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(_one_line(error)) from None
