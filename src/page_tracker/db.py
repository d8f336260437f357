"""Database access: one engine per app, one session per request, the declarative Base.

Works on SQLite, MySQL/MariaDB (PyMySQL) and PostgreSQL (psycopg 3). Dialect-specific
SQL lives here and nowhere else (:func:`add_to_counters`).
"""

from __future__ import annotations

import functools
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from flask import Flask
from sqlalchemy import Engine, MetaData, Table, create_engine, event, text
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

from page_tracker.connection_check import check_on_checkout
from page_tracker.extensions import Extension
from page_tracker.mariadb_tls import share_preferred_tls_context

T = TypeVar("T")

# Stable constraint names, so Alembic migrations can refer to them on every dialect.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; busy_timeout makes concurrent writers
    # wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# How long a request waits for a pooled connection before it is refused (503, or the
# Busuanzi "counters unavailable" script): a full pool means overload, and an answer
# within a second beats one after SQLAlchemy's default 30 s.
DEFAULT_POOL_TIMEOUT = 0.5
DEFAULT_POOL_SIZE = 10  # a process whose thread count nobody told us (CLI, Celery)


def pool_size_for(threads: int | None) -> int:
    """Connections one process may hold: one per request thread (no request holds two
    at once), one for the group-commit writer, one spare (a periodic job, a probe)."""
    return threads + 2 if threads else DEFAULT_POOL_SIZE


def make_engine(
    database_url: str,
    *,
    pool_size: int = DEFAULT_POOL_SIZE,
    pool_timeout: float = DEFAULT_POOL_TIMEOUT,
) -> Engine:
    """Create an engine for ``database_url``; SQLite files get their folder created.

    The pool holds up to ``pool_size`` connections (no overflow: the size is the bound)
    and a checkout waits at most ``pool_timeout`` seconds, then raises
    :class:`PoolTimeout` (:func:`is_pool_timeout`). A pooled connection the server
    closed is replaced at checkout without a ping (:mod:`page_tracker.connection_check`).
    """
    url = make_url(database_url)
    # hide_parameters: a failed statement's exception does not quote its values (salts).
    options: dict[str, Any] = {"future": True, "hide_parameters": True}
    memory = url.get_backend_name() == "sqlite" and url.database in {None, "", ":memory:"}
    if not memory:  # in-memory SQLite has a single-connection pool of its own
        options.update(pool_size=pool_size, max_overflow=0, pool_timeout=pool_timeout)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = {"timeout": 10}
    else:
        options["pool_recycle"] = 1800
    if url.get_backend_name() == "mysql":
        # InnoDB's default REPEATABLE READ takes gap locks that make concurrent upserts of
        # counters deadlock-prone, and its snapshot hides rows that a concurrent
        # insert-if-missing just committed. READ COMMITTED is PostgreSQL's default too.
        options["isolation_level"] = "READ COMMITTED"
    engine = create_engine(url, **options)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
    else:
        check_on_checkout(engine)
        share_preferred_tls_context(engine)
    return engine


class Database:
    """The app's engine and its request-scoped session factory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = scoped_session(sessionmaker(bind=engine, expire_on_commit=False))

    def ping(self) -> None:
        """Run a trivial query; raises if the database does not answer."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def remove_session(self, _exc: BaseException | None = None) -> None:
        self.sessions.remove()


DATABASE: Extension[Database] = Extension("page_tracker.db", "the app's database")


def init_db(
    app: Flask,
    database_url: str,
    *,
    pool_size: int = DEFAULT_POOL_SIZE,
    pool_timeout: float = DEFAULT_POOL_TIMEOUT,
) -> Database:
    engine = make_engine(database_url, pool_size=pool_size, pool_timeout=pool_timeout)
    database = DATABASE.put(app, Database(engine))
    app.teardown_appcontext(database.remove_session)
    return database


def get_db() -> Database:
    """The current app's :class:`Database`."""
    return DATABASE.get()


def get_session() -> Session:
    """Connect to the application's configured database. The session is unique for each
    request (or app context) and is closed when it ends."""
    return get_db().sessions()


def is_pool_timeout(error: BaseException) -> bool:
    """True when ``error`` is the pool refusing a connection (all in use, overload)."""
    return isinstance(error, PoolTimeout)


class LazySession:
    """A session made on first use, closed by :meth:`close`: a request that finds what
    it needs in a cache never takes a pooled connection, and one that does not gives it
    back as soon as :meth:`close` is called (before it waits for anything else).

    ``gate`` optionally bounds the lazy sessions open at once.
    """

    __slots__ = ("_factory", "_gate", "_session")

    def __init__(
        self, factory: sessionmaker[Session], gate: threading.BoundedSemaphore | None = None
    ) -> None:
        self._factory = factory
        self._gate = gate
        self._session: Session | None = None

    def __getattr__(self, name: str) -> Any:
        if self._session is None:
            if self._gate is not None:
                self._gate.acquire()
            try:
                self._session = self._factory()
            except BaseException:
                if self._gate is not None:
                    self._gate.release()
                raise
        return getattr(self._session, name)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
            if self._gate is not None:
                self._gate.release()

    def __enter__(self) -> Session:
        return cast(Session, self)

    def __exit__(self, *_exc: object) -> None:
        self.close()


