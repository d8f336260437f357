"""``page-tracker sites create|list|delete``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from page_tracker.db import get_session
from page_tracker.errors import APIError
from page_tracker.sites import services
from page_tracker.stats.rollup import purge_site


def _fail(message: str) -> None:
    click.echo(f"page-tracker: error: {message}", err=True)
    raise SystemExit(1)


@click.group()
def sites() -> None:
    """Manage tracked sites."""


@sites.command("create")
@click.argument("domain")
@click.option("--host", "hosts", multiple=True, help="Extra allowed host (repeatable).")
@click.option("--public-counters", is_flag=True, help="Serve public counters and badges.")
@click.option("--ignore-dnt", is_flag=True, help="Count readers who send Do-Not-Track / GPC.")
@click.option(
    "--retention-days",
    type=click.IntRange(1, None),
    help="Keep raw hits this many days (default: raw hits are not kept).",
)
@with_appcontext
def create(
    domain: str,
    hosts: tuple[str, ...],
    public_counters: bool,
    ignore_dnt: bool,
    retention_days: int | None,
) -> None:
    """Create a site for DOMAIN; prints its id on the last line."""
    session = get_session()
    try:
        site = services.create_site(
            session,
            domain,
            hosts,
            public_counters=public_counters,
            honour_dnt=not ignore_dnt,
            retention_days=retention_days,
        )
        session.commit()
    except APIError as error:
        _fail(error.message)
    except SQLAlchemyError as error:
        _fail(f"database error: {str(error).splitlines()[0]}")
    click.echo(
        f"created site {site.domain} (hosts: {', '.join(sorted(services.allowed_hosts(site)))})"
    )
    click.echo(site.id)


@sites.command("list")
@with_appcontext
def list_() -> None:
    """List sites: id, domain, options, extra hosts (tab-separated)."""
    for site in services.list_sites(get_session()):
        options = [
            "public-counters" if site.public_counters else "",
            "" if site.honour_dnt else "ignore-dnt",
            f"retention={site.retention_days}d" if site.retention_days else "",
        ]
        extra = ",".join(sorted(host.host for host in site.hosts))
        click.echo("\t".join([site.id, site.domain, ",".join(filter(None, options)), extra]))


@sites.command("delete")
@click.argument("site_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def delete(site_id: str, yes: bool) -> None:
    """Delete a site and all its statistics."""
    if not yes:
        click.confirm(f"Delete site {site_id} and all its statistics?", abort=True)
    session = get_session()
    try:
        services.delete_site(session, site_id)
        purge_site(session, site_id)
        session.commit()
    except APIError as error:
        _fail(error.message)
    click.echo(f"deleted site {site_id}")
