"""``GET /busuanzi`` and ``GET /?jsonpCallback=`` through the whole app, on each database."""

import json
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import sessionmaker
from werkzeug.test import TestResponse

from page_tracker.db import get_session, make_engine
from page_tracker.sites.services import SITES, list_sites, update_site
from page_tracker.stats.counters import DatabaseCounterReader
from tests.integration.compat.conftest import (
    DESKTOP_CHROME,
    DESKTOP_FIREFOX,
    read_counters,
)
from tests.integration.sites import add_site

ANSWER = re.compile(
    r'try\{(\w+)\((\{"site_uv":\d+,"page_pv":\d+,"version":2\.4,"site_pv":\d+\})\);\}catch\(e\)\{\}'
)


def client_of(app: Flask) -> FlaskClient:
    """A client without a cookie jar: each request sends exactly the cookie it names."""
    return app.test_client(use_cookies=False)


def hit(
    client: FlaskClient,
    referer: str | None,
    *,
    path: str = "/busuanzi",
    callback: str = "BusuanziCallback_123456789",
    user_agent: str = DESKTOP_CHROME,
    ip: str = "203.0.113.7",
    cookie: str | None = None,
    **headers: str,
) -> TestResponse:
    sent = {"User-Agent": user_agent, **headers}
    if referer is not None:
        sent["Referer"] = referer
    if cookie is not None:
        sent["Cookie"] = f"busuanziId={cookie}"
    return client.get(
        path,
        query_string={"jsonpCallback": callback},
        headers=sent,
        environ_base={"REMOTE_ADDR": ip},
    )


def numbers(response: TestResponse, callback: str = "BusuanziCallback_123456789") -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    match = ANSWER.fullmatch(response.get_data(as_text=True))
    assert match is not None, response.get_data(as_text=True)
    assert match[1] == callback
    payload: dict[str, Any] = json.loads(match[2])
    return payload


def test_should_count_site_and_page_views_and_visitors_across_pages(app: Flask) -> None:
    # Given a blog with a site
    add_site(app, "blog.example.com")
    client = client_of(app)
    # When one reader opens a post twice and another post once
    hit(client, "https://blog.example.com/posts/a/")
    second = hit(client, "https://blog.example.com/posts/a/?from=home#comments")
    third = hit(client, "https://blog.example.com/posts/b/")
    # Then the page counters are per page, the site counters add up, one visitor
    assert numbers(second) == {"site_uv": 1, "page_pv": 2, "version": 2.4, "site_pv": 2}
    assert numbers(third) == {"site_uv": 1, "page_pv": 1, "version": 2.4, "site_pv": 3}


def test_should_answer_exactly_like_the_original_service(app: Flask) -> None:
    add_site(app, "blog.example.com")
    response = hit(client_of(app), "https://blog.example.com/", callback="BusuanziCallback_42")
    assert response.get_data(as_text=True) == (
        'try{BusuanziCallback_42({"site_uv":1,"page_pv":1,"version":2.4,"site_pv":1});}catch(e){}'
    )
    assert response.headers["Content-Type"] == "application/javascript"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Page-Tracker-Reason"] == "accepted"


def test_should_count_a_page_whose_referer_has_a_long_query_string(app: Flask) -> None:
    # Given a short path with a query string longer than any URL the hit path takes
    add_site(app, "blog.example.com")
    referer = "https://blog.example.com/posts/a/?fbclid=" + "x" * 3000 + "&utm_source=feed"
    # When the page is read
    first = hit(client_of(app), referer)
    # Then it is counted, on its path
    assert first.headers["X-Page-Tracker-Reason"] == "accepted"
    second = hit(client_of(app), "https://blog.example.com/posts/a/")
    assert numbers(second)["page_pv"] == 2


def test_should_answer_on_the_site_root_only_with_a_callback(app: Flask) -> None:
    add_site(app, "blog.example.com")
    client = client_of(app)
    assert numbers(hit(client, "https://blog.example.com/", path="/"))["site_pv"] == 1
    seed = client.get("/", headers={"Referer": "https://blog.example.com/"})
    assert seed.get_data(as_text=True) == "This page has been seen 1 times."
    assert numbers(hit(client, "https://blog.example.com/", path="/"))["site_pv"] == 2
    refused = client.post("/?jsonpCallback=BusuanziCallback_1")
    assert refused.status_code == 405  # only GET (and HEAD) at / are Busuanzi's


def test_should_set_a_cross_site_cookie_for_a_new_reader(app: Flask) -> None:
    add_site(app, "blog.example.com")
    response = hit(client_of(app), "https://blog.example.com/")
    cookie = response.headers["Set-Cookie"]
    assert re.match(r"busuanziId=[0-9A-F]{32};", cookie)
    for attribute in ("Secure", "SameSite=None", "HttpOnly", "Path=/", "Max-Age=34560000"):
        assert attribute in cookie


