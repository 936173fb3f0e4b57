"""The checks every page of the suite passes (tests/helpers.Page.check) catch what they name:
a page that breaks one of them fails whichever test requested it. And a check of the pages
with tables: each table scrolls sideways in its own region, so none widens a 360 px page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from werkzeug.wrappers import Response

from portal.appeals.states import AppealStatus
from portal.dataimport.queries import pseudonym
from tests.fixtures.factories import DESA, Factory
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client, Page
from tests.review.conftest import BABELAN_DESA, CaseFactory, cases, get, sign_in  # noqa: F401
from tests.statistik.test_pages import publish_q3

SignIn = Callable[[Officer], Client]

GOOD = (
    '<!doctype html><html lang="id"><head><title>Cek desil</title></head><body>'
    '<form method="post"><input type="hidden" name="csrf_token" value="x">'
    '<label for="nik">NIK</label><input id="nik" name="nik"></form></body></html>'
)
CSRF = '<input type="hidden" name="csrf_token" value="x">'


def page(body: str) -> Page:
    return Page(Response(body, content_type="text/html"))  # type: ignore[arg-type]


def test_a_good_page_passes_and_is_read_by_the_assertions() -> None:
    checked = page(GOOD).check()
    assert checked.h1 == ""
    assert checked.lang == "id"
    assert checked.soup.title is not None
    assert checked.soup.title.string == "Cek desil"


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("<p>no document</p>", "no <html>"),
        (GOOD.replace(' lang="id"', ""), "<html lang> missing"),
        (GOOD.replace(' lang="id"', ' lang="fr"'), "<html lang> missing"),
        (GOOD.replace("<title>Cek desil</title>", ""), "<title> missing"),
        (GOOD.replace("Cek desil", " "), "<title> empty"),
        (GOOD.replace(CSRF, ""), "POST form without csrf_token"),
        (GOOD.replace('method="post"', 'method="POST"').replace(CSRF, ""), "without csrf"),
        (GOOD.replace("<body>", '<body><p id="nik">'), "duplicate ids: ['nik']"),
        (GOOD.replace('<label for="nik">NIK</label>', ""), "'nik' has no label"),
        (GOOD.replace('id="nik" ', ""), "'nik' has no id"),
        (GOOD.replace("</form>", '<select id="s" name="s"></select></form>'), "'s' has no label"),
        (GOOD.replace("<body>", "<body>3216014506880002"), "16-digit number"),
    ],
)
def test_a_page_that_breaks_a_rule_fails_with_its_reason(broken: str, message: str) -> None:
    with pytest.raises(AssertionError, match=message.replace("[", r"\[").replace("]", r"\]")):
        page(broken).check()


# --- wide tables: each in its own scroll region (static/css/portal.css .table-wrap) ---------


def unwrapped_tables(page: Page) -> list[str]:
    """The tables of PAGE not inside a region that scrolls sideways on its own and that a
    keyboard can reach (tabindex="0") and a screen reader names (role="region" with a label):
    without one a wide table widens the whole page at 360 px."""
    bad = []
    for table in page.soup.select("main table"):
        name = table.get("id") or " ".join(table.get("class") or []) or "table"
        wrap = table.find_parent(class_="table-wrap")
        if wrap is None:
            bad.append(f"{name}: no .table-wrap")
            continue
        labelled_by = str(wrap.get("aria-labelledby", "")).split()
        label = str(wrap.get("aria-label", "")).strip() or " ".join(
            page.soup.find(id=i).get_text(" ", strip=True)
            for i in labelled_by
            if page.soup.find(id=i)
        )
        if wrap.get("tabindex") != "0" or wrap.get("role") != "region" or not label:
            bad.append(f"{name}: its .table-wrap is not a named, focusable region")
    return bad


def test_the_table_check_finds_a_bare_or_unnamed_table() -> None:
    table = "<table><tr><td>1</td></tr></table>"
    wrapped = f'<div class="table-wrap" role="region" tabindex="0" aria-label="Cases">{table}</div>'
    body = GOOD.replace("</body>", "<main>{}</main></body>")
    assert unwrapped_tables(page(body.format(wrapped))) == []
    assert unwrapped_tables(page(body.format(table))) == ["table: no .table-wrap"]
    for broken in (
        wrapped.replace(' aria-label="Cases"', ""),
        wrapped.replace(' tabindex="0"', ""),
        wrapped.replace(' role="region"', ""),
    ):
        assert unwrapped_tables(page(body.format(broken))) == [
            "table: its .table-wrap is not a named, focusable region"
        ]
    labelled = wrapped.replace('aria-label="Cases"', 'aria-labelledby="t"')
    assert unwrapped_tables(page(body.format(f'<h2 id="t">Cases</h2>{labelled}'))) == []
    assert unwrapped_tables(page(body.format(labelled))) != []


STATISTIK_PAGES = ["/statistik/32.16", "/statistik/32.16.01", "/statistik/32.16.01.2001"]


def test_every_table_of_the_statistics_pages_scrolls_in_its_own_region(
    client: Client, factory: Factory
) -> None:
    publish_q3(factory)
    client.choose_language("en")
    for url in STATISTIK_PAGES:
        shown = client.page(f"{url}?periode=2026Q3")
        assert shown.soup.select("main table"), f"{url}: no table to check"
        assert unwrapped_tables(shown) == [], url


@pytest.fixture
def staff_browser(
    app: Flask,
    factory: Factory,
    staff: StaffFactory,
    cases: CaseFactory,  # noqa: F811
    sign_in: SignIn,  # noqa: F811
) -> tuple[Client, int]:
    """An admin_dinsos of Kabupaten Bekasi signed in, with cases in two kecamatan (one held
    by an officer, one past due) and a case about a household in DTSEN: every staff table
    has rows. Returns the browser and that case's id."""
    house = factory.household(desa=DESA, size=3)
    factory.publish("2026Q3", [house])
    admin = staff.create("admin_dinsos")
    officer = staff.create("verifikator")
    with app.app_context():
        kk_hmac = pseudonym(house.no_kk, "kk")
    case = cases.make(subject_kk_hmac=kk_hmac)
    cases.make(desa=BABELAN_DESA, status=AppealStatus.VERIFIKASI, assigned_to=officer.id)
    cases.make(due_in=timedelta(days=-2))
    cases.make(status=AppealStatus.DISETUJUI, decided_by=officer.id)  # for the export
    return sign_in(admin), case.id


STAFF_PAGES = [
    "/staf/",
    "/staf/dasbor",
    "/staf/kasus/{case}",
    "/staf/alihkan",
    "/staf/ekspor/pratinjau",
    "/staf/sesi",
]


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_every_table_of_the_staff_pages_scrolls_in_its_own_region(
    staff_browser: tuple[Client, int], url: str
) -> None:
    """(The printable monthly summary, /staf/dasbor/cetak, is left out: a document for A4
    with its own stylesheet, whose two-column tables fit a phone as they are.)"""
    browser, case_id = staff_browser
    shown = get(browser, url.format(case=case_id))
    assert shown.status == 200
    assert shown.soup.select("main table"), f"{url}: no table to check"
    assert unwrapped_tables(shown) == [], url
