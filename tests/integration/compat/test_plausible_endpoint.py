"""``POST /api/event`` through the whole app, on each database."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.integration.compat.conftest import DESKTOP_CHROME, read_counters
from tests.integration.sites import add_site


def send(client: FlaskClient, body: dict[str, Any] | bytes, **headers: str) -> TestResponse:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        "/api/event",
        data=data,
        headers={"Content-Type": "text/plain", "User-Agent": DESKTOP_CHROME, **headers},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )


def pageview(url: str, domain: str, **extra: Any) -> dict[str, Any]:
    return {"n": "pageview", "u": url, "d": domain, "r": None, "w": 1280, "h": 0, **extra}


def test_should_count_a_page_view_of_the_named_site(app: Flask) -> None:
    site = add_site(app, "shop.example.com")
    response = send(
        app.test_client(), pageview("https://shop.example.com/cart?x=1", "shop.example.com")
    )
    assert response.status_code == 202
    assert response.get_data(as_text=True) == "ok"
    assert response.headers["X-Page-Tracker-Reason"] == "accepted"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    counters = read_counters(app, site, "/cart")
    assert (counters.site_pv, counters.page_pv, counters.site_uv) == (1, 1, 1)


def test_should_judge_each_domain_of_a_list_on_its_own(app: Flask) -> None:
    # A host belongs to one site here, so a second site named in d (a Plausible
    # roll-up) does not count pages of the first one's hosts.
    shop = add_site(app, "shop.example.com")
    other = add_site(app, "other.example.com")
    response = send(
        app.test_client(),
        pageview("https://shop.example.com/", "shop.example.com,other.example.com,nope.example"),
    )
    assert response.status_code == 202
    assert response.headers["X-Page-Tracker-Reason"] == "accepted,host-not-allowed,unknown-site"
    assert read_counters(app, shop, "/").page_pv == 1
    assert read_counters(app, other, "/").site_pv == 0


def test_should_count_for_each_site_whose_host_the_page_is_on(app: Flask) -> None:
    shop = add_site(app, "shop.example.com")
    response = send(
        app.test_client(),
        pageview("https://www.shop.example.com/", "nope.example, www.shop.example.com"),
    )
    assert response.headers["X-Page-Tracker-Reason"] == "unknown-site,accepted"
    assert read_counters(app, shop, "/").page_pv == 1


def test_should_accept_but_not_count_unknown_sites(app: Flask) -> None:
    response = send(app.test_client(), pageview("https://nope.example/", "nope.example"))
    assert response.status_code == 202
    assert response.headers["X-Page-Tracker-Reason"] == "unknown-site"


def test_should_not_count_pages_on_hosts_the_site_does_not_allow(app: Flask) -> None:
    site = add_site(app, "shop.example.com")
    response = send(app.test_client(), pageview("https://evil.example.net/", "shop.example.com"))
    assert response.headers["X-Page-Tracker-Reason"] == "host-not-allowed"
    assert read_counters(app, site, "/").site_pv == 0


def test_should_count_hash_routes_as_pages(app: Flask) -> None:
    site = add_site(app, "app.example.com")
    client = app.test_client()
    send(client, pageview("https://app.example.com/#/settings", "app.example.com", h=1))
    assert read_counters(app, site, "/#/settings").page_pv == 1


def test_should_refuse_invalid_bodies_with_the_json_error_shape(app: Flask) -> None:
    client = app.test_client()
    for body in (b"", b"{", b"[]", json.dumps({"n": "pageview", "d": "a.test"}).encode()):
        response = send(client, body)
        assert response.status_code == 400
        assert response.json is not None
        assert response.json["code"] == 400
        assert response.json["error_code"] in {40001, 40003}
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_should_name_the_invalid_fields(app: Flask) -> None:
    response = send(app.test_client(), pageview("/relative", ""))
    assert response.status_code == 400
    assert response.json is not None
    assert {detail["field"] for detail in response.json["details"]} == {"u", "d"}


def test_should_refuse_an_oversized_body(app: Flask) -> None:
    response = send(app.test_client(), b"{" + b" " * 40_000 + b"}")
    assert response.status_code == 413
    assert response.json is not None
    assert response.json["error_code"] == 41300


def test_should_answer_a_cors_preflight(app: Flask) -> None:
    response = app.test_client().options(
        "/api/event",
        headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "POST"


def test_should_refuse_other_methods(app: Flask) -> None:
    assert app.test_client().get("/api/event").status_code == 405


def test_should_answer_202_when_the_store_is_down(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app(DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/none")
    response = send(app.test_client(), pageview("https://shop.example.com/", "shop.example.com"))
    assert response.status_code == 202
    assert response.headers["X-Page-Tracker-Reason"] == "store-unavailable"
    assert "Plausible event for" in (tmp_path / "log" / "error.log").read_text()


def test_should_accept_custom_events_with_props(app: Flask) -> None:
    add_site(app, "shop.example.com")
    event = pageview("https://shop.example.com/checkout", "shop.example.com")
    event.update(n="Purchase", p=json.dumps({"plan": "pro"}))
    response = send(app.test_client(), event)
    assert response.status_code == 202
    assert response.headers["X-Page-Tracker-Reason"] == "accepted"


def test_should_not_count_bots_or_readers_asking_not_to_be_tracked(app: Flask) -> None:
    site = add_site(app, "shop.example.com")
    client = app.test_client()
    event = pageview("https://shop.example.com/", "shop.example.com")
    assert send(client, event, DNT="1").headers["X-Page-Tracker-Reason"] == "dnt"
    bot = send(client, event, **{"User-Agent": "curl/8.5.0"})
    assert bot.headers["X-Page-Tracker-Reason"] == "bot"
    assert read_counters(app, site, "/").site_pv == 0