def test_should_count_readers_by_cookie_and_not_set_it_again(app: Flask) -> None:
    add_site(app, "blog.example.com")
    client = client_of(app)
    first = hit(client, "https://blog.example.com/", cookie="A" * 32)
    assert "Set-Cookie" not in first.headers
    # The same cookie from another network is the same reader; another cookie is not.
    assert (
        numbers(hit(client, "https://blog.example.com/", cookie="A" * 32, ip="198.51.100.1"))[
            "site_uv"
        ]
        == 1
    )
    assert numbers(hit(client, "https://blog.example.com/", cookie="B" * 32))["site_uv"] == 2


def test_should_count_a_reader_without_cookies_once(app: Flask) -> None:
    add_site(app, "blog.example.com")
    client = client_of(app)
    first = hit(client, "https://blog.example.com/")
    token = first.headers["Set-Cookie"].split(";")[0].split("=")[1]
    # The cookie a reader then sends is the identity it already had.
    assert numbers(hit(client, "https://blog.example.com/a", cookie=token))["site_uv"] == 1
    assert numbers(hit(client, "https://blog.example.com/b"))["site_uv"] == 1
    other = hit(client, "https://blog.example.com/b", user_agent=DESKTOP_FIREFOX)
    assert numbers(other) == {"site_uv": 2, "page_pv": 2, "version": 2.4, "site_pv": 4}


def test_should_treat_a_malformed_cookie_as_absent(app: Flask) -> None:
    add_site(app, "blog.example.com")
    response = hit(client_of(app), "https://blog.example.com/", cookie="x;y")
    assert numbers(response)["site_uv"] == 1
    assert response.headers["Set-Cookie"].startswith("busuanziId=")


@pytest.mark.parametrize(
    "callback", ["alert(1)//", "a.b", "1x", "", "x" * 129, "cb</script>", "function"]
)
def test_should_refuse_invalid_callbacks_without_a_script(app: Flask, callback: str) -> None:
    site = add_site(app, "blog.example.com")
    response = hit(client_of(app), "https://blog.example.com/", callback=callback)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Page-Tracker-Reason"] == "malformed"
    assert response.json is not None
    assert response.json["code"] == 400
    assert "try{" not in response.get_data(as_text=True)
    assert read_counters(app, site, "/").site_pv == 0


def test_should_refuse_a_request_without_the_callback_parameter(app: Flask) -> None:
    response = client_of(app).get("/busuanzi", headers={"Referer": "https://a.test/"})
    assert response.status_code == 400


@pytest.mark.parametrize("referer", [None, "", "not a url", "file:///etc/passwd", "https:///x"])
def test_should_refuse_requests_that_name_no_page(app: Flask, referer: str | None) -> None:
    response = hit(client_of(app), referer)
    assert response.status_code == 400
    assert response.headers["X-Page-Tracker-Reason"] == "malformed"
    assert "Set-Cookie" not in response.headers


def test_should_refuse_hosts_no_site_counts(app: Flask) -> None:
    add_site(app, "blog.example.com")
    response = hit(client_of(app), "https://elsewhere.example.net/post")
    assert response.status_code == 404
    assert response.headers["X-Page-Tracker-Reason"] == "unknown-site"
    assert "Set-Cookie" not in response.headers


def test_should_count_the_www_form_and_extra_hosts_of_a_site(app: Flask) -> None:
    add_site(app, "example.com", "docs.example.org")
    client = client_of(app)
    hit(client, "https://www.example.com/")
    assert numbers(hit(client, "https://docs.example.org/"))["site_pv"] == 2


