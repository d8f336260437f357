"""The tracking endpoints through the whole app, on each database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from page_tracker.db import get_session
from page_tracker.metrics import METRICS
from page_tracker.sites.services import create_site
from page_tracker.stats.counters import COUNTERS, Counters

READER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def add_site(app: Flask, domain: str = "example.com", **options: object) -> str:
    with app.app_context():
        session = get_session()
        site = create_site(session, domain, **options)  # type: ignore[arg-type]
        session.commit()
        return site.id


def hit(client: FlaskClient, body: object, ip: str = "203.0.113.7", **headers: str) -> object:
    return client.post(
        "/api/v1/hits",
        data=json.dumps(body),
        headers={"Content-Type": "text/plain", "User-Agent": READER, **headers},
        environ_base={"REMOTE_ADDR": ip},
    )


def counters(app: Flask, site: str, path: str) -> Counters:
    with app.app_context():
        return COUNTERS.get().read(site, path)


def test_should_count_page_views_and_visitors_in_each_database(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(DATABASE_URL=clean_database)
    site = add_site(app, hosts=["blog.example.org"])
    client = app.test_client()

    for ip in ("203.0.113.1", "203.0.113.1", "203.0.113.2"):
        response = hit(client, {"site": site, "url": "https://example.com/a?x=1"}, ip=ip)
        assert response.status_code == 202  # type: ignore[attr-defined]
        assert response.headers["X-Page-Tracker-Reason"] == "accepted"  # type: ignore[attr-defined]
    hit(client, {"site": site, "url": "https://blog.example.org/b", "title": "B"}, ip="203.0.113.2")

    assert counters(app, site, "/a") == Counters(site_pv=4, site_uv=2, page_pv=3, page_uv=2)
    assert counters(app, site, "/b") == Counters(site_pv=4, site_uv=2, page_pv=1, page_uv=1)
    assert counters(app, site, "/none") == Counters(site_pv=4, site_uv=2, page_pv=0, page_uv=0)


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        ({"site": "zzzzzzzzzzzz", "url": "https://example.com/"}, {}, "unknown-site"),
        ({"site": "SITE", "url": "https://evil.example.net/"}, {}, "host-not-allowed"),
        ({"site": "SITE", "url": "https://example.com/"}, {"DNT": "1"}, "dnt"),
        ({"site": "SITE", "url": "https://example.com/"}, {"Sec-GPC": "1"}, "dnt"),
        (
            {"site": "SITE", "url": "https://example.com/"},
            {"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"},
            "bot",
        ),
    ],
)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_answer_but_not_count_rejected_hits(
    clean_database: str,
    make_app: Callable[..., Flask],
    body: dict[str, str],
    headers: dict[str, str],
    reason: str,
) -> None:
    app = make_app(DATABASE_URL=clean_database)
    site = add_site(app)
    body = {key: site if value == "SITE" else value for key, value in body.items()}
    response = hit(app.test_client(), body, **headers)
    assert response.status_code == 202  # type: ignore[attr-defined]
    assert response.headers["X-Page-Tracker-Reason"] == reason  # type: ignore[attr-defined]
    assert counters(app, site, "/") == Counters()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"url": "https://example.com/"}',
        b'{"site": "abc", "url": 5}',
        b'{"site": "abc", "url": "https://example.com/", "title": []}',
        b'{"site": "abc", "url": "javascript:alert(1)"}',
        b'{"site": "abc", "url": "https://example.com/", "event": ""}',
    ],
)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_refuse_malformed_bodies_with_the_json_error_shape(
    clean_database: str, make_app: Callable[..., Flask], body: bytes
) -> None:
    app = make_app(DATABASE_URL=clean_database)
    response = app.test_client().post("/api/v1/hits", data=body, content_type="text/plain")
    assert response.status_code == 400
    assert response.headers["X-Page-Tracker-Reason"] == "malformed"
    assert response.json is not None
    assert response.json["code"] == 400
    assert response.json["error_code"] == 40000
    assert set(response.json) <= {"code", "error_code", "message", "details"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_accept_application_json_and_allow_any_origin(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(DATABASE_URL=clean_database)
    site = add_site(app)
    response = app.test_client().post(
        "/api/v1/hits",
        json={"site": site, "url": "https://www.example.com/", "screen": "1920x1080"},
        headers={"User-Agent": READER, "Origin": "https://www.example.com"},
    )
    assert response.status_code == 202
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert counters(app, site, "/").page_pv == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_count_honouring_dnt_only_when_the_site_asks(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(DATABASE_URL=clean_database)
    site = add_site(app, honour_dnt=False)
    response = hit(app.test_client(), {"site": site, "url": "https://example.com/"}, DNT="1")
    assert response.headers["X-Page-Tracker-Reason"] == "accepted"  # type: ignore[attr-defined]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_always_answer_the_same_gif_from_the_pixel(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(DATABASE_URL=clean_database)
    site = add_site(app)
    client = app.test_client()
    good = client.get(
        f"/count.gif?site={site}&url=https://example.com/p", headers={"User-Agent": READER}
    )
    unknown = client.get("/count.gif?site=nosuchsite00&url=https://example.com/p")
    empty = client.get("/count.gif")
    by_referer = client.get(
        f"/count.gif?site={site}",
        headers={"User-Agent": READER, "Referer": "https://example.com/q"},
    )
    assert [r.headers["X-Page-Tracker-Reason"] for r in (good, unknown, empty, by_referer)] == [
        "accepted",
        "unknown-site",
        "malformed",
        "accepted",
    ]
    for response in (good, unknown, empty, by_referer):
        assert response.status_code == 200
        assert response.mimetype == "image/gif"
        assert response.data == good.data
        assert response.data.startswith(b"GIF89a")
        assert "no-store" in response.headers["Cache-Control"]
        assert "Set-Cookie" not in response.headers
    assert counters(app, site, "/p").page_pv == 1
    assert counters(app, site, "/q").page_pv == 1


def test_should_answer_202_and_count_the_loss_when_the_database_is_down(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app(DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/none")
    response = hit(app.test_client(), {"site": "abcdefabcdef", "url": "https://example.com/"})
    assert response.status_code == 202  # type: ignore[attr-defined]
    assert response.headers["X-Page-Tracker-Reason"] == "store-unavailable"  # type: ignore[attr-defined]
    assert METRICS.get(app).snapshot() == {"store-unavailable": 1}
    assert "hit not stored" in (tmp_path / "log" / "error.log").read_text()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_serve_public_counters_with_etag_only_for_sites_that_enable_them(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(DATABASE_URL=clean_database)
    public = add_site(app, "public.example", public_counters=True)
    private = add_site(app, "private.example")
    client = app.test_client()
    hit(client, {"site": public, "url": "https://public.example/x"})
    hit(client, {"site": public, "url": "https://public.example/y"})

    first = client.get(f"/api/v1/counters/{public}?path=/x")
    assert first.status_code == 200
    assert first.json == {"site_pv": 2, "site_uv": 1, "page_pv": 1, "page_uv": 1}
    etag = first.headers["ETag"]
    again = client.get(f"/api/v1/counters/{public}?path=/x", headers={"If-None-Match": etag})
    assert again.status_code == 304
    hit(client, {"site": public, "url": "https://public.example/x"})
    changed = client.get(f"/api/v1/counters/{public}?path=/x", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json == {"site_pv": 3, "site_uv": 1, "page_pv": 2, "page_uv": 1}

    for url in (f"/api/v1/counters/{private}", "/api/v1/counters/nosuchsite00"):
        refused = client.get(url)
        assert refused.status_code == 404
        assert refused.json is not None
        assert refused.json["code"] == 404
    assert client.get(f"/api/v1/counters/{public}?path=nope").status_code == 400


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_draw_an_svg_badge_with_escaped_label(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    import xml.etree.ElementTree as ET  # noqa: PLC0415

    app = make_app(DATABASE_URL=clean_database)
    site = add_site(app, public_counters=True)
    client = app.test_client()
    for _ in range(3):
        hit(client, {"site": site, "url": "https://example.com/post"})
    hit(client, {"site": site, "url": "https://example.com/other"})

    page = client.get(f"/badge/{site}.svg?path=/post&label=<views>")
    assert page.status_code == 200
    assert page.mimetype == "image/svg+xml"
    texts = [el.text for el in ET.fromstring(page.data).iter("{http://www.w3.org/2000/svg}text")]  # noqa: S314
    assert texts == ["<views>", "3"]
    whole = client.get(f"/badge/{site}.svg")
    assert [
        el.text
        for el in ET.fromstring(whole.data).iter("{http://www.w3.org/2000/svg}text")  # noqa: S314
    ] == ["views", "4"]
    assert (
        client.get(
            f"/badge/{site}.svg", headers={"If-None-Match": whole.headers["ETag"]}
        ).status_code
        == 304
    )
    assert client.get("/badge/nosuchsite00.svg").status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_tell_readers_apart_behind_a_trusted_proxy(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(DATABASE_URL=clean_database, TRUSTED_PROXIES="1")
    site = add_site(app)
    client = app.test_client()
    for forwarded in ("198.51.100.1", "10.9.9.9, 198.51.100.2", "198.51.100.1"):
        hit(
            client,
            {"site": site, "url": "https://example.com/"},
            ip="10.0.0.2",
            **{"X-Forwarded-For": forwarded},
        )
    hit(client, {"site": site, "url": "https://example.com/"}, ip="10.0.0.2")  # no header
    assert counters(app, site, "/") == Counters(site_pv=4, site_uv=3, page_pv=4, page_uv=3)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_answer_a_well_formed_badge_for_a_label_with_control_characters(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    import xml.etree.ElementTree as ET  # noqa: PLC0415

    app = make_app(DATABASE_URL=clean_database)
    site = add_site(app, public_counters=True)
    page = app.test_client().get(f"/badge/{site}.svg?label=a%01b%1B%00%EF%BF%BEc")
    assert page.status_code == 200
    texts = [el.text for el in ET.fromstring(page.data).iter("{http://www.w3.org/2000/svg}text")]  # noqa: S314
    assert texts == ["abc", "0"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Content-Security-Policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_forbid_sniffing_on_every_script_svg_and_json_answer(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(DATABASE_URL=clean_database)
    site = add_site(app, public_counters=True)
    client = app.test_client()
    answers = {
        "hits (lean path)": client.post(
            "/api/v1/hits", data=json.dumps({"site": site, "url": "https://example.com/"})
        ),
        "hits error (lean path)": client.post("/api/v1/hits", data=b"not json"),
        "pixel": client.get(f"/count.gif?site={site}&url=https://example.com/"),
        "pt.js": client.get("/pt.js"),
        "busuanzi script": client.get("/busuanzi/2.3/busuanzi.pure.mini.js"),
        "busuanzi jsonp": client.get(
            "/busuanzi?jsonpCallback=cb", headers={"Referer": "https://example.com/"}
        ),
        "counters": client.get(f"/api/v1/counters/{site}"),
        "badge": client.get(f"/badge/{site}.svg"),
        "json error": client.get("/api/v1/nothing-here"),
        "event": client.post("/api/event", data=b"{}"),
    }
    missing = {
        name: answer.status_code
        for name, answer in answers.items()
        if answer.headers.get("X-Content-Type-Options") != "nosniff"
    }
    assert missing == {}
