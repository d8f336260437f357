"""The dashboard's account side through Flask's test client: the language (switch, then
Accept-Language), a site's settings page for owners, viewers and strangers, the tokens
page, and share links opened signed out, in the reader's language."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from page_tracker import migrate
from page_tracker.auth.tokens import Scope, issue_token
from page_tracker.db import DATABASE, get_session
from page_tracker.sites.services import create_site
from page_tracker.sites.shares import create_share, revoke_share
from page_tracker.users.memberships import set_member
from page_tracker.users.models import MemberRole
from page_tracker.users.services import create_user, update_user, user_by_email

PASSWORD = "correct horse"
CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


@dataclass
class World:
    app: Flask
    site: str
    other: str
    share: str
    share_id: int


@pytest.fixture
def world(tmp_path: object, make_app: Callable[..., Flask]) -> World:
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/admin.db")
    with app.app_context():
        migrate.upgrade(DATABASE.get(app).engine)
        session = get_session()
        owner = create_user(session, "owner@example.com", PASSWORD)
        viewer = create_user(session, "viewer@example.com", PASSWORD)
        stranger = create_user(session, "stranger@example.com", PASSWORD)
        site = create_site(session, "mine.example", ["blog.mine.example"])
        other = create_site(session, "other.example")
        site.sharing = True
        set_member(session, site.id, owner, MemberRole.OWNER)
        set_member(session, site.id, viewer, MemberRole.VIEWER)
        set_member(session, other.id, stranger, MemberRole.OWNER)
        issue_token(session, owner, (Scope.READ,), expires_in=timedelta(days=3), name="ci job")
        link, clear = create_share(session, site, label="press")
        session.commit()
        return World(app, site.id, other.id, clear, link.id)


def _signed_in(world: World, email: str) -> FlaskClient:
    client = world.app.test_client()
    answer = client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200
    return client


def test_should_pick_chinese_from_accept_language_and_english_otherwise(world: World) -> None:
    client = world.app.test_client()
    chinese = client.get("/dashboard/", headers=CHINESE).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in chinese
    assert "<h1>登录</h1>" in chinese
    assert 'data-wrong-password="邮箱或密码错误。"' in chinese  # for the script
    for header in ("en-US,en;q=0.9", "de-DE", "", "zz;q=garbage"):
        english = client.get("/dashboard/", headers={"Accept-Language": header})
        assert "<h1>Sign in</h1>" in english.get_data(as_text=True), header
        assert "Accept-Language" in english.headers["Vary"]


def test_should_keep_the_switched_language_over_accept_language(world: World) -> None:
    client = world.app.test_client()
    answer = client.post(
        "/dashboard/language", data={"lang": "zh", "next": f"/dashboard/sites/{world.site}"}
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/dashboard/sites/{world.site}"
    assert "pt_lang=zh" in answer.headers["Set-Cookie"]
    page = client.get("/dashboard/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>登录</h1>" in page
    client.post("/dashboard/language", data={"lang": "en", "next": "/dashboard/"})
    assert "<h1>Sign in</h1>" in client.get("/dashboard/", headers=CHINESE).get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/dashboard/\\evil", "/api/v1/users", ""],
)
def test_should_switch_language_back_to_the_dashboard_only(world: World, target: str) -> None:
    answer = world.app.test_client().post(
        "/dashboard/language", data={"lang": "fr", "next": target}
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/dashboard/"
    assert "Set-Cookie" not in answer.headers  # an unknown language is not kept


def test_should_show_an_owner_the_settings_with_members_snippets_and_share_links(
    world: World,
) -> None:
    client = _signed_in(world, "owner@example.com")
    page = client.get(f"/dashboard/sites/{world.site}/settings")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="site-options"' in text
    assert "blog.mine.example" in text
    assert "viewer@example.com" in text
    assert 'id="add-member"' in text
    assert 'id="add-share"' in text
    assert "press" in text
    assert world.share not in text  # only the prefix of a link is ever shown again
    assert world.share[:10] in text
    for snippet in ("snippet-pt", "snippet-pixel", "snippet-busuanzi", "snippet-plausible"):
        assert f'id="{snippet}"' in text
    assert f"data-site=&#34;{world.site}&#34;" in text  # escaped in its textarea
    assert "/api/event" in text
    assert "<script>" not in text


def test_should_show_a_viewer_the_settings_read_only_and_a_stranger_nothing(
    world: World,
) -> None:
    viewer = _signed_in(world, "viewer@example.com")
    text = viewer.get(f"/dashboard/sites/{world.site}/settings").get_data(as_text=True)
    assert 'id="read-only"' in text
    assert 'id="add-member"' not in text
    assert 'id="add-share"' not in text
    assert "press" not in text
    stranger = _signed_in(world, "stranger@example.com")
    page = stranger.get(f"/dashboard/sites/{world.site}/settings", headers=CHINESE)
    assert page.status_code == 404
    assert "未找到" in page.get_data(as_text=True)
    assert "mine.example" not in page.get_data(as_text=True)
    signed_out = world.app.test_client().get(f"/dashboard/sites/{world.site}/settings")
    assert signed_out.status_code == 401
    assert 'id="sign-in"' in signed_out.get_data(as_text=True)


def test_should_list_my_tokens_without_their_secret(world: World) -> None:
    client = _signed_in(world, "owner@example.com")
    page = client.get("/dashboard/tokens", headers=CHINESE)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "ci job" in text
    assert "API 令牌" in text
    assert re.search(r"<code>pt_[\w-]{6}…</code>", text)
    assert 'id="add-token"' in text
    assert 'value="admin"' not in text  # no admin scope for a plain user
    assert world.app.test_client().get("/dashboard/tokens").status_code == 401


def test_should_show_a_shared_site_read_only_to_somebody_signed_out(world: World) -> None:
    reader = world.app.test_client()
    page = reader.get(f"/dashboard/share/{world.share}?range=7d", headers=CHINESE)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "mine.example" in text
    assert 'id="shared-notice"' in text
    assert "站点所有者分享的只读视图" in text
    assert "settings" not in text  # no settings link, no snippets
    assert f'href="/dashboard/share/{world.share}?range=today"' in text  # ranges stay shared
    assert f"/api/v1/sites/{world.site}/stats?from=" in text
    assert reader.get(f"/api/v1/sites/{world.site}/stats").status_code == 200
    assert reader.get(f"/api/v1/sites/{world.other}/stats").status_code == 401
    bad = reader.get(f"/dashboard/share/{world.share}?range=decade")
    assert bad.status_code == 422
    assert f"/dashboard/share/{world.share}" in bad.get_data(as_text=True)


def test_should_tell_a_revoked_link_apart_in_the_readers_language(world: World) -> None:
    with world.app.app_context():
        session = get_session()
        revoke_share(session, world.site, world.share_id)
        session.commit()
    page = world.app.test_client().get(f"/dashboard/share/{world.share}", headers=CHINESE)
    assert page.status_code == 410
    text = page.get_data(as_text=True)
    assert "此分享链接已被撤销" in text
    assert "mine.example" not in text
    assert "Traceback" not in text


def test_should_say_so_in_chinese_when_the_session_has_ended(world: World) -> None:
    client = _signed_in(world, "owner@example.com")
    with world.app.app_context():
        session = get_session()
        update_user(session, user_by_email(session, "owner@example.com"), password="new horse!")
        session.commit()
    page = client.get("/dashboard/tokens", headers=CHINESE)
    assert page.status_code == 401
    assert "你的会话已结束" in page.get_data(as_text=True)


def test_should_explain_a_bad_range_in_chinese(world: World) -> None:
    client = _signed_in(world, "owner@example.com")
    page = client.get(
        f"/dashboard/sites/{world.site}?range=custom&from=2026-03-02&to=2026-03-01",
        headers=CHINESE,
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "无法显示此视图" in text
    assert "开始日期晚于结束日期" in text
