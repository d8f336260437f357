"""The access cache (``auth.access``) answers read requests without the access queries,
and every change of access is honoured by the very next request: a revoked or expired
token, a removed member, a deleted user, a changed password or role, a deleted site.

Each change is made by a *second* app on the same database (and, in Redis mode, the same
Redis), as another worker process or the CLI would make it: the first app's cached
entries are never told, only the access epoch in the database changes. Every test runs
on each database, in embedded and in Redis mode.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, event, func, select, text
from sqlalchemy.orm import Session

from page_tracker.auth import audit, epoch
from page_tracker.auth.epoch_mirror import EPOCH_MIRROR
from page_tracker.auth.models import ApiToken, AuditEvent
from page_tracker.auth.tokens import Scope, issue_token, revoke_token
from page_tracker.cache import CACHE
from page_tracker.db import DATABASE, get_session
from page_tracker.sites.services import create_site, delete_site, update_site
from page_tracker.users import services
from page_tracker.users.memberships import remove_member, set_member
from page_tracker.users.models import MemberRole, Role, SiteMember, User

PASSWORD = "correct horse"


@dataclass
class World:
    reader: Flask  # the app whose cache is under test
    writer: Flask  # another process: makes the changes
    site: str
    viewer: int
    token: str
    token_id: int
    session: FlaskClient  # the viewer signed in on the reader

    def stats(self, *, token: str | None = None, client: FlaskClient | None = None) -> int:
        """The status of the viewer's stats read on the reader (by token or session)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        who = client or (self.reader.test_client() if token else self.session)
        return who.get(f"/api/v1/sites/{self.site}/stats", headers=headers).status_code

    def change(self, act: Callable[[Session], Any]) -> None:
        """``act(session)`` on the writer's database, committed."""
        with self.writer.app_context():
            session = get_session()
            act(session)
            session.commit()

    def counts(self, app: Flask | None = None) -> dict[str, int]:
        return CACHE.get(app or self.reader).stats()


@pytest.fixture(params=["embedded", "redis"])
def make_pair(
    request: pytest.FixtureRequest,
    clean_database: str,
    make_app: Callable[..., Flask],
) -> Iterator[Callable[[], tuple[Flask, Flask]]]:
    """Two apps on one database (and one Redis key prefix in Redis mode)."""
    env = {"DATABASE_URL": clean_database}
    prefix = None
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        prefix = f"pt-test:access:{uuid.uuid4().hex[:8]}:"
        env.update(REDIS_URL=url, REDIS_KEY_PREFIX=prefix)
    yield lambda: (make_app(**env), make_app(**env))
    if prefix is not None:
        client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


# The tests of the mirror in Redis: only the Redis-mode parameter of ``make_pair``.
REDIS_MODE_ONLY = pytest.mark.parametrize("make_pair", ["redis"], indirect=True)


@pytest.fixture
def world(make_pair: Callable[[], tuple[Flask, Flask]]) -> World:
    reader, writer = make_pair()
    with writer.app_context():
        session = get_session()
        owner = services.create_user(session, "owner@example.com", PASSWORD)
        viewer = services.create_user(session, "viewer@example.com", PASSWORD)
        services.create_user(session, "admin@example.com", PASSWORD, role=Role.ADMIN)
        site = create_site(session, "site.example")
        set_member(session, site.id, owner, MemberRole.OWNER)
        set_member(session, site.id, viewer, MemberRole.VIEWER)
        token, clear = issue_token(
            session, viewer, [Scope.READ, Scope.WRITE], expires_in=timedelta(days=1)
        )
        session.commit()
        ids = (site.id, viewer.id, token.id)
    browser = reader.test_client()
    signed = browser.post(
        "/api/v1/session", json={"email": "viewer@example.com", "password": PASSWORD}
    )
    assert signed.status_code == 200
    return World(reader, writer, ids[0], ids[1], clear, ids[2], browser)


def _user(session: Session, email: str) -> User:
    found = services.find_user_by_email(session, email)
    assert found is not None
    return found


def test_should_answer_a_second_read_from_the_cache(world: World) -> None:
    # Given a token's first reads (the first writes its use down: the entry is read again
    # after it) and a session's
    assert world.stats(token=world.token) == 200
    assert world.stats(token=world.token) == 200
    assert world.stats() == 200
    before = world.counts()
    # When they read again
    assert world.stats(token=world.token) == 200
    assert world.stats() == 200
    # Then who they are and the site's access came from the cache, nothing was loaded
    after = world.counts()
    assert after.get("access-token.hit", 0) == before.get("access-token.hit", 0) + 1
    assert after.get("access-user.hit", 0) == before.get("access-user.hit", 0) + 1
    assert after.get("access-roles.hit", 0) >= before.get("access-roles.hit", 0) + 2
    for node in ("access-token", "access-user", "access-roles", "access-site"):
        assert after.get(f"{node}.load", 0) == before.get(f"{node}.load", 0)


