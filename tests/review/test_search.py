"""The staff case search (issue 14 part 3): find a case by ticket, NIK, No. KK or name.

Scoped like every staff query (a verifikator of Kabupaten Bekasi never finds a case of Kota
Bekasi, a desa operator only the cases of their desa), posted (a number never reaches a URL
or the page), audited without the number, recorded in each shown household's access log,
and rate-limited per officer. A desa operator never learns who filed a case by searching the
filer's NIK (reporter protection); a household DTSEN puts outside the officer's area is never
matched by its names."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from portal import db, policy
from portal.appeals.models import Appeal
from portal.dataimport.demo import House, Numbers
from portal.dataimport.queries import pseudonym
from portal.extensions import limiter
from portal.lookup.models import AccessEvent
from tests.fixtures.factories import Factory
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import SIXTEEN_DIGITS, Client, Page
from tests.review.conftest import (
    BABELAN_DESA,
    DESA,
    KOTA_BEKASI_DESA,
    Case,
    CaseFactory,
    audit,
    english,
    errors,
    get,
    post,
)


def renamed(house: House, *names: str) -> House:
    for member, name in zip(house.members, names, strict=False):
        member.nama = name
    return house


@dataclass
class World:
    sagara: House  # RAHMAT HIDAYAT, Sagara Makmur (the desa operator's desa)
    babelan: House  # RAHMAT SUDRAJAT, Bunibakti (Kabupaten Bekasi, another desa)
    kota: House  # RAHMAT HIDAYAT, Kota Bekasi: another kabupaten/kota
    elsewhere: House  # YUSUF MAULANA, Kota Bekasi, named by a case of Kabupaten Bekasi
    cases: dict[str, Case]


def kk(app: Flask, house: House) -> str:
    with app.app_context():
        return pseudonym(house.no_kk, "kk")


def build(app: Flask, factory: Factory, cases: CaseFactory) -> World:
    sagara = renamed(factory.household(desa=DESA, size=2), "RAHMAT HIDAYAT", "SITI AMINAH")
    babelan = renamed(factory.household(desa=BABELAN_DESA, size=2), "RAHMAT SUDRAJAT", "LILIS")
    kota = renamed(factory.household(desa=KOTA_BEKASI_DESA, size=2), "RAHMAT HIDAYAT", "DEWI")
    elsewhere = renamed(factory.household(desa=KOTA_BEKASI_DESA, size=1), "YUSUF MAULANA")
    factory.publish("2026Q3", [sagara, babelan, kota, elsewhere])
    made = {
        "sagara": cases.make(desa=DESA, subject_kk_hmac=kk(app, sagara)),
        "babelan": cases.make(desa=BABELAN_DESA, subject_kk_hmac=kk(app, babelan)),
        "kota": cases.make(desa=KOTA_BEKASI_DESA, subject_kk_hmac=kk(app, kota)),
        # an usulan may name any No. KK: this case is in Sagara Makmur, its household is not
        "elsewhere": cases.make(desa=DESA, subject_kk_hmac=kk(app, elsewhere)),
        # neighbours reported by name only, not linked to DTSEN yet
        "babelan_named": cases.make(desa=BABELAN_DESA),
        "kota_named": cases.make(desa=KOTA_BEKASI_DESA),
    }
    with app.app_context():
        for key, name in (("babelan_named", "Pak Rahmat Jaya"), ("kota_named", "Bu Rahmat")):
            db.session.execute(
                update(Appeal)
                .where(Appeal.id == made[key].id)
                .values(subject_is_filer_household=False, subject_name=name)
            )
        db.session.execute(
            update(Appeal)
            .where(Appeal.id == made["sagara"].id)
            .values(subject_nik_hmac=pseudonym(sagara.members[1].nik, "nik"))
        )
        db.session.commit()
    return World(sagara, babelan, kota, elsewhere, made)


@pytest.fixture
def world(app: Flask, factory: Factory, cases: CaseFactory) -> World:
    return build(app, factory, cases)


def find(client: Client, q: str) -> Page:
    return post(client, "/staf/cari", {"q": q})


def tickets_found(page: Page) -> list[str]:
    return page.texts("table.table--queue tbody td:first-child a")


def households_shown(page: Page) -> list[str]:
    return page.texts("table.table--queue tbody td:nth-child(2)")


# --- scope ----------------------------------------------------------------------------------


def test_a_verifikator_finds_by_name_only_the_cases_of_their_kabupaten(
    app: Flask, world: World, staff: StaffFactory, sign_in: Callable[[Officer], Client]
) -> None:
    page = find(sign_in(staff.create("verifikator")), "Pak Rahmat")

    assert page.status == 200
    assert sorted(tickets_found(page)) == sorted(
        world.cases[k].shown for k in ("sagara", "babelan", "babelan_named")
    )
    assert sorted(households_shown(page)) == [
        "Pak Rahmat Jaya as reported",
        "RAHMAT HIDAYAT",
        "RAHMAT SUDRAJAT",
    ]
    assert world.cases["kota"].shown not in page.text
    assert world.cases["kota_named"].shown not in page.text


def test_a_verifikator_of_another_kabupaten_finds_only_theirs(
    world: World, staff: StaffFactory, sign_in: Callable[[Officer], Client]
) -> None:
    page = find(sign_in(staff.create("verifikator", ["32.75"])), "rahmat")
    assert sorted(tickets_found(page)) == sorted(
        world.cases[k].shown for k in ("kota", "kota_named")
    )


def test_a_desa_operator_finds_only_the_cases_of_their_desa_with_names_masked(
    world: World, staff: StaffFactory, sign_in: Callable[[Officer], Client]
) -> None:
    page = find(sign_in(staff.create("operator_desa")), "Rahmat")

    assert tickets_found(page) == [world.cases["sagara"].shown]
    assert households_shown(page) == ["R***** H******"]
    assert "RAHMAT" not in page.text


def test_a_household_outside_the_area_is_never_matched_by_its_names(
    world: World, staff: StaffFactory, sign_in: Callable[[Officer], Client]
) -> None:
    """The case is in scope, the household it names lives in Kota Bekasi: its names are not
    searched (nor shown in the queue), as the case page does not show that household."""
    desk = sign_in(staff.create("verifikator"))
    assert tickets_found(find(desk, "Yusuf Maulana")) == []
    queue = get(desk, "/staf/")
    assert world.cases["elsewhere"].shown in queue.text
    assert "YUSUF" not in queue.text


# --- tickets and numbers -------------------------------------------------------------------


def test_a_ticket_finds_its_case_in_scope_and_nothing_outside(
    world: World, staff: StaffFactory, sign_in: Callable[[Officer], Client]
) -> None:
    desk = sign_in(staff.create("verifikator"))
    ours = world.cases["babelan"]
    assert tickets_found(find(desk, ours.shown.lower())) == [ours.shown]
    outside = find(desk, world.cases["kota"].ticket)
    assert outside.status == 200
    assert tickets_found(outside) == []
    assert "No case of your area matches." in outside.text


def test_a_no_kk_finds_the_cases_about_that_household_and_is_never_echoed(
    app: Flask, world: World, staff: StaffFactory, sign_in: Callable[[Officer], Client]
) -> None:
    desk = sign_in(staff.create("verifikator"))
    typed = " ".join(re.findall(".{4}", world.babelan.no_kk))  # as printed on the card
    page = find(desk, typed)

    assert tickets_found(page) == [world.cases["babelan"].shown]
    assert world.babelan.no_kk not in page.text
    assert not SIXTEEN_DIGITS.search(page.text)
    # out of scope: the Kota Bekasi household's number finds nothing
    assert tickets_found(find(desk, world.kota.no_kk)) == []
    for row in audit(app, "case_search"):
        kept = json.dumps(row.after)
        assert not re.search(r"\d{6}", kept), kept  # no number, not even part of one
        assert world.babelan.no_kk not in kept


def test_a_nik_of_the_subject_finds_its_case(
    world: World, staff: StaffFactory, sign_in: Callable[[Officer], Client]
) -> None:
    for role in ("verifikator", "operator_desa", "pusat"):
        page = find(sign_in(staff.create(role)), world.sagara.members[1].nik)
        assert tickets_found(page) == [world.cases["sagara"].shown], role


def test_the_filer_nik_finds_a_case_for_a_decider_never_for_a_desa_operator(
    app: Flask, world: World, staff: StaffFactory, sign_in: Callable[[Officer], Client]
) -> None:
    """Reporter protection: a desa operator who types a neighbour's NIK must not learn which
    cases that neighbour filed; the deciders, who see the filer on the case page, may."""
    filer_nik = "3216014101900002"  # the CaseFactory's filer
    with app.app_context():
        db.session.execute(
            update(Appeal)
            .where(Appeal.id == world.cases["sagara"].id)
            .values(filer_nik_hmac=pseudonym(filer_nik, "nik"))
        )
        db.session.commit()
    found = find(sign_in(staff.create("verifikator")), filer_nik)
    assert tickets_found(found) == [world.cases["sagara"].shown]
    for role in ("operator_desa", "pusat"):
        assert tickets_found(find(sign_in(staff.create(role)), filer_nik)) == [], role


# --- audit, access log ----------------------------------------------------------------------


def test_each_search_is_audited_and_each_shown_household_gets_an_access_entry(
    app: Flask, world: World, staff: StaffFactory, sign_in: Callable[[Officer], Client]
) -> None:
    desk = sign_in(staff.create("verifikator"))
    find(desk, "Rahmat")

    [row] = audit(app, "case_search")
    assert row.after == {"kind": "name", "name": "rahmat", "found": 3}
    with app.app_context():
        logged = db.session.execute(
            select(AccessEvent.kk_hmac, AccessEvent.purpose, AccessEvent.actor_office)
        ).all()
    assert sorted(logged) == sorted(
        (kk(app, h), "search", "32.16") for h in (world.sagara, world.babelan)
    )


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Type a ticket, a number or a name."),
        ("   ", "Type a ticket, a number or a name."),
        ("3216 0112 0315", "A NIK or No. KK has 16 digits."),
        ("32160112031500041", "A NIK or No. KK has 16 digits."),
        ("Pak", "Type a ticket, a 16-digit number or a name (letters, not only a title)."),
        ("%_%", "Type a ticket, a 16-digit number or a name (letters, not only a title)."),
        ("x" * 101, "Write at most 100 characters."),
    ],
)
def test_bad_input_is_refused_with_a_message_and_searches_nothing(
    app: Flask,
    world: World,
    staff: StaffFactory,
    sign_in: Callable[[Officer], Client],
    typed: str,
    message: str,
) -> None:
    page = find(sign_in(staff.create("verifikator")), typed)
    assert page.status == 400
    assert message in errors(page)
    assert audit(app, "case_search") == []


def test_a_number_in_the_url_is_never_searched(
    app: Flask, world: World, staff: StaffFactory, sign_in: Callable[[Officer], Client]
) -> None:
    page = get(sign_in(staff.create("verifikator")), f"/staf/cari?q={world.babelan.no_kk}")
    assert page.status == 200
    assert tickets_found(page) == []
    assert audit(app, "case_search") == []


def test_a_search_without_the_csrf_token_is_refused(
    world: World, staff: StaffFactory, sign_in: Callable[[Officer], Client]
) -> None:
    desk = sign_in(staff.create("verifikator"))
    assert desk.post("/staf/cari", data={"q": "Rahmat"}).status_code == 400


def test_the_search_page_needs_a_signed_in_officer(client: Client) -> None:
    response = client.get("/staf/cari")
    assert response.status_code == 302
    assert "/staf/masuk" in response.headers["Location"]


# --- the rate limit -------------------------------------------------------------------------


def test_searches_are_rate_limited_per_officer(limited_app: Flask, tmp_path: Path) -> None:
    limited_app.config["STAFF_SEARCH_LIMIT"] = "2 per minute"
    with limited_app.app_context():
        limiter.reset()
    policy.reset(limited_app)
    build(
        limited_app,
        Factory(limited_app, tmp_path, Numbers(random.Random(5))),
        CaseFactory(limited_app),
    )
    staff = StaffFactory(limited_app)
    first = staff.login(staff.create("verifikator"), english(limited_app.test_client()))
    second = staff.login(staff.create("verifikator"), english(limited_app.test_client()))

    assert [find(first, "Rahmat").status for _ in range(2)] == [200, 200]
    refused = find(first, "Rahmat")
    assert refused.status == 429
    assert "RAHMAT" not in refused.text
    assert len(audit(limited_app, "case_search")) == 2
    assert find(second, "Rahmat").status == 200  # per officer: a colleague is not held up
