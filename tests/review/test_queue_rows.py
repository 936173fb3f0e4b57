"""The queue reads (issue 14 part 3): each row names the household's head (masked for a desa
operator), the desa and kecamatan by name, the reason by its title, who holds the case and
where its field verification stands; the desa filter is typed (matched to a desa of the
officer's area on the server, so it works without JS) and there is a verval filter. The page
costs a fixed number of queries whatever the number of rows (no query per row)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import event

from portal.appeals.states import AppealStatus
from portal.appeals.states import AppealStatus as S
from portal.dataimport.demo import House
from portal.dataimport.queries import pseudonym
from tests.fixtures.factories import Factory
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client, Page
from tests.review.conftest import (
    BABELAN_DESA,
    DESA,
    KOTA_BEKASI_DESA,
    OTHER_DESA,
    CaseFactory,
    get,
)

DAY = timedelta(days=1)


def rows(page: Page) -> list[dict[str, str]]:
    """Each row as {column label: text}, through the cells' data-label (the phone layout's)."""
    return [
        {td["data-label"]: td.get_text(" ", strip=True) for td in tr.find_all("td")}
        for tr in page.soup.select("table.table--queue tbody tr")
    ]


def kk(app: Flask, house: House) -> str:
    with app.app_context():
        return pseudonym(house.no_kk, "kk")


@pytest.fixture
def house(app: Flask, factory: Factory) -> House:
    home = factory.household(desa=DESA, size=2)
    home.members[0].nama, home.members[1].nama = "SITI AMINAH", "BUDI SANTOSO"
    home.members[0].hubungan, home.members[1].hubungan = "ISTRI", "KEPALA KELUARGA"
    factory.publish("2026Q3", [home])
    return home


def test_a_row_names_the_head_the_places_the_reason_the_holder_and_the_verval(
    app: Flask,
    house: House,
    cases: CaseFactory,
    staff: StaffFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    me = staff.create("verifikator")
    case = cases.make(
        subject_kk_hmac=kk(app, house),
        reason="INC-ASN",
        status=AppealStatus.VERIFIKASI,
        assigned_to=me.id,
    )
    cases.field_check(case, me.id)

    [row] = rows(get(sign_in(me), "/staf/"))

    assert row["Household"] == "BUDI SANTOSO"  # the KEPALA KELUARGA, not the first listed
    assert row["Desa"] == "Sagara Makmur, Kec. Tarumajaya"
    assert row["Reason"] == "A recipient works for the state"
    assert row["Held by"] == "Officer 1"
    assert row["Verval"] == "Field check asked, waiting"
    assert row["Ticket"].startswith(case.shown)


def test_a_desa_operator_sees_the_head_masked(
    app: Flask,
    house: House,
    cases: CaseFactory,
    staff: StaffFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    cases.make(subject_kk_hmac=kk(app, house))
    page = get(sign_in(staff.create("operator_desa")), "/staf/?status=")
    assert [r["Household"] for r in rows(page)] == ["B*** S******"]
    assert "BUDI" not in page.text


def test_verval_states_and_their_filter(
    app: Flask, cases: CaseFactory, staff: StaffFactory, sign_in: Callable[[Officer], Client]
) -> None:
    me = staff.create("verifikator")
    none = cases.make(due_in=1 * DAY)
    asked = cases.make(due_in=2 * DAY)
    cases.field_check(asked, me.id)
    received = cases.make(due_in=3 * DAY)
    cases.field_check(received, me.id, done_by=me.id)
    again = cases.make(due_in=4 * DAY, status=S.VERIFIKASI)  # one answered, a second asked
    cases.field_check(again, me.id, done_by=me.id)
    cases.field_check(again, me.id)
    approved = cases.make(due_in=5 * DAY, status=S.DISETUJUI, decided_by=me.id)
    cases.field_check(approved, me.id, done_by=me.id)
    elsewhere = cases.make(desa=KOTA_BEKASI_DESA)  # out of scope: never listed nor counted
    cases.field_check(elsewhere, me.id)
    desk = sign_in(me)

    listed = {r["Ticket"][:9]: r["Verval"] for r in rows(get(desk, "/staf/"))}
    assert listed == {
        none.shown: "No field check asked",
        asked.shown: "Field check asked, waiting",
        received.shown: "Field check result received",
        again.shown: "Field check asked, waiting",
        approved.shown: "Field check result received",
    }
    for state, expected, counted in (
        ("none", [none], {"Received": 1, "In review": 0, "Approved": 0}),
        ("requested", [asked, again], {"Received": 1, "In review": 1, "Approved": 0}),
        ("received", [received, approved], {"Received": 1, "In review": 0, "Approved": 1}),
    ):
        page = get(desk, f"/staf/?verval={state}")
        assert [r["Ticket"][:9] for r in rows(page)] == [c.shown for c in expected], state
        assert page.status == 200
        shown = page.texts("ul.counts li")
        assert [f"{title}: {n}" in shown for title, n in counted.items()] == [True] * 3, shown
        # the same under a reason filter: those counts are per reason too
        other = get(desk, f"/staf/?verval={state}&reason=ERR-DATA")
        assert "Received: 0" in other.texts("ul.counts li")
        assert rows(other) == []
        assert other.texts(".field__error") == []  # a reason of the list, not a refused one
    refused = get(desk, "/staf/?verval=bogus")
    assert rows(refused) == []  # a refused value matches nothing, with the error shown


@pytest.mark.parametrize(
    "typed",
    ["Segarajaya", "segarajaya", "  SEGARAJAYA ", "Segarajaya, Tarumajaya, Kabupaten Bekasi"],
)
def test_the_desa_is_typed_and_matched_by_name(
    cases: CaseFactory, staff: StaffFactory, sign_in: Callable[[Officer], Client], typed: str
) -> None:
    wanted = cases.make(desa=OTHER_DESA)
    cases.make(desa=DESA)
    cases.make(desa=BABELAN_DESA)
    page = get(sign_in(staff.create("verifikator")), f"/staf/?desa={typed}")
    assert [r["Ticket"][:9] for r in rows(page)] == [wanted.shown]


@pytest.mark.parametrize(
    ("role", "typed", "message"),
    [
        ("verifikator", "Bekasijaya", "No desa of your area has that name."),  # Kota Bekasi
        ("verifikator", "xyz", "No desa of your area has that name."),
        ("verifikator", "Sa", "Several desa have that name"),
        ("operator_desa", "Segarajaya", "No desa of your area has that name."),
        ("verifikator", "x" * 101, "Write at most 100 characters."),
    ],
)
def test_a_desa_outside_the_area_or_unclear_is_refused_and_lists_nothing(
    cases: CaseFactory,
    staff: StaffFactory,
    sign_in: Callable[[Officer], Client],
    role: str,
    typed: str,
    message: str,
) -> None:
    cases.make(desa=DESA)
    cases.make(desa=OTHER_DESA)
    cases.make(desa=KOTA_BEKASI_DESA)
    page = get(sign_in(staff.create(role)), f"/staf/?desa={typed}")
    assert page.status == 200
    assert rows(page) == []
    assert message in " ".join(page.texts(".field__error"))


def test_the_reason_filter_offers_titles(
    staff: StaffFactory, sign_in: Callable[[Officer], Client]
) -> None:
    page = get(sign_in(staff.create("verifikator")), "/staf/")
    labels = {o["value"]: o.get_text(strip=True) for o in page.soup.select("select#reason option")}
    assert labels["INC-ASN"] == "A recipient works for the state"


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = app.extensions["db_engine"]

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_page_costs_the_same_queries_for_two_rows_or_twenty_five(
    app: Flask,
    factory: Factory,
    cases: CaseFactory,
    staff: StaffFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    homes = [factory.household(desa=(DESA, BABELAN_DESA)[i % 2]) for i in range(30)]
    factory.publish("2026Q3", homes)
    officers = [staff.create("verifikator") for _ in range(3)]
    me = officers[0]
    desk = sign_in(me)
    for i, home in enumerate(homes[:2]):
        case = cases.make(subject_kk_hmac=kk(app, home), assigned_to=officers[i % 3].id)
        cases.field_check(case, me.id)
    get(desk, "/staf/")  # warm the region-name cache
    with counting(app) as few:
        assert len(rows(get(desk, "/staf/"))) == 2
    for i, home in enumerate(homes[2:], start=2):
        case = cases.make(
            desa=home.kode_desa,
            subject_kk_hmac=kk(app, home),
            assigned_to=officers[i % 3].id,
        )
        cases.field_check(case, me.id)
    get(desk, "/staf/")
    with counting(app) as many:
        assert len(rows(get(desk, "/staf/"))) == 25
    assert len(many) == len(few), "a query per row"
    read = [s for s in many if "FROM appeal_events" in s or "FROM appeal_photos" in s]
    assert read == [], "a queue page shows no event or photo: it reads none"
    gate = [s for s in many if "FROM staff_desa" in s]
    assert gate == [], "the officer and their desa are read in one SELECT"
