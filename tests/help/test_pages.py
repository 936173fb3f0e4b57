"""The help pages ("Cara lain", privacy notice, accessibility statement), the start page of
each channel, the compact header's links, and the wording rules of issue 10: waits said in
words, a session-expired page with a way back, no jargon on citizen pages.

English is asked for with ``?lang=en`` (kept in the session); without it the pages are in
Bahasa Indonesia. English text is asserted exactly; the Indonesian page must differ.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from portal import errors
from tests.helpers import Client, Page

HELP_PAGES = {
    "/cara-lain": "Other ways to take part",
    "/privasi": "Privacy notice",
    "/aksesibilitas": "Accessibility",
}
START_PAGES = {"/sanggahan": "File a sanggahan", "/usulan": "Make an usulan"}


def main_text(page: Page) -> str:
    assert page.soup.main is not None
    return page.soup.main.get_text(" ", strip=True)


def start_link(page: Page) -> str:
    button = page.soup.select_one("main a.button")
    assert button is not None, "no Start button"
    return str(button["href"])


# --- every page, both languages -------------------------------------------------------------


@pytest.mark.parametrize(("url", "title"), [*HELP_PAGES.items(), *START_PAGES.items()])
def test_help_and_start_pages_render_in_both_languages(
    client: Client, app: Flask, url: str, title: str
) -> None:
    english = app.test_client().page(f"{url}?lang=en")
    indonesian = client.page(url)

    assert english.lang == "en"
    assert english.h1 == title
    assert indonesian.lang == "id"
    assert indonesian.h1 != english.h1, "is the id catalog compiled (make i18n-compile)?"
    assert main_text(indonesian) != main_text(english)


def test_every_public_page_links_the_help_pages_from_its_footer(client: Client) -> None:
    for url in ("/", "/ajukan", "/lacak", "/cara-lain", "/sanggahan"):
        footer = client.page(url).soup.select_one("footer")
        links = {a["href"] for a in footer.select("a")}
        assert set(HELP_PAGES) <= links, url


def test_the_appeals_start_page_leads_to_each_channel_and_the_help_pages(client: Client) -> None:
    main = client.page("/ajukan?lang=en").soup.main
    links = {a["href"] for a in main.select("a")}
    assert {"/sanggahan", "/usulan", "/cara-lain", "/privasi"} <= links


# --- start page of each channel ---------------------------------------------------------------


@pytest.mark.parametrize("url", list(START_PAGES))
def test_a_start_page_says_what_to_prepare_and_how_long_before_the_first_question(
    client: Client, url: str
) -> None:
    page = client.page(f"{url}?lang=en")
    text = main_text(page)

    assert "Your family card (Kartu Keluarga): your NIK and the No. KK." in text
    assert "Photos if you have them (not required)" in text
    assert re.search(r"About \d+ to \d+ minutes: at most \d+ short questions", text)
    assert "deleted after 24 hours" in text  # the real draft lifetime
    assert start_link(page) == f"{url}/alasan"
    assert page.soup.select_one("main a.button").get_text(strip=True) == "Start"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("/sanggahan?alasan=EXC-DICORET", "EXC-DICORET"),
        ("/usulan?alasan=USUL-PROGRAM", "USUL-PROGRAM"),
        ("/sanggahan?alasan=INC-BOGUS", None),  # unknown code
        ("/usulan?alasan=EXC-DICORET", None),  # a sanggahan reason on the usulan page
        ("/sanggahan?alasan=", None),
        ("/sanggahan?alasan=exc-dicoret", None),
    ],
)
def test_a_start_page_keeps_only_a_known_reason_of_its_kind(
    client: Client, url: str, kept: str | None
) -> None:
    page = client.page(url + "&lang=en")
    query = parse_qs(urlsplit(start_link(page)).query)

    assert query == ({"alasan": [kept]} if kept else {})
    assert ("You chose:" in main_text(page)) is bool(kept)


def test_a_start_page_passes_on_nothing_but_the_reason(client: Client) -> None:
    page = client.page("/sanggahan?alasan=EXC-DICORET&_external=1&_scheme=http&next=//evil.test")
    link = start_link(page)

    assert link == "/sanggahan/alasan?alasan=EXC-DICORET"


def test_the_start_button_preselects_the_reason_on_the_first_question(client: Client) -> None:
    first = client.page(start_link(client.page("/sanggahan?alasan=EXC-DESIL-SALAH")))
    checked = [i["value"] for i in first.soup.select("input[name=reason][checked]")]
    assert checked == ["EXC-DESIL-SALAH"]


# --- what the privacy notice says comes from the settings -------------------------------------


def test_the_privacy_notice_names_the_real_durations(client: Client, app: Flask) -> None:
    text = main_text(client.page("/privasi?lang=en"))

    assert "UU PDP" in text
    assert "Law No. 27 of 2022" in text
    assert "they are deleted 24 hours after your last change" in text  # DRAFT_LIFETIME
    assert "stays open on that phone for 30 minutes" in text  # TRACKING_LIFETIME
    assert "A form can be sent for up to 4 hours after it was opened." in text
    assert "Photos are seen only by those officers, never published." in text

    app.config["WTF_CSRF_TIME_LIMIT"] = 90 * 60
    changed = main_text(client.page("/privasi"))  # the session keeps English
    assert "A form can be sent for up to 90 minutes after it was opened." in changed


# --- waits in words ---------------------------------------------------------------------------


def honeypot(client: Client, lang: str) -> Page:
    return client.post_form(f"/?lang={lang}", {"nik": "", "no_kk": "", "website": "x"})


def test_the_429_page_says_the_wait_in_words_with_a_single_retry_after(client: Client) -> None:
    page = honeypot(client, "en")

    assert page.status == 429
    assert page.response.headers.getlist("Retry-After") == ["60"]
    text = main_text(page)
    assert "Please wait at least 1 minute before trying again." in text
    # the same page for every limit: it promises no minute when the limit hit may be hourly
    # or daily (DRAFT_LIMIT is 20 an hour), and says what to do when it comes back
    assert "Please try again in 1 minute" not in text
    assert "wait an hour or try again tomorrow" in text
    assert page.soup.select_one("main a[href='/cara-lain']") is not None


def test_the_429_wait_follows_retry_after(client: Client, monkeypatch) -> None:
    monkeypatch.setattr(errors, "RETRY_AFTER_SECONDS", 15 * 60)

    english = honeypot(client, "en")
    assert english.response.headers.getlist("Retry-After") == ["900"]
    assert "Please wait at least 15 minutes before trying again." in main_text(english)

    indonesian = honeypot(client, "id")
    assert "Tunggu setidaknya 15 menit sebelum mencoba lagi." in main_text(indonesian)
    assert "tunggu satu jam atau coba lagi besok" in main_text(indonesian)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "1 second"),
        (30, "30 seconds"),
        (59.2, "1 minute"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (240, "4 minutes"),
        (30 * 60, "30 minutes"),
        (60 * 60, "1 hour"),
        (90 * 60, "90 minutes"),
        (4 * 3600, "4 hours"),
        (24 * 3600, "24 hours"),
        (3 * 86400, "3 days"),
    ],
)
def test_durations_are_said_the_way_a_person_says_them(
    app: Flask, seconds: float, words: str
) -> None:
    from flask_babel import force_locale

    with app.test_request_context("/"), force_locale("en"):
        assert errors.duration(seconds) == words


# --- the session-expired page is not a dead end ------------------------------------------------


def test_an_expired_form_page_leads_back_to_the_form(client: Client) -> None:
    client.page("/lacak/kasus?lang=en", status=302)  # the language, kept in the session
    page = Page(
        client.post("/lacak/keluar", data={}, headers={"Referer": "https://localhost/lacak/kasus"})
    ).check()

    assert page.status == 400
    assert page.h1 == "Your session expired"
    back = page.soup.find("a", string="Back to the form")
    assert back is not None
    assert back["href"] == "/lacak/kasus"
    assert page.soup.find("a", string="Go to the home page") is not None


def test_the_way_back_never_leads_to_another_site(client: Client) -> None:
    client.page("/?lang=en")
    headers = {"Referer": "https://evil.test/phish", "Sec-Fetch-Site": "cross-site"}

    refused = Page(client.post("/", data={"nik": "1"}, headers=headers)).check()
    assert refused.status == 400
    assert "evil.test" not in refused.text
    back = refused.soup.find("a", string="Back to the form")
    assert back is not None
    assert back["href"] == "/"

    post_only = Page(client.post("/lacak/keluar", data={}, headers=headers)).check()
    assert post_only.status == 400
    assert post_only.soup.find("a", string="Back to the form") is None  # no page to go back to


# --- no jargon on citizen pages ---------------------------------------------------------------


CITIZEN_PAGES = ["/", "/ajukan", "/lacak", "/sanggahan", "/usulan", *HELP_PAGES]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_no_cookie_jargon_on_citizen_pages(app: Flask, lang: str) -> None:
    client = app.test_client()
    pages = [client.page(f"{url}?lang={lang}") for url in CITIZEN_PAGES]
    pages.append(Page(client.post("/lacak", data={})))  # the session-expired page
    pages.append(honeypot(client, lang))  # the 429 page
    for page in pages:
        text = page.soup.get_text(" ", strip=True).lower()
        assert "cookie" not in text, page.response.request.path
        assert "jpeg" not in text, page.response.request.path
        assert "webp" not in text, page.response.request.path


def test_the_fraud_warning_is_short_and_links_to_the_details(client: Client) -> None:
    notice = client.page("/?lang=en").soup.select_one(".scam-notice")
    text = notice.get_text(" ", strip=True)

    assert text.startswith("This service is free. We never ask for money, a PIN or an OTP code.")
    assert notice.find("a")["href"] == "/waspada"
    details = client.page("/cara-lain?lang=en").soup.find(id="penipuan")
    assert "never contacts you to ask for them" in details.get_text(" ", strip=True)
    assert "is a fraudster" in details.get_text(" ", strip=True)
    assert details.find("a")["href"] == "/waspada"