def test_should_refuse_a_revoked_token_at_once(world: World) -> None:
    # Given a token whose access is cached
    assert world.stats(token=world.token) == 200
    assert world.stats(token=world.token) == 200
    # When another process revokes it
    world.change(lambda s: revoke_token(s, s.get(User, world.viewer), world.token_id))
    # Then the next read with it is refused
    assert world.stats(token=world.token) == 401


def test_should_refuse_a_token_revoked_through_the_api_of_another_process(world: World) -> None:
    # Given a token whose access is cached by the reader
    assert world.stats(token=world.token) == 200
    assert world.stats(token=world.token) == 200
    # When the token revokes itself through the writer's API
    gone = world.writer.test_client().delete(
        f"/api/v1/tokens/{world.token_id}", headers={"Authorization": f"Bearer {world.token}"}
    )
    assert gone.status_code == 204
    # Then the reader refuses it at once
    assert world.stats(token=world.token) == 401


def test_should_hide_the_site_from_a_removed_member_at_once(world: World) -> None:
    # Given a member whose access is cached, by token and by session (API and dashboard)
    assert world.stats(token=world.token) == 200
    assert world.stats() == 200
    page = f"/dashboard/sites/{world.site}"
    assert world.session.get(page).status_code == 200
    # When another process removes the membership
    world.change(lambda s: remove_member(s, world.site, world.viewer))
    # Then the site is gone for them at once, everywhere
    assert world.stats(token=world.token) == 404
    assert world.stats() == 404
    assert world.session.get(page).status_code == 404


def test_should_end_a_deleted_users_session_and_tokens_at_once(world: World) -> None:
    assert world.stats(token=world.token) == 200
    assert world.stats() == 200
    world.change(lambda s: services.delete_user(s, s.get(User, world.viewer)))
    assert world.stats(token=world.token) == 401
    assert world.stats() == 401


def test_should_end_sessions_when_the_password_changes(world: World) -> None:
    assert world.stats() == 200
    world.change(lambda s: services.update_user(s, s.get(User, world.viewer), password="new one!"))
    assert world.stats() == 401


def test_should_follow_a_changed_role_at_once(world: World) -> None:
    # Given an admin (no member) reading the site, and the viewer made an owner
    admin = world.reader.test_client()
    signed = admin.post(
        "/api/v1/session", json={"email": "admin@example.com", "password": PASSWORD}
    )
    assert signed.status_code == 200
    assert world.stats(client=admin) == 200
    assert world.stats(client=admin) == 200

    # When the viewer becomes an admin and the admin a plain user
    def swap(session: Session) -> None:
        services.update_user(session, session.get(User, world.viewer), role=Role.ADMIN)
        services.update_user(session, _user(session, "admin@example.com"), role=Role.USER)

    world.change(swap)
    # Then the former admin finds no site, and the new one reads users
    assert world.stats(client=admin) == 404
    assert world.session.get("/api/v1/users").status_code == 200


def test_should_forget_a_deleted_site_at_once(world: World) -> None:
    assert world.stats(token=world.token) == 200
    world.change(lambda s: delete_site(s, world.site))
    assert world.stats(token=world.token) == 404


