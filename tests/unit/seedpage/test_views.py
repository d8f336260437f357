"""The seed page with a stubbed counter store (the store itself is tested for real in
tests/integration)."""

from unittest.mock import Mock

import pytest
from flask import Flask

from page_tracker.errors import StoreError
from page_tracker.seedpage.store import STORE, CounterStore
from page_tracker.seedpage.views import bp


@pytest.fixture
def store() -> Mock:
    return Mock(spec=CounterStore)


@pytest.fixture
def app(store: Mock) -> Flask:
    app = Flask(__name__)
    STORE.put(app, store)
    app.register_blueprint(bp)
    return app


def test_should_call_redis_incr(app: Flask, store: Mock) -> None:
    # Given
    store.increment.return_value = 5
    # When
    response = app.test_client().get("/")
    # Then
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "This page has been seen 5 times."
    store.increment.assert_called_once_with("page_views")


def test_should_handle_store_failure(
    app: Flask, store: Mock, caplog: pytest.LogCaptureFixture
) -> None:
    store.increment.side_effect = StoreError("Redis is down")
    response = app.test_client().get("/")
    assert response.status_code == 500
    assert response.get_data(as_text=True) == "Sorry, something went wrong \N{PENSIVE FACE}"
    assert "Unable to count the page view" in caplog.text
    assert caplog.records[-1].exc_info is not None


def test_should_not_be_cached(app: Flask, store: Mock) -> None:
    store.increment.return_value = 1
    assert app.test_client().get("/").headers["Cache-Control"] == "no-store"


def test_should_count_the_seed_page_whatever_the_query_says(app: Flask, store: Mock) -> None:
    # Given the seed page alone (the Busuanzi answer at / belongs to the compat feature)
    store.increment.return_value = 2
    # When a Busuanzi-style query reaches it
    response = app.test_client().get("/?jsonpCallback=BusuanziCallback_1")
    # Then it is just a page view of the seed page
    assert response.get_data(as_text=True) == "This page has been seen 2 times."
