"""What the look-up's cheaper path must still do (bench/README.md, "Per-request work removed").

- the rate-limit check is one round trip to Redis (a Lua script) and still refuses at the
  right count; the in-memory windows refuse and forget like limits' moving window;
- the access record is committed (seen from another connection) before the result is shown,
  in one commit with the result's reference; on PostgreSQL without waiting for the WAL flush;
- without pool_pre_ping, a connection killed under the portal (pg_terminate_backend) costs
  one 503 at most, and the next look-up reconnects; a connection idle for
  DATABASE_POOL_PING_IDLE_SECONDS is tested first, so then no request fails at all;
- templates: static URLs and value-less endpoints built once, translations per locale.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.pool import NullPool

from portal import policy
from portal.lookup.models import AccessEvent
from portal.replay.models import LookupReference
from tests.fixtures.app import _make_app
from tests.fixtures.db import in_transaction, is_postgres, statements_seen
from tests.fixtures.factories import Factory
from tests.helpers import Client, Page


def post_look_up(client: Client, nik: str, no_kk: str, ip: str = "10.9.0.1") -> Page:
    client.choose_language("en")
    return client.post_form("/", {"nik": nik, "no_kk": no_kk}, environ_base={"REMOTE_ADDR": ip})


def rows_seen_elsewhere(url: str, table: Any) -> int:
    """Rows of TABLE as another connection sees them: only what was committed."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


# --- the access record -----------------------------------------------------------------------


def test_the_access_record_and_the_reference_are_committed_before_the_redirect(
    app: Flask, client: Client, factory: Factory
) -> None:
    house = factory.household()
    factory.publish("2026Q3", [house])
    url = app.config["DATABASE_URL"]
    before = rows_seen_elsewhere(url, AccessEvent.__table__)

    answer = post_look_up(client, house.members[0].nik, house.no_kk)

    assert answer.status == 303
    assert rows_seen_elsewhere(url, AccessEvent.__table__) == before + 1
    assert rows_seen_elsewhere(url, LookupReference.__table__) == 1
    shown = Page(client.get(answer.response.headers["Location"]))
    assert shown.soup.select(".member")
    assert rows_seen_elsewhere(url, AccessEvent.__table__) == before + 1  # shown again: once


def test_a_miss_commits_its_reference_and_no_access_record(
    app: Flask, client: Client, factory: Factory
) -> None:
    factory.publish("2026Q3", [factory.household()])
    nik, no_kk = factory.unknown_pair()

    assert post_look_up(client, nik, no_kk).status == 303

    url = app.config["DATABASE_URL"]
    assert rows_seen_elsewhere(url, AccessEvent.__table__) == 0
    assert rows_seen_elsewhere(url, LookupReference.__table__) == 1


def test_the_result_page_asks_outside_a_transaction_and_the_look_up_writes_once(
    app: Flask, client: Client, factory: Factory
) -> None:
    """GET /hasil only reads: its questions run in autocommit, so on PostgreSQL no BEGIN goes
    before them and no ROLLBACK after (a warm page: two round trips of three; sqlite3 begins
    only before a write, so there the check is weaker). The look-up's POST writes the access
    record and the reference together (with the browser's previous reference deleted): on
    PostgreSQL in one statement (a data-modifying WITH) in autocommit, so with no BEGIN or
    COMMIT round trip either; on SQLite, which cannot write two tables in one statement, in
    the one transaction the POST commits. (A warm process: the expired references' sweep
    runs once an interval, portal/expiry.py.)"""
    house = factory.household()
    factory.publish("2026Q3", [house])
    post_look_up(client, house.members[0].nik, house.no_kk)  # this process's expiry sweep
    with statements_seen(app) as posted:
        answer = post_look_up(client, house.members[0].nik, house.no_kk)
    with statements_seen(app) as seen:
        shown = Page(client.get(answer.response.headers["Location"]))

    assert shown.soup.select(".member")
    # the reference (and, with the tests' caches off, the period, the region, the contact)
    assert seen
    assert all(s.kind == "SELECT" and not s.inside for s in seen), seen
    writes = [s for s in posted if s.kind != "SELECT"]
    written = " ".join(s.sql for s in writes)
    assert "INSERT INTO access_events" in written
    assert "INSERT INTO lookup_references" in written
    if is_postgres(app.config["DATABASE_URL"]):
        assert not any(s.inside for s in posted), posted
        assert len(writes) == 1, writes
        # the household with its members comes with the match; the changes; the one write
        # (and, with the tests' caches off, the published periods)
        asked = [s.kind for s in posted if "FROM snapshots" not in s.sql]
        assert asked == ["SELECT", "SELECT", "WITH"], posted
    else:
        assert all(s.inside for s in writes), writes


