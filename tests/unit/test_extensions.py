"""The typed registry of app extensions, and an app that holds nothing undeclared."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from page_tracker.app import close_app, create_app
from page_tracker.extensions import Extension, declared
from page_tracker.settings import load_settings


def test_should_refuse_a_key_declared_twice() -> None:
    # Given a key another module owns
    # When it is declared again
    # Then the second declaration fails at once
    with pytest.raises(RuntimeError, match="declared twice"):
        Extension("page_tracker.sink", "a second sink")


def test_should_say_which_extension_an_app_lacks() -> None:
    probe: Extension[int] = Extension("page_tracker.test_probe", "a probe for this test")
    app = Flask(__name__)

    assert probe.find(app) is None
    with pytest.raises(LookupError, match=r"page_tracker\.test_probe \(a probe for this test\)"):
        probe.get(app)
    assert probe.put(app, 3) == 3
    assert probe.get(app) == 3
    assert probe.find(app) == 3


@pytest.mark.parametrize("redis_url", ["", "redis://127.0.0.1:1/0"])
def test_should_hold_only_declared_extensions_in_either_mode(
    tmp_path: Path, redis_url: str
) -> None:
    # Given an app in embedded mode and one in Redis mode (nothing connects while building)
    settings = load_settings(LOG_DIR=str(tmp_path / "log"), REDIS_URL=redis_url)
    app = create_app(settings=settings, configure_logging=False)
    try:
        # Then every extension the factory and the features set is a declared one
        assert set(app.extensions) <= set(declared())
        assert ("page_tracker.redis" in app.extensions) is bool(redis_url)
    finally:
        close_app(app)
