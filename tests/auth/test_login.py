"""Staff sign-in (password + TOTP), server-side sessions in either store (rotation, logout,
logout everywhere, idle and absolute time-outs), throttling that cannot lock an officer out,
and the secure-by-default staff area."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskCliRunner

from portal import db
from portal.appeals.states import AppealStatus
from portal.auth.decorators import PUBLIC
from portal.auth.models import StaffSession
from portal.auth.sessions import store
from tests.auth.conftest import (
    COOKIE,
    GENERIC,
    age_sessions,
    browser,
    csrf,
    errors,
    reset_totp_steps,
    session_count,
    sign_in_form,
    signed_in,
    staff_cookie,
    with_cookie,
)
from tests.fixtures.staff import PASSWORD, StaffFactory
from tests.helpers import Client, Page
from tests.review.conftest import CaseFactory, audit


def test_signing_in_sets_a_strict_http_only_cookie_for_the_staff_area(
    app: Flask, staff: StaffFactory, session_backend: str
) -> None:
    officer, client = staff.create("verifikator"), browser(app)
    page = sign_in_form(client, officer.email, PASSWORD, officer.code())
    assert page.status == 302
    assert page.response.headers["Location"] == "/staf/"
    [cookie] = [c for c in page.response.headers.getlist("Set-Cookie") if c.startswith(COOKIE)]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/staf" in cookie.split("; ")
    assert signed_in(client)
    assert session_count(app, officer.id) == 1


def test_the_store_keeps_only_a_hash_of_the_session_token(
    app: Flask, staff: StaffFactory, session_backend: str
) -> None:
    officer = staff.create("verifikator")
    token = staff_cookie(staff.login(officer, browser(app)))
    assert token
    with app.app_context():
        [info] = store().list(officer.id)
        if session_backend == "database":
            assert db.session.get(StaffSession, token) is None
    assert info.token_hash == hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize(
    ("email", "password", "code"),
    [
        pytest.param("{email}", "wrong password, long enough", "{code}", id="wrong password"),
        pytest.param("{email}", PASSWORD, "{wrong_code}", id="wrong code"),
        pytest.param("{email}", PASSWORD, "12345a", id="code not digits"),
        pytest.param("nobody@dinsos.example.go.id", PASSWORD, "{code}", id="unknown e-mail"),
        pytest.param("{new}", PASSWORD, "{code}", id="not enrolled yet"),
    ],
)
def test_every_failed_sign_in_gets_the_same_answer(
    email: str, password: str, code: str, app: Flask, staff: StaffFactory
) -> None:
    officer = staff.create("verifikator")
    new, _token = staff.enrolment_token()
    right = officer.code()
    values = {
        "email": officer.email,
        "code": right,
        "wrong_code": f"{(int(right) + 1) % 1_000_000:06d}",
        "new": new.email,
    }
    client = browser(app)
    page = sign_in_form(client, email.format(**values), password, code.format(**values))
    assert page.status == 400
    assert errors(page) == GENERIC  # the same words whatever was wrong: no enumeration
    assert page.soup.title.get_text().startswith("Error: Staff sign-in")
    assert staff_cookie(client) is None


def test_a_code_that_was_just_used_cannot_sign_in_again(app: Flask, staff: StaffFactory) -> None:
    officer = staff.create("verifikator")
    code = officer.code()
    assert sign_in_form(browser(app), officer.email, PASSWORD, code).status == 302
    replay = sign_in_form(browser(app, "10.9.8.7"), officer.email, PASSWORD, code)
    assert replay.status == 400
    assert errors(replay) == GENERIC


@pytest.mark.parametrize("step", [-1, 0, 1])
def test_a_code_of_the_previous_current_or_next_step_is_accepted_once(
    step: int, app: Flask, staff: StaffFactory, frozen_clock: datetime
) -> None:
    officer = staff.create("admin_dinsos")
    reset_totp_steps(app, officer.id)
    assert sign_in_form(browser(app), officer.email, PASSWORD, officer.code(step)).status == 302
    again = sign_in_form(browser(app), officer.email, PASSWORD, officer.code(step))
    assert again.status == 400


@pytest.mark.parametrize("step", [-2, 2, 20])
def test_a_code_further_than_one_step_away_is_refused(
    step: int, app: Flask, staff: StaffFactory, frozen_clock: datetime
) -> None:
    officer = staff.create("admin_dinsos")
    reset_totp_steps(app, officer.id)
    page = sign_in_form(browser(app), officer.email, PASSWORD, officer.code(step))
    assert page.status == 400
    assert errors(page) == GENERIC


def test_each_sign_in_gets_a_new_session_id_and_the_old_one_stops_working(
    app: Flask, staff: StaffFactory, session_backend: str
) -> None:
    officer = staff.create("verifikator")
    client = staff.login(officer, browser(app))
    first = staff_cookie(client)
    # the same browser signs in again (a second tab left on the sign-in page)
    data = {"csrf_token": csrf(client), "email": officer.email, "password": PASSWORD}
    assert client.post("/staf/masuk", data={**data, "code": officer.code(1)}).status_code == 302
    second = staff_cookie(client)
    assert first
    assert second not in (None, first)
    assert not signed_in(with_cookie(app, first))
    assert signed_in(client)
    assert session_count(app, officer.id) == 1


def test_logging_out_ends_the_session_on_the_server(
    app: Flask, staff: StaffFactory, session_backend: str
) -> None:
    officer = staff.create("pusat")
    client = staff.login(officer, browser(app))
    token = staff_cookie(client)
    assert token
    page = Page(client.post("/staf/keluar", data={"csrf_token": csrf(client)}))
    assert page.response.headers["Location"] == "/staf/masuk"
    assert staff_cookie(client) is None
    assert not signed_in(with_cookie(app, token))  # a copied cookie is dead too
    assert session_count(app, officer.id) == 0
    assert "You are logged out." in Page(client.get("/staf/masuk"))


def test_logging_out_without_csrf_token_is_refused_and_keeps_the_session(
    app: Flask, staff: StaffFactory
) -> None:
    client = staff.login(staff.create("verifikator"), browser(app))
    assert client.post("/staf/keluar", data={"go": "1"}).status_code == 400
    assert signed_in(client)


def test_logging_out_everywhere_ends_every_session_of_the_officer_only(
    app: Flask, staff: StaffFactory, session_backend: str
) -> None:
    officer, colleague = staff.create("verifikator"), staff.create("verifikator")
    office = staff.login(officer, browser(app))
    phone = browser(app, "10.1.2.3")
    sign_in_form(phone, officer.email, PASSWORD, officer.code(1))
    other = staff.login(colleague, browser(app))
    assert len(Page(office.get("/staf/sesi")).texts("tbody tr")) == 2

    page = Page(phone.post("/staf/sesi/keluar-semua", data={"csrf_token": csrf(phone)}))
    assert page.response.headers["Location"] == "/staf/masuk"
    assert "Logged out of 2 sessions, including this one." in Page(phone.get("/staf/masuk"))
    assert not signed_in(office)
    assert not signed_in(phone)
    assert signed_in(other)


def test_staff_revoke_sessions_ends_them_at_once(
    app: Flask, staff: StaffFactory, runner: FlaskCliRunner, session_backend: str
) -> None:
    officer = staff.create("operator_desa")
    client = staff.login(officer, browser(app))
    result = runner.invoke(args=["staff", "revoke-sessions", officer.email])
    assert result.exit_code == 0
    assert f"ended 1 session(s) of {officer.email}" in result.output
    assert not signed_in(client)


@pytest.mark.parametrize(("minutes", "alive"), [(29, True), (31, False)])
def test_a_session_ends_after_the_idle_time_out(
    minutes: int, alive: bool, app: Flask, staff: StaffFactory, session_backend: str
) -> None:
    assert app.config["STAFF_IDLE_MINUTES"] == 30
    officer = staff.create("verifikator")
    client = staff.login(officer, browser(app))
    assert age_sessions(app, officer.id, idle=timedelta(minutes=minutes)) == 1
    assert signed_in(client) is alive
    assert session_count(app, officer.id) == int(alive)


@pytest.mark.parametrize(("hours", "alive"), [(9.9, True), (10.1, False)])
def test_a_session_ends_after_the_absolute_time_out_even_when_in_use(
    hours: float, alive: bool, app: Flask, staff: StaffFactory, session_backend: str
) -> None:
    assert app.config["STAFF_ABSOLUTE_HOURS"] == 10
    officer = staff.create("verifikator")
    client = staff.login(officer, browser(app))
    age_sessions(app, officer.id, idle=timedelta(0), age=timedelta(hours=hours))
    assert signed_in(client) is alive


def test_a_forged_cookie_is_no_session(app: Flask, staff: StaffFactory) -> None:
    staff.login(staff.create("verifikator"), browser(app))
    assert not signed_in(with_cookie(app, "forged-token"))


# --- throttling -------------------------------------------------------------------------------


def _fail(client: Client, email: str) -> int:
    return sign_in_form(client, email, "wrong password, long enough", "000000").status


def test_failed_sign_ins_are_throttled_but_the_officer_can_still_sign_in_elsewhere(
    limited_app: Flask, limited_staff: StaffFactory, limited_client: Client
) -> None:
    limited_app.config.update(
        STAFF_LOGIN_ACCOUNT_LIMIT="3 per minute", STAFF_LOGIN_LIMIT="50 per hour"
    )
    officer = limited_staff.create("verifikator")
    attacker = browser(limited_app, "203.0.113.9")
    assert [_fail(attacker, officer.email) for _ in range(3)] == [400, 400, 400]
    blocked = sign_in_form(attacker, officer.email, PASSWORD, officer.code())
    assert blocked.status == 429  # even the right password: the limit comes first
    assert 0 < int(blocked.response.headers["Retry-After"]) <= 60
    assert blocked.h1 == "Too many attempts"
    office = browser(limited_app, "198.51.100.20")
    assert sign_in_form(office, officer.email, PASSWORD, officer.code()).status == 302


def test_successful_sign_ins_do_not_count_towards_the_limit(
    limited_app: Flask, limited_staff: StaffFactory, limited_client: Client
) -> None:
    limited_app.config.update(
        STAFF_LOGIN_ACCOUNT_LIMIT="3 per minute", STAFF_LOGIN_LIMIT="50 per hour"
    )
    officer = limited_staff.create("verifikator")
    ip = "198.51.100.20"
    assert _fail(browser(limited_app, ip), officer.email) == 400
    for step in (0, 1):
        page = sign_in_form(browser(limited_app, ip), officer.email, PASSWORD, officer.code(step))
        assert page.status == 302
    assert [_fail(browser(limited_app, ip), officer.email) for _ in range(3)] == [400, 400, 429]


def test_failures_from_one_address_are_throttled_across_accounts(
    limited_app: Flask, limited_staff: StaffFactory, limited_client: Client
) -> None:
    limited_app.config.update(
        STAFF_LOGIN_ACCOUNT_LIMIT="50 per hour", STAFF_LOGIN_LIMIT="3 per minute"
    )
    officer = limited_staff.create("verifikator")
    prober = browser(limited_app, "203.0.113.9")
    tried = [_fail(prober, f"guess{i}@dinsos.example.go.id") for i in range(4)]
    assert tried == [400, 400, 400, 429]
    office = browser(limited_app, "198.51.100.20")
    assert sign_in_form(office, officer.email, PASSWORD, officer.code()).status == 302


# --- the staff area is closed by default ------------------------------------------------------


def test_sign_in_without_csrf_token_is_refused(app: Flask, staff: StaffFactory) -> None:
    officer, client = staff.create("verifikator"), browser(app)
    data = {"email": officer.email, "password": PASSWORD, "code": officer.code()}
    page = Page(client.post("/staf/masuk", data=data))
    assert page.status == 400
    assert page.h1 == "Staff sign-in"  # the form again, with a message, not a dead end
    assert "a form can only be sent for a few hours" in " ".join(page.error_summary_text())
    assert page.soup.find("input", attrs={"name": "email"})["value"] == officer.email
    assert staff_cookie(client) is None


@pytest.mark.parametrize(
    ("target", "lands_on"),
    [
        ("/staf/sesi", "/staf/sesi"),
        ("/staf/kasus/7?x=1", "/staf/kasus/7?x=1"),
        ("https://evil.example/staf/", "/staf/"),
        ("//evil.example/staf/", "/staf/"),
        ("/\\evil.example/staf/", "/staf/"),
        ("/staf/\\\\evil.example", "/staf/"),
        ("/lacak", "/staf/"),
        ("javascript:alert(1)", "/staf/"),
    ],
)
def test_after_sign_in_only_a_staff_page_is_a_destination(
    target: str, lands_on: str, app: Flask, staff: StaffFactory
) -> None:
    officer, client = staff.create("verifikator"), browser(app)
    with app.test_request_context():
        url = url_for("auth.login", next=target)
    page = sign_in_form(client, officer.email, PASSWORD, officer.code(), url=url)
    assert page.response.headers["Location"] == lands_on


@pytest.mark.parametrize("target", ["/staf/\r\nX-Evil: 1", "/staf/\nx", "/staf/\x00"])
def test_a_destination_with_control_characters_is_refused_not_an_error(
    target: str, app: Flask, staff: StaffFactory
) -> None:
    officer, client = staff.create("verifikator"), browser(app)
    with app.test_request_context():
        url = url_for("auth.login", next=target)
    page = sign_in_form(client, officer.email, PASSWORD, officer.code(), url=url)
    assert page.status == 302
    location = page.response.headers["Location"]
    assert location.startswith("/staf/")
    assert not any(c in location for c in "\r\n\x00")
    assert "X-Evil" not in page.response.headers
    assert signed_in(client)


def test_a_staff_page_asked_for_without_a_session_is_shown_after_sign_in(
    app: Flask, staff: StaffFactory
) -> None:
    officer, client = staff.create("verifikator"), browser(app)
    response = client.get("/staf/sesi")
    location = urlsplit(response.headers["Location"])
    assert location.path == "/staf/masuk"
    page = sign_in_form(client, officer.email, PASSWORD, officer.code(), url=response.location)
    assert page.response.headers["Location"].rstrip("?") == "/staf/sesi"
    assert parse_qs(location.query)["next"] == ["/staf/sesi?"]


def staff_rules(app: Flask, method: str) -> list[tuple[str, str]]:
    """(endpoint, url) of every staff route for METHOD, except the public ones."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.rule.startswith("/staf") and method in (rule.methods or ()):
                if rule.endpoint in PUBLIC:
                    continue
                args = {a: "x" if a == "token" else 1 for a in rule.arguments}
                found.append((rule.endpoint, url_for(rule.endpoint, **args)))
    return found


