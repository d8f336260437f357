"""``page-tracker sites create|update|list|delete``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from page_tracker.cli_errors import committed
from page_tracker.db import get_session
from page_tracker.sites import services
from page_tracker.sites.models import Site
from page_tracker.terminal import terminal_safe


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
    with committed() as session:
        site = services.create_site(
            session,
            domain,
            hosts,
            public_counters=public_counters,
            honour_dnt=not ignore_dnt,
            retention_days=retention_days,
        )
    hosts_shown = ", ".join(sorted(services.allowed_hosts(site)))
    click.echo(terminal_safe(f"created site {site.domain} (hosts: {hosts_shown})"))
    click.echo(site.id)


@sites.command("update")
@click.argument("site_id")
@click.option("--add-host", "add_hosts", multiple=True, help="Allow another host (repeatable).")
@click.option("--remove-host", "remove_hosts", multiple=True, help="Drop an extra host.")
@click.option(
    "--public-counters/--no-public-counters",
    default=None,
    help="Serve (or stop serving) public counters and badges.",
)
@click.option(
    "--ignore-dnt/--honour-dnt",
    default=None,
    help="Count readers who send Do-Not-Track / GPC, or stop counting them again.",
)
@click.option(
    "--retention-days",
    type=click.IntRange(0, None),
    help="Keep raw hits this many days; 0 stops keeping them (rollups stay).",
)
@with_appcontext
def update(  # noqa: PLR0917 - one parameter per click option
    site_id: str,
    add_hosts: tuple[str, ...],
    remove_hosts: tuple[str, ...],
    public_counters: bool | None,
    ignore_dnt: bool | None,
    retention_days: int | None,
) -> None:
    """Change a site's hosts and options; what is not given stays as it is."""
    with committed() as session:
        site = services.update_site(
            session,
            site_id,
            public_counters=public_counters,
            honour_dnt=None if ignore_dnt is None else not ignore_dnt,
            retention_days=retention_days,
            add_hosts=add_hosts,
            remove_hosts=remove_hosts,
        )
    click.echo("\t".join(_row(site)))


def _row(site: Site) -> list[str]:
    """A site as ``sites list`` prints it: id, domain, options, extra hosts."""
    options = [
        "public-counters" if site.public_counters else "",
        "" if site.honour_dnt else "ignore-dnt",
        f"retention={site.retention_days}d" if site.retention_days else "",
    ]
    extra = ",".join(sorted(host.host for host in site.hosts))
    # Busuanzi can create sites from readers' Host headers: escaped like any web data.
    return [
        terminal_safe(field)
        for field in (site.id, site.domain, ",".join(filter(None, options)), extra)
    ]


@sites.command("list")
@with_appcontext
def list_() -> None:
    """List sites: id, domain, options, extra hosts (tab-separated)."""
    for site in services.list_sites(get_session()):
        click.echo("\t".join(_row(site)))


@sites.command("delete")
@click.argument("site_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def delete(site_id: str, yes: bool) -> None:
    """Delete a site and all its statistics."""
    if not yes:
        click.confirm(f"Delete site {site_id} and all its statistics?", abort=True)
    with committed() as session:
        services.delete_site(session, site_id, services.SITE_CLEANUPS.get(current_app))
    click.echo(f"deleted site {site_id}")
