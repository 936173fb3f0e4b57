"""The NIK travels only in the POST body: never in a URL, a redirect, a cookie, a log line
or the rendered page (a valid number typed on a form that came back with an error is shown
again grouped by four, as on the card); refused numbers are not echoed; results are never
cached."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import create_app, db
from portal.lookup import service
from portal.lookup.models import AccessEvent
from tests.helpers import Client, Page

SESSION_COOKIE = "dtsen_session"


def look_up(client: Client, nik: str, no_kk: str, **kwargs: object) -> Page:
    """POST the look-up and follow its redirect (Post/Redirect/Get)."""
    client.choose_language("en")
    return client.post_form("/", {"nik": nik, "no_kk": no_kk}, follow_redirects=True, **kwargs)


def spaced(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, 16, 4))


@pytest.fixture
def house(factory):
    house = factory.household(desil=2)
    factory.publish("2026Q3", [house])
    return house


# --- URLs and redirects --------------------------------------------------------------------


def test_result_is_a_get_page_the_post_redirects_to_without_a_number_in_the_url(
    client: Client, house
) -> None:
    page = look_up(client, house.members[0].nik, house.no_kk, status=200)
    assert [(r.status_code, r.headers["Location"]) for r in page.redirects] == [(303, "/hasil")]
    assert page.response.request.query_string == b""
    assert "receives bansos" in page.h1


def test_lookup_form_posts_to_a_url_without_numbers(client: Client) -> None:
    page = client.page("/")
    form = page.soup.find("form", class_="lookup-form")
    assert form["method"].lower() == "post"
    assert form["action"] == "/"


def test_numbers_in_a_query_string_do_not_trigger_a_lookup(
    client: Client, house, app: Flask
) -> None:
    def logged_accesses() -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(AccessEvent)) or 0

    before = logged_accesses()
    client.choose_language("en")
    response = client.get(f"/?nik={house.members[0].nik}&no_kk={house.no_kk}")
    page = Page(response)
    assert response.status_code == 200
    assert page.soup.find("form", class_="lookup-form")
    assert page.soup.select(".member") == []
    assert logged_accesses() == before
    page.check()  # the numbers in the URL are not echoed into the page either


# --- cookies -------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["found", "not_found", "invalid"])
def test_nik_is_in_no_set_cookie_header_nor_in_the_session(
    client: Client, house, factory, app: Flask, outcome: str
) -> None:
    nik = house.members[0].nik
    no_kk = {"found": house.no_kk, "not_found": factory.unknown_pair()[1], "invalid": "12"}
    client.get("/?lang=en")  # puts something in the session, so there is a cookie to read

    page = look_up(client, nik, no_kk[outcome])

    for response in (*page.redirects, page.response):
        for header in response.headers.getlist("Set-Cookie"):
            assert nik not in header
            assert house.no_kk not in header
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    assert nik not in cookie.value
    session = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert nik not in repr(session)
    assert house.no_kk not in repr(session)
    assert session.get("lang") == "en"


# --- logs ----------------------------------------------------------------------------------


def assert_not_logged(caplog: pytest.LogCaptureFixture, *numbers: str) -> None:
    logged = caplog.text + " ".join(r.getMessage() for r in caplog.records)
    for number in numbers:
        assert number not in logged
        assert spaced(number) not in logged


def test_lookups_of_every_kind_log_no_nik(
    client: Client, house, factory, caplog: pytest.LogCaptureFixture
) -> None:
    nik = house.members[0].nik
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # SQL and its parameters

    look_up(client, nik, house.no_kk, status=200)
    look_up(client, nik, factory.unknown_pair()[1], status=200)
    look_up(client, spaced(nik), house.no_kk, status=200)
    look_up(client, nik, "9901012005190001", status=200)  # back to the form, with the error
    look_up(client, nik + "9", house.no_kk, status=200)

    assert any(r.name.startswith("sqlalchemy") for r in caplog.records), "SQL was not logged"
    assert_not_logged(caplog, nik, house.no_kk)


@pytest.fixture
def dead_db_app() -> Iterator[Flask]:
    app = create_app(
        {
            "ENV_NAME": "testing",
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "SECRET_KEY": "x" * 40,
            "NIK_HMAC_KEY": "y" * 40,
        }
    )
    app.test_client_class = Client
    yield app
    app.extensions["db_engine"].dispose()


def test_database_failure_during_a_lookup_logs_no_nik(
    dead_db_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    nik, no_kk = "3216014506880002", "3216012005190001"
    client: Client = dead_db_app.test_client()  # type: ignore[assignment]
    caplog.set_level(logging.DEBUG)

    look_up(client, nik, no_kk, status=503)

    assert any(r.levelno >= logging.ERROR for r in caplog.records), "the failure is logged"
    assert_not_logged(caplog, nik, no_kk)


def test_unexpected_error_that_names_the_nik_is_logged_without_it(
    client: Client, house, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A library error may quote its input (int(), a driver, a parser): the log must not.
    def broken(nik: str, no_kk: str, **_kwargs: object) -> None:
        raise ValueError(f"cannot match {nik} with {no_kk}")

    monkeypatch.setattr(service, "lookup", broken)
    caplog.set_level(logging.DEBUG)

    page = look_up(client, house.members[0].nik, house.no_kk, status=500)

    assert page.h1
    assert any(r.levelno >= logging.ERROR for r in caplog.records), "the failure is logged"
    assert_not_logged(caplog, house.members[0].nik, house.no_kk)


@pytest.mark.parametrize("written", ["plain", "spaced", "dashed"])
def test_log_scrubber_replaces_a_nik_in_portal_log_messages(
    app: Flask, caplog: pytest.LogCaptureFixture, written: str
) -> None:
    nik = "3216014506880002"
    shown = {"plain": nik, "spaced": spaced(nik), "dashed": spaced(nik).replace(" ", "-")}
    caplog.set_level(logging.DEBUG, logger="portal")

    logging.getLogger("portal").warning("look-up for %s failed", shown[written])

    record = caplog.records[-1]
    assert record.getMessage() == "look-up for [NIK] failed"
    assert nik not in caplog.text


# --- the page ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nik_of", "no_kk"),
    [("house", "9901012005190001"), ("house", "321601"), ("bad", "house")],
    ids=["kk-unknown-region", "kk-too-short", "nik-invalid"],
)
def test_a_refused_number_is_rendered_empty_and_a_valid_one_grouped_after_an_error(
    client: Client, house, nik_of: str, no_kk: str
) -> None:
    nik = house.members[0].nik if nik_of == "house" else "3216013206880002"
    kk = house.no_kk if no_kk == "house" else no_kk

    page = look_up(client, nik, kk, status=200)

    assert page.error_summary(), "the form did not come back with its error"
    shown = {
        name: page.soup.find("input", attrs={"name": name}).get("value", "")
        for name in ("nik", "no_kk")
    }
    refused = "no_kk" if nik_of == "house" else "nik"
    valid = "nik" if refused == "no_kk" else "no_kk"
    assert shown[refused] == ""
    assert shown[valid] == spaced(nik if valid == "nik" else kk)
    assert nik not in page.text
    assert kk not in page.text
    if refused == "no_kk" and len(kk) == 16:
        assert spaced(kk) not in page.text


@pytest.mark.parametrize("outcome", ["found", "not_found", "invalid"])
def test_lookup_responses_are_never_cached(client: Client, house, factory, outcome: str) -> None:
    no_kk = {"found": house.no_kk, "not_found": factory.unknown_pair()[1], "invalid": "1"}
    page = look_up(client, house.members[0].nik, no_kk[outcome])
    assert page.status == 200
    for response in (*page.redirects, page.response):
        assert "no-store" in response.headers["Cache-Control"]
