"""Who may do what in ``/api/v1``, generated from ONE table.

Each row is an endpoint and method with the status every kind of caller gets: role
(anonymous, user, admin) x membership of the site (none, viewer, owner) x the token's
scopes. Each cell runs against a fresh copy of one database, so a DELETE in one cell
cannot change the next. The table must name every ``/api/v1`` rule of the app: a new
endpoint without a row fails :func:`test_should_cover_every_api_rule`.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from page_tracker import create_app, migrate
from page_tracker.api.stats_views import BREAKDOWN_RULE
from page_tracker.app import close_app
from page_tracker.auth.tokens import Scope, issue_token
from page_tracker.db import DATABASE, get_session
from page_tracker.imports import tasks
from page_tracker.imports.jobs import create_job
from page_tracker.imports.models import DONE
from page_tracker.json_api import ROW_ID
from page_tracker.settings import load_settings
from page_tracker.sites.services import SITES, create_site
from page_tracker.sites.shares import create_share
from page_tracker.users.memberships import set_member
from page_tracker.users.models import MemberRole, Role, User
from page_tracker.users.services import create_user

# Columns: who calls. "owner-read" is the owner with a read-only token; "admin-rw" an
# admin whose token lacks the admin scope.
CALLERS = ("anonymous", "user", "viewer", "owner", "owner-read", "admin", "admin-rw")
PASSWORD = "correct horse"
SITE = "{site}"
USER = "{user}"  # the plain user's id: "user" acts on themselves
TOKEN = "{token}"  # the plain user's token id
VIEWER = "{viewer}"  # the viewer's user id
SHARE = "{share}"  # a share link of the site
IMPORT = "{import_job}"  # a finished import job of the site
# A multipart upload (the import endpoint): text fields and one file.
UPLOAD: dict[str, Any] = {
    "source": "busuanzi",
    "file": (b"url,page_pv\nhttps://site.example/old,5\n", "counts.csv"),
}

_CREDENTIALS = {"email": "user@example.com", "password": PASSWORD}

# (method, rule, path, body, statuses in CALLERS order)
MATRIX: list[tuple[str, str, str, dict[str, Any] | None, str]] = [
    # --- tokens and sessions: signing in is public
    ("POST", "/api/v1/tokens", "/api/v1/tokens", _CREDENTIALS, "201 201 201 201 201 201 201"),
    ("GET", "/api/v1/tokens", "/api/v1/tokens", None, "401 200 200 200 200 200 200"),
    (
        "DELETE",
        f"/api/v1/tokens/<{ROW_ID}:token_id>",
        f"/api/v1/tokens/{TOKEN}",
        None,
        "401 204 404 404 403 204 204",
    ),
    ("POST", "/api/v1/session", "/api/v1/session", _CREDENTIALS, "200 200 200 200 200 200 200"),
    ("GET", "/api/v1/session", "/api/v1/session", None, "401 200 200 200 200 200 200"),
    ("DELETE", "/api/v1/session", "/api/v1/session", None, "204 204 204 204 204 204 204"),
    # --- sites: members see, owners change, everybody else finds nothing
    ("GET", "/api/v1/sites", "/api/v1/sites", None, "401 200 200 200 200 200 200"),
    (
        "POST",
        "/api/v1/sites",
        "/api/v1/sites",
        {"domain": "new.example"},
        "401 201 201 201 403 201 201",
    ),
    (
        "GET",
        "/api/v1/sites/<site_id>",
        f"/api/v1/sites/{SITE}",
        None,
        "401 404 200 200 200 200 200",
    ),
    (
        "PATCH",
        "/api/v1/sites/<site_id>",
        f"/api/v1/sites/{SITE}",
        {"honour_dnt": False},
        "401 404 403 200 403 200 200",
    ),
    (
        "DELETE",
        "/api/v1/sites/<site_id>",
        f"/api/v1/sites/{SITE}",
        None,
        "401 404 403 204 403 204 204",
    ),
    (
        "GET",
        "/api/v1/sites/<site_id>/members",
        f"/api/v1/sites/{SITE}/members",
        None,
        "401 404 200 200 200 200 200",
    ),
    (
        "POST",
        "/api/v1/sites/<site_id>/members",
        f"/api/v1/sites/{SITE}/members",
        {"email": "user@example.com", "role": "viewer"},
        "401 404 403 201 403 201 201",
    ),
    (
        "DELETE",
        f"/api/v1/sites/<site_id>/members/<{ROW_ID}:user_id>",
        f"/api/v1/sites/{SITE}/members/{VIEWER}",
        None,
        "401 404 403 204 403 204 204",
    ),
    # --- statistics: members (a read token is enough) and admins
    (
        "GET",
        "/api/v1/sites/<site_id>/stats",
        f"/api/v1/sites/{SITE}/stats",
        None,
        "401 404 200 200 200 200 200",
    ),
    (
        "GET",
        f"/api/v1{BREAKDOWN_RULE}",
        f"/api/v1/sites/{SITE}/stats/pages",
        None,
        "401 404 200 200 200 200 200",
    ),
    (
        "GET",
        "/api/v1/sites/<site_id>/pages/search",
        f"/api/v1/sites/{SITE}/pages/search?q=page",
        None,
        "401 404 200 200 200 200 200",
    ),
    (
        "GET",
        "/api/v1/sites/<site_id>/stats/realtime",
        f"/api/v1/sites/{SITE}/stats/realtime",
        None,
        "401 404 200 200 200 200 200",
    ),
    # --- share links: owners (and admins) only; a read token lists, writing needs write
    (
        "GET",
        "/api/v1/sites/<site_id>/shares",
        f"/api/v1/sites/{SITE}/shares",
        None,
        "401 404 403 200 200 200 200",
    ),
    (
        "POST",
        "/api/v1/sites/<site_id>/shares",
        f"/api/v1/sites/{SITE}/shares",
        {"label": "press"},
        "401 404 403 201 403 201 201",
    ),
    (
        "DELETE",
        f"/api/v1/sites/<site_id>/shares/<{ROW_ID}:share_id>",
        f"/api/v1/sites/{SITE}/shares/{SHARE}",
        None,
        "401 404 403 204 403 204 204",
    ),
    # --- imports: owners upload and delete, members list and follow them
    (
        "POST",
        "/api/v1/sites/<site_id>/imports",
        f"/api/v1/sites/{SITE}/imports",
        UPLOAD,
        "401 404 403 202 403 202 202",
    ),
    (
        "GET",
        "/api/v1/sites/<site_id>/imports",
        f"/api/v1/sites/{SITE}/imports",
        None,
        "401 404 200 200 200 200 200",
    ),
    (
        "GET",
        f"/api/v1/sites/<site_id>/imports/<{ROW_ID}:job_id>",
        f"/api/v1/sites/{SITE}/imports/{IMPORT}",
        None,
        "401 404 200 200 200 200 200",
    ),
    (
        "DELETE",
        f"/api/v1/sites/<site_id>/imports/<{ROW_ID}:job_id>",
        f"/api/v1/sites/{SITE}/imports/{IMPORT}",
        None,
        "401 404 403 204 403 204 204",
    ),
    # --- server-side ingest: a write token of the site's owners (and admins)
    (
        "POST",
        "/api/v1/sites/<site_id>/hits",
        f"/api/v1/sites/{SITE}/hits",
        {"hits": [{"url": "https://site.example/", "ip": "198.51.100.1", "user_agent": "Firefox"}]},
        "401 404 403 202 403 202 202",
    ),
    # --- users: admins with the admin scope; anybody for themselves
    ("GET", "/api/v1/users", "/api/v1/users", None, "401 403 403 403 403 200 403"),
    (
        "POST",
        "/api/v1/users",
        "/api/v1/users",
        {"email": "new@example.com", "password": "long enough"},
        "401 403 403 403 403 201 403",
    ),
    (
        "GET",
        f"/api/v1/users/<{ROW_ID}:user_id>",
        f"/api/v1/users/{USER}",
        None,
        "401 200 403 403 403 200 403",
    ),
    (
        "PUT",
        f"/api/v1/users/<{ROW_ID}:user_id>",
        f"/api/v1/users/{USER}",
        {"email": "user@example.com", "name": "U", "role": "user"},
        "401 200 403 403 403 200 403",
    ),
    (
        "PATCH",
        f"/api/v1/users/<{ROW_ID}:user_id>",
        f"/api/v1/users/{USER}",
        {"name": "U"},
        "401 200 403 403 403 200 403",
    ),
    (
        "DELETE",
        f"/api/v1/users/<{ROW_ID}:user_id>",
        f"/api/v1/users/{USER}",
        None,
        "401 403 403 403 403 204 403",
    ),
    # --- public: tracking, public counters (the site enables them), the API's docs
    (
        "POST",
        "/api/v1/hits",
        "/api/v1/hits",
        {"site": SITE, "url": "https://site.example/"},
        "202 202 202 202 202 202 202",
    ),
    (
        "GET",
        "/api/v1/counters/<site_id>",
        f"/api/v1/counters/{SITE}",
        None,
        "200 200 200 200 200 200 200",
    ),
    ("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", None, "200 200 200 200 200 200 200"),
    ("GET", "/api/v1/docs", "/api/v1/docs", None, "200 200 200 200 200 200 200"),
    (
        "GET",
        "/api/v1/docs/static/<path:filename>",
        "/api/v1/docs/static/docs.js",
        None,
        "200 200 200 200 200 200 200",
    ),
]

CELLS = [
    pytest.param(method, path, body, caller, int(status), id=f"{method} {path} as {caller}")
    for method, _rule, path, body, statuses in MATRIX
    for caller, status in zip(CALLERS, statuses.split(), strict=True)
]


@dataclass
class World:
    app: Flask
    database: Path
    template: Path
    ids: dict[str, str]
    tokens: dict[str, str]

    def fresh(self) -> FlaskClient:
        """Put the database back as the template has it; a client without cookies."""
        assert tasks.wait(self.app, 30)  # an import thread of the last cell has ended
        DATABASE.get(self.app).engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{self.database}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.template, self.database)
        SITES.get(self.app).clear()
        return self.app.test_client()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("matrix")
    database = folder / "api.sqlite3"
    settings = load_settings(
        DATABASE_URL=f"sqlite:///{database}", PAGE_TRACKER_ENV="test", LOG_DIR=str(folder / "log")
    )
    app = create_app(settings=settings, configure_logging=False)
    with app.app_context():
        migrate.upgrade(DATABASE.get(app).engine)
        session = get_session()
        accounts = {
            name: create_user(session, f"{name}@example.com", PASSWORD, role=role)
            for name, role in [
                ("user", Role.USER),
                ("viewer", Role.USER),
                ("owner", Role.USER),
                ("admin", Role.ADMIN),
            ]
        }
        site = create_site(session, "site.example", public_counters=True)
        site.sharing = True
        share, _ = create_share(session, site)
        finished = create_job(session, site.id, "busuanzi", "old.csv", "gone/old.csv", 10, {}, None)
        finished.state, finished.upload = DONE, None
        set_member(session, site.id, accounts["owner"], MemberRole.OWNER)
        set_member(session, site.id, accounts["viewer"], MemberRole.VIEWER)
        read_write = (Scope.READ, Scope.WRITE)
        grants: dict[str, tuple[User, tuple[Scope, ...]]] = {
            "user": (accounts["user"], read_write),
            "viewer": (accounts["viewer"], read_write),
            "owner": (accounts["owner"], read_write),
            "owner-read": (accounts["owner"], (Scope.READ,)),
            "admin": (accounts["admin"], (Scope.READ, Scope.WRITE, Scope.ADMIN)),
            "admin-rw": (accounts["admin"], read_write),
        }
        tokens: dict[str, str] = {}
        token_ids: dict[str, int] = {}
        for caller, (account, scopes) in grants.items():
            token, clear = issue_token(session, account, scopes, expires_in=timedelta(days=1))
            tokens[caller], token_ids[caller] = clear, token.id
        session.commit()
        ids = {
            "site": site.id,
            "user": str(accounts["user"].id),
            "viewer": str(accounts["viewer"].id),
            "token": str(token_ids["user"]),
            "share": str(share.id),
            "import_job": str(finished.id),
        }
    DATABASE.get(app).engine.dispose()
    template = folder / "template.sqlite3"
    shutil.copyfile(database, template)
    yield World(app, database, template, ids, tokens)
    close_app(app)


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "body", "caller", "status"), CELLS)
def test_should_answer_each_caller_as_the_table_says(  # noqa: PLR0917 - one per column
    world: World, method: str, path: str, body: dict[str, Any] | None, caller: str, status: int
) -> None:
    client = world.fresh()
    headers = {} if caller == "anonymous" else {"Authorization": f"Bearer {world.tokens[caller]}"}
    if body is UPLOAD:
        content, name = UPLOAD["file"]
        form = {"source": UPLOAD["source"], "file": (io.BytesIO(content), name)}
        answer = client.open(_fill(path, world.ids), method=method, data=form, headers=headers)
    else:
        answer = client.open(
            _fill(path, world.ids), method=method, json=_fill(body, world.ids), headers=headers
        )
    with answer:  # closes a file the answer streams
        assert answer.status_code == status, answer.get_data(as_text=True)
        if status >= 400:
            assert answer.get_json()["code"] == status


def test_should_cover_every_api_rule(world: World) -> None:
    served = {
        (method, rule.rule)
        for rule in world.app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    tabled = [(method, rule) for method, rule, *_ in MATRIX]
    assert len(tabled) == len(set(tabled)), "a row appears twice"
    assert set(tabled) == served