def test_should_not_count_bots_but_show_them_the_numbers(app: Flask) -> None:
    add_site(app, "blog.example.com")
    client = client_of(app)
    hit(client, "https://blog.example.com/")
    bot = hit(
        client,
        "https://blog.example.com/",
        user_agent="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    )
    assert bot.headers["X-Page-Tracker-Reason"] == "bot"
    assert numbers(bot) == {"site_uv": 1, "page_pv": 1, "version": 2.4, "site_pv": 1}
    assert "Set-Cookie" not in bot.headers


@pytest.mark.parametrize("target", ["/busuanzi", "/"])
def test_should_count_but_not_reveal_the_counts_of_a_site_without_public_counters(
    app: Flask, target: str
) -> None:
    # Given a site that does not publish its counters
    site = add_site(app, "blog.example.com", public_counters=False)
    client = client_of(app)

    # When a reader's Busuanzi script asks for them (both addresses of the endpoint)
    response = client.get(
        f"{target}?jsonpCallback=BusuanziCallback_1",
        headers={"Referer": "https://blog.example.com/post", "User-Agent": DESKTOP_CHROME},
    )

    # Then the hit counts, but the answer reveals nothing: 404 like the public counters
    assert response.status_code == 404
    assert response.headers["X-Page-Tracker-Reason"] == "accepted"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_json()["message"] == "no public counters for this site"
    assert "BusuanziCallback_1" not in response.get_data(as_text=True)
    assert client.get(f"/api/v1/counters/{site}?path=/post").status_code == 404
    assert client.get(f"/badge/{site}.svg").status_code == 404
    assert read_counters(app, site, "/post").page_pv == 1


def test_should_reveal_the_counts_once_the_site_publishes_them(app: Flask) -> None:
    site = add_site(app, "blog.example.com", public_counters=False)
    client = client_of(app)
    assert hit(client, "https://blog.example.com/").status_code == 404
    with app.app_context():
        update_site(get_session(), site, public_counters=True)
        get_session().commit()
        SITES.get().clear()  # the option reaches every worker within the cache's ttl

    assert numbers(hit(client, "https://blog.example.com/"))["site_pv"] == 2
    assert client.get(f"/api/v1/counters/{site}").json["site_pv"] == 2  # type: ignore[index]


def test_should_create_sites_for_hosts_the_operator_allows(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(
        DATABASE_URL=clean_database, BUSUANZI_AUTOCREATE_HOSTS="*.github.test, blog.example.org"
    )
    client = client_of(app)
    assert numbers(hit(client, "https://alice.github.test/"))["site_pv"] == 1
    assert numbers(hit(client, "https://alice.github.test/about"))["site_pv"] == 2
    assert numbers(hit(client, "https://blog.example.org/"))["site_pv"] == 1
    assert hit(client, "https://github.test/").status_code == 404
    assert hit(client, "https://evil.example.org/").status_code == 404


def test_should_not_break_the_page_when_the_store_is_down(
    make_app: Callable[..., Flask], tmp_path: Any
) -> None:
    app = make_app(DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/none")
    response = hit(client_of(app), "https://blog.example.com/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/javascript"
    assert response.headers["X-Page-Tracker-Reason"] == "store-unavailable"
    assert "BusuanziCallback" not in response.get_data(as_text=True)
    assert (
        "Busuanzi hit for blog.example.com/ not counted"
        in (tmp_path / "log" / "error.log").read_text()
    )


def test_should_create_one_site_when_first_hits_race(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(DATABASE_URL=clean_database, BUSUANZI_AUTOCREATE_HOSTS="*.race.test")
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def first_hit(index: int) -> None:
        client = client_of(app)
        barrier.wait(timeout=10)
        response = hit(client, f"https://new.race.test/{index}", ip=f"203.0.113.{index}")
        statuses.append(response.status_code)

    threads = [threading.Thread(target=first_hit, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * 6
    last = numbers(hit(client_of(app), "https://new.race.test/0", ip="203.0.113.0"))
    assert last == {"site_uv": 6, "page_pv": 2, "version": 2.4, "site_pv": 7}
    with app.app_context():
        assert [site.domain for site in list_sites(get_session())] == ["new.race.test"]


def test_should_show_hits_not_yet_flushed_in_redis_mode(
    clean_database: str, redis_url: str, own_redis_keys: str, make_app: Callable[..., Flask]
) -> None:
    redis_prefix = own_redis_keys
    app = make_app(DATABASE_URL=clean_database, REDIS_URL=redis_url, REDIS_KEY_PREFIX=redis_prefix)
    site = add_site(app, "blog.example.com")
    client = client_of(app)
    hit(client, "https://blog.example.com/")
    # The answer counts both hits while the database has none yet (no worker runs here)
    assert numbers(hit(client, "https://blog.example.com/")) == {
        "site_uv": 1,
        "page_pv": 2,
        "version": 2.4,
        "site_pv": 2,
    }
    engine = make_engine(clean_database)
    try:
        flushed = DatabaseCounterReader(sessionmaker(engine)).read(site, "/")
    finally:
        engine.dispose()
    assert flushed.site_pv == 0


def test_should_honour_do_not_track_but_show_the_numbers(app: Flask) -> None:
    add_site(app, "blog.example.com")
    client = client_of(app)
    hit(client, "https://blog.example.com/")
    for header in ("DNT", "Sec-GPC"):
        private = hit(client, "https://blog.example.com/", **{header: "1"})
        assert private.headers["X-Page-Tracker-Reason"] == "dnt"
        assert numbers(private) == {"site_uv": 1, "page_pv": 1, "version": 2.4, "site_pv": 1}
        assert "Set-Cookie" not in private.headers


def test_should_create_sites_only_for_valid_host_names_even_when_every_host_may(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(DATABASE_URL=clean_database, BUSUANZI_AUTOCREATE_HOSTS="*")
    client = client_of(app)
    assert hit(client, "http://[2001:db8::1]/post").status_code == 404
    assert hit(client, "http://my_blog.example.test/post").status_code == 404
    assert numbers(hit(client, "https://any.example.test/"))["site_pv"] == 1
