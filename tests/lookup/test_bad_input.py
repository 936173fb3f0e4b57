"""Refused input: each bad NIK or No. KK sends the browser back to the form (303, then a GET:
Post/Redirect/Get) with a specific message linked from the error summary; the refused number
is never echoed, the other one, valid, is kept. Separators people type are accepted. Broken
requests (no CSRF token, wrong method, huge body, unknown URL, honeypot) get their own page.

Messages are asserted on English pages (their msgids), so the Indonesian wording is free.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.support import NullTranslations, Translations
from flask import Flask
from sqlalchemy import func, select

from portal import db
from portal.lookup.models import AccessEvent
from tests.helpers import Client, Page

GOOD_NIK = "3216014506880002"  # Tarumajaya, woman born 5 June 1988, serial 0002
GOOD_KK = "3216012005190001"  # Tarumajaya, issued 20 May 2019
ONLY_DIGITS = "may only contain digits"
LENGTH = "must be exactly 16 digits"
BAD_DATE = "Digits 7 to 12 of the NIK are not a valid date of birth"
BAD_REGION = "are not a known kecamatan code"
TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"

# (case, typed, the distinctive part of the English message)
BAD_NIK = [
    ("letters", "32160145068800AB", f"The NIK {ONLY_DIGITS}"),
    ("words", "nomor saya", f"The NIK {ONLY_DIGITS}"),
    ("fullwidth-digits", "３２１６０１４５０６８８０００２", f"The NIK {ONLY_DIGITS}"),
    ("15-digits", "321601450688000", f"The NIK {LENGTH}"),
    ("17-digits", "32160145068800021", f"The NIK {LENGTH}"),
    ("empty", "", "Enter the NIK"),
    ("only-spaces", "    ", "Enter the NIK"),
    ("day-32", "3216013206880002", BAD_DATE),
    ("month-13", "3216011513880002", BAD_DATE),
    ("female-day-72", "3216017206880002", BAD_DATE),
    ("29-feb-2023", "3216012902230002", BAD_DATE),
    ("unknown-region", "9901011506880002", f"The first 6 digits of the NIK {BAD_REGION}"),
    ("serial-0000", "3216011506880000", "The last 4 digits of the NIK cannot be 0000"),
]
BAD_KK = [
    ("letters", "32160120051900XY", f"The No. KK {ONLY_DIGITS}"),
    ("15-digits", "321601200519000", f"The No. KK {LENGTH}"),
    ("17-digits", "32160120051900011", f"The No. KK {LENGTH}"),
    ("empty", "", "Enter the No. KK"),
    ("unknown-region", "9901012005190001", f"The first 6 digits of the No. KK {BAD_REGION}"),
]


def submit(client: Client, data: dict[str, str], **kwargs: object) -> Page:
    client.choose_language("en")
    return client.post_form("/", data, follow_redirects=True, **kwargs)


def grouped(number: str, sep: str = " ") -> str:
    return sep.join(number[i : i + 4] for i in range(0, 16, 4))


def value_of(page: Page, name: str) -> str:
    field = page.soup.find("input", attrs={"name": name})
    assert field is not None, f"no input {name}"
    return str(field.get("value", ""))


def assert_refused(page: Page, field: str, message: str, typed: str) -> None:
    assert [r.status_code for r in page.redirects] == [303], "the POST must redirect to a GET"
    assert page.path == "/"
    assert page.status == 200
    assert page.soup.title.get_text().startswith("Error")
    links = page.soup.select(".error-summary__list a")
    assert [a["href"] for a in links] == [f"#{field}"]
    assert message in links[0].get_text(" ", strip=True)
    assert page.soup.find(id=field) is not None, "the summary links to a missing field"
    assert message in page.texts(f"#{field}-error")[0]
    if typed.strip():
        assert typed not in page.text, "the refused number is echoed"
        assert typed not in page.response.headers.get("Location", "")


@pytest.mark.parametrize(("bad", "message"), [c[1:] for c in BAD_NIK], ids=[c[0] for c in BAD_NIK])
def test_bad_nik_is_refused_with_a_specific_message_and_not_echoed(
    client: Client, bad: str, message: str
) -> None:
    page = submit(client, {"nik": bad, "no_kk": GOOD_KK})
    assert_refused(page, "nik", message, bad)
    assert value_of(page, "nik") == ""
    assert value_of(page, "no_kk") == grouped(GOOD_KK), "the valid No. KK is not kept"


@pytest.mark.parametrize(("bad", "message"), [c[1:] for c in BAD_KK], ids=[c[0] for c in BAD_KK])
def test_bad_no_kk_is_refused_with_a_specific_message_and_not_echoed(
    client: Client, bad: str, message: str
) -> None:
    page = submit(client, {"nik": GOOD_NIK, "no_kk": bad})
    assert_refused(page, "no_kk", message, bad)
    assert value_of(page, "no_kk") == ""
    assert value_of(page, "nik") == grouped(GOOD_NIK), "the valid NIK is not kept"


def test_both_numbers_bad_lists_both_errors_in_form_order(client: Client) -> None:
    page = submit(client, {"nik": "", "no_kk": "123"}, status=200)
    assert [a["href"] for a in page.soup.select(".error-summary__list a")] == ["#nik", "#no_kk"]


@pytest.mark.parametrize(
    ("nik_sep", "kk_sep"),
    [(" ", " "), ("-", "-"), (".", "."), (" ", "-"), ("  ", " - ")],
    ids=["spaces", "dashes", "dots", "spaces-and-dashes", "loose"],
)
def test_numbers_typed_with_separators_find_the_household(
    client: Client, factory, nik_sep: str, kk_sep: str
) -> None:
    house = factory.household(desil=2)
    factory.publish("2026Q3", [house])
    nik = " " + grouped(house.members[0].nik, nik_sep) + " "
    kk = grouped(house.no_kk, kk_sep)

    page = submit(client, {"nik": nik, "no_kk": kk}, status=200)

    assert "receives bansos" in page.h1
    assert nik.strip() not in page.text
    assert kk not in page.text


# --- broken requests -----------------------------------------------------------------------


def id_translation(msgid: str) -> str | None:
    """The compiled id translation of MSGID, or None if the catalog is not compiled."""
    translations = Translations.load(str(TRANSLATIONS), ["id"])
    if isinstance(translations, NullTranslations) and not isinstance(translations, Translations):
        return None
    text = translations.gettext(msgid)
    return text if text != msgid else None


SESSION_EXPIRED = (
    "For your security, a form can only be sent for a few hours after it was opened, and this "
    "one had expired. Check your answers below and send it again."
)


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["missing", "forged"])
def test_post_without_a_valid_csrf_token_shows_the_form_again_with_a_kind_message(
    client: Client, token: str | None
) -> None:
    client.get("/")  # a session exists, as for a person who left the form open
    data = {"nik": GOOD_NIK, "no_kk": GOOD_KK}
    if token:
        data["csrf_token"] = token

    page = Page(client.post("/", data=data, follow_redirects=True)).check()

    assert [r.status_code for r in page.redirects] == [303]
    assert page.status == 200
    assert page.lang == "id"
    assert page.soup.find("input", attrs={"name": "nik"}), "the look-up form is not shown again"
    assert value_of(page, "nik") == grouped(GOOD_NIK), "the answers are not kept"
    assert value_of(page, "no_kk") == grouped(GOOD_KK)
    translated = id_translation(SESSION_EXPIRED)
    if translated:
        assert page.error_summary_text() == [translated]
    assert "Sesi Anda sudah berakhir" not in page.h1  # not the dead-end page


def test_post_without_csrf_token_in_english_asks_to_send_again(client: Client) -> None:
    client.choose_language("en")
    page = Page(client.post("/", data={"nik": GOOD_NIK}, follow_redirects=True))
    page.check()
    assert page.status == 200
    assert page.h1 == "Check your DTSEN status"
    assert SESSION_EXPIRED in page.error_summary_text()


def test_post_without_csrf_token_where_no_form_is_shown_gets_the_expired_page(
    client: Client,
) -> None:
    client.choose_language("en")
    page = Page(client.post("/lacak/keluar", data={"go": "1"})).check()
    assert page.status == 400
    assert page.h1 == "Your session expired"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_wrong_method_gets_a_405_page(client: Client, method: str) -> None:
    client.choose_language("en")
    response = client.open("/", method=method)
    page = Page(response).check()
    assert page.status == 405
    assert page.h1 == "This page cannot be used this way"
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_huge_body_gets_a_413_page_not_a_server_error(client: Client) -> None:
    page = submit(client, {"nik": "1" * 200_000, "no_kk": GOOD_KK}, status=413)
    assert page.h1 == "What you sent is too large"


def test_unknown_url_gets_a_404_page(client: Client) -> None:
    client.choose_language("en")
    page = client.page("/no-such-page", status=404)
    assert page.h1 == "Page not found"
    assert page.soup.find("a", href="/")


def test_filled_honeypot_is_refused_as_too_many_requests_without_a_lookup(
    client: Client, factory, app: Flask
) -> None:
    house = factory.household()
    factory.publish("2026Q3", [house])
    data = {"nik": house.members[0].nik, "no_kk": house.no_kk, "website": "http://spam.example"}

    page = submit(client, data, status=429)

    assert int(page.response.headers["Retry-After"]) > 0
    assert page.soup.select(".member") == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AccessEvent)) == 0


def test_after_a_refused_look_up_the_error_summary_takes_the_focus(client: Client) -> None:
    """autofocus on the summary (tabindex="-1") focuses it as the page loads, no script: a
    keyboard or screen-reader user meets the errors first. A form shown fresh focuses nothing."""
    fresh = client.page("/?lang=en")
    assert fresh.soup.select(".error-summary") == []
    assert fresh.soup.select("[autofocus]") == []

    refused = submit(client, {"nik": "12345", "no_kk": GOOD_KK})
    [summary] = refused.soup.select(".error-summary")
    assert summary.has_attr("autofocus")
    assert summary["tabindex"] == "-1"
    assert refused.soup.select("[autofocus]") == [summary], "one element takes the focus"
