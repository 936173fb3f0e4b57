"""Fixtures for staff sign-in, enrolment and sessions: English browsers with their own client
address, the session store under test (the database, and Redis when TEST_REDIS_URL is set),
a way to age sessions in either store, and a clock frozen in the middle of a TOTP step."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from portal import db
from portal.auth.models import StaffSession, StaffUser
from portal.auth.sessions import DatabaseStore, RedisStore, store
from tests.fixtures.staff import StaffFactory
from tests.helpers import Client, Page

COOKIE = "dtsen_staff"
GENERIC = ["The e-mail, password or code is not right."]
BACKENDS = ["database", *(["redis"] if os.environ.get("TEST_REDIS_URL") else [])]


def browser(app: Flask, ip: str = "127.0.0.1") -> Client:
    client: Client = app.test_client()  # type: ignore[assignment]
    client.environ_base.update(REMOTE_ADDR=ip)
    return client.choose_language("en")


def staff_cookie(client: Client) -> str | None:
    cookie = client.get_cookie(COOKIE, path="/staf")
    return cookie.value if cookie else None


def signed_in(client: Client) -> bool:
    """Whether the browser's staff cookie opens the queue (else: redirected to sign in)."""
    response = client.get("/staf/")
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/staf/masuk")
    return response.status_code == 200


def with_cookie(app: Flask, token: str) -> Client:
    """A fresh browser replaying TOKEN as its staff cookie."""
    client = browser(app)
    client.set_cookie(COOKIE, token, path="/staf")
    return client


def sign_in_form(client: Client, email: str, password: str, code: str, url: str = "/staf/masuk"):
    return client.post_form(url, {"email": email, "password": password, "code": code})


def errors(page: Page) -> list[str]:
    return page.texts(".error-summary__list li")


def csrf(client: Client, url: str = "/staf/sesi") -> str:
    token = Page(client.get(url)).soup.find("input", attrs={"name": "csrf_token"})
    assert token is not None, f"no form on {url}"
    return str(token["value"])


@pytest.fixture(params=BACKENDS)
def session_backend(request: pytest.FixtureRequest, app: Flask) -> Iterator[str]:
    """Run the test with staff sessions in this store."""
    backend: str = request.param
    app.config["STAFF_SESSION_BACKEND"] = backend
    if backend == "redis":
        app.config["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    app.extensions.pop("staff_session_store", None)
    yield backend
    with app.app_context():
        current = store()
        if isinstance(current, RedisStore):  # only this run's keys
            for key in current.redis.scan_iter(f"{current.prefix}:staffsess:*"):
                current.redis.delete(key)
    app.extensions.pop("staff_session_store", None)


def age_sessions(
    app: Flask,
    staff_id: int,
    *,
    idle: timedelta | None = None,
    age: timedelta | None = None,
) -> int:
    """Pretend the officer's sessions were last used IDLE ago and/or started AGE ago."""
    with app.app_context():
        now, current = db.utcnow(), store()
        if isinstance(current, DatabaseStore):
            values = {}
            if idle is not None:
                values["last_seen_at"] = now - idle
            if age is not None:
                values["created_at"] = now - age
            result = db.session.execute(
                update(StaffSession).where(StaffSession.staff_id == staff_id).values(**values)
            )
            db.session.commit()
            return int(result.rowcount)  # type: ignore[attr-defined]
        assert isinstance(current, RedisStore)
        changed = 0
        for hashed in current.redis.smembers(current._user_key(staff_id)):
            key = current._key(hashed.decode())
            data = json.loads(current.redis.get(key) or "{}")
            if idle is not None:
                data["last_seen_at"] = (now - idle).isoformat()
            if age is not None:
                data["created_at"] = (now - age).isoformat()
            current.redis.set(key, json.dumps(data), keepttl=True)
            changed += 1
        return changed


def session_count(app: Flask, staff_id: int) -> int:
    with app.app_context():
        return len(store().list(staff_id))


def reset_totp_steps(app: Flask, staff_id: int) -> None:
    """Forget which TOTP steps the account used (enrolment used the previous one)."""
    with app.app_context():
        db.session.execute(
            update(StaffUser).where(StaffUser.id == staff_id).values(totp_last_step=0)
        )
        db.session.commit()


def user(app: Flask, email: str) -> StaffUser | None:
    with app.app_context():
        return db.session.scalar(select(StaffUser).where(StaffUser.email == email))


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The portal's clock stopped 15 s into a 30-s TOTP step, so neighbouring steps are exact."""
    start = int(datetime.now(UTC).timestamp()) // 30 * 30
    frozen = datetime.fromtimestamp(start + 15, UTC)
    monkeypatch.setattr(db, "utcnow", lambda: frozen)
    return frozen


@pytest.fixture
def limited_staff(limited_app: Flask) -> StaffFactory:
    return StaffFactory(limited_app)