def test_every_staff_page_needs_a_session(app: Flask) -> None:
    rules = staff_rules(app, "GET")
    assert {"review.queue", "review.case", "review.photo", "auth.sessions"} <= {e for e, _ in rules}
    client = browser(app)
    for endpoint, url in rules:
        response = client.get(url)
        assert response.status_code == 302, endpoint
        location = urlsplit(response.headers["Location"])
        assert location.path == "/staf/masuk", endpoint
        assert parse_qs(location.query)["next"][0].startswith(url), endpoint


def test_staff_posts_without_a_session_change_nothing(
    app: Flask, staff: StaffFactory, tmp_path: Path
) -> None:
    app.config["UPLOAD_DIR"] = str(tmp_path)
    cases = CaseFactory(app)
    holder = staff.create("verifikator")
    case = cases.make(status=AppealStatus.VERIFIKASI, assigned_to=holder.id)
    cases.field_check(case, holder.id)
    before = (cases.get(case).status, len(audit(app)), [c.done_at for c in cases.checks(case)])
    rules = staff_rules(app, "POST")
    assert {"review.claim", "review.decide", "auth.logout_everywhere"} <= {e for e, _ in rules}
    client = browser(app)
    token = csrf(client, "/staf/masuk")
    for endpoint, url in rules:
        data = {"csrf_token": token, "decision": "disetujui", "reason": "other", "note": "x" * 20}
        response = client.post(url, data=data)
        assert response.status_code == 302, endpoint
        assert urlsplit(response.headers["Location"]).path == "/staf/masuk", endpoint
    after = (cases.get(case).status, len(audit(app)), [c.done_at for c in cases.checks(case)])
    assert after == before


