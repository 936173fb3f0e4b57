"""Database wiring: one engine per app, one session per app context, typed declarative Base.

Plain SQLAlchemy 2 (no Flask-SQLAlchemy): ``session`` is a proxy to the current app
context's session, opened on first use and closed at teardown. Service functions commit;
views never do.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any, cast

from flask import Flask, current_app, g
from sqlalchemy import CursorResult, DateTime, Engine, MetaData, Result, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from werkzeug.local import LocalProxy

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched. ``Session.execute`` is typed to return a Result;
    for these statements it is a CursorResult, which carries the count."""
    return int(cast("CursorResult[Any]", result).rowcount or 0)


def import_models() -> None:
    """Import every models module so Base.metadata knows all tables (Alembic, tests)."""
    from portal.appeals import models as _appeals  # noqa: F401
    from portal.audit import models as _audit  # noqa: F401
    from portal.auth import models as _auth  # noqa: F401
    from portal.dataimport import models as _dataimport  # noqa: F401
    from portal.help import models as _help  # noqa: F401
    from portal.jobs import models as _jobs  # noqa: F401
    from portal.lookup import models as _lookup  # noqa: F401
    from portal.replay import models as _replay  # noqa: F401
    from portal.review import models as _review  # noqa: F401
    from portal.statistik import models as _statistik  # noqa: F401
    from portal.wilayah import models as _wilayah  # noqa: F401


def make_engine(url: str, config: dict[str, Any] | None = None) -> Engine:
    """The engine for URL; CONFIG gives SQL_ECHO and the DATABASE_POOL_* settings."""
    config = config or {}
    echo = bool(config.get("SQL_ECHO", False))
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets look-ups read while an import writes; foreign keys are off by default.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    pre_ping = bool(config.get("DATABASE_POOL_PRE_PING", False))
    engine = create_engine(
        url,
        echo=echo,
        pool_pre_ping=pre_ping,
        pool_size=int(config.get("DATABASE_POOL_SIZE", 2)),
        max_overflow=int(config.get("DATABASE_MAX_OVERFLOW", 2)),
    )
    if not pre_ping:
        _ping_when_idle(engine, float(config.get("DATABASE_POOL_PING_IDLE_SECONDS", 10.0)))
    return engine


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled connection before use only if it sat unused for IDLE_SECONDS.

    A busy worker's connection is not pinged (pool_pre_ping costs a round trip on every
    request). A connection that went stale while busy (a database restart) fails its
    request's first statement instead: that request answers 503, and SQLAlchemy, seeing a
    disconnect, invalidates the whole pool, so the worker's next request reconnects. A quiet
    worker's connections (a firewall or the server closing idle ones) are tested first and
    replaced without any request failing."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since <= idle_seconds:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("stale pooled connection") from exc
        if not alive:
            raise DisconnectionError("stale pooled connection")  # the pool connects anew


def init_app(app: Flask) -> None:
    import_models()  # every table known before the first query: foreign keys cross modules
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////:memory:"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url, app.config)
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def get_engine() -> Engine:
    return cast(Engine, current_app.extensions["db_engine"])


def _get_session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return cast(Session, g.db_session)


def reads_only() -> None:
    """This request asks, and writes at most one statement at a time: its connection in
    autocommit, each statement its own transaction. On PostgreSQL that saves two round trips
    of a page that asks one question: the BEGIN psycopg sends before the first statement and
    the ROLLBACK at teardown. Call it before the request's first statement (after it, it
    changes nothing: the request keeps its transaction, correct and two round trips dearer;
    the tests of the pages that call it say when that happens); a request whose writes must
    commit together never calls it."""
    session = _get_session()
    if session.in_transaction():
        return
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def single_statement_writes() -> None:
    """This request writes what must commit together in one statement, where the database
    can (portal.replay.remember_lookup: a data-modifying WITH on PostgreSQL): there its
    connection goes in autocommit as with reads_only(), which saves the BEGIN and the COMMIT
    round trips. SQLite cannot write two tables in one statement: its request keeps its
    transaction. Called after the request's first statement it changes nothing either."""
    if _get_session().get_bind().dialect.name == "postgresql":
        reads_only()


def _close_session(_exc: BaseException | None) -> None:
    """Close the context's session: roll back whatever was not committed and return the
    connection to the pool.

    The answer is made by now, and anything it acknowledged was committed before it was
    made. If the database went away since the request's last statement (a restart), the
    rollback fails on the dead connection, which SQLAlchemy has already invalidated; raising
    here, after the view, would turn that answer into the server's bare 500 page."""
    db_session = g.pop("db_session", None)
    if db_session is None:
        return
    try:
        db_session.close()
    except DBAPIError as exc:
        log.warning("database connection lost while closing the session: %s", type(exc).__name__)


session: Session = cast(Session, LocalProxy(_get_session))
