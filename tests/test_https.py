"""Forms work the way the portal is deployed: over HTTPS, directly or behind a TLS proxy.

A browser that posts a form from our page sends ``Origin`` and ``Sec-Fetch-Site`` (and, under
our ``Referrer-Policy: same-origin``, a ``Referer``). A form posted from another site, or
from a page that hides where it comes from, is refused even with a valid token.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import db
from portal.dataimport.demo import Numbers
from portal.lookup.models import AccessEvent
from tests.appeals.conftest import answers_for, publish_world, submit, walk
from tests.fixtures.app import _make_app
from tests.fixtures.factories import Factory
from tests.fixtures.staff import StaffFactory
from tests.helpers import Browser, Client, Page


@pytest.fixture(params=["tls", "proxy"])
def deployed(request: pytest.FixtureRequest, db_url: str) -> Iterator[Flask]:
    """The app with the production cookie and URL settings; "proxy": behind one TLS proxy."""
    overrides = {"SESSION_COOKIE_SECURE": True, "PREFERRED_URL_SCHEME": "https"}
    if request.param == "proxy":
        overrides["PROXY_FIX_X_FOR"] = 1
    yield from _make_app(db_url, **overrides)


@pytest.fixture
def browser(deployed: Flask) -> Browser:
    client = Browser(deployed, deployed.response_class)
    client.behind_proxy = bool(deployed.config["PROXY_FIX_X_FOR"])
    return client.choose_language("en")


@pytest.fixture
def factory(deployed: Flask, tmp_path) -> Factory:  # type: ignore[no-untyped-def]
    return Factory(deployed, tmp_path, Numbers(random.Random(11)))


def access_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(AccessEvent)) or 0)


# --- what works -----------------------------------------------------------------------------


def test_look_up_over_https_shows_the_household(browser: Browser, factory: Factory) -> None:
    house = factory.household(desil=2, programs=("PKH",))
    factory.publish("2026Q3", [house])

    data = {"nik": house.members[0].nik, "no_kk": house.no_kk}
    page = browser.post_form("/", data, status=200, follow_redirects=True)

    assert page.redirects[0].headers["Location"] == "/hasil"  # relative: stays on HTTPS
    assert page.soup.find("input", attrs={"name": "nik"}) is None, "the form came back"
    assert page.texts(".member__name")[0] == "B*** S******"
    assert access_count(factory.app) == 1


def test_a_sanggahan_is_filed_tracked_and_withdrawn_over_https(
    browser: Browser, factory: Factory
) -> None:
    world = publish_world(factory)
    walk(browser, "sanggahan", answers_for(world, "INC-MAMPU"))
    sent = submit(browser, "sanggahan")
    assert sent.status == 302, sent.error_summary_text()
    ticket = browser.page("/tanda-terima").texts(".ticket")[0]

    tracked = browser.post_form("/lacak", {"ticket": ticket, "nik": world.filer_nik}, status=302)
    assert tracked.response.headers["Location"].endswith("/lacak/kasus")
    withdrawn = browser.post_form("/lacak/batalkan", {"confirm": "y"}, status=302)
    assert "withdrawn" in browser.page("/lacak/kasus")
    assert withdrawn.response.headers["Location"].endswith("/lacak/kasus")


def test_staff_sign_in_over_https_sets_secure_cookies(browser: Browser, deployed: Flask) -> None:
    staff = StaffFactory(deployed)
    officer = staff.create("verifikator")

    staff.login(officer, browser)

    assert browser.page("/staf/").h1
    cookies = browser.get("/staf/masuk").headers.getlist("Set-Cookie")
    for cookie in cookies:
        assert "Secure" in cookie, cookie
        assert "HttpOnly" in cookie, cookie


def test_pages_over_https_send_hsts_and_a_same_origin_referrer_policy(browser: Browser) -> None:
    page = browser.page("/")
    headers = page.response.headers
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert not page.soup.find("meta", attrs={"name": "referrer"})


# --- what is refused ------------------------------------------------------------------------


def look_up_with(deployed: Flask, factory: Factory, headers: dict[str, str]) -> Page:
    """A look-up with a valid token whose POST carries exactly HEADERS (and, behind the
    proxy, X-Forwarded-Proto), as a browser on the given page would send it."""
    house = factory.household()
    factory.publish("2026Q3", [house])
    client = Client(deployed, deployed.response_class)  # sends only the headers given here
    base = "https://portal.example"
    token = Page(client.get("/?lang=en", base_url=base)).soup.find(
        "input", attrs={"name": "csrf_token"}
    )
    data = {"csrf_token": token["value"], "nik": house.members[0].nik, "no_kk": house.no_kk}
    if deployed.config["PROXY_FIX_X_FOR"]:
        headers = {**headers, "X-Forwarded-Proto": "https"}
        base = "http://portal.example"
    return Page(client.post("/", data=data, base_url=base, headers=headers)).check()


HOSTILE = {
    "another site": {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    "a sibling subdomain": {"Origin": "https://x.portal.example", "Sec-Fetch-Site": "same-site"},
    "cross-site, fetch metadata only": {"Sec-Fetch-Site": "cross-site"},
    "another origin, no fetch metadata": {"Origin": "https://evil.example"},
    "plain http origin": {"Origin": "http://portal.example"},
    "another port": {"Origin": "https://portal.example:8443"},
    "a hidden origin": {"Origin": "null"},
    "another site's referrer only": {"Referer": "https://evil.example/form"},
}


@pytest.mark.parametrize("headers", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_form_posted_from_elsewhere_is_refused_even_with_a_valid_token(
    deployed: Flask, factory: Factory, headers: dict[str, str]
) -> None:
    page = look_up_with(deployed, factory, headers)

    assert page.status == 400
    assert page.h1 == "Your session expired"
    assert access_count(deployed) == 0


FRIENDLY = {
    "an old browser (no Origin, no fetch metadata)": {},
    "only a same-origin Referer": {"Referer": "https://portal.example/"},
    "Origin without fetch metadata": {"Origin": "https://portal.example"},
    "Origin with the default port": {"Origin": "https://portal.example:443"},
    "a reload (user-initiated)": {"Sec-Fetch-Site": "none"},
}


@pytest.mark.parametrize("headers", FRIENDLY.values(), ids=FRIENDLY.keys())
def test_a_form_from_our_page_is_accepted_whatever_the_browser_sends(
    deployed: Flask, factory: Factory, headers: dict[str, str]
) -> None:
    page = look_up_with(deployed, factory, headers)

    assert page.status == 303  # to the result page
    assert page.response.headers["Location"] == "/hasil"
    assert access_count(deployed) == 1
