"""``page-tracker export``: our CSV/JSON read back into a new site gives identical
statistics; the Plausible zip is one Plausible (and we) can import (each database)."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from flask import Flask

from tests.integration.imports.conftest import add_site, run_cli, snapshot
from tests.integration.imports.files import sample_views, write_goatcounter


def history(app: Flask, site: str, tmp_path: Path) -> None:
    """Hourly history (GoatCounter) and day-less starting counts (Busuanzi)."""
    views = write_goatcounter(tmp_path / "gc.csv", sample_views())
    assert run_cli(app, "import", "goatcounter", site, str(views)).exit_code == 0
    counts = tmp_path / "bsz.csv"
    counts.write_text("/post,100,40\n/old,5,5\n", encoding="utf-8")
    assert run_cli(app, "import", "busuanzi", site, str(counts)).exit_code == 0


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_should_round_trip_our_export_into_a_new_site(
    app: Flask, site: str, tmp_path: Path, kind: str
) -> None:
    history(app, site, tmp_path)
    exported = tmp_path / f"export.{kind}"
    result = run_cli(app, "export", site, "--format", kind, "-o", str(exported))
    assert result.exit_code == 0, result.output
    copy = add_site(app, "copy.example")

    imported = run_cli(app, "import", "page-tracker", copy, str(exported))

    assert imported.exit_code == 0, imported.output
    assert snapshot(app, copy) == snapshot(app, site)
    assert snapshot(app, site)["hourly"]  # the comparison covered every table
    assert snapshot(app, site)["dimensions"]
    assert snapshot(app, site)["page_dimensions"]  # GoatCounter's views cross page and value


def test_should_write_csv_to_standard_output_and_json_lines_with_a_header(
    app: Flask, site: str, tmp_path: Path
) -> None:
    history(app, site, tmp_path)

    as_csv = run_cli(app, "export", site)
    as_json = run_cli(app, "export", site, "--format", "json")

    assert as_csv.exit_code == 0, as_csv.output
    lines = as_csv.stdout.splitlines()
    assert lines[0] == "table,path,dimension,value,time,pageviews,visitors"
    assert "hourly,/post,,,2025-03-01T11:00:00Z,2,1" in lines
    assert "daily,,,,2025-03-01,4,2" in lines
    assert "total,,,,,112,44" in lines  # 7 + 105 views, 4 + 40 (the largest page) visitors
    header, *rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert header == {
        "format": "page-tracker-export",
        "version": 1,
        "site": "blog.example",
        "from": None,
        "to": None,
    }
    assert {"table": "dimension", "path": "", "dimension": "country", "value": "US",
            "time": "2025-03-01", "pageviews": 1, "visitors": 1} in rows  # fmt: skip


def test_should_export_a_range_with_its_sums_as_totals(
    app: Flask, site: str, tmp_path: Path
) -> None:
    history(app, site, tmp_path)

    result = run_cli(app, "export", site, "--from", "2025-03-02", "--to", "2025-03-02")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()[1:]
    assert not [line for line in lines if "2025-03-01" in line]
    assert "total,,,,,3,2" in lines
    assert "daily,,,,2025-03-02,3,2" in lines


def test_should_export_a_plausible_zip_that_imports_back_to_the_same_days(
    app: Flask, site: str, tmp_path: Path
) -> None:
    views = write_goatcounter(tmp_path / "gc.csv", sample_views())
    assert run_cli(app, "import", "goatcounter", site, str(views)).exit_code == 0
    archive = tmp_path / "out.zip"

    result = run_cli(app, "export", site, "--format", "plausible", "-o", str(archive))

    assert result.exit_code == 0, result.output
    names = sorted(zipfile.ZipFile(archive).namelist())
    assert "imported_visitors_20250301_20250302.csv" in names
    assert len(names) == 9
    visitors = zipfile.ZipFile(archive).read("imported_visitors_20250301_20250302.csv").decode()
    assert visitors.splitlines() == [
        '"date","visitors","pageviews","bounces","visits","visit_duration"',
        "2025-03-01,2,4,0,2,0",
        "2025-03-02,2,3,0,2,0",
    ]
    moved = add_site(app, "moved.example")
    assert run_cli(app, "import", "plausible", moved, str(archive)).exit_code == 0
    assert snapshot(app, moved)["daily"] == snapshot(app, site)["daily"]
    dims = {(n, d): (pv, uv) for n, d, pv, uv in snapshot(app, moved)["dimensions"]}
    assert dims[("browser_version=Chrome 131", date(2025, 3, 1))] == (1, 1)
    assert dims[("browser=Firefox", date(2025, 3, 1))] == (3, 1)
    assert dims[("event=signup-click", date(2025, 3, 2))] == (1, 0)
    entries = zipfile.ZipFile(archive).read("imported_entry_pages_20250301_20250302.csv").decode()
    assert entries.splitlines() == [
        '"date","entry_page","visitors","entrances","visit_duration","bounces"',
        "2025-03-01,/,1,1,0,0",
        "2025-03-01,/post,1,1,0,0",
        "2025-03-02,/,2,2,0,0",
    ]
    entry_pages = [row for row in snapshot(app, site)["dimensions"] if "entry_page=" in row[0]]
    assert len(entry_pages) == 3
    assert [row for row in snapshot(app, moved)["dimensions"] if "entry_page=" in row[0]] == (
        entry_pages
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("table,path\n", "bad.csv, line 1: not a page-tracker export"),
        (
            "table,path,dimension,value,time,pageviews,visitors\nweekly,,,,,1,1\n",
            "bad.csv, line 2, column 1 (table): expected one of hourly, daily, dimension, "
            "page_dimension, total",
        ),
        (
            "table,path,dimension,value,time,pageviews,visitors\ndaily,,,,2025-13-01,1,1\n",
            "bad.csv, line 2, column 5 (time): not a day: '2025-13-01'",
        ),
        ('{"format": "page-tracker-export", "version": 9}\n', "bad.csv, line 1, column version"),
    ],
)
def test_should_refuse_a_malformed_export(
    app: Flask, site: str, tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")

    result = run_cli(app, "import", "page-tracker", site, str(bad))

    assert result.exit_code == 1
    assert result.stderr.startswith(f"page-tracker: error: {message}"), result.stderr
    assert snapshot(app, site)["totals"] == []
