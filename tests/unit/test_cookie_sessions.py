"""The app's session interface: Flask's signed cookies, without work for cookieless calls."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, session

from page_tracker.app import CookieSessions, create_app
from page_tracker.settings import load_settings


def _app(folder: Path, secret: str) -> Flask:
    folder.mkdir(exist_ok=True)
    settings = load_settings(
        DATABASE_URL=f"sqlite:///{folder / 'pt.db'}",
        LOG_DIR=str(folder),
        PAGE_TRACKER_ENV="test",
        SECRET_KEY=secret,
    )
    app = create_app(settings=settings, configure_logging=False)

    @app.get("/set")
    def set_value() -> str:
        session["n"] = 7
        return "ok"

    @app.get("/get")
    def get_value() -> str:
        return str(session.get("n"))

    return app


def test_should_keep_a_signed_session_and_ignore_a_forged_one(tmp_path: Path) -> None:
    app = _app(tmp_path / "a", "a" * 40)
    assert isinstance(app.session_interface, CookieSessions)
    client = app.test_client()
    # Without a cookie: an empty session, and no cookie set by reading it
    answer = client.get("/get")
    assert answer.get_data(as_text=True) == "None"
    assert "Set-Cookie" not in answer.headers
    # A value set is read back from the signed cookie
    client.get("/set")
    assert client.get("/get").get_data(as_text=True) == "7"
    # A cookie signed with another key is no session at all
    other = _app(tmp_path / "b", "b" * 40)
    signer = other.session_interface.get_signing_serializer(other)  # type: ignore[attr-defined]
    fresh = app.test_client()
    fresh.set_cookie(app.config["SESSION_COOKIE_NAME"], signer.dumps({"n": 9}))
    assert fresh.get("/get").get_data(as_text=True) == "None"