def test_should_refuse_an_expired_token_from_its_cached_entry(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a token whose access is cached
    assert world.stats(token=world.token) == 200
    assert world.stats(token=world.token) == 200
    # When its expiry passes (for the request path only: the database would still
    # take it, so a 401 can only come from the cached entry's expiry)
    monkeypatch.setattr("page_tracker.auth.principal.datetime", _later(timedelta(days=2)))
    # Then it is refused
    assert world.stats(token=world.token) == 401


def test_should_still_write_down_a_tokens_use_every_hour(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a token used (and its use written down) and cached
    assert world.stats(token=world.token) == 200
    uses = _uses(world)
    # When it is used again two hours later, three times
    later = _later(timedelta(hours=2))
    monkeypatch.setattr("page_tracker.auth.principal.datetime", later)
    monkeypatch.setattr("page_tracker.auth.tokens.datetime", later)
    assert world.stats(token=world.token) == 200
    assert world.stats(token=world.token) == 200
    hits = world.counts().get("access-token.hit", 0)
    assert world.stats(token=world.token) == 200
    # Then the use was written down once; the entry was read again after it and served
    # the next read
    assert _uses(world) == uses + 1
    assert world.counts().get("access-token.hit", 0) == hits + 1


def test_should_not_cache_unknown_tokens(world: World) -> None:
    before = world.counts()
    for _ in range(5):
        assert world.stats(token=f"pt_{uuid.uuid4().hex}") == 401
    after = world.counts()
    assert after.get("access-token.load", 0) == before.get("access-token.load", 0)


@REDIS_MODE_ONLY
def test_should_share_the_entries_through_redis(world: World) -> None:
    # Given the reader's cached access of the token (its first use written down)
    assert world.stats(token=world.token) == 200
    assert world.stats(token=world.token) == 200
    # When the writer serves the same token
    assert world.stats(token=world.token, client=world.writer.test_client()) == 200
    # Then it found the entry in Redis (a hit, nothing loaded)
    counts = world.counts(world.writer)
    assert counts.get("access-token.hit", 0) == 1
    assert counts.get("access-token.load", 0) == 0


def _later(by: timedelta) -> type[datetime]:
    """``datetime`` whose ``now()`` is ``by`` later (its values are plain datetimes)."""

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return datetime.now(tz) + by

    return Later


def _uses(world: World) -> int:
    with world.writer.app_context():
        used = get_session().scalar(
            select(func.count()).where(AuditEvent.event == audit.Event.TOKEN_USED.value)
        )
        return int(used or 0)


# --- the epoch itself


def _epoch(app: Flask) -> int | None:
    with app.app_context():
        return epoch.current(get_session())


def test_should_change_the_epoch_with_access_only(world: World) -> None:
    now = _epoch(world.writer)
    assert now is not None

    def changed(act: Callable[[Session], Any]) -> bool:
        nonlocal now
        before = now
        world.change(act)
        now = _epoch(world.writer)
        return now != before

    # a token's use is no change of access; an audit event neither
    def used(session: Session) -> None:
        token = session.get(ApiToken, world.token_id)
        assert token is not None
        token.last_used_at = datetime.now(UTC)

    assert not changed(used)
    assert not changed(lambda s: audit.record(s, audit.Event.SIGN_IN, user_id=world.viewer))
    # users, tokens, members and sites are, in the ORM and in bulk
    assert changed(lambda s: services.update_user(s, s.get(User, world.viewer), name="V"))
    assert changed(lambda s: update_site(s, world.site, honour_dnt=False))
    assert changed(lambda s: set_member(s, world.site, s.get(User, world.viewer), MemberRole.OWNER))
    gone = delete(SiteMember).where(
        SiteMember.site_id == world.site, SiteMember.user_id == world.viewer
    )
    assert changed(lambda s: s.execute(gone))


# --- round trips, the mirror in Redis (Redis mode) and lost connections


def _trips(app: Flask) -> dict[str, int]:
    """Counts of the app's database work from now on: checkouts, statements, pings."""
    counts = {"checkout": 0, "statement": 0, "ping": 0}
    engine = DATABASE.get(app).engine
    dialect: Any = engine.dialect
    ping = dialect.do_ping

    def counted_ping(connection: Any) -> bool:
        counts["ping"] += 1
        return bool(ping(connection))

    def counter(name: str) -> Callable[..., None]:
        def count(*_args: Any) -> None:
            counts[name] += 1

        return count

    dialect.do_ping = counted_ping
    event.listen(engine.pool, "checkout", counter("checkout"))
    event.listen(engine, "before_cursor_execute", counter("statement"))
    return counts


def _redis_mode(world: World) -> bool:
    return EPOCH_MIRROR.find(world.reader) is not None


def _unreachable() -> redis.Redis:
    """A client of a port nobody listens on: a Redis that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return redis.Redis(port=port, socket_connect_timeout=0.5, socket_timeout=0.5)


def test_should_answer_a_cached_read_with_no_more_than_the_epoch_from_the_database(
    world: World,
) -> None:
    # Given a token's cached access and report (the first read writes its use down)
    for _ in range(3):
        assert world.stats(token=world.token) == 200
    trips = _trips(world.reader)
    # When it reads again
    assert world.stats(token=world.token) == 200
    # Then Redis mode asked the database nothing (the epoch came from its mirror), and
    # embedded mode read the epoch only, on a pooled connection it did not ping
    if _redis_mode(world):
        assert trips == {"checkout": 0, "statement": 0, "ping": 0}
    else:
        assert trips["statement"] == 1
        assert trips["ping"] == 0


@pytest.mark.parametrize("make_pair", ["embedded"], indirect=True)
@pytest.mark.parametrize("database_url", ["mariadb"], indirect=True)
def test_should_end_the_epoch_reads_transaction_once_on_mariadb(world: World) -> None:
    # Given a token's cached access and report on MariaDB, embedded mode (PostgreSQL reads
    # the epoch in autocommit: the pool's reset of that connection sends nothing)
    for _ in range(3):
        assert world.stats(token=world.token) == 200
    dialect: Any = DATABASE.get(world.reader).engine.dialect
    rollback, ended = dialect.do_rollback, []

    def counted(connection: Any) -> None:
        ended.append(1)
        rollback(connection)

    dialect.do_rollback = counted
    # When it reads again
    assert world.stats(token=world.token) == 200
    # Then the epoch's read ended its transaction once (the pool did not reset the
    # connection again: a second ROLLBACK round trip)
    assert len(ended) == 1
    # And a revocation still takes effect at once
    world.change(lambda s: revoke_token(s, s.get(User, world.viewer), world.token_id))
    assert world.stats(token=world.token) == 401


@REDIS_MODE_ONLY
def test_should_refuse_a_change_of_access_while_redis_is_unreachable(world: World) -> None:
    # Given a token cached by the reader, and a writer whose Redis is down
    assert world.stats(token=world.token) == 200
    assert world.stats(token=world.token) == 200
    EPOCH_MIRROR.get(world.writer).client = _unreachable()
    # When the token is revoked through the writer's API
    refused = world.writer.test_client().delete(
        f"/api/v1/tokens/{world.token_id}", headers={"Authorization": f"Bearer {world.token}"}
    )
    # Then the revocation is refused (it could not be announced to the mirror's readers),
    # nothing changed, and the token still reads
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    with world.writer.app_context():
        assert get_session().get(ApiToken, world.token_id) is not None
    assert world.stats(token=world.token) == 200


@REDIS_MODE_ONLY
def test_should_read_the_epoch_from_the_database_when_the_reader_cannot_reach_redis(
    world: World,
) -> None:
    # Given a reader whose Redis went down after it cached a token's access
    assert world.stats(token=world.token) == 200
    assert world.stats(token=world.token) == 200
    EPOCH_MIRROR.get(world.reader).client = _unreachable()
    errors = world.counts().get("redis-error", 0)
    assert world.stats(token=world.token) == 200
    # When another process revokes the token
    world.change(lambda s: revoke_token(s, s.get(User, world.viewer), world.token_id))
    # Then the reader refuses it at once (the epoch read from the database), and counted
    # its Redis errors
    assert world.stats(token=world.token) == 401
    assert world.counts().get("redis-error", 0) > errors


@REDIS_MODE_ONLY
def test_should_keep_readers_off_the_mirror_when_a_change_could_not_end_there(
    world: World,
) -> None:
    # Given a token cached by the reader
    assert world.stats(token=world.token) == 200
    assert world.stats(token=world.token) == 200
    writer_mirror = EPOCH_MIRROR.get(world.writer)

    # When a revocation marks the mirror, and Redis fails before its commit ended there
    def revoke_then_lose_redis(session: Session) -> None:
        revoke_token(session, session.get(User, world.viewer), world.token_id)
        session.flush()
        writer_mirror.client = _unreachable()

    world.change(revoke_then_lose_redis)
    # Then readers still find no mirrored epoch: they read the database and refuse it
    assert world.stats(token=world.token) == 401
    assert EPOCH_MIRROR.get(world.reader).read().epoch is None
    assert world.stats(token=world.token) == 401


def _close_connections(app: Flask) -> None:
    """Have the server close every connection to the test database but this one (as a
    restart would), and wait until they are gone."""
    with app.app_context():
        engine = DATABASE.get(app).engine
        mysql = engine.dialect.name == "mysql"
        others = (
            "SELECT id FROM information_schema.processlist "
            "WHERE db = DATABASE() AND id <> CONNECTION_ID()"
            if mysql
            else "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        with engine.connect() as connection:
            for (found,) in connection.execute(text(others)).all():
                if mysql:
                    connection.execute(text(f"KILL CONNECTION {int(found)}"))
                else:
                    connection.execute(text("SELECT pg_terminate_backend(:p)"), {"p": found})
            for _ in range(100):
                if not connection.execute(text(others)).all():
                    break
                time.sleep(0.05)


@pytest.mark.parametrize("database_url", ["mariadb", "postgresql"], indirect=True)
def test_should_answer_after_the_database_closed_the_readers_connections(world: World) -> None:
    # Given a reader with cached access and pooled connections
    assert world.stats(token=world.token) == 200
    assert world.stats(token=world.token) == 200
    assert world.stats() == 200
    # When the server closes them all (a restart)
    _close_connections(world.writer)
    # Then the next reads connect anew (no error), cached or not
    assert world.stats(token=world.token) == 200
    assert world.stats() == 200
    world.change(lambda s: revoke_token(s, s.get(User, world.viewer), world.token_id))
    assert world.stats(token=world.token) == 401
