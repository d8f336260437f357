import pytest
from click.testing import CliRunner

from page_tracker.cli import cli, mask_password, script_info


def test_should_print_the_version() -> None:
    result = CliRunner().invoke(cli, ["--version"], obj=script_info())
    assert result.exit_code == 0
    assert result.output.startswith("page-tracker, version ")


def test_should_list_the_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"], obj=script_info())
    assert result.exit_code == 0
    for command in ("serve", "db", "users", "sites"):
        assert command in result.output


def test_should_refuse_default_secret_in_production_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAGE_TRACKER_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "")
    result = CliRunner().invoke(cli, ["serve"], obj=script_info())
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "page-tracker: error: invalid configuration: "
        "SECRET_KEY: must be set to a non-default value in production"
    ]


def test_should_reject_a_bad_port() -> None:
    result = CliRunner().invoke(cli, ["serve", "--port", "0"], obj=script_info())
    assert result.exit_code == 2
    assert "--port" in result.output


def test_should_mask_passwords_in_urls() -> None:
    assert mask_password("mysql+pymysql://u:hunter2@db/x") == "mysql+pymysql://u:***@db/x"
    assert mask_password("redis://cache:6379/0") == "redis://cache:6379/0"