def test_a_decision_sent_after_the_session_idled_out_changes_nothing(
    app: Flask, staff: StaffFactory, tmp_path: Path, session_backend: str
) -> None:
    app.config["UPLOAD_DIR"] = str(tmp_path)
    officer = staff.create("verifikator")
    case = CaseFactory(app).make(status=AppealStatus.VERIFIKASI, assigned_to=officer.id)
    client = staff.login(officer, browser(app))
    token = csrf(client)  # the decision form was open while the officer was away
    age_sessions(app, officer.id, idle=timedelta(minutes=45))
    data = {"csrf_token": token, "decision": "disetujui", "reason": "other", "note": "x" * 20}
    response = client.post(f"/staf/kasus/{case.id}/putuskan", data=data)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/staf/masuk"
    assert CaseFactory(app).get(case).status == AppealStatus.VERIFIKASI.value
    assert [e.action for e in audit(app)] == ["staff_created", "staff_enrolled", "login"]


def test_a_password_hashed_at_another_cost_is_rehashed_at_the_configured_cost_on_sign_in(
    app: Flask, staff: StaffFactory
) -> None:
    from argon2 import PasswordHasher, extract_parameters

    from portal.auth.models import StaffUser

    officer = staff.create("verifikator")
    with app.app_context():
        user = db.session.get(StaffUser, officer.id)
        assert user is not None
        user.password_hash = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=2).hash(
            PASSWORD
        )
        db.session.commit()

    staff.login(officer)

    with app.app_context():
        user = db.session.get(StaffUser, officer.id)
        assert user is not None
        params = extract_parameters(user.password_hash)
        config = app.config
        assert (params.time_cost, params.memory_cost, params.parallelism) == (
            config["PASSWORD_TIME_COST"],
            config["PASSWORD_MEMORY_KIB"],
            config["PASSWORD_PARALLELISM"],
        )


