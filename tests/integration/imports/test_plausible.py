"""``page-tracker import plausible``: Plausible's CSV export (zip or folder), daily history
whose site totals are the visitors table's sums; unsafe archives refused (each database)."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest
from flask import Flask

from tests.integration.imports.conftest import imports_of, run_cli, snapshot
from tests.integration.imports.files import write_plausible_csv

D1, D2 = date(2024, 5, 1), date(2024, 5, 2)
RANGE = "20240501_20240502"
NOTHING = {
    "hourly": [],
    "daily": [],
    "monthly": [],
    "dimensions": [],
    "page_dimensions": [],
    "totals": [],
}


def export_folder(folder: Path) -> Path:
    """A Plausible export of two days, written from the published columns."""
    folder.mkdir()
    write_plausible_csv(
        folder / f"imported_visitors_{RANGE}.csv",
        ["date", "visitors", "pageviews", "bounces", "visits", "visit_duration"],
        [["2024-05-01", 10, 25, 3, 12, 600], ["2024-05-02", 4, 9, 1, 5, 120]],
    )
    write_plausible_csv(
        folder / f"imported_pages_{RANGE}.csv",
        ["date", "hostname", "page", "visits", "visitors", "pageviews", "exits", "time_on_page"],
        [
            ["2024-05-01", "blog.example", "/", 8, 8, 15, 5, 100],
            ["2024-05-01", "blog.example", "/post", 4, 3, 10, 3, 50],
            ["2024-05-02", "blog.example", "/post", 5, 4, 9, 5, 80],
        ],
    )
    write_plausible_csv(
        folder / f"imported_sources_{RANGE}.csv",
        ["date", "source", "referrer", "utm_source", "utm_medium", "utm_campaign",
         "utm_content", "utm_term", "pageviews", "visitors", "visits", "visit_duration",
         "bounces"],
        [
            ["2024-05-01", "Google", "https://www.google.com/", "", "", "", "", "", 6, 3, 3, 0, 0],
            ["2024-05-01", "Direct / None", "", "", "", "", "", "", 19, 7, 9, 0, 0],
            ["2024-05-02", "Newsletter", "", "newsletter", "email", "may", "", "", 9, 4, 5, 0, 0],
        ],
    )  # fmt: skip
    write_plausible_csv(
        folder / f"imported_locations_{RANGE}.csv",
        ["date", "country", "region", "city", "visitors", "visits", "visit_duration",
         "bounces", "pageviews"],
        [["2024-05-01", "DE", "DE-BE", 2950159, 6, 7, 0, 0, 14]],
    )  # fmt: skip
    write_plausible_csv(  # an older export: no pageviews column (counts as 0)
        folder / f"imported_devices_{RANGE}.csv",
        ["date", "device", "visitors", "visits", "visit_duration", "bounces"],
        [["2024-05-01", "Desktop", 7, 8, 0, 0]],
    )
    write_plausible_csv(
        folder / f"imported_browsers_{RANGE}.csv",
        ["date", "browser", "browser_version", "visitors", "visits", "visit_duration",
         "bounces", "pageviews", "an_extra_column"],
        [["2024-05-02", "Firefox", "126.0", 4, 5, 0, 0, 9, "ignored"]],
    )  # fmt: skip
    write_plausible_csv(
        folder / f"imported_operating_systems_{RANGE}.csv",
        ["date", "operating_system", "operating_system_version", "visitors", "visits",
         "visit_duration", "bounces", "pageviews"],
        [["2024-05-02", "GNU/Linux", "(not set)", 4, 5, 0, 0, 9]],
    )  # fmt: skip
    write_plausible_csv(
        folder / f"imported_custom_events_{RANGE}.csv",
        ["date", "name", "link_url", "path", "visitors", "events"],
        [["2024-05-02", "Signup", "", "/post", 2, 3]],
    )
    write_plausible_csv(
        folder / f"imported_entry_pages_{RANGE}.csv",
        ["date", "entry_page", "visitors", "entrances", "visit_duration", "bounces", "pageviews"],
        [["2024-05-01", "/", 8, 9, 0, 0, 15], ["2024-05-02", "/post?from=mail", 3, 4, 0, 0, 9]],
    )
    return folder


def zipped(folder: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for file in sorted(folder.iterdir()):
            out.write(file, file.name)
    return archive


def test_should_import_a_plausible_zip_with_site_totals_from_the_visitors_table(
    app: Flask, site: str, tmp_path: Path
) -> None:
    archive = zipped(export_folder(tmp_path / "export"), tmp_path / "plausible-export.zip")

    result = run_cli(app, "import", "plausible", site, str(archive))

    assert result.exit_code == 0, result.output
    assert "34 page views" in result.stdout
    got = snapshot(app, site)
    assert got["hourly"] == []  # daily granularity
    assert got["daily"] == [
        ("(site)", D1, 25, 10),
        ("(site)", D2, 9, 4),
        ("/", D1, 15, 8),
        ("/post", D1, 10, 3),
        ("/post", D2, 9, 4),
    ]
    assert got["totals"] == [("(site)", 34, 14), ("/", 15, 8), ("/post", 19, 7)]
    dims = {(name, day): (pv, uv) for name, day, pv, uv in got["dimensions"]}
    assert dims == {
        ("referrer_source=Google", D1): (6, 3),
        ("referrer_host=google.com", D1): (6, 3),
        ("referrer_source=Newsletter", D2): (9, 4),
        ("utm_source=newsletter", D2): (9, 4),
        ("utm_medium=email", D2): (9, 4),
        ("utm_campaign=may", D2): (9, 4),
        ("country=DE", D1): (14, 6),
        ("device=desktop", D1): (0, 7),
        ("browser=Firefox", D2): (9, 4),
        ("browser_version=Firefox 126.0", D2): (9, 4),
        ("os=GNU/Linux", D2): (9, 4),
        ("event=Signup", D2): (3, 2),
        ("entry_page=/", D1): (9, 8),  # entrances as page views, and visitors
        ("entry_page=/post", D2): (4, 3),
    }
    [run] = imports_of(app, site)
    assert (run.source, run.first_day, run.last_day) == ("plausible", D1, D2)


def test_should_import_a_folder_like_its_zip_and_only_once(
    app: Flask, site: str, tmp_path: Path
) -> None:
    folder = export_folder(tmp_path / "export")
    (folder / "README.txt").write_text("not an export file", encoding="utf-8")

    result = run_cli(app, "import", "plausible", site, str(folder))

    assert result.exit_code == 0, result.output
    assert "ignored: README.txt" in result.stderr
    assert snapshot(app, site)["totals"][0] == ("(site)", 34, 14)
    again = run_cli(app, "import", "plausible", site, str(folder))
    assert again.exit_code == 1
    assert "already imported" in again.stderr


def bomb(archive: Path) -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr(f"imported_visitors_{RANGE}.csv", b"0" * (16 << 20))


def outside(archive: Path) -> None:
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr(f"imported_visitors_{RANGE}.csv", '"date","visitors"\n2024-05-01,1\n')
        out.writestr(f"../imported_pages_{RANGE}.csv", '"date","page"\n')


def absolute(archive: Path) -> None:
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr(f"/tmp/imported_pages_{RANGE}.csv", '"date","page"\n')


def bad_date(archive: Path) -> None:
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr(
            f"imported_visitors_{RANGE}.csv",
            '"date","visitors","pageviews"\n2024-05-01,1,2\n2024-05-32,1,2\n',
        )


def bad_count(archive: Path) -> None:
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr(f"imported_visitors_{RANGE}.csv", '"date","visitors","pageviews"\n')
        out.writestr(
            f"imported_pages_{RANGE}.csv",
            '"date","page","visitors","pageviews"\n2024-05-01,/,1,2\n2024-05-01,/a,x,2\n',
        )


def bad_utf8(archive: Path) -> None:
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr(
            f"imported_pages_{RANGE}.csv", b'"date","page","pageviews"\n2024-05-01,/menu\xe9,1\n'
        )


def not_a_zip(archive: Path) -> None:
    archive.write_bytes(b"PK\x03\x04 this is not really a zip")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (bomb, "x.zip: archive member 'imported_visitors_20240501_20240502.csv' inflates"),
        (outside, "x.zip: archive member '../imported_pages_20240501_20240502.csv' points outside"),
        (absolute, "x.zip: archive member '/tmp/imported_pages_20240501_20240502.csv' points out"),
        (bad_date, f"imported_visitors_{RANGE}.csv, line 3, column 1 (date): expected YYYY-MM-DD"),
        (bad_count, f"imported_pages_{RANGE}.csv, line 3, column 3 (visitors): expected a count"),
        (bad_utf8, f"imported_pages_{RANGE}.csv, line 2: not UTF-8"),
        (not_a_zip, "x.zip: not a zip archive"),
    ],
)
def test_should_refuse_unsafe_or_malformed_exports_and_change_nothing(
    app: Flask, site: str, tmp_path: Path, make: object, message: str
) -> None:
    archive = tmp_path / "x.zip"
    make(archive)  # type: ignore[operator]

    result = run_cli(app, "import", "plausible", site, str(archive))

    assert result.exit_code == 1
    assert result.stderr.startswith(f"page-tracker: error: {message}"), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert snapshot(app, site) == NOTHING
    assert imports_of(app, site) == []
