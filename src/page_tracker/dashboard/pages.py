"""What every dashboard page shares: the strict headers, who is signed in, and rendering
a template with the CSRF token, the language switch and the signed-in user."""

from __future__ import annotations

from flask import Response, g, render_template, request
from flask_babel import get_locale

from page_tracker.auth.principal import Principal, csrf_token, current_principal
from page_tracker.dashboard import i18n
from page_tracker.errors import Unauthorized

# Scripts and styles from this origin only (no inline code); nothing may frame a page.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def strict_headers(response: Response) -> Response:
    """Every dashboard answer: the CSP, no framing, no full Referer to other sites (a
    share link's token is in its URL), and pages kept out of shared caches."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


def signed_in() -> Principal | None:
    """The signed-in user, or ``None``; a session that has ended (password changed, user
    gone) is ``None`` too, and the sign-in page then says so."""
    try:
        return current_principal()
    except Unauthorized:
        g.session_ended = True
        return None


def page(template: str, status: int = 200, **context: object) -> tuple[str, int]:
    """A dashboard template rendered with what the base template needs."""
    locale = str(get_locale() or i18n.ENGLISH)
    rendered = render_template(
        f"dashboard/{template}",
        csrf_token=csrf_token(),
        locale=locale,
        html_lang=i18n.HTML_LANG.get(locale, locale),
        languages=i18n.NAMES,
        current_path=request.full_path.rstrip("?"),
        session_ended=g.get("session_ended", False),
        **context,
    )
    return rendered, status