def test_failures_from_many_addresses_slow_an_account_down_but_never_lock_the_officer_out(
    limited_app: Flask,
    limited_staff: StaffFactory,
    limited_client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A distributed guesser (a new address per try) makes every further try of the account
    wait; the officer waits once, then signs in."""
    from portal import policy

    limited_app.config.update(STAFF_LOGIN_FREE_FAILURES=4, STAFF_LOGIN_LIMIT="50 per hour")
    officer = limited_staff.create("verifikator")
    for n in range(4):
        assert _fail(browser(limited_app, f"203.0.113.{n + 10}"), officer.email) == 400

    office = browser(limited_app, "198.51.100.20")
    waiting = sign_in_form(office, officer.email, PASSWORD, officer.code())
    assert waiting.status == 429
    assert "This account had several failed sign-ins lately" in waiting
    assert waiting.soup.find("input", attrs={"name": "email"})["value"] == officer.email
    token = waiting.soup.find("input", attrs={"name": "wait"})["value"]

    later = policy._now() + 31
    monkeypatch.setattr(policy, "_now", lambda: later)
    with limited_app.app_context():
        code = officer.code(1)
    data = {"email": officer.email, "password": PASSWORD, "code": code, "wait": token}
    signed = office.post_form("/staf/masuk", data)
    assert signed.status == 302
    assert signed_in(office)
