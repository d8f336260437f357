"""The statistics feature: the public counters and badges, ``page-tracker stats``, the
purge jobs, and the deletion of a site's statistics with the site."""

from __future__ import annotations

from flask import Flask

from page_tracker.features import Feature
from page_tracker.sites.feature import on_site_deleted
from page_tracker.stats import cached, public_counters, tasks
from page_tracker.stats.cli import stats
from page_tracker.stats.purge import purge_site


def init_app(app: Flask) -> None:
    app.register_blueprint(public_counters.bp)
    public_counters.install(app)
    cached.init_app(app)
    on_site_deleted(app, purge_site)
    on_site_deleted(app, lambda _session, site_id: cached.forget_sites([site_id]))


FEATURE = Feature("stats", init_app=init_app, commands=(stats,), periodic_jobs=tasks.PERIODIC_JOBS)
