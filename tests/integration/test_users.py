"""Accounts on each database: users, passwords, memberships, and ``page-tracker users``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import select

from page_tracker.cli import cli
from page_tracker.db import get_session
from page_tracker.errors import Conflict, NotFound, ValidationFailed
from page_tracker.sites.services import SITE_CLEANUPS, create_site, delete_site
from page_tracker.users import memberships, services
from page_tracker.users.models import MemberRole, Role, SiteMember, User


def test_should_create_authenticate_update_and_delete_users(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(DATABASE_URL=clean_database)
    with app.app_context():
        session = get_session()
        admin = services.create_user(
            session, " Ada@Example.COM ", "correct horse", name="Ada", role=Role.ADMIN
        )
        session.commit()
        assert (admin.email, admin.name, admin.role) == ("ada@example.com", "Ada", "admin")
        assert admin.password_hash.startswith("$argon2id$")
        assert "correct horse" not in repr(admin)

        assert services.authenticate(session, "ADA@example.com", "correct horse") == admin
        assert services.authenticate(session, "ada@example.com", "wrong horse!") is None
        assert services.authenticate(session, "nobody@example.com", "correct horse") is None
        assert services.authenticate(session, "not an email", "correct horse") is None

        with pytest.raises(Conflict):
            services.create_user(session, "ada@example.com", "another one")
        session.rollback()

        services.update_user(session, admin, password="battery staple", name="Ada L.")
        session.commit()
        assert services.authenticate(session, "ada@example.com", "correct horse") is None
        assert services.authenticate(session, "ada@example.com", "battery staple") == admin

        with pytest.raises(Conflict, match="last admin"):
            services.update_user(session, admin, role=Role.USER)
        with pytest.raises(Conflict, match="last admin"):
            services.delete_user(session, admin)
        session.rollback()

        bob = services.create_user(session, "bob@example.com", "bob's password")
        session.commit()
        services.delete_user(session, bob)
        session.commit()
        assert [user.email for user in services.list_users(session)] == ["ada@example.com"]


def test_should_keep_memberships_per_site_and_drop_them_with_the_site(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(DATABASE_URL=clean_database)
    with app.app_context():
        session = get_session()
        owner = services.create_user(session, "owner@example.com", "password1")
        viewer = services.create_user(session, "viewer@example.com", "password2")
        admin = services.create_user(session, "root@example.com", "password3", role=Role.ADMIN)
        mine = create_site(session, "mine.example")
        other = create_site(session, "other.example")
        memberships.set_member(session, mine.id, owner, MemberRole.OWNER)
        memberships.set_member(session, mine.id, viewer, MemberRole.VIEWER)
        session.commit()
        site_id = mine.id

        assert [site.domain for site in memberships.visible_sites(session, viewer)] == [
            "mine.example"
        ]
        assert {site.id for site in memberships.visible_sites(session, admin)} == {
            site_id,
            other.id,
        }
        assert memberships.member_role(session, site_id, viewer.id) is MemberRole.VIEWER
        assert memberships.member_role(session, other.id, viewer.id) is None

        with pytest.raises(Conflict, match="at least one owner"):
            memberships.set_member(session, site_id, owner, MemberRole.VIEWER)
        with pytest.raises(Conflict, match="at least one owner"):
            memberships.remove_member(session, site_id, owner.id)
        session.rollback()
        with pytest.raises(NotFound):
            memberships.remove_member(session, other.id, owner.id)

        memberships.set_member(session, site_id, viewer, MemberRole.OWNER)
        memberships.set_member(session, site_id, owner, MemberRole.VIEWER)  # one owner left
        session.commit()
        assert [(user.email, role) for user, role in memberships.members(session, site_id)] == [
            ("owner@example.com", MemberRole.VIEWER),
            ("viewer@example.com", MemberRole.OWNER),
        ]

        delete_site(session, site_id, SITE_CLEANUPS.get(app))
        session.commit()
        assert session.scalars(select(SiteMember)).all() == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("email", "password", "error"),
    [
        ("not-an-email", "long enough", "invalid email"),
        ("a@example.com", "short", "8 to 1024 characters"),
        ("a@example.com", "x" * 1025, "8 to 1024 characters"),
    ],
)
def test_should_refuse_invalid_accounts(
    clean_database: str, make_app: Callable[..., Flask], email: str, password: str, error: str
) -> None:
    app = make_app(DATABASE_URL=clean_database)
    with app.app_context():
        session = get_session()
        with pytest.raises(ValidationFailed, match=error):
            services.create_user(session, email, password)
        assert session.scalars(select(User)).all() == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_manage_users_from_the_command_line_without_printing_passwords(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(DATABASE_URL=clean_database)
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = runner.invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app), input=stdin)
        return result.exit_code, result.output

    code, out = run(
        "users",
        "create",
        "ada@example.com",
        "--admin",
        "--name",
        "Ada",
        stdin="s3cret-pass\ns3cret-pass\n",
    )
    assert code == 0, out
    user_id = out.strip().splitlines()[-1]
    assert "s3cret-pass" not in out.replace("Password: \n", "")  # the prompt echoes nothing

    assert run("users", "create", "bob@example.com", "--password", "bobs-pass")[0] == 0
    code, out = run("users", "list")
    assert out.splitlines() == [
        f"{user_id}\tada@example.com\tadmin\tAda",
        f"{int(user_id) + 1}\tbob@example.com\tuser\t",
    ]
    assert run("users", "set-password", "bob@example.com", "--password", "new-pass-1")[0] == 0
    with app.app_context():
        assert services.authenticate(get_session(), "bob@example.com", "new-pass-1") is not None

    code, out = run("users", "create", "bob@example.com", "--password", "bobs-pass")
    assert (code, out.strip().splitlines()[-1]) == (
        1,
        "page-tracker: error: a user with email bob@example.com exists",
    )
    code, out = run("users", "delete", "ada@example.com", "--yes")
    assert (code, out.strip()) == (1, "page-tracker: error: the last admin cannot be deleted")
    code, out = run("users", "delete", "nobody@example.com", "--yes")
    assert code == 1
    assert "no user with email nobody@example.com" in out
    assert run("users", "delete", "bob@example.com", "--yes")[0] == 0
