"""``page-tracker sites create|list|delete`` as a user runs them (a real process)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.server import Server


@pytest.fixture
def cli(tmp_path: Path) -> Server:
    server = Server(tmp_path, {"PAGE_TRACKER_ENV": "test"})
    assert server.run_cli("db", "upgrade").returncode == 0
    return server


def test_should_create_list_and_delete_sites(cli: Server) -> None:
    created = cli.run_cli(
        "sites", "create", "Example.COM", "--host", "blog.example.org", "--public-counters"
    )
    assert created.returncode == 0, created.stderr
    site_id = created.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"[a-z0-9]{12}", site_id)

    listed = cli.run_cli("sites", "list")
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == [
        f"{site_id}\texample.com\tpublic-counters\tblog.example.org"
    ]

    deleted = cli.run_cli("sites", "delete", site_id, "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert cli.run_cli("sites", "list").stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sites", "create", "not a domain"), "invalid host name"),
        (("sites", "delete", "nosuchsite00", "--yes"), "no site nosuchsite00"),
    ],
)
def test_should_fail_with_one_line(cli: Server, args: tuple[str, ...], message: str) -> None:
    result = cli.run_cli(*args)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("page-tracker: error: ")
    assert message in result.stderr


def test_should_refuse_a_domain_or_host_of_another_site(cli: Server) -> None:
    assert cli.run_cli("sites", "create", "example.com").returncode == 0
    again = cli.run_cli("sites", "create", "other.example", "--host", "example.com")
    assert again.returncode == 1
    assert "already belongs" in again.stderr


def test_should_update_a_site_and_print_it_as_listed(cli: Server) -> None:
    created = cli.run_cli("sites", "create", "example.com", "--host", "a.example.org")
    site_id = created.stdout.split()[-1]

    updated = cli.run_cli(
        "sites",
        "update",
        site_id,
        "--public-counters",
        "--ignore-dnt",
        "--retention-days",
        "7",
        "--add-host",
        "b.example.org",
        "--remove-host",
        "a.example.org",
    )

    assert updated.returncode == 0, updated.stderr
    row = f"{site_id}\texample.com\tpublic-counters,ignore-dnt,retention=7d\tb.example.org"
    assert updated.stdout.splitlines() == [row]
    assert cli.run_cli("sites", "list").stdout.splitlines() == [row]

    back = cli.run_cli(
        "sites",
        "update",
        site_id,
        "--no-public-counters",
        "--honour-dnt",
        "--retention-days",
        "0",
    )
    assert back.stdout.splitlines() == [f"{site_id}\texample.com\t\tb.example.org"]


def test_should_refuse_an_update_with_one_line_and_change_nothing(cli: Server) -> None:
    first = cli.run_cli("sites", "create", "first.example").stdout.split()[-1]
    cli.run_cli("sites", "create", "second.example", "--host", "taken.example")
    before = cli.run_cli("sites", "list").stdout

    for args, message in [
        (("--add-host", "taken.example", "--public-counters"), "already belongs"),
        (("--remove-host", "nope.example"), "no extra host nope.example"),
        (("--retention-days", "-3"), "Invalid value for '--retention-days'"),
    ]:
        result = cli.run_cli("sites", "update", first, *args)
        assert result.returncode != 0
        assert message in result.stderr
    missing = cli.run_cli("sites", "update", "nosuchsite00", "--public-counters")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "page-tracker: error: no site nosuchsite00"
    assert cli.run_cli("sites", "list").stdout == before
