"""The audit trail is append-only because the database says so, and any gap or edit in it
is found by ``flask --app portal audit verify``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import Connection, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from portal import db
from portal.audit import chain
from portal.audit.models import AuditEvent, AuditSeal, audit_maintenance
from portal.db import get_engine
from tests.fixtures.staff import StaffFactory
from tests.helpers import Browser

POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))


def verify(runner: FlaskCliRunner) -> tuple[int, str]:
    result = runner.invoke(args=["audit", "verify"])
    return result.exit_code, result.output


@pytest.fixture
def trail(app: Flask, staff: StaffFactory) -> int:
    """A few staff actions through the services: account created and enrolled, sign-in."""
    staff.login(staff.create("verifikator"))
    staff.create("admin_dinsos")
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def maintenance(conn: Connection) -> None:
    """What a retention purge (or an attacker who owns the tables) has to do first."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL portal.audit_maintenance = 'on'"))
    else:
        conn.execute(audit_maintenance.insert().values(reason="test"))


def end_maintenance(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        conn.execute(audit_maintenance.delete())


def tamper(app: Flask, *statements: str) -> None:
    with app.app_context(), get_engine().begin() as conn:
        maintenance(conn)
        for statement in statements:
            conn.execute(text(statement))
        end_maintenance(conn)


def test_every_audit_row_is_sealed_and_the_trail_verifies(
    app: Flask, trail: int, runner: FlaskCliRunner
) -> None:
    assert trail >= 4
    with app.app_context():
        seals = list(db.session.scalars(select(AuditSeal).order_by(AuditSeal.seq)))
        events = {e.id: e for e in db.session.scalars(select(AuditEvent))}
    assert [s.seq for s in seals] == list(range(1, trail + 1))
    assert {s.audit_id for s in seals} == set(events)
    assert seals[0].prev_hash == chain.GENESIS
    code, output = verify(runner)
    assert code == 0, output
    assert f"audit trail whole: {trail} row(s)" in output


@pytest.mark.parametrize(
    ("statements", "problem"),
    [
        (["UPDATE audit_events SET reason = 'nothing happened' WHERE id = 2"], "was changed"),
        (["UPDATE audit_events SET staff_id = 42 WHERE id = 1"], "was changed"),
        (
            ["DELETE FROM audit_seals WHERE audit_id = 2", "DELETE FROM audit_events WHERE id = 2"],
            "seal 2 is missing",
        ),
        (
            [
                "INSERT INTO audit_events (at, action, staff_id) "
                "VALUES ('2026-01-01 00:00:00', 'login', 99)"
            ],
            "has no seal",
        ),
        (
            [
                "DELETE FROM audit_seals WHERE seq = (SELECT max(seq) FROM audit_seals)",
                "DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)",
            ],
            "the head says",
        ),
    ],
    ids=["edited reason", "edited actor", "row and seal deleted", "row forged", "tail cut"],
)
def test_an_edited_deleted_or_forged_row_is_found(
    app: Flask, trail: int, runner: FlaskCliRunner, statements: list[str], problem: str
) -> None:
    assert verify(runner)[0] == 0
    tamper(app, *statements)
    code, output = verify(runner)
    assert code == 1
    assert problem in output, output


@pytest.mark.parametrize(
    ("table", "key"), [("audit_events", "id"), ("audit_seals", "seq"), ("access_events", "id")]
)
@pytest.mark.parametrize("statement", ["UPDATE {table} SET {key} = {key}", "DELETE FROM {table}"])
def test_the_database_refuses_to_change_or_delete_the_trail(
    app: Flask, trail: int, table: str, key: str, statement: str
) -> None:
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO access_events (kk_hmac, at, channel, actor) "
                "VALUES ('x', '2026-01-01 00:00:00', 'web', 'citizen')"
            )
        )
        db.session.commit()
        with pytest.raises(DBAPIError, match="append-only"), get_engine().begin() as conn:
            conn.execute(text(statement.format(table=table, key=key)))


@pytest.mark.skipif(not POSTGRES, reason="TRUNCATE triggers and roles: PostgreSQL only")
@pytest.mark.parametrize("table", ["audit_events", "audit_seals", "access_events"])
def test_the_database_refuses_to_truncate_the_trail(app: Flask, trail: int, table: str) -> None:
    with (
        app.app_context(),
        pytest.raises(DBAPIError, match="append-only"),
        get_engine().begin() as conn,
    ):
        conn.execute(text(f"TRUNCATE {table} CASCADE"))


@pytest.fixture
def app_role(app: Flask, runner: FlaskCliRunner) -> Iterator[str]:
    """A login role for the app, granted by `flask db grant` as a deployment does."""
    role = f"portal_app_{uuid.uuid4().hex[:8]}"
    with app.app_context(), get_engine().begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    result = runner.invoke(args=["db", "grant", role])
    assert result.exit_code == 0, result.output
    yield role
    with app.app_context(), get_engine().begin() as conn:
        conn.execute(text(f'DROP OWNED BY "{role}"'))
        conn.execute(text(f'DROP ROLE "{role}"'))


def refused(engine, statement: str) -> str:  # type: ignore[no-untyped-def]
    """The database's refusal of STATEMENT, even in 'maintenance' (the app's role may set it)."""
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL portal.audit_maintenance = 'on'"))
            conn.execute(text(statement))
    except DBAPIError as exc:
        return str(exc)
    raise AssertionError(f"the app's role may run: {statement}")


@pytest.mark.skipif(not POSTGRES, reason="TRUNCATE triggers and roles: PostgreSQL only")
def test_the_apps_role_may_add_to_the_trail_but_never_change_it(
    app: Flask, trail: int, app_role: str
) -> None:
    url = make_url(app.config["DATABASE_URL"]).set(username=app_role)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO access_events (kk_hmac, at, channel, actor) "
                    "VALUES ('x', now(), 'web', 'citizen')"
                )
            )
            conn.execute(text("SET LOCAL portal.audit_maintenance = 'on'"))  # no way around
        for statement in (
            "UPDATE audit_events SET reason = 'x'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events CASCADE",
            "DELETE FROM access_events",
            "UPDATE audit_seals SET row_hash = 'x'",
            "DROP TABLE audit_events CASCADE",
        ):
            assert "permission denied" in refused(engine, statement) or "must be owner" in (
                refused(engine, statement)
            )
    finally:
        engine.dispose()


@pytest.mark.skipif(not POSTGRES, reason="TRUNCATE triggers and roles: PostgreSQL only")
def test_the_portal_works_as_the_apps_role(
    app: Flask, app_role: str, runner: FlaskCliRunner
) -> None:
    from portal import create_app
    from tests.fixtures.app import _config

    url = make_url(app.config["DATABASE_URL"]).set(username=app_role)
    role_app = create_app(_config(url.render_as_string(hide_password=False)))
    try:
        staff = StaffFactory(role_app)
        staff.login(staff.create("verifikator"), Browser(role_app, role_app.response_class))
        with role_app.app_context():
            sealed = db.session.scalar(select(func.count()).select_from(AuditSeal))
        assert (sealed or 0) >= 3
    finally:
        role_app.extensions["db_engine"].dispose()  # the owner's app fixture cleans up
    code, output = verify(runner)
    assert code == 0, output
