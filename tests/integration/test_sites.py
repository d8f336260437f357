"""Site management on each database: changing a site's hosts and options."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from page_tracker.db import get_session
from page_tracker.errors import Conflict, NotFound, ValidationFailed
from page_tracker.sites.services import (
    allowed_hosts,
    create_site,
    find_site_for_host,
    get_site,
    update_site,
)


def test_should_change_options_and_hosts_and_keep_the_rest(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(DATABASE_URL=clean_database)
    with app.app_context():
        session = get_session()
        site = create_site(session, "example.com", ["old.example.org"], retention_days=30)
        session.commit()
        site_id = site.id

        update_site(
            session,
            site_id,
            public_counters=True,
            honour_dnt=False,
            add_hosts=["New.Example.org", "www.example.com"],  # the second is implied
            remove_hosts=["old.example.org"],
        )
        session.commit()
        session.expire_all()

        changed = get_site(session, site_id)
        assert changed is not None
        assert (changed.public_counters, changed.honour_dnt, changed.retention_days) == (
            True,
            False,
            30,
        )
        assert allowed_hosts(changed) == {"example.com", "www.example.com", "new.example.org"}
        assert find_site_for_host(session, "old.example.org") is None
        found = find_site_for_host(session, "new.example.org")
        assert found is not None
        assert found.id == site_id

        update_site(session, site_id, retention_days=0)
        session.commit()
        session.expire_all()
        again = get_site(session, site_id)
        assert again is not None
        assert again.retention_days is None
        assert again.public_counters is True  # untouched


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_should_refuse_bad_changes_and_change_nothing(
    clean_database: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app(DATABASE_URL=clean_database)
    with app.app_context():
        session = get_session()
        mine = create_site(session, "mine.example", ["extra.mine.example"])
        create_site(session, "other.example", ["taken.example"])
        session.commit()
        mine_id = mine.id

        refusals: list[tuple[dict[str, object], type[Exception], str]] = [
            ({"add_hosts": ["taken.example"]}, Conflict, "already belongs"),
            ({"add_hosts": ["other.example"]}, Conflict, "already belongs"),
            ({"add_hosts": ["not a host"]}, ValidationFailed, "invalid host name"),
            ({"remove_hosts": ["nope.example"]}, ValidationFailed, "no extra host"),
            ({"retention_days": -1}, ValidationFailed, "retention days"),
        ]
        for changes, error, message in refusals:
            with pytest.raises(error, match=message):
                update_site(session, mine_id, public_counters=True, **changes)  # type: ignore[arg-type]
            session.rollback()

        session.expire_all()
        unchanged = get_site(session, mine_id)
        assert unchanged is not None
        assert unchanged.public_counters is False
        assert {host.host for host in unchanged.hosts} == {"extra.mine.example"}
        with pytest.raises(NotFound):
            update_site(session, "nosuchsite00", public_counters=True)