def lazy_session() -> LazySession:
    """A :class:`LazySession` of the current app, for a lookup that is usually served
    from a cache: ``with lazy_session() as session:`` connects only on a miss and gives
    the connection back when the block ends, not when the request does."""
    return LazySession(get_db().sessions.session_factory)


def scalar_now(session: Session, statement: Any) -> Any:
    """``session.scalar(statement)``: one committed value, as of now. On PostgreSQL, when
    the session holds no connection yet, it is read in autocommit on a connection of its
    own, given back at once: one round trip, not ``BEGIN``, the query and the
    ``ROLLBACK`` that ends the session (psycopg opens a transaction before a query). The
    session's later reads start after it, so they see what it saw or later; and no
    request ever holds two connections. Elsewhere the session reads it (MariaDB's
    PyMySQL would pay two ``SET autocommit`` round trips; SQLite none)."""
    engine = session.get_bind()
    if (
        not isinstance(engine, Engine)  # a session bound to a connection: that one
        or engine.dialect.name != "postgresql"
        or session.in_transaction()
    ):
        return session.scalar(statement)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return connection.scalar(statement)


def add_to_counters(
    session: Session,
    table: Table,
    key_columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    increment_columns: Sequence[str],
) -> None:
    """Insert ``rows``, or add their ``increment_columns`` to the rows already there.

    One upsert statement per dialect (``ON CONFLICT`` / ``ON DUPLICATE KEY``), so
    concurrent writers never lose an increment. ``key_columns`` must be covered by a
    primary key or unique constraint.
    """
    if not rows:
        return
    # Rows are passed as execute() parameters, not baked in with .values(), and the
    # statement object is built once per table: SQLAlchemy then compiles it once and takes
    # it from its cache afterwards (building and compiling cost more than running it),
    # and drivers batch the rows (executemany).
    dialect = session.get_bind().dialect.name
    statement = _upsert_statement(table, dialect, tuple(key_columns), tuple(increment_columns))
    session.execute(statement, list(rows))


@functools.lru_cache(maxsize=256)
def _upsert_statement(
    table: Table, dialect: str, key_columns: tuple[str, ...], increment_columns: tuple[str, ...]
) -> Any:
    if dialect == "mysql":
        my_stmt = mysql.insert(table)
        return my_stmt.on_duplicate_key_update(
            {col: table.c[col] + my_stmt.inserted[col] for col in increment_columns}
        )
    if dialect in {"postgresql", "sqlite"}:
        module: Any = postgresql if dialect == "postgresql" else sqlite
        stmt = module.insert(table)
        return stmt.on_conflict_do_update(
            index_elements=list(key_columns),
            set_={col: table.c[col] + stmt.excluded[col] for col in increment_columns},
        )
    raise NotImplementedError(f"no upsert for dialect {dialect}")


def add_rows_to_counters(
    session: Session,
    table: Table,
    key_columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    columns: Sequence[str],
    increment_columns: Sequence[str],
) -> None:
    """:func:`add_to_counters` for many rows given as tuples in ``columns`` order.

    The same upsert, compiled once and run with the driver's ``executemany``: for bulk
    writes (imports) SQLAlchemy's per-row parameter handling costs more than the
    database. Values pass through the columns' bind processors (SQLite's date format).
    """
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql" and len(rows) >= COPY_ROWS:
        _copy_and_upsert(
            session,
            table,
            tuple(key_columns),
            rows,
            columns=tuple(columns),
            increment_columns=tuple(increment_columns),
        )
        return
    sql, order, processors = _compiled_upsert(
        table, dialect, tuple(key_columns), tuple(columns), tuple(increment_columns)
    )
    # Column by column: the bind processors (SQLite's date text) run over a column with
    # map(), and the columns are zipped back into rows in C; per-row Python was half of
    # an import's time.
    by_column = list(zip(*rows, strict=True))
    ordered = [
        by_column[columns.index(name)]
        if process is _same
        else _processed(process, by_column[columns.index(name)])
        for name, process in zip(order, processors, strict=True)
    ]
    session.connection().exec_driver_sql(sql, list(zip(*ordered, strict=True)))