def test_a_look_up_whose_reference_fails_leaves_no_access_record(
    app: Flask, client: Client, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The access record and the reference commit together or not at all: a reference that
    cannot be written (here a token already taken) answers the error page, and the access
    record it came with is not left behind either (on PostgreSQL: the one statement fails
    whole; on SQLite: the transaction is rolled back)."""
    from portal import replay

    house = factory.household()
    factory.publish("2026Q3", [house])
    monkeypatch.setattr(replay, "new_token", lambda: "taken")
    url = app.config["DATABASE_URL"]
    assert post_look_up(client, house.members[0].nik, house.no_kk).status == 303
    assert rows_seen_elsewhere(url, AccessEvent.__table__) == 1

    other: Client = app.test_client()  # type: ignore[assignment]
    answer = post_look_up(other, house.members[0].nik, house.no_kk)

    assert answer.status == 500
    assert rows_seen_elsewhere(url, AccessEvent.__table__) == 1
    assert rows_seen_elsewhere(url, LookupReference.__table__) == 1


def test_reads_only_after_a_statement_keeps_the_requests_transaction(app: Flask) -> None:
    """Called first, the request's questions run outside a transaction; too late to switch
    (a hook asked first), the request goes on in its transaction, as without the call,
    rather than failing (sqlite3 never begins for a SELECT: there both are outside)."""
    from portal import db

    postgres = is_postgres(app.config["DATABASE_URL"])

    def driver_in_transaction() -> bool:
        return in_transaction(db.session.connection().connection.driver_connection)

    with app.test_request_context("/hasil"):
        db.reads_only()
        assert db.session.execute(text("SELECT 1")).scalar() == 1
        assert not driver_in_transaction()
    with app.test_request_context("/hasil"):
        db.session.execute(text("SELECT 1"))
        db.reads_only()
        assert db.session.execute(text("SELECT 2")).scalar() == 2
        assert driver_in_transaction() is postgres


def test_on_postgresql_the_access_record_does_not_wait_for_the_wal_flush(
    app: Flask, client: Client, factory: Factory
) -> None:
    if not is_postgres(app.config["DATABASE_URL"]):
        pytest.skip("synchronous_commit is PostgreSQL's")
    from portal import access, db

    house = factory.household()
    factory.publish("2026Q3", [house])
    statements: list[str] = []
    with app.app_context():
        engine = db.session.get_bind()
    listener = lambda *a: statements.append(a[2])  # noqa: E731 (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        post_look_up(client, house.members[0].nik, house.no_kk)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    inserts = [s for s in statements if "INSERT INTO access_events" in s]
    assert len(inserts) == 1
    assert "set_config" in inserts[0]  # folded in: one round trip, not two
    assert not any("SET LOCAL" in s for s in statements)

    def setting_after_record(purpose: access.Purpose, keys: Any) -> str:
        with app.test_request_context("/"):
            # the server's default (the suite's database runs with it off: tests/fixtures/db.py)
            db.session.execute(text("SET LOCAL synchronous_commit = on"))
            access.record(purpose, keys, period="2026Q3")
            value = str(db.session.execute(text("SHOW synchronous_commit")).scalar_one())
            db.session.rollback()
            return value

    assert setting_after_record(access.Purpose.LOOKUP, "a" * 32) == "off"
    assert setting_after_record(access.Purpose.LOOKUP, ["a" * 32, "b" * 32]) == "off"
    assert setting_after_record(access.Purpose.CASE, "a" * 32) == "on"  # a staff read
    app.config["ACCESS_LOG_ASYNC_COMMIT"] = False
    assert setting_after_record(access.Purpose.LOOKUP, "a" * 32) == "on"
    post_look_up(client, house.members[0].nik, house.no_kk)
    assert rows_seen_elsewhere(app.config["DATABASE_URL"], AccessEvent.__table__) == 2


# --- the rate-limit check --------------------------------------------------------------------


def test_a_check_is_one_round_trip_to_redis_and_a_miss_one_more(
    limited_client: Client, limited_factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not os.environ.get("TEST_REDIS_URL"):
        pytest.skip("Redis only (TEST_REDIS_URL)")
    import redis

    house = limited_factory.household()
    limited_factory.publish("2026Q3", [house])
    limited_client.choose_language("en")
    token = limited_client.csrf_token("/")

    def post(nik: str, no_kk: str) -> int:
        data = {"csrf_token": token, "nik": nik, "no_kk": no_kk}
        return int(limited_client.post("/", data=data).status_code)

    # Redis keeps a script once it has seen it; a server that has not seen the miss's script
    # yet (this test first on a fresh server) answers its first EVALSHA with NOSCRIPT, and the
    # client loads it and tries again: a round trip this test does not count.
    assert post(*limited_factory.unknown_pair()) == 303
    calls: list[str] = []
    original = redis.Redis.execute_command

    def counting(self: redis.Redis, *args: Any, **kwargs: Any) -> Any:
        calls.append(str(args[0]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "execute_command", counting)
    assert post(house.members[0].nik, house.no_kk) == 303
    assert calls == ["EVALSHA"]  # the network's limit counted and two identities read
    calls.clear()
    assert post(*limited_factory.unknown_pair()) == 303
    assert calls == ["EVALSHA", "EVALSHA"]  # + the miss charged to the NIK and the No. KK


def _windows_app(db_url: str, lookup_limit: str, free_misses: int) -> Iterator[Flask]:
    """An app whose look-up windows live in Redis (the PostgreSQL run) or in memory, under a
    key prefix of its own."""
    yield from _make_app(
        db_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=os.environ.get("TEST_REDIS_URL") or "memory://",
        RATELIMIT_KEY_PREFIX=f"test-windows-{uuid.uuid4().hex[:6]}",
        LOOKUP_LIMIT=lookup_limit,
        DTSEN_FREE_MISSES=free_misses,
    )


@pytest.fixture
def windows_app(db_url: str) -> Iterator[Flask]:
    yield from _windows_app(db_url, "3 per minute; 4 per hour", free_misses=4)


def test_the_network_limits_and_the_misses_count_in_one_check(
    windows_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each item of LOOKUP_LIMIT refuses at its count, forgets after its window, and a refused
    check counts nothing; misses are read per identity (memory, or Redis by its script)."""
    now = [1_000_000.0]
    monkeypatch.setattr(policy.time, "time", lambda: now[0])
    policy.reset(windows_app)
    someone = policy.Identity("nik", "a" * 32)
    other = policy.Identity("nik", "b" * 32)

    def admit(ip: str = "10.8.0.1") -> str:
        with windows_app.test_request_context("/", environ_base={"REMOTE_ADDR": ip}):
            try:
                admission = policy.admit(policy.Check.LOOKUP, [someone, other])
            except policy.Refused:
                return "refused"
            except policy.MustWait:
                return "wait"
            policy.missed(policy.Admission(admission.check, (someone,)))
            return "ok"

    assert [admit() for __ in range(4)] == ["ok", "ok", "ok", "refused"]  # 3 per minute
    # another network: its own limits, but the same identity's 3 misses, then 4 (the free)
    assert [admit(ip="10.8.0.2") for __ in range(2)] == ["ok", "wait"]
    now[0] += 61
    assert admit() == "wait"  # the minute is over (4th of the hour); `someone` must wait
    now[0] += 61
    assert admit() == "refused"  # 4 per hour, though the minute's window is empty again
    now[0] += 3600
    with windows_app.test_request_context("/", environ_base={"REMOTE_ADDR": "10.8.0.3"}):
        store = windows_app.extensions["dtsen_policy"]
        counts = store.admit([], [policy._miss_key(store, someone), policy._miss_key(store, other)])
    assert counts == [4, 0]  # the misses of the day stay; `other` was never charged
    now[0] += 86_400
    with windows_app.test_request_context("/", environ_base={"REMOTE_ADDR": "10.8.0.3"}):
        assert store.admit([], [policy._miss_key(store, someone)]) == [0]


@pytest.fixture
def busy_app(db_url: str) -> Iterator[Flask]:
    yield from _windows_app(db_url, "600 per hour", free_misses=1000)


def test_a_busy_networks_hour_refuses_at_its_count_and_frees_as_the_oldest_leave(
    busy_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A network behind one address (a carrier's NAT, a desa office) fills the hourly window:
    the 601st check of the hour is refused, and each check leaves the window one hour after
    it was made, one by one, also after the wall clock was set back a little."""
    now = [2_000_000.0]
    monkeypatch.setattr(policy.time, "time", lambda: now[0])
    policy.reset(busy_app)
    people = [policy.Identity("nik", f"{i:032x}") for i in range(601)]

    def admit(i: int) -> bool:
        with busy_app.test_request_context("/", environ_base={"REMOTE_ADDR": "10.7.0.1"}):
            try:
                policy.admit(policy.Check.LOOKUP, [people[i]])
            except policy.Refused:
                return False
            return True

    admitted = []
    for i in range(599):  # one check every 5 s: 599 checks in 50 minutes
        admitted.append(admit(i))
        now[0] += 5
    now[0] -= 8  # the clock set back (NTP) behind the last check: this one still counts
    admitted.append(admit(599))
    assert all(admitted)
    assert not admit(600)
    now[0] = 2_000_000.0 + 3600 + 1  # the first check (at 0 s) is an hour old, the second not
    assert admit(600)
    assert not admit(600)
    now[0] += 5  # the second check leaves the window too
    assert admit(600)
    assert not admit(600)


# --- connections without pre-ping --------------------------------------------------------------


@pytest.fixture
def pg_app(db_url: str) -> Iterator[Flask]:
    if not is_postgres(db_url):
        pytest.skip("PostgreSQL only (a backend to terminate)")
    for app in _make_app(
        db_url, DATABASE_POOL_PRE_PING=False, DATABASE_POOL_PING_IDLE_SECONDS=3600
    ):
        track_backends(app)
        yield app


def track_backends(app: Flask) -> None:
    """Note the server process of every connection the app's engine opens."""
    pids: list[int] = []
    app.extensions["backend_pids"] = pids
    event.listen(
        app.extensions["db_engine"],
        "connect",
        lambda dbapi_conn, _record: pids.append(dbapi_conn.info.backend_pid),
    )


def terminate_backends(app: Flask) -> int:
    """Kill the app's connections from outside (as a PostgreSQL restart or a network drop)."""
    engine = create_engine(app.config["DATABASE_URL"], poolclass=NullPool)
    try:
        with engine.connect() as conn:
            killed = conn.execute(
                text("SELECT count(pg_terminate_backend(pid)) FROM unnest(:pids) AS pid"),
                {"pids": app.extensions["backend_pids"]},
            ).scalar_one()
            conn.commit()
            return int(killed)
    finally:
        engine.dispose()


def test_a_killed_connection_costs_one_503_and_the_next_look_up_reconnects(
    pg_app: Flask, tmp_path: Any
) -> None:
    import random

    from portal.dataimport.demo import Numbers

    factory = Factory(pg_app, tmp_path, Numbers(random.Random(11)))
    house = factory.household()
    factory.publish("2026Q3", [house])
    client: Client = pg_app.test_client()  # type: ignore[assignment]
    assert post_look_up(client, house.members[0].nik, house.no_kk).status == 303
    assert terminate_backends(pg_app) >= 1

    statuses = []
    for __ in range(3):
        answer = post_look_up(client, house.members[0].nik, house.no_kk)
        statuses.append(answer.status)
    assert statuses.count(503) <= 1, statuses
    assert statuses[-2:] == [303, 303], statuses


def test_an_idle_connection_is_tested_first_so_no_look_up_fails(
    pg_app: Flask, tmp_path: Any
) -> None:
    import random

    from portal.dataimport.demo import Numbers

    pg_app.extensions["db_engine"].dispose()
    from portal import db

    engine = db.make_engine(
        pg_app.config["DATABASE_URL"],
        {**pg_app.config, "DATABASE_POOL_PING_IDLE_SECONDS": 0},
    )
    pg_app.extensions["db_engine"] = engine
    pg_app.extensions["db_sessionmaker"].configure(bind=engine)
    track_backends(pg_app)
    factory = Factory(pg_app, tmp_path, Numbers(random.Random(12)))
    house = factory.household()
    factory.publish("2026Q3", [house])
    client: Client = pg_app.test_client()  # type: ignore[assignment]
    assert post_look_up(client, house.members[0].nik, house.no_kk).status == 303
    assert terminate_backends(pg_app) >= 1

    assert [post_look_up(client, house.members[0].nik, house.no_kk).status for __ in range(2)] == [
        303,
        303,
    ]


# --- templates -----------------------------------------------------------------------------------


def test_layout_urls_are_kept_per_process_and_pages_stay_translated(
    app: Flask, client: Client
) -> None:
    url_for = app.jinja_env.globals["url_for"]
    with app.test_request_context("/"):
        assert url_for("static", filename="css/portal.css") == url_for(
            "static", filename="css/portal.css"
        )
        assert url_for("static", filename="css/portal.css").startswith("/static/css/portal.")
        assert url_for("lookup.index") == "/"
    with app.test_request_context("/", base_url="http://localhost/cek/"):
        assert url_for("lookup.index") == "/cek/"  # per script root, not the first one seen
        assert url_for("static", filename="css/portal.css").startswith("/cek/static/")

    indonesian = Page(client.get("/"))
    english = Page(client.get("/?lang=en"))
    assert indonesian.h1 != english.h1
    with app.test_request_context("/"):
        from flask_babel import force_locale, gettext

        from portal.pages import _translations

        assert _translations().ugettext("Privacy") == gettext("Privacy")
        with force_locale("en"):
            assert _translations().ugettext("Privacy") == "Privacy"
        with force_locale("id"):
            assert _translations().ugettext("Privacy") != "Privacy"


def test_a_lazy_label_is_translated_in_the_request_s_language(app: Flask) -> None:
    from flask_babel import force_locale, gettext
    from flask_babel import lazy_gettext as _l

    from portal.lookup.labels import HUBUNGAN_LABELS, desil_label
    from portal.pages import translated

    with app.test_request_context("/"):
        for lang in ("id", "en"):
            with force_locale(lang):
                assert translated(HUBUNGAN_LABELS["ISTRI"]) == gettext("Wife")
                assert desil_label(2) == gettext("poor")
        with force_locale("id"):
            assert translated(HUBUNGAN_LABELS["ISTRI"]) != "Wife"
            # with variables, or not a lazy string: as str() gives it
            assert translated(_l("Q1 %(year)s (January-March)", year=2026)).endswith("2026")
            assert translated("plain") == "plain"


# --- flask-limiter's hooks ----------------------------------------------------------------------


def test_flask_limiter_skips_the_views_it_exempts_and_still_checks_the_others(
    limited_app: Flask, limited_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its per-request pass found no limit for the look-up's views (counted by portal.policy):
    it is not run for them at all; a view with a limit of its own still has it resolved."""
    from portal.extensions import limiter

    resolved: list[str] = []
    original = limiter.limit_manager.resolve_limits

    def spy(app: Flask, endpoint: str | None = None, *args: Any, **kwargs: Any) -> Any:
        resolved.append(str(endpoint))
        return original(app, endpoint, *args, **kwargs)

    monkeypatch.setattr(limiter.limit_manager, "resolve_limits", spy)
    for path in ("/", "/hasil", "/healthz", "/readyz"):
        limited_client.get(path)
    assert resolved == []
    limited_client.get("/lacak")  # TRACK_LIMIT (flask-limiter's own decorator)
    assert resolved == ["tracking.track"]


def test_the_session_serializer_is_built_once_per_key_set(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """portal.guard keeps Flask's signing serializer; a new key (or fallback) builds anew, so a
    rotated key refuses old cookies and a fallback still opens them, as Flask's does."""
    from itsdangerous import BadSignature

    sessions = app.session_interface
    first = sessions.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert first is not None
    assert sessions.get_signing_serializer(app) is first  # type: ignore[attr-defined]
    cookie = first.dumps({"bk": "x" * 32})
    old = app.config["SECRET_KEY"]
    monkeypatch.setitem(app.config, "SECRET_KEY", "rotated-" + "k" * 40)
    rotated = sessions.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert rotated is not first
    with pytest.raises(BadSignature):
        rotated.loads(cookie)
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old])
    assert sessions.get_signing_serializer(app).loads(cookie) == {"bk": "x" * 32}  # type: ignore[attr-defined]


def test_the_session_cookie_is_flasks_own(app: Flask) -> None:
    """The cheaper signing (SHA-1 keyed in C) signs exactly as Flask's interface does: a
    cookie from before a deploy still opens, and one from after opens in Flask's."""
    from flask.sessions import SecureCookieSessionInterface

    ours = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    flasks = SecureCookieSessionInterface().get_signing_serializer(app)
    assert ours is not None
    assert flasks is not None
    data = {"bk": "y" * 32, "lookup": "z" * 43}
    assert ours.loads(flasks.dumps(data)) == data
    assert flasks.loads(ours.dumps(data)) == data
