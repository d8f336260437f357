from pathlib import Path

import pytest

from page_tracker.errors import ConfigError
from page_tracker.settings import Environment, load_settings


def test_should_default_to_embedded_sqlite_under_var() -> None:
    settings = load_settings()
    assert settings.env is Environment.DEVELOPMENT
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("/var/page-tracker.sqlite3")
    assert settings.redis_url is None
    assert settings.broker_url is None


def test_should_generate_a_random_secret_in_development() -> None:
    first, second = load_settings(), load_settings()
    assert len(first.secret_key.get_secret_value()) >= 32
    assert first.secret_key.get_secret_value() != second.secret_key.get_secret_value()


@pytest.mark.parametrize("secret", ["", "changeme", "secret"])
def test_should_refuse_default_secret_in_production(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("PAGE_TRACKER_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "SECRET_KEY" in message
    assert "\n" not in message


def test_should_accept_a_real_secret_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGE_TRACKER_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    assert load_settings().secret_key.get_secret_value() == "x" * 40


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "oracle://db/x"),
        ("REDIS_URL", "http://localhost"),
        ("PAGE_TRACKER_ENV", "staging"),
        ("LOG_CONFIG", "/nonexistent/logging.yaml"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_should_name_the_invalid_variable_in_one_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"invalid configuration: {variable}")
    assert "\n" not in message


def test_should_fall_back_to_redis_for_the_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://localhost:6379/1")
    assert load_settings().broker_url == "redis://localhost:6379/1"
    monkeypatch.setenv("CELERY_BROKER_URL", "amqp://guest:guest@localhost//")
    assert load_settings().broker_url == "amqp://guest:guest@localhost//"


def test_should_treat_empty_redis_url_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "")
    assert load_settings().uses_redis is False


def test_should_read_dotenv_in_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("LOG_LEVEL=debug\nREDIS_URL=redis://cache:6379/0\n")
    settings = load_settings()
    assert settings.log_level == "DEBUG"
    assert settings.redis_url == "redis://cache:6379/0"