def _copy_and_upsert(
    session: Session,
    table: Table,
    key_columns: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
    *,
    columns: tuple[str, ...],
    increment_columns: tuple[str, ...],
) -> None:
    """PostgreSQL: ``COPY`` the rows into a temporary table of this connection, then one
    ``INSERT ... SELECT ... ON CONFLICT``: one statement for the server to plan and run
    instead of one per row. In key order, like the row-by-row upsert (no deadlocks)."""
    create, copy_sql, upsert, empty = _staging_sql(table, key_columns, columns, increment_columns)
    connection = session.connection()
    connection.exec_driver_sql(create)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()
    connection.exec_driver_sql(upsert)
    connection.exec_driver_sql(empty)


@functools.lru_cache(maxsize=64)
def _staging_sql(
    table: Table,
    key_columns: tuple[str, ...],
    columns: tuple[str, ...],
    increment_columns: tuple[str, ...],
) -> tuple[str, str, str, str]:
    # Only the models' own table and column names reach this text, never input.
    staging = f"pt_staging_{table.name}"
    names, keys = ", ".join(columns), ", ".join(key_columns)
    updates = ", ".join(f"{c} = {table.name}.{c} + EXCLUDED.{c}" for c in increment_columns)
    create = (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS "  # noqa: S608
        f"AS SELECT {names} FROM {table.name} WITH NO DATA"  # nosec B608
    )
    upsert = (
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} "  # noqa: S608  # nosec B608
        f"ORDER BY {keys} ON CONFLICT ({keys}) DO UPDATE SET {updates}"
    )
    return create, f"COPY {staging} ({names}) FROM STDIN", upsert, f"TRUNCATE {staging}"


def _same(value: Any) -> Any:
    return value


def _processed(process: Callable[[Any], Any], column: Sequence[Any]) -> list[Any]:
    # Once per distinct value: a bulk write's hours and days repeat (one per path), and
    # SQLite's date formatting is Python code.
    distinct = {value: process(value) for value in set(column)}
    return list(map(distinct.__getitem__, column))


@functools.lru_cache(maxsize=64)
def _compiled_upsert(
    table: Table,
    dialect: Any,
    key_columns: tuple[str, ...],
    columns: tuple[str, ...],
    increment_columns: tuple[str, ...],
) -> tuple[str, tuple[str, ...], tuple[Callable[[Any], Any], ...]]:
    statement = _upsert_statement(table, dialect.name, key_columns, increment_columns)
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    sql = compiled.string
    if dialect.positional:
        order: tuple[str, ...] = tuple(compiled.positiontup or ())
    else:
        # Named parameters (psycopg's %(name)s) become positional ones, in the order
        # they appear, so that rows go to the driver as tuples instead of dicts.
        order = tuple(_NAMED_PARAMETER.findall(sql))
        sql = _NAMED_PARAMETER.sub("%s", sql)
    bind_processors = compiled._bind_processors
    processors = tuple(bind_processors.get(name) or _same for name in order)
    return sql, order, processors


_NAMED_PARAMETER = re.compile(r"%\((\w+)\)s")
COPY_ROWS = 500  # PostgreSQL bulk writes of at least this many rows go through COPY


