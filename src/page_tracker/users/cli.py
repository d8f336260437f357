"""``page-tracker users create|list|delete|set-password``.

Passwords are read from ``--password`` or prompted without echo (twice); they are never
printed. The first admin is created here: ``page-tracker users create EMAIL --admin``.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from page_tracker.cli_errors import committed
from page_tracker.db import get_session
from page_tracker.users import services
from page_tracker.users.models import Role

_PASSWORD = click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="The password (prompted without echo when omitted).",
)


@click.group()
def users() -> None:
    """Manage user accounts."""


@users.command("create")
@click.argument("email")
@_PASSWORD
@click.option("--name", default="", help="Display name.")
@click.option("--admin", is_flag=True, help="Give the user the admin role.")
@with_appcontext
def create(email: str, password: str, name: str, admin: bool) -> None:
    """Create a user; prints their id on the last line."""
    with committed() as session:
        user = services.create_user(
            session, email, password, name=name, role=Role.ADMIN if admin else Role.USER
        )
    click.echo(f"created {user.role} {user.email}")
    click.echo(user.id)


@users.command("list")
@with_appcontext
def list_() -> None:
    """List users: id, email, role, name (tab-separated)."""
    for user in services.list_users(get_session()):
        click.echo("\t".join([str(user.id), user.email, user.role, user.name]))


@users.command("delete")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def delete(email: str, yes: bool) -> None:
    """Delete a user, their tokens and their site memberships."""
    if not yes:
        click.confirm(f"Delete user {email}?", abort=True)
    with committed() as session:
        services.delete_user(session, services.user_by_email(session, email))
    click.echo(f"deleted user {email}")


@users.command("set-password")
@click.argument("email")
@_PASSWORD
@with_appcontext
def set_password(email: str, password: str) -> None:
    """Set a user's password."""
    with committed() as session:
        services.update_user(session, services.user_by_email(session, email), password=password)
    click.echo(f"password of {email} changed")
