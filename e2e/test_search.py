"""Find and scan (issue 14 part 3) in a real browser, JavaScript off, in Bahasa Indonesia:

1. the queue on a 360 px phone reads without sideways scrolling: each case a stacked card
   with the household head's name, the desa by name, the reason's title, who holds it and
   where its verval stands; the desa filter is typed (no select of 187 entries);
2. a verifikator finds a case by the household head's name at /staf/cari on the phone;
3. the same search at 1366 px, where the cases are a table.
The search is posted: no name or number reaches the address bar.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page

from e2e.conftest import Phone, totp_code
from e2e.journeys import Officer, enrol
from e2e.stack import STAFF, Stack
from e2e.test_staff import PASSWORDS, enrolment_path, file_sanggahan_in_sagara

NO_SIDEWAYS_SCROLL = (
    "document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth"
)


def row_of(page: Page, ticket: str) -> dict[str, str]:
    """The queue's or search's row of TICKET, cell by cell, by the labels the phone shows."""
    row = page.locator("table.table--cases tbody tr", has_text=ticket).first
    cells = row.locator("td")
    return {
        str(cells.nth(i).get_attribute("data-label")): cells.nth(i).inner_text().strip()
        for i in range(cells.count())
    }


def sagara_case(phone: Phone) -> str | None:
    """The ticket of a sanggahan "Penerima jelas mampu" in Sagara Makmur in the queue."""
    for row in phone.page.locator("table.table--cases tbody tr").all():
        text = row.inner_text()
        if "Sagara Makmur" in text and "Penerima jelas mampu" in text:
            return row.locator("td").first.locator("a").inner_text().strip()
    return None


def search(page: Page, query: str) -> None:
    page.get_by_label("Tiket, NIK, No. KK atau nama", exact=True).fill(query)
    with page.expect_navigation() as navigation:
        page.locator("form.search").get_by_role("button", name="Cari", exact=True).click()
    response = navigation.value
    assert response is not None
    assert response.status == 200, response.status
    assert urlsplit(page.url).path == "/staf/cari"
    assert not urlsplit(page.url).query, page.url  # posted: nothing in the address


def test_a_verifikator_scans_the_queue_and_finds_a_case_by_name_on_a_phone_and_a_desktop(
    phone_factory: Any, stack: Stack, chromium: Browser
) -> None:
    email, name, role, _region = next(s for s in STAFF if s[2] == "verifikator")
    officer = Officer(phone_factory("search-verifikator"), email, name, role, PASSWORDS[role])
    enrol(officer, enrolment_path(stack, officer))
    # 1. the queue on the phone: cards, names, no sideways scroll
    v: Phone = officer.phone
    v.visit("/staf/", "queue")
    ticket = sagara_case(v)
    if ticket is None:
        # run alone: file one. In the whole suite, the case test_access_record filed is
        # used, as one household may have only APPEAL_MAX_OPEN_PER_SUBJECT open cases and
        # test_staff files the next one
        ticket = file_sanggahan_in_sagara(phone_factory("search-filer"), stack)
        v.visit("/staf/", "queue")
    assert v.page.evaluate(NO_SIDEWAYS_SCROLL), "the queue scrolls sideways at 360 px"
    card = row_of(v.page, ticket)
    head = card["Rumah tangga"]
    assert head, card
    assert "*" not in head, card  # a verifikator reads the name in full
    assert card["Desa"] == "Sagara Makmur, Kec. Tarumajaya", card
    assert card["Alasan"].startswith("Penerima jelas mampu"), card  # + tags (terkait...)
    assert card["Verval"], card
    assert card["Dipegang oleh"], card
    # the cells stack: the ticket's cell is as wide as the card, not a column of a table
    widths = v.page.evaluate(
        "[...document.querySelectorAll('table.table--cases tbody tr:first-child td')]"
        ".map(td => td.getBoundingClientRect().width)"
    )
    assert min(widths) > 250, widths
    # the desa filter is typed, offered by a datalist, and works without JS
    v.page.locator("details.filters > summary").click()
    desa = v.page.get_by_label("Desa/kelurahan", exact=True)
    assert desa.evaluate("e => e.tagName") == "INPUT"
    desa.fill("sagara makmur")
    v.submit("Terapkan", "queue-by-desa", exact=True)
    assert ticket in v.page.locator(".table--cases").inner_text()
    assert v.page.evaluate(NO_SIDEWAYS_SCROLL)

    # 2. the search on the phone, by the head's name
    v.follow("Cari", "search", exact=True)
    assert v.h1() == "Cari laporan"
    search(v.page, head.title())
    v.check_page("search-found")
    assert row_of(v.page, ticket)["Rumah tangga"] == head
    assert v.page.evaluate(NO_SIDEWAYS_SCROLL), "the results scroll sideways at 360 px"
    v.follow(ticket, "case", exact=True)
    assert v.h1() == f"{ticket}: Penerima jelas mampu"

    # 3. the same search on a 1366 px desktop: signed in there too, the cases a table
    desktop = chromium.new_context(
        viewport={"width": 1366, "height": 900},
        java_script_enabled=False,
        ignore_https_errors=True,
        locale="id-ID",
    )
    try:
        page = desktop.new_page()
        page.goto(stack.url + "/staf/masuk")
        page.get_by_label("E-mail", exact=True).fill(officer.email)
        page.get_by_label("Kata sandi", exact=True).fill(officer.password)
        officer.last_code = totp_code(officer.secret, after=officer.last_code)
        page.get_by_label("Kode autentikasi", exact=True).fill(officer.last_code)
        with page.expect_navigation():
            page.get_by_role("button", name="Masuk", exact=True).click()
        assert urlsplit(page.url).path == "/staf/"
        page.goto(stack.url + "/staf/cari")
        search(page, head.split()[0].lower())
        assert ticket in page.locator(".table--cases").inner_text()
        assert page.locator("table.table--cases thead").is_visible()  # a table, not cards
        widths = page.evaluate(
            "[...document.querySelectorAll('table.table--cases tbody tr:first-child td')]"
            ".map(td => td.getBoundingClientRect().width)"
        )
        assert max(widths) < 600, widths  # columns side by side
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        page.screenshot(path=f"{stack.screenshots}/search-desktop.png", full_page=True)
    finally:
        desktop.close()
