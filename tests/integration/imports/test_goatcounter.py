"""``page-tracker import goatcounter``: GoatCounter's CSV export into the rollups, once,
listed, removable, and refused whole when malformed (on each database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import sessionmaker

from page_tracker.db import get_db, get_session
from page_tracker.imports.errors import ImportRunning
from page_tracker.imports.goatcounter import GoatCounterImport
from page_tracker.imports.models import DONE, RUNNING, Import, ImportChunk
from page_tracker.imports.services import ImportRunner
from page_tracker.stats import rollup
from page_tracker.stats.counters import COUNTERS
from page_tracker.stats.pageview import PageView
from tests.integration.imports.conftest import add_site, imports_of, run_cli, snapshot
from tests.integration.imports.files import (
    GOATCOUNTER_HEADER,
    GoatView,
    sample_views,
    write_goatcounter,
)
from tests.integration.monthly import assert_months_are_sums_of_days

DAY1, DAY2 = date(2025, 3, 1), date(2025, 3, 2)


def test_should_count_views_by_hour_visitors_by_session_and_fill_dimensions(
    app: Flask, site: str, tmp_path: Path
) -> None:
    export = write_goatcounter(tmp_path / "goatcounter-export.csv", sample_views())

    result = run_cli(app, "import", "goatcounter", site, str(export))

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(f"9 rows, 7 page views into {site}")
    assert result.stderr == ""  # no progress bar when not on a terminal
    got = snapshot(app, site)
    assert got["daily"] == [
        ("(site)", DAY1, 4, 2),  # sessions a and b
        ("(site)", DAY2, 3, 2),  # sessions a and c
        ("/", DAY1, 1, 1),
        ("/", DAY2, 2, 2),
        ("/post", DAY1, 3, 2),
        ("/post", DAY2, 1, 1),
    ]
    assert got["hourly"] == [
        # the whole site's hours: the stats API's hourly series reads them
        ("(site)", datetime(2025, 3, 1, 9), 2, 1),
        ("(site)", datetime(2025, 3, 1, 11), 2, 1),  # session b is new that day
        ("(site)", datetime(2025, 3, 2, 9), 3, 2),
        ("/", datetime(2025, 3, 1, 9), 1, 1),
        ("/", datetime(2025, 3, 2, 9), 2, 2),
        ("/post", datetime(2025, 3, 1, 9), 1, 1),
        ("/post", datetime(2025, 3, 1, 11), 2, 1),
        ("/post", datetime(2025, 3, 2, 9), 1, 1),
    ]
    # all-time visitors are the sum of daily visitors: numbers, no invented hashes
    assert got["totals"] == [("(site)", 7, 4), ("/", 3, 3), ("/post", 4, 3)]
    dims = {(name, day): (pv, uv) for name, day, pv, uv in got["dimensions"]}
    assert dims[("browser=Firefox", DAY1)] == (3, 1)
    assert dims[("browser=Chrome", DAY1)] == (1, 1)
    assert dims[("browser_version=Chrome 131", DAY1)] == (1, 1)
    assert dims[("os_version=Windows 10", DAY1)] == (1, 1)
    assert dims[("country=US", DAY1)] == (1, 1)
    assert dims[("country=DE", DAY2)] == (3, 2)
    assert dims[("referrer_host=news.ycombinator.com", DAY1)] == (1, 1)
    assert dims[("referrer_source=Hacker News", DAY1)] == (2, 2)  # host's name, and "g"
    assert dims[("utm_campaign=spring", DAY2)] == (1, 1)
    assert dims[("screen_class=phone", DAY1)] == (1, 1)
    assert dims[("event=signup-click", DAY2)] == (1, 0)  # an event, not a page view
    # each session's first view of a day is its entry page (an entrance and a visitor)
    assert {k: v for k, v in dims.items() if k[0].startswith("entry_page=")} == {
        ("entry_page=/", DAY1): (1, 1),
        ("entry_page=/post", DAY1): (1, 1),
        ("entry_page=/", DAY2): (2, 2),
    }
    # per page too: a visitor with the values of their first view of the page that day
    crossed = {(path, name, day): (pv, uv) for path, name, day, pv, uv in got["page_dimensions"]}
    assert crossed[("/post", "browser=Firefox", DAY1)] == (2, 1)  # b's second view: not new
    assert crossed[("/post", "browser=Chrome", DAY1)] == (1, 1)
    assert crossed[("/", "browser=Firefox", DAY1)] == (1, 1)
    assert crossed[("/", "utm_campaign=spring", DAY2)] == (1, 1)
    assert not [key for key in crossed if key[1].split("=")[0] in {"event", "screen_class"}]
    with app.app_context():
        counters = COUNTERS.get().read(site, "/post")
    assert (counters.site_pv, counters.site_uv, counters.page_pv) == (7, 4, 4)
    [run] = imports_of(app, site)
    assert (run.source, run.status, run.name) == ("goatcounter", DONE, "goatcounter-export.csv")
    assert (run.first_day, run.last_day, run.pageviews) == (DAY1, DAY2, 7)


def test_should_never_count_the_same_file_twice_and_replace_on_request(
    app: Flask, site: str, tmp_path: Path
) -> None:
    export = write_goatcounter(tmp_path / "export.csv.gz", sample_views(), gz=True)
    assert run_cli(app, "import", "goatcounter", site, str(export)).exit_code == 0
    once = snapshot(app, site)

    again = run_cli(app, "import", "goatcounter", site, str(export))

    assert again.exit_code == 1
    assert "export.csv.gz was already imported" in again.stderr
    assert "--replace" in again.stderr
    assert snapshot(app, site) == once
    replaced = run_cli(app, "import", "goatcounter", site, str(export), "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert "replaced import" in replaced.stdout
    assert snapshot(app, site) == once
    assert len(imports_of(app, site)) == 1


def test_should_list_and_delete_an_import_leaving_live_counts(
    app: Flask, site: str, tmp_path: Path
) -> None:
    before = write_goatcounter(tmp_path / "a.csv", [GoatView("/", session="live")])
    assert run_cli(app, "import", "goatcounter", site, str(before)).exit_code == 0
    kept = snapshot(app, site)
    export = write_goatcounter(tmp_path / "b.csv", sample_views())
    assert run_cli(app, "import", "goatcounter", site, str(export)).exit_code == 0
    listed = run_cli(app, "imports", "list", site)
    assert listed.exit_code == 0
    assert "b.csv" in listed.stdout
    assert "a.csv" in listed.stdout
    second = imports_of(app, site)[-1].id
    with app.app_context():
        assert_months_are_sums_of_days(get_session(), site)

    deleted = run_cli(app, "imports", "delete", str(second))

    assert deleted.exit_code == 0, deleted.output
    assert snapshot(app, site) == kept  # the monthly rows too
    with app.app_context():
        assert_months_are_sums_of_days(get_session(), site)
    assert [run.name for run in imports_of(app, site)] == ["a.csv"]
    missing = run_cli(app, "imports", "delete", str(second))
    assert missing.exit_code == 1
    assert f"no import {second}" in missing.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            GOATCOUNTER_HEADER.replace("2Path", "1Path") + "\n",
            "bad.csv, line 1, column 1 (Path): GoatCounter export version 1 is not supported",
        ),
        ("Path,Title\n", "bad.csv, line 1, column 1 (Path): GoatCounter export version none"),
        (
            GOATCOUNTER_HEADER + "\n/,x,0,ua,Firefox,Linux,s,0,,,,DE,1\n",
            "bad.csv, line 2: 13 fields, expected 14",
        ),
        (
            GOATCOUNTER_HEADER + "\n/,x,0,ua,Firefox,Linux,s,0,,,,DE,1,yesterday\n",
            "bad.csv, line 2, column 14 (Date): not an RFC 3339 date: 'yesterday'",
        ),
        (
            GOATCOUNTER_HEADER + "\n/,x,0,ua,Firefox,Linux,s,0,,z,,DE,1,2025-03-01T10:00:00Z\n",
            "bad.csv, line 2, column 10 (Referrer scheme): expected one of h, g, c, o",
        ),
        (
            GOATCOUNTER_HEADER + "\n/,x,maybe,ua,Firefox,Linux,s,0,,,,DE,1,2025-03-01T10:00:00Z\n",
            "bad.csv, line 2, column 3 (Event): expected 0/1 or true/false, got 'maybe'",
        ),
        ("", "bad.csv, line 1: empty file"),
    ],
)
def test_should_refuse_a_malformed_file_with_one_clear_error(
    app: Flask, site: str, tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")

    result = run_cli(app, "import", "goatcounter", site, str(bad))

    assert result.exit_code == 1
    assert result.stderr.startswith(f"page-tracker: error: {message}"), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert snapshot(app, site) == {
        "hourly": [],
        "daily": [],
        "monthly": [],
        "dimensions": [],
        "page_dimensions": [],
        "totals": [],
    }
    assert imports_of(app, site) == []


def test_should_take_back_applied_chunks_when_a_later_row_is_malformed(
    app: Flask, site: str, tmp_path: Path
) -> None:
    # Given a file whose rows 2..40 are fine and whose line 41 holds invalid UTF-8
    good = write_goatcounter(tmp_path / "good.csv", [GoatView(f"/p{i}") for i in range(39)])
    bad = tmp_path / "bad-utf8.csv"
    bad.write_bytes(good.read_bytes() + b"/menu\xe9,x,0,ua,,,s,0,,,,,1,2025-03-01T10:00:00Z\n")

    # When it is imported in chunks of 10 rows (three chunks committed before the error)
    with app.app_context():
        runner = ImportRunner(sessionmaker(bind=get_db().engine), chunk_rows=10)
        with pytest.raises(Exception, match=r"bad-utf8.csv, line 41: not UTF-8 \(byte 6"):
            runner.run(site, GoatCounterImport(bad, {"blog.example"}))

    # Then nothing of it is left
    assert snapshot(app, site) == {
        "hourly": [],
        "daily": [],
        "monthly": [],
        "dimensions": [],
        "page_dimensions": [],
        "totals": [],
    }
    assert imports_of(app, site) == []


def test_should_skip_bad_rows_on_request_and_report_them(
    app: Flask, site: str, tmp_path: Path
) -> None:
    export = tmp_path / "mixed.csv"
    export.write_text(
        GOATCOUNTER_HEADER
        + "\n/a,x,0,ua,,,s,0,,,,,1,2025-03-01T10:00:00Z"
        + "\n/b,x,0,ua,,,s,0,,,,,1,not-a-date"
        + "\n/c,x,0,ua,,,s,0,,,,,1,2025-03-01T11:00:00+01:00\n",
        encoding="utf-8",
    )

    result = run_cli(app, "import", "goatcounter", site, str(export), "--skip-bad-rows")

    assert result.exit_code == 0, result.output
    assert "2 rows, 2 page views" in result.stdout
    assert "1 bad rows skipped" in result.stdout
    assert "skipped: mixed.csv, line 3, column 14 (Date)" in result.stderr
    assert [row[:2] for row in snapshot(app, site)["hourly"]] == [
        ("(site)", datetime(2025, 3, 1, 10)),
        ("/a", datetime(2025, 3, 1, 10)),
        ("/c", datetime(2025, 3, 1, 10)),  # 11:00+01:00 is 10:00 UTC
    ]


def test_should_resume_an_interrupted_import_without_doubling(
    app: Flask, site: str, tmp_path: Path
) -> None:
    views = [GoatView(f"/p{i % 7}", session=f"s{i % 5}") for i in range(50)]
    export = write_goatcounter(tmp_path / "long.csv", views)
    rows_seen = 0

    def interrupt(_rows: int) -> None:
        nonlocal rows_seen
        rows_seen += 1
        if rows_seen == 25:
            raise KeyboardInterrupt

    with app.app_context():
        factory = sessionmaker(bind=get_db().engine)
        with pytest.raises(KeyboardInterrupt):
            ImportRunner(factory, chunk_rows=10, progress=interrupt).run(
                site, GoatCounterImport(export, set())
            )
        [run] = imports_of(app, site)
        assert (run.status, run.rows_done) == (RUNNING, 20)
        report = ImportRunner(factory, chunk_rows=10).run(site, GoatCounterImport(export, set()))

    assert report.resumed_after == 20
    got = snapshot(app, site)
    with app.app_context():  # the same file in one go, into another site
        other = add_site(app, "other.example")
        ImportRunner(factory, chunk_rows=10).run(other, GoatCounterImport(export, set()))
    assert got == snapshot(app, other)  # nobody counted twice: sessions were replayed
    assert got["totals"][0] == ("(site)", 50, 5)
    assert imports_of(app, site)[0].status == DONE


def test_should_not_resume_or_delete_an_import_another_process_holds(
    app: Flask, site: str, tmp_path: Path
) -> None:
    # Given an interrupted import whose lease another (live) process holds
    export = write_goatcounter(tmp_path / "held.csv", [GoatView(f"/p{i}") for i in range(30)])

    rows_seen = 0

    def interrupt(_rows: int) -> None:
        nonlocal rows_seen
        rows_seen += 1
        if rows_seen == 15:
            raise KeyboardInterrupt

    with app.app_context():
        factory = sessionmaker(bind=get_db().engine)
        with pytest.raises(KeyboardInterrupt):
            ImportRunner(factory, chunk_rows=10, progress=interrupt).run(
                site, GoatCounterImport(export, set())
            )
        [run] = imports_of(app, site)
        _lease(app, run.id, timedelta(minutes=1))

        # When it is run again or deleted, then both are refused while the lease is live
        with pytest.raises(ImportRunning, match="is running in another process"):
            ImportRunner(factory, chunk_rows=10).run(site, GoatCounterImport(export, set()))
    deleted = run_cli(app, "imports", "delete", str(run.id))
    assert deleted.exit_code == 1
    assert "is running in another process" in deleted.stderr
    assert "running  " in run_cli(app, "imports", "list", site).output

    # And once the lease ran out, it shows abandoned and resumes
    _lease(app, run.id, timedelta(seconds=-1))
    assert "abandoned" in run_cli(app, "imports", "list", site).output
    with app.app_context():
        report = ImportRunner(factory, chunk_rows=10).run(site, GoatCounterImport(export, set()))
    assert (report.resumed_after, report.pageviews) == (10, 30)
    assert imports_of(app, site)[0].status == DONE


def _lease(app: Flask, import_id: int, left: timedelta) -> None:
    """Another process's lease on the import, running out ``left`` from now."""
    with app.app_context():
        session = get_session()
        session.execute(
            update(Import)
            .where(Import.id == import_id)
            .values(lease_owner="another-process", lease_until=datetime.now(UTC) + left)
        )
        session.commit()


