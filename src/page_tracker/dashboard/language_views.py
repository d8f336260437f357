"""``POST /dashboard/language``: the language switch. It keeps the choice in a cookie
(``i18n.COOKIE``) and goes back to the dashboard page it was sent from."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from page_tracker.dashboard import i18n
from page_tracker.dashboard.pages import strict_headers

blueprint = Blueprint("dashboard_language", __name__, url_prefix="/dashboard")
blueprint.after_request(strict_headers)


def _back(given: str) -> str:
    # Only a dashboard path of this server: no open redirect to another host.
    if given.startswith("/dashboard/") and given.isprintable() and "\\" not in given:
        return given
    return str(url_for("dashboard.index"))


@blueprint.post("/language")
def choose() -> Response:
    chosen = request.form.get("lang", "")
    response = redirect(_back(request.form.get("next", "")), code=303)
    if chosen in i18n.LOCALES:
        response.set_cookie(
            i18n.COOKIE,
            chosen,
            max_age=i18n.COOKIE_MAX_AGE,
            samesite="Lax",
            httponly=True,
            path="/",
        )
    return response
