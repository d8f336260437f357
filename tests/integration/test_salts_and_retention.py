"""Daily salts (database and Redis) and raw-hit retention against the real services."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import redis
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from page_tracker.app import periodic_jobs
from page_tracker.ingest import tasks as salt_tasks
from page_tracker.ingest.models import Salt
from page_tracker.ingest.salts import DatabaseSaltStore, RedisSaltStore
from page_tracker.sites.services import create_site
from page_tracker.stats import purge, rollup, tasks
from page_tracker.stats.models import Hit
from page_tracker.stats.pageview import PageView

DAY = date(2026, 5, 4)


def stored_days(engine: Engine) -> list[date]:
    with Session(engine) as session:
        return list(session.scalars(select(Salt.day).order_by(Salt.day)))


def test_should_share_one_salt_per_day_and_destroy_past_ones(engine: Engine) -> None:
    first, second = DatabaseSaltStore(engine), DatabaseSaltStore(engine)
    salt = first.salt_for(DAY)
    assert len(salt) == 32
    assert second.salt_for(DAY) == salt  # another process reads the same salt
    tomorrow = second.salt_for(DAY + timedelta(days=1))
    assert tomorrow != salt
    assert stored_days(engine) == [DAY + timedelta(days=1)]  # yesterday's is gone
    salt_tasks.rotate_salts(first, DAY + timedelta(days=2))
    assert stored_days(engine) == [DAY + timedelta(days=2)]


def test_should_keep_salts_in_redis_with_an_expiry(redis_url: str, redis_prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        store, other = RedisSaltStore(client, redis_prefix), RedisSaltStore(client, redis_prefix)
        salt = store.salt_for(DAY)
        assert other.salt_for(DAY) == salt
        key = f"{redis_prefix}salt:{DAY.isoformat()}"
        assert 0 < client.ttl(key) <= 2 * 86400
        store.rotate(DAY + timedelta(days=1))
        assert client.exists(key) == 0
        assert client.exists(f"{redis_prefix}salt:{(DAY + timedelta(days=1)).isoformat()}") == 1
    finally:
        client.delete(*client.keys(f"{redis_prefix}*"))
        client.close()


def test_should_create_redis_salt_from_the_database_one_and_rotate_both(
    engine: Engine, redis_url: str, redis_prefix: str
) -> None:
    # Given a day whose salt a process took from the database (Redis had refused it)
    client = redis.Redis.from_url(redis_url)
    database = DatabaseSaltStore(engine)
    fallback_salt = database.salt_for(DAY)
    try:
        # When another process finds no salt in Redis
        store = RedisSaltStore(client, redis_prefix, DatabaseSaltStore(engine))
        # Then the salt it creates in Redis is the database's: both hash alike
        assert store.salt_for(DAY) == fallback_salt
        assert client.get(f"{redis_prefix}salt:{DAY.isoformat()}") == fallback_salt
        # and rotation destroys the past day's salt in the database too
        store.rotate(DAY + timedelta(days=1))
        assert DAY not in stored_days(engine)
    finally:
        client.delete(*client.keys(f"{redis_prefix}*"))
        client.close()


def test_should_purge_raw_hits_past_each_sites_retention(engine: Engine) -> None:
    now = datetime(2026, 5, 4, 12, 0)
    with Session(engine) as session, session.begin():
        keep = create_site(session, "keep.example", retention_days=30)
        short = create_site(session, "short.example", retention_days=1)
        views = [
            PageView(
                site.id,
                "/",
                "h",
                (now - timedelta(days=age)).replace(tzinfo=UTC),
                bytes(16),
                bytes(16),
                keep_raw=True,
            )
            for site in (keep, short)
            for age in (0, 2, 40)
        ]
        rollup.apply(session, views)
        keep_id, short_id = keep.id, short.id
    with Session(engine) as session, session.begin():
        assert purge.purge_raw_hits(session, now) == 3
    with Session(engine) as session:
        left = session.execute(select(Hit.site_id, func.count()).group_by(Hit.site_id)).all()
    assert dict(left) == {keep_id: 2, short_id: 1}


def test_should_declare_the_periodic_jobs_for_beat() -> None:
    names = {job.task for job in periodic_jobs()}
    assert {salt_tasks.ROTATE_SALTS, tasks.PURGE_RAW_HITS} <= names


def test_should_drop_visitor_sets_of_past_days_but_keep_their_counts(engine: Engine) -> None:
    from page_tracker.stats.models import DailyCount, DailyVisitor  # noqa: PLC0415

    today = date(2026, 5, 10)
    with Session(engine) as session, session.begin():
        views = [
            PageView(
                "site00000001",
                "/",
                "h",
                datetime(2026, 5, day, 9, tzinfo=UTC),
                bytes([day]) * 16,
                bytes(16),
            )
            for day in (5, 8, 9, 10)
        ]
        rollup.apply(session, views)
    with Session(engine) as session, session.begin():
        assert purge.purge_visitor_sets(session, today) == 2  # day 5: its site and page rows
    with Session(engine) as session:
        days = set(session.scalars(select(DailyVisitor.day)))
        counted = session.scalar(
            select(func.sum(DailyCount.visitors)).where(DailyCount.path_id == 0)
        )
    assert days == {date(2026, 5, 8), date(2026, 5, 9), date(2026, 5, 10)}
    assert counted == 4
    with Session(engine) as session, session.begin():
        rollup.apply(
            session,
            [
                PageView(
                    "site00000001",
                    "/",
                    "h",
                    datetime(2026, 5, 9, 23, tzinfo=UTC),
                    bytes([9]) * 16,
                    bytes(16),
                )
            ],
        )
    with Session(engine) as session:
        counted = session.scalar(
            select(func.sum(DailyCount.visitors)).where(DailyCount.path_id == 0)
        )
    assert counted == 4  # a late view of a kept day still dedupes