def test_should_refuse_an_unknown_site(app: Flask, tmp_path: Path) -> None:
    export = write_goatcounter(tmp_path / "e.csv", sample_views())

    result = run_cli(app, "import", "goatcounter", "nosuchsite00", str(export))

    assert result.exit_code == 1
    assert "no site 'nosuchsite00'" in result.stderr


def test_should_read_times_in_any_offset_as_utc() -> None:
    assert GoatView(at=datetime(2025, 1, 1, tzinfo=UTC)).fields()[-1] == "2025-01-01T00:00:00Z"


def test_should_add_imported_counts_to_the_live_rows_of_the_same_hour(
    app: Flask, site: str, tmp_path: Path
) -> None:
    # Given a live page view at 09:30 UTC on 2025-03-01 (written by the one live path)
    with app.app_context():
        session = get_db().sessions()
        rollup.apply(
            session,
            [
                PageView(
                    site_id=site,
                    path="/",
                    hostname="blog.example",
                    timestamp=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
                    visitor=b"v" * 16,
                    lifetime_visitor=b"l" * 16,
                )
            ],
        )
        session.commit()
    export = write_goatcounter(tmp_path / "e.csv", [GoatView("/", session="a")])

    # When an export with a view of the same hour is imported
    assert run_cli(app, "import", "goatcounter", site, str(export)).exit_code == 0

    # Then both count in one row of each rollup
    got = snapshot(app, site)
    assert got["hourly"] == [
        ("(site)", datetime(2025, 3, 1, 9), 2, 2),
        ("/", datetime(2025, 3, 1, 9), 2, 2),
    ]
    assert got["totals"] == [("(site)", 2, 2), ("/", 2, 2)]


def test_should_forget_a_deleted_sites_imports(app: Flask, site: str, tmp_path: Path) -> None:
    export = write_goatcounter(tmp_path / "e.csv", sample_views())
    assert run_cli(app, "import", "goatcounter", site, str(export)).exit_code == 0

    assert run_cli(app, "sites", "delete", site, "--yes").exit_code == 0

    assert imports_of(app, site) == []
    with app.app_context():
        assert get_db().sessions().query(ImportChunk).count() == 0
