"""Locale negotiation over HTTP: ``?lang=`` (kept in the session), else Bahasa Indonesia,
whatever language the phone is set to (Accept-Language is ignored: Indonesian is the binding
language of the service). The language switch is a plain link that works without JavaScript.

Indonesian wording is being written by translators, so the tests compare the id page with
the en page (they must differ) instead of asserting id phrases. English text is asserted
exactly: the msgids are English.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from flask import Flask
from sqlalchemy import select

from portal import db
from portal.dataimport.models import Snapshot
from tests.helpers import Client, Page

EN_TITLE = "Check your DTSEN status"


def main_text(page: Page) -> str:
    assert page.soup.main is not None
    return page.soup.main.get_text(" ", strip=True)


def switch_link(page: Page, lang: str) -> str:
    link = page.soup.select_one(f".lang-switch a[hreflang={lang}]")
    assert link is not None, f"no link to {lang}"
    return str(link["href"])


def test_default_locale_is_indonesian(client: Client) -> None:
    page = client.page("/")
    assert page.lang == "id"
    assert page.soup.select_one(".lang-switch [aria-current]")["lang"] == "id"


def test_indonesian_page_text_differs_from_the_english_one(client: Client, app: Flask) -> None:
    indonesian = client.page("/")
    english = app.test_client().page("/?lang=en")
    assert english.h1 == EN_TITLE
    assert indonesian.h1 != english.h1, "is the id catalog compiled (make i18n-compile)?"
    assert main_text(indonesian) != main_text(english)
    assert indonesian.soup.title.get_text() != english.soup.title.get_text()


@pytest.mark.parametrize(
    ("url", "headers", "expected"),
    [
        ("/", {}, "id"),
        ("/", {"Accept-Language": "id-ID,id;q=0.9"}, "id"),
        ("/", {"Accept-Language": "en-US,en;q=0.9"}, "id"),
        ("/", {"Accept-Language": "en"}, "id"),
        ("/", {"Accept-Language": "fr, de;q=0.5"}, "id"),
        ("/?lang=en", {}, "en"),
        ("/?lang=en", {"Accept-Language": "id"}, "en"),
        ("/?lang=id", {"Accept-Language": "en"}, "id"),
        ("/?lang=xx", {}, "id"),
        ("/?lang=xx", {"Accept-Language": "en"}, "id"),
        ("/?lang=", {}, "id"),
    ],
    ids=[
        "default",
        "accept-id",
        "phone-in-english-still-indonesian",
        "accept-en-only-still-indonesian",
        "accept-unsupported",
        "query-en",
        "query-en-beats-header",
        "query-id-beats-header",
        "query-unsupported-ignored",
        "query-unsupported-header-ignored",
        "query-empty-ignored",
    ],
)
def test_locale_negotiation(client: Client, url: str, headers: dict, expected: str) -> None:
    page = client.page(url, headers=headers)
    assert page.lang == expected
    if expected == "en":
        assert page.h1 == EN_TITLE


def test_chosen_language_sticks_for_the_next_requests(client: Client) -> None:
    client.page("/?lang=en")
    again = client.page("/", headers={"Accept-Language": "id"})
    assert again.lang == "en"
    assert again.h1 == EN_TITLE
    assert client.page("/?lang=xx").lang == "en", "an unknown lang must not reset the choice"
    assert client.page("/no-such-page", status=404).lang == "en"
    client.page("/?lang=id")
    assert client.page("/", headers={"Accept-Language": "en"}).lang == "id"


def test_language_switch_is_a_plain_link_that_works_without_javascript(client: Client) -> None:
    indonesian = client.page("/")
    assert not indonesian.soup.find("script"), "the page needs no script"
    link = indonesian.soup.select_one(".lang-switch a[hreflang=en]")
    assert not [attr for attr in link.attrs if attr.startswith("on")]
    href = switch_link(indonesian, "en")
    assert "lang=en" in href

    english = client.page(href)
    assert english.lang == "en"
    back = client.page(switch_link(english, "id"))
    assert back.lang == "id"


@pytest.mark.parametrize("url", ["/no-such-page", "/healthz-nope"])
def test_language_switch_on_error_pages_leads_to_a_working_page(client: Client, url: str) -> None:
    page = client.page(url, status=404)
    english = client.page(switch_link(page, "en"))
    assert english.lang == "en"


def published_on(app: Flask, locale: str) -> str:
    with app.app_context():
        published: datetime = db.session.scalars(select(Snapshot.published_at)).one()
    return format_date(published.astimezone(ZoneInfo("Asia/Jakarta")), "long", locale=locale)


def test_result_page_follows_the_language_including_its_dates(
    client: Client, factory, app: Flask
) -> None:
    house = factory.household(desil=2)
    factory.publish("2026Q3", [house])
    data = {"nik": house.members[0].nik, "no_kk": house.no_kk}

    indonesian = client.post_form("/", data, status=200, follow_redirects=True)
    english = client.post_form("/?lang=en", data, status=200, follow_redirects=True)

    assert (indonesian.lang, english.lang) == ("id", "en")
    assert published_on(app, "id") in indonesian.texts(".period-note")[0]
    assert published_on(app, "en") in english.texts(".period-note")[0]
    assert english.h1 == "Your family is in DTSEN and receives bansos"
    assert indonesian.h1 != english.h1
    # the result is a GET page: the switch keeps it, with no number in the URL
    assert switch_link(english, "id") == "/hasil?lang=id"
    assert client.page("/hasil?lang=id").h1 == indonesian.h1


def test_a_macro_imported_by_a_page_speaks_each_request_s_language(app: Flask) -> None:
    """Jinja keeps an imported template (``{% import %}``: the contact card, the form
    macros) as one module for every later render: a translation kept with that module would
    answer every later request in the first one's language."""
    from flask import render_template_string, session

    page = (
        '{% import "components/contact.html" as c %}'
        '{{ c.details({"demo": True, "address": "Jl. Uji", "name": "Dinsos Uji"}) }}'
    )
    seen = []
    for lang in ("id", "en", "id", "en"):
        with app.test_request_context("/"):
            session["lang"] = lang
            seen.append(render_template_string(page))
    assert ["Alamat" in html for html in seen] == [True, False, True, False]
    assert ["Address" in html for html in seen] == [False, True, False, True]