def insert_missing(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert the ``rows`` whose key is not in ``table`` yet; ignore the others.

    With ``returning``, return those columns of the rows this call inserted, so callers
    learn exactly which keys were new even under concurrent writers (``ON CONFLICT DO
    NOTHING RETURNING`` on SQLite and PostgreSQL; one ``INSERT IGNORE`` per row, judged
    by its row count, on MySQL/MariaDB). ``rows`` must not repeat a key.
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "mysql":
        statement = _insert_missing_statement(table, dialect, ())
        if not returning:
            session.execute(statement, list(rows))
            return []
        inserted: list[tuple[Any, ...]] = []
        for row in rows:
            if session.execute(statement, dict(row)).rowcount:  # type: ignore[attr-defined]
                inserted.append(tuple(row[col] for col in returning))
        return inserted
    if dialect in {"postgresql", "sqlite"}:
        stmt = _insert_missing_statement(table, dialect, tuple(returning))
        if not returning:
            session.execute(stmt, list(rows))
            return []
        # executemany with RETURNING ("insertmanyvalues"): rows skipped by ON CONFLICT
        # return nothing, so the result is exactly the inserted rows.
        return [tuple(found) for found in session.execute(stmt, list(rows))]
    raise NotImplementedError(f"no insert-missing for dialect {dialect}")


def insert_missing_keys(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """:func:`insert_missing` with ``returning=columns`` for rows given as tuples of
    ``columns`` (the table's whole key, no key twice): the rows this call inserted.

    On SQLite and PostgreSQL one ``INSERT ... VALUES (...), (...) ON CONFLICT DO NOTHING
    RETURNING`` per call, sent as text with the columns' bind processors run once per
    distinct value and the returned values through the result processors, so they
    equal the given ones. SQLAlchemy's insertmanyvalues built and processed a dict of
    parameters per row (the rollup writes four visitor rows a view; bench/README.md).
    The order of the returned rows is not the order of ``rows``. MySQL/MariaDB: as
    :func:`insert_missing`.
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect
    if dialect.name not in {"sqlite", "postgresql"}:
        named = [dict(zip(columns, row, strict=True)) for row in rows]
        return insert_missing(session, table, named, returning=columns)
    binds, results = _key_processors(table, dialect, tuple(columns))
    by_column = list(zip(*rows, strict=True))
    processed = [
        column if process is _same else _processed(process, column)
        for process, column in zip(binds, by_column, strict=True)
    ]
    parameters = [value for row in zip(*processed, strict=True) for value in row]
    sql = _insert_missing_sql(table, dialect.name, tuple(columns), len(rows))
    found = session.connection().exec_driver_sql(sql, tuple(parameters)).all()
    if all(process is _same for process in results):
        return [tuple(row) for row in found]
    return [
        tuple(
            value if process is _same else process(value)
            for process, value in zip(results, row, strict=True)
        )
        for row in found
    ]


@functools.lru_cache(maxsize=64)
def _key_processors(
    table: Table, dialect: Any, columns: tuple[str, ...]
) -> tuple[tuple[Callable[[Any], Any], ...], tuple[Callable[[Any], Any], ...]]:
    binds: list[Callable[[Any], Any]] = []
    results: list[Callable[[Any], Any]] = []
    for name in columns:
        implementation = table.c[name].type.dialect_impl(dialect)
        binds.append(implementation.bind_processor(dialect) or _same)
        results.append(implementation.result_processor(dialect, None) or _same)
    return tuple(binds), tuple(results)


@functools.lru_cache(maxsize=256)
def _insert_missing_sql(table: Table, dialect: str, columns: tuple[str, ...], count: int) -> str:
    # Only the models' own table and column names reach this text, never input.
    mark = "?" if dialect == "sqlite" else "%s"
    group = "(" + ", ".join([mark] * len(columns)) + ")"
    names = ", ".join(columns)
    return (
        f"INSERT INTO {table.name} ({names}) VALUES "  # noqa: S608  # nosec B608
        + ", ".join([group] * count)
        + f" ON CONFLICT DO NOTHING RETURNING {names}"
    )


@functools.lru_cache(maxsize=256)
def _insert_missing_statement(table: Table, dialect: str, returning: tuple[str, ...]) -> Any:
    if dialect == "mysql":
        return mysql.insert(table).prefix_with("IGNORE")
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).on_conflict_do_nothing()
    return stmt.returning(*(table.c[col] for col in returning)) if returning else stmt


# Errors after which the whole transaction was rolled back and may simply be run again:
# MySQL deadlock / lock wait timeout, PostgreSQL deadlock / serialization failure,
# SQLite busy.
_TRANSIENT_MYSQL = {1205, 1213}
_TRANSIENT_PG = {"40P01", "40001"}


def is_transient(error: BaseException) -> bool:
    """True when ``error`` is a lock conflict worth retrying the transaction for."""
    original = getattr(error, "orig", None)
    if original is None:
        return False
    args = getattr(original, "args", ())
    if args and args[0] in _TRANSIENT_MYSQL:
        return True
    if getattr(original, "sqlstate", None) in _TRANSIENT_PG:
        return True
    return "database is locked" in str(original)


def is_poison(error: BaseException) -> bool:
    """True when ``error`` is about the data written, not the database: the same rows
    fail again whenever they are written (a NUL byte PostgreSQL refuses, a lone
    surrogate no driver encodes, a value too long), while other rows would succeed.

    A lost connection, a lock conflict or a full disk is not poison: every write fails
    alike, and splitting a batch would only multiply the failures.
    """
    if isinstance(error, (DataError, IntegrityError)):
        return True
    if isinstance(error, DBAPIError):
        return False
    if isinstance(error, StatementError):  # a driver's non-DBAPI error, wrapped
        return error.orig is not None and is_poison(error.orig)
    return isinstance(error, (UnicodeError, ValueError, TypeError))


def retry_transient(work: Callable[[], T], *, attempts: int = 5, jitter: float = 0.01) -> T:
    """Run ``work`` and return its result; run it again when it fails with a lock conflict.

    ``work`` must be whole transactions (open, do, commit): a transient error
    (:func:`is_transient`) rolled the transaction back entirely, so running it again
    writes nothing twice. Up to ``attempts`` runs, each retry after a random pause of up
    to ``jitter * attempt`` seconds so that the conflicting writers do not meet again.
    Any other error, and the last run's, propagates.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as error:
            if attempt == attempts or not is_transient(error):
                raise
            time.sleep(random.uniform(0, jitter * attempt))  # noqa: S311  # nosec B311 - jitter only
    raise AssertionError("unreachable")  # pragma: no cover
