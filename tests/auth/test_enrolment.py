"""Staff accounts from the CLI (`flask --app portal staff ...`) and enrolment at the one-time
link: a password (argon2id) and a mandatory authenticator app, shown as a QR code drawn on
the server (inline SVG, no outside service) with the key in groups to type instead."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pyotp
import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, update

from portal import db
from portal.audit.models import AuditEvent
from portal.auth.models import StaffUser
from tests.auth.conftest import (
    GENERIC,
    browser,
    csrf,
    errors,
    sign_in_form,
    signed_in,
    staff_cookie,
    user,
)
from tests.fixtures.staff import PASSWORD, StaffFactory
from tests.helpers import Client, Page

LINK = re.compile(r"https?://\S+/staf/daftar/(\S+)")
NEW_PASSWORD = "sawah hijau di pagi hari"


def create(runner: FlaskCliRunner, email: str, role: str, *regions: str) -> Result:
    args = ["staff", "create", "--email", email, "--name", "Siti Rahma", "--role", role]
    for region in regions:
        args += ["--region", region]
    return runner.invoke(args=args)


def token_of(output: str) -> str:
    match = LINK.search(output)
    assert match, output
    return match[1]


@pytest.mark.parametrize(
    ("role", "regions", "scope"),
    [
        ("verifikator", ["32.16"], "32.16"),
        ("admin_dinsos", ["32.75"], "32.75"),
        ("operator_desa", ["32.16.01.2001", "32.16.02.2001"], "32.16.01.2001, 32.16.02.2001"),
        ("pusat", [], "national"),
    ],
)
def test_staff_create_prints_a_one_time_enrolment_link(
    role: str, regions: list[str], scope: str, app: Flask, runner: FlaskCliRunner
) -> None:
    result = create(runner, "Siti.Rahma@Dinsos.example.go.id", role, *regions)
    assert result.exit_code == 0, result.output
    assert f"created siti.rahma@dinsos.example.go.id ({role}, scope: {scope})" in result.output
    assert "/staf/daftar/" in result.output
    account = user(app, "siti.rahma@dinsos.example.go.id")
    assert account is not None
    assert (account.role, account.desa_codes) == (role, regions if role == "operator_desa" else [])
    assert (account.password_hash, account.enrolled_at) == (None, None)
    token = token_of(result.output)
    assert token not in str(account.enrol_token_hash)  # only its hash is kept


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not-an-email", "verifikator", "32.16"], "not an e-mail address"),
        (["a@dinsos.example.go.id", "superuser", "32.16"], "Invalid value for '--role'"),
        (["a@dinsos.example.go.id", "verifikator"], "needs exactly one kabupaten/kota code"),
        (["a@dinsos.example.go.id", "verifikator", "32.99"], "needs exactly one kabupaten/kota"),
        (["a@dinsos.example.go.id", "admin_dinsos", "32.16.01"], "needs exactly one kabupaten"),
        (["a@dinsos.example.go.id", "verifikator", "32.16", "32.75"], "exactly one kabupaten"),
        (["a@dinsos.example.go.id", "operator_desa"], "needs at least one desa code"),
        (["a@dinsos.example.go.id", "operator_desa", "32.16"], "is not a desa/kelurahan code"),
        (
            ["a@dinsos.example.go.id", "operator_desa", "32.16.01.2001", "32.75.01.1001"],
            "must all be in one kabupaten/kota",
        ),
        (["a@dinsos.example.go.id", "pusat", "32.16"], "pusat is national: give no region"),
    ],
)
def test_staff_create_refuses_bad_input_with_a_message(
    args: list[str], message: str, app: Flask, runner: FlaskCliRunner
) -> None:
    result = create(runner, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "/staf/daftar/" not in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffUser)) == 0


def test_staff_create_refuses_an_e_mail_that_has_an_account(runner: FlaskCliRunner) -> None:
    assert create(runner, "a@dinsos.example.go.id", "pusat").exit_code == 0
    again = create(runner, "A@dinsos.example.go.id", "pusat")
    assert again.exit_code == 1
    assert "an account for a@dinsos.example.go.id exists already" in again.output


def enrol_page(client: Client, token: str) -> Page:
    return client.page(f"/staf/daftar/{token}")


def key_of(page: Page) -> str:
    return page.texts("code.qr__secret")[0]


def test_the_enrolment_page_draws_the_qr_code_inline_and_shows_the_key_in_groups(
    app: Flask, staff: StaffFactory
) -> None:
    officer, token = staff.enrolment_token()
    client = browser(app)
    page = enrol_page(client, token)
    assert page.soup.select_one(".qr__image svg") is not None  # drawn here, not fetched
    assert page.soup.select(".qr img, img[src*='qr'], img[src^='http']") == []
    key = key_of(page)
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", key)
    stored = user(app, officer.email)
    assert stored is not None
    assert key.replace(" ", "") == stored.totp_secret
    assert key_of(enrol_page(client, token)) == key  # a reload shows the same key
    assert page.response.headers["Cache-Control"] == "no-store"  # a secret: never cached


def code_for(key: str) -> str:
    return pyotp.TOTP(key.replace(" ", "")).now()


@pytest.mark.parametrize(
    ("password", "confirm", "code", "message"),
    [
        ("short pw", "short pw", "{code}", "Choose a stronger password"),
        ("aaaabbbbaaaabbbb", "aaaabbbbaaaabbbb", "{code}", "Choose a stronger password"),
        ("{local} plus words", "{local} plus words", "{code}", "Choose a stronger password"),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "{code}", "The two passwords are not the same."),
        (NEW_PASSWORD, NEW_PASSWORD, "{wrong}", "The code is not right."),
        (NEW_PASSWORD, NEW_PASSWORD, "", "Enter the 6-digit code."),
        ("", "", "{code}", "Choose a password."),
    ],
)
def test_enrolment_refuses_a_weak_password_a_mismatch_or_a_wrong_code(
    password: str, confirm: str, code: str, message: str, app: Flask, staff: StaffFactory
) -> None:
    officer, token = staff.enrolment_token()
    client = browser(app)
    key = key_of(enrol_page(client, token))
    right = code_for(key)
    values = {
        "code": right,
        "wrong": f"{(int(right) + 500_000) % 1_000_000:06d}",
        "local": officer.email.split("@")[0],
    }
    data = {
        "password": password.format(**values),
        "confirm": confirm.format(**values),
        "code": code.format(**values),
    }
    page = client.post_form(f"/staf/daftar/{token}", data)
    assert page.status == 400
    assert any(m.startswith(message) for m in errors(page)), errors(page)
    assert staff_cookie(client) is None
    stored = user(app, officer.email)
    assert stored is not None
    assert (stored.enrolled_at, stored.password_hash) == (None, None)
    assert key_of(page) == key  # the same key again: the phone need not scan twice
    assert enrol_page(client, token).status == 200  # the link still works in this browser


def enrol(app: Flask, token: str, client: Client | None = None) -> tuple[Client, Page]:
    client = client or browser(app)
    key = key_of(enrol_page(client, token))
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "code": code_for(key)}
    return client, client.post_form(f"/staf/daftar/{token}", data)


def test_enrolment_signs_in_and_the_link_cannot_be_used_again(
    app: Flask, staff: StaffFactory
) -> None:
    officer, token = staff.enrolment_token("admin_dinsos")
    client, page = enrol(app, token)
    assert page.status == 302
    assert page.response.headers["Location"] == "/staf/"
    assert signed_in(client)
    for again in (browser(app), client):
        used = again.page(f"/staf/daftar/{token}", status=404)
        assert used.h1 == "This link does not work"
    # a second submit of the form (another tab) is refused the same way
    late = browser(app)
    data = {"password": "another long password", "confirm": "another long password"}
    data.update(code="123456", csrf_token=csrf(late, "/staf/masuk"))
    assert late.post(f"/staf/daftar/{token}", data=data).status_code == 404
    with app.app_context():
        enrolled = select(AuditEvent).where(AuditEvent.action == "staff_enrolled")
        assert [e.target_id for e in db.session.scalars(enrolled)] == [officer.id]


def test_an_expired_or_unknown_enrolment_link_does_not_work(
    app: Flask, staff: StaffFactory
) -> None:
    officer, token = staff.enrolment_token()
    with app.app_context():
        db.session.execute(
            update(StaffUser)
            .where(StaffUser.id == officer.id)
            .values(enrol_expires_at=db.utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
    assert browser(app).page(f"/staf/daftar/{token}", status=404).h1 == "This link does not work"
    assert browser(app).page("/staf/daftar/made-up-token", status=404).h1 == (
        "This link does not work"
    )


def test_passwords_are_stored_as_argon2id_hashes_never_in_plain(
    app: Flask, staff: StaffFactory
) -> None:
    officer, token = staff.enrolment_token()
    enrol(app, token)
    enrolled = staff.create("verifikator")
    for email, password in ((officer.email, NEW_PASSWORD), (enrolled.email, PASSWORD)):
        stored = user(app, email)
        assert stored is not None
        assert stored.password_hash is not None
        assert stored.password_hash.startswith("$argon2id$")
        assert password not in stored.password_hash


def test_staff_reset_ends_sessions_and_issues_a_new_link(
    app: Flask, staff: StaffFactory, runner: FlaskCliRunner, session_backend: str
) -> None:
    officer = staff.create("verifikator")
    client = staff.login(officer, browser(app))
    result = runner.invoke(args=["staff", "reset", officer.email])
    assert result.exit_code == 0, result.output
    assert f"reset {officer.email}; new enrolment link (one use):" in result.output
    assert not signed_in(client)
    refused = sign_in_form(browser(app), officer.email, PASSWORD, officer.code(1))
    assert errors(refused) == GENERIC  # the old password and phone no longer work
    new_client, page = enrol(app, token_of(result.output))
    assert page.status == 302
    assert signed_in(new_client)
    stored = user(app, officer.email)
    assert stored is not None
    assert stored.totp_secret != officer.secret  # a new authenticator key


def test_staff_deactivate_blocks_sign_in_and_ends_sessions(
    app: Flask, staff: StaffFactory, runner: FlaskCliRunner, session_backend: str
) -> None:
    officer = staff.create("operator_desa")
    client = staff.login(officer, browser(app))
    result = runner.invoke(args=["staff", "deactivate", officer.email])
    assert (result.exit_code, result.output.strip()) == (0, f"deactivated {officer.email}")
    assert not signed_in(client)
    refused = sign_in_form(browser(app), officer.email, PASSWORD, officer.code(1))
    assert refused.status == 400
    assert errors(refused) == GENERIC  # an inactive account looks like any wrong input
    assert runner.invoke(args=["staff", "activate", officer.email]).exit_code == 0
    back = sign_in_form(browser(app), officer.email, PASSWORD, officer.code(1))
    assert back.status == 302


@pytest.mark.parametrize("command", ["reset", "deactivate", "activate", "revoke-sessions"])
def test_staff_commands_name_an_unknown_account(command: str, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["staff", command, "nobody@dinsos.example.go.id"])
    assert result.exit_code == 1
    assert "no account for nobody@dinsos.example.go.id" in result.output


def test_the_enrolment_token_is_masked_in_access_log_lines(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gunicorn.access")
    token = "Zq3vN0t-aR3al_T0ken"
    logging.getLogger("gunicorn.access").info('203.0.113.9 "GET /staf/daftar/%s" 200', token)
    assert token not in caplog.text
    assert "/staf/daftar/[token]" in caplog.text


# --- the link is bound to the first browser that opens it -----------------------------------


def test_a_second_browser_opening_the_link_sees_no_key_and_the_officer_is_warned(
    app: Flask, staff: StaffFactory
) -> None:
    officer, token = staff.enrolment_token()
    first = browser(app)
    key = key_of(enrol_page(first, token))

    intruder = browser(app, "10.66.0.1")
    page = intruder.page(f"/staf/daftar/{token}", status=409)

    assert page.h1 == "This link was opened on another device"
    assert not page.soup.select(".qr__secret, .qr__image")
    assert key.replace(" ", "") not in page.text
    again = enrol_page(first, token)
    assert key_of(again) == key
    warning = again.soup.select_one(".notice--error")
    assert warning is not None
    assert "also opened on another device" in warning.get_text()
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent))]
    assert actions.count("staff_enrol_opened") == 1
    assert actions.count("staff_enrol_reopened") == 1


def test_a_second_browser_cannot_finish_enrolment_even_with_the_right_code(
    app: Flask, staff: StaffFactory
) -> None:
    officer, token = staff.enrolment_token()
    key = key_of(enrol_page(browser(app), token))  # the officer opened it first
    intruder = browser(app, "10.66.0.2")
    data = {
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        "code": code_for(key),  # as if the key had leaked some other way
        "csrf_token": csrf(intruder, "/staf/masuk"),
    }
    assert intruder.post(f"/staf/daftar/{token}", data=data).status_code == 409
    stored = user(app, officer.email)
    assert stored is not None
    assert stored.enrolled_at is None
    assert staff_cookie(intruder) is None


def test_the_key_is_made_when_the_link_is_first_opened(app: Flask, staff: StaffFactory) -> None:
    """A key that existed before (seen by whoever handled the account) is not the one used."""
    officer, token = staff.enrolment_token()
    with app.app_context():
        from portal.auth import service

        stored = db.session.get(StaffUser, officer.id)
        assert stored is not None
        earlier = service.pending_secret(stored)
    key = key_of(enrol_page(browser(app), token)).replace(" ", "")
    assert key != earlier


def test_the_binding_cookie_is_strict_http_only_and_scoped_to_the_link(
    app: Flask, staff: StaffFactory
) -> None:
    _officer, token = staff.enrolment_token()
    response = browser(app).get(f"/staf/daftar/{token}")
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("dtsen_enrol=")]
    for part in ("HttpOnly", "Secure", "SameSite=Strict", f"Path=/staf/daftar/{token}"):
        assert part in cookie


def test_a_reset_issues_a_link_that_a_new_browser_can_open(
    app: Flask, staff: StaffFactory, runner: FlaskCliRunner
) -> None:
    officer, token = staff.enrolment_token()
    enrol_page(browser(app), token)  # opened, never finished (lost phone)
    result = runner.invoke(args=["staff", "reset", officer.email])
    assert result.exit_code == 0, result.output
    client, page = enrol(app, token_of(result.output))
    assert page.status == 302
    assert signed_in(client)
