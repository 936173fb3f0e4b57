"""The look-up shows the household that was asked for, and no other: a snapshot of many
households, with numbers that look alike, looked up through HTTP, each answer compared in
full (outcome, period, desil, desa, every member's masked name, relation and programs, the
programs in scope and which of them the household receives).

The data is built so that a wrong household cannot pass for the right one: every household
differs from every other in what the page shows, and the traps are the ones a bug would fall
into:
- two heads whose NIKs differ in one digit, and two family cards (No. KK) that differ in one
  digit: each number finds its own household, and a crossed pair finds nothing;
- two households in the same desa with the same desil and the same relations (only the
  members and their programs tell them apart);
- a woman who moved from her parents' card (2026Q2) to her husband's (2026Q3): with the new
  card she sees her new household, with the old one she is told she left;
- a household whose desil moved from 3 to 7 between the periods (only the current one counts);
- a household in 2026Q2 only (removed in the last update).
The household looked up is never the first of the file, so "the first household" answers
wrong (docs/mutation.md lists the mutants these tests were checked against).

Everything the page is read through is in ``lookup()`` and ``read_result()`` below: when the
result page changes (a redirect to a GET page, new wording), adapt those two, not the tests.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from flask import Flask
from sqlalchemy import select

from portal import db
from portal.core.names import mask_name
from portal.dataimport.demo import FEMALE, MALE, SECOND, House, Member
from portal.dataimport.models import Snapshot
from portal.lookup import service
from tests.fixtures.factories import Factory
from tests.fixtures.worlds import KeptWorld
from tests.helpers import Client, Page

PREVIOUS, CURRENT = "2026Q2", "2026Q3"

DESA = {  # code -> name, from the region table (portal/data/wilayah/villages.csv)
    "32.16.01.2001": "Sagara Makmur",
    "32.16.01.2002": "Segarajaya",
    "32.16.02.2001": "Bunibakti",
    "32.16.02.2004": "Hurip Jaya",
    "32.16.03.2003": "Sukadaya",
    "32.16.04.2002": "Sukamaju",
}
RELATION_EN = {
    "KEPALA KELUARGA": "Head of family",
    "ISTRI": "Wife",
    "SUAMI": "Husband",
    "ANAK": "Child",
    "CUCU": "Grandchild",
    "ORANG TUA": "Parent",
}
# The programs a desil puts in scope (DOMAIN.md defaults), in the table's order.
SCOPE = {
    **dict.fromkeys(range(1, 5), ["PKH", "BPNT", "PBI-JK", "PIP", "ATENSI"]),
    5: ["BPNT", "PBI-JK", "ATENSI"],
    **dict.fromkeys(range(6, 11), []),
}


# --- reading the result page (the only place that knows its markup) -------------------------

OUTCOME_HEADINGS = {  # a part of each outcome's <h1> (English msgids)
    "receives bansos": "receiving",
    "shows no bansos": "in_scope_not_receiving",
    "above the range": "above_range",
    "not in the latest data": "removed",
    "No family found": "not_found",
}
ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}
PERIOD_IN_TEXT = re.compile(
    r"\b(\d{4})Q([1-4])\b|\bQuarter (IV|III|II|I) (\d{4})\b|\bQ([1-4]) (\d{4})\b"
)


@dataclass(frozen=True)
class MemberShown:
    name: str  # masked, as shown
    relation: str
    programs: tuple[str, ...]


@dataclass(frozen=True)
class Shown:
    """What the result page says, reduced to comparable values."""

    outcome: str
    period: str | None  # the period the data is for, 2026Q3
    desil: int | None = None
    desa: str | None = None  # the desa's name, first part of the place
    members: tuple[MemberShown, ...] = ()
    in_scope: tuple[str, ...] = ()  # programs the desil puts in scope, in page order
    received: frozenset[str] = frozenset()  # those of them marked as received
    removed_from: str | None = None  # the period the household was last in
    note: str = field(default="", compare=False)  # the period and when it was last updated
    text: str = field(default="", repr=False, compare=False)


def periods_in(text: str) -> list[str]:
    """Every period mentioned in TEXT, as 2026Q3, whether written 2026Q3, Quarter III 2026
    or Q3 2026 (July-September)."""
    found = []
    for m in PERIOD_IN_TEXT.finditer(text):
        if m[1]:
            found.append(f"{m[1]}Q{m[2]}")
        elif m[3]:
            found.append(f"{m[4]}Q{ROMAN[m[3]]}")
        else:
            found.append(f"{m[6]}Q{m[5]}")
    return found


def read_result(page: Page) -> Shown:
    headings = [o for part, o in OUTCOME_HEADINGS.items() if part in page.h1]
    assert len(headings) == 1, f"unknown result heading: {page.h1!r}"
    outcome = headings[0]
    notes = page.texts(".period-note")
    period = (periods_in(notes[0]) or [None])[0] if notes else None
    note = notes[0] if notes else ""
    main = page.soup.main.get_text(" ", strip=True) if page.soup.main else page.text
    if outcome == "not_found":
        return Shown(outcome, period, note=note, text=main)
    if outcome == "removed":
        lead = " ".join(page.texts(".lead"))
        return Shown(outcome, period, removed_from=periods_in(lead)[0], note=note, text=main)
    number = page.texts(".desil-card__number")
    place = page.texts(".desil-card__place")
    members = []
    for item in page.soup.select(".member"):
        programs = item.select_one(".member__programs")
        assert programs is not None
        listed = programs.get_text(" ", strip=True)
        none = "member__programs--none" in (programs.get("class") or [])
        members.append(
            MemberShown(
                item.select_one(".member__name").get_text(" ", strip=True),
                item.select_one(".member__relation").get_text(" ", strip=True),
                () if none else tuple(p.strip() for p in listed.split(":", 1)[1].split(",")),
            )
        )
    in_scope, received = [], set()
    for item in page.soup.select(".program"):
        name = item.select_one(".program__name").get_text(" ", strip=True)
        code = re.split(r"[\s/(:]", name, maxsplit=1)[0]
        in_scope.append(code)
        if "tag--ok" in (item.select_one(".tag").get("class") or []):
            received.add(code)
    return Shown(
        outcome,
        period,
        desil=int(re.sub(r"\D", "", number[0])) if number else None,
        desa=place[0].split(",")[0].strip() if place else None,
        members=tuple(members),
        in_scope=tuple(in_scope),
        received=frozenset(received),
        note=note,
        text=main,
    )


def lookup(browser: Client, nik: str, no_kk: str) -> Shown:
    """Look up NIK + No. KK as a person does (English chosen with the switch, the form
    filled, any redirect followed) and read the result."""
    browser.get("/?lang=en")
    page = browser.post_form("/", {"nik": nik, "no_kk": no_kk}, follow_redirects=True)
    assert page.status == 200, page.status
    return read_result(page)


# --- the data ----------------------------------------------------------------------------


def nik(kec: str, born: date, sex: str, serial: int) -> str:
    day = born.day + (40 if sex == "P" else 0)
    return f"{kec.replace('.', '')}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def kk(kec: str, issued: date, serial: int) -> str:
    issue_date = f"{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}"
    return f"{kec.replace('.', '')}{issue_date}{serial:04d}"


def one_digit_apart(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


@dataclass
class World:
    """Both periods' households, and the ones the tests look up by name."""

    previous: list[House]
    current: list[House]
    named: dict[str, House]
    mover: Member  # on one card in the previous period, on another in the current one

    def publish(self, factory: Factory) -> None:
        factory.publish(PREVIOUS, self.previous)
        factory.publish(CURRENT, self.current)


class Builder:
    """Households with unique names (so that their masked names tell them apart) and unique
    numbers, from a fixed seed."""

    def __init__(self, seed: int = 12) -> None:
        self.rng = random.Random(seed)
        self.serial = 100
        self.names: set[str] = set()

    def next_serial(self) -> int:
        self.serial += 7
        return self.serial

    def name(self, sex: str) -> str:
        while True:
            first = self.rng.choice(MALE if sex == "L" else FEMALE)
            candidate = f"{first} {self.rng.choice(SECOND)}"
            if candidate not in self.names:
                self.names.add(candidate)
                return candidate

    def member(self, desa: str, hubungan: str, sex: str, born: date, programs: list[str]) -> Member:
        kec = desa.rsplit(".", 1)[0]
        return Member(
            nik(kec, born, sex, self.next_serial()),
            self.name(sex),
            sex,
            born,
            hubungan,
            programs,
        )

    def house(self, desa: str, desil: int, people: list[tuple[str, str, date, list[str]]]) -> House:
        kec = desa.rsplit(".", 1)[0]
        members = [self.member(desa, *p) for p in people]
        address = f"KP. {self.rng.choice(['SAGARA', 'PULO', 'BULAK', 'JATI'])} RT 00{desil % 9 + 1}"
        return House(kk(kec, date(2018, 4, 9), self.next_serial()), desa, address, desil, members)

    def filler(self, i: int) -> House:
        desa = list(DESA)[i % len(DESA)]
        desil = 1 + (i * 3) % 10
        household = ["PKH", "BPNT"] if desil <= 4 else (["BPNT"] if desil == 5 else [])
        person = ["PBI-JK"] if desil <= 5 and i % 2 else []
        people = [
            (
                "KEPALA KELUARGA",
                "L",
                date(1970 + i % 20, 1 + i % 12, 1 + i % 28),
                household + person,
            )
        ]
        if i % 4:
            people.append(
                ("ISTRI", "P", date(1975 + i % 20, 1 + (i + 5) % 12, 1 + (i + 3) % 28), household)
            )
        for c in range(i % 3):
            school = ["PIP"] if desil <= 4 and c == 0 else []
            people.append(
                ("ANAK", "LP"[c % 2], date(2008 + c, 1 + (i + c) % 12, 2 + c), household + school)
            )
        if i % 7 == 3:
            people.append(("ORANG TUA", "P", date(1948, 6, 1 + i % 28), household + ["PBI-JK"]))
        return self.house(desa, desil, people)


def build_world() -> World:
    b = Builder()
    fillers = [b.filler(i) for i in range(36)]
    named: dict[str, House] = {}

    # two heads whose NIKs differ in the last digit (same kecamatan, birth date and sex)
    born = date(1983, 11, 21)
    twin_a = b.house(
        "32.16.01.2001",
        2,
        [
            ("KEPALA KELUARGA", "P", born, ["PKH", "BPNT", "PBI-JK"]),
            ("ANAK", "L", date(2012, 2, 3), ["PKH", "BPNT", "PIP"]),
        ],
    )
    twin_b = b.house(
        "32.16.02.2004",
        5,
        [("KEPALA KELUARGA", "P", born, []), ("SUAMI", "L", date(1980, 8, 8), [])],
    )
    twin_a.members[0].nik = nik("32.16.01", born, "P", 4441)
    twin_b.members[0].nik = nik("32.16.01", born, "P", 4442)
    named |= {"nik_twin_a": twin_a, "nik_twin_b": twin_b}

    # two family cards that differ in one digit, in the same kecamatan
    card_c = b.house(
        "32.16.04.2002",
        4,
        [
            ("KEPALA KELUARGA", "L", date(1969, 3, 30), []),
            ("ISTRI", "P", date(1972, 12, 1), []),
            ("ANAK", "P", date(2010, 5, 5), []),
        ],
    )
    card_d = b.house(
        "32.16.04.2002",
        3,
        [
            ("KEPALA KELUARGA", "L", date(1990, 9, 9), ["BPNT"]),
            ("ANAK", "L", date(2015, 1, 20), ["BPNT", "PIP"]),
        ],
    )
    card_c.no_kk = kk("32.16.04", date(2017, 6, 14), 3305)
    card_d.no_kk = kk("32.16.04", date(2017, 6, 14), 3805)
    named |= {"kk_twin_c": card_c, "kk_twin_d": card_d}

    # two households in one desa, same desil, same relations: only the members differ
    same = [
        ("KEPALA KELUARGA", "L", date(1977, 7, 7), ["PKH"]),
        ("ISTRI", "P", date(1979, 9, 9), ["PKH", "PBI-JK"]),
    ]
    same_e = b.house("32.16.03.2003", 3, same)
    same_f = b.house(
        "32.16.03.2003", 3, [(r, s, d.replace(year=d.year + 1), ["BPNT"]) for r, s, d, _ in same]
    )
    named |= {"same_desa_e": same_e, "same_desa_f": same_f}

    # a daughter on her parents' card in 2026Q2 and on her husband's in 2026Q3
    parents_then = b.house(
        "32.16.02.2001",
        4,
        [
            ("KEPALA KELUARGA", "L", date(1965, 1, 15), ["PKH", "BPNT"]),
            ("ISTRI", "P", date(1968, 4, 2), ["PKH", "BPNT"]),
            ("ANAK", "P", date(2001, 10, 10), ["PKH", "BPNT", "PBI-JK"]),
        ],
    )
    mover = parents_then.members[2]
    parents_now = House(
        parents_then.no_kk, parents_then.kode_desa, parents_then.alamat, 4, parents_then.members[:2]
    )
    husband = b.member("32.16.01.2002", "KEPALA KELUARGA", "L", date(1998, 2, 14), ["BPNT"])
    married = Member(mover.nik, mover.nama, "P", mover.born, "ISTRI", ["BPNT", "PBI-JK"])
    new_card = House(
        kk("32.16.01", date(2026, 2, 1), b.next_serial()),
        "32.16.01.2002",
        "KP. PULO RT 004",
        5,
        [husband, married],
    )
    named |= {"parents": parents_now, "new_card": new_card}

    # a household whose desil moved from 3 to 7: same card, same people
    moved_then = b.house(
        "32.16.01.2001",
        3,
        [
            ("KEPALA KELUARGA", "L", date(1975, 5, 25), ["PKH", "BPNT", "PBI-JK"]),
            ("ANAK", "L", date(2009, 8, 1), ["PKH", "BPNT", "PIP"]),
        ],
    )
    moved_now = House(
        moved_then.no_kk,
        moved_then.kode_desa,
        moved_then.alamat,
        7,
        [Member(m.nik, m.nama, m.sex, m.born, m.hubungan, []) for m in moved_then.members],
    )
    named["desil_moved"] = moved_now

    # in the previous period only
    removed = b.house(
        "32.16.03.2003", 2, [("KEPALA KELUARGA", "P", date(1960, 12, 12), ["PKH", "PBI-JK"])]
    )
    named["removed"] = removed

    # the named households sit among the others, never first
    current = [
        *fillers[:10],
        twin_a,
        *fillers[10:16],
        card_c,
        same_e,
        *fillers[16:22],
        twin_b,
        card_d,
        new_card,
        *fillers[22:30],
        same_f,
        parents_now,
        moved_now,
        *fillers[30:],
    ]
    previous = [*fillers[5:], removed, parents_then, moved_then, twin_a, card_c, same_e]
    named["first"], named["middle"], named["last"] = current[0], fillers[20], current[-1]
    world = World(previous, current, named, mover)
    _check_world(world)
    return world


def _check_world(world: World) -> None:
    """What makes the data a test: every household looks different on the page."""
    assert len(world.current) >= 40
    signatures = [
        (h.desil, h.kode_desa, tuple(mask_name(m.nama) for m in h.members)) for h in world.current
    ]
    assert len(set(signatures)) == len(signatures), "two households would look the same"
    named = world.named
    assert one_digit_apart(named["nik_twin_a"].members[0].nik, named["nik_twin_b"].members[0].nik)
    assert one_digit_apart(named["kk_twin_c"].no_kk, named["kk_twin_d"].no_kk)
    assert named["same_desa_e"].kode_desa == named["same_desa_f"].kode_desa
    for h in named.values():
        if h is not named["first"]:
            assert world.current[0] is not h
    everyone = [m.nik for h in world.current for m in h.members]
    assert len(set(everyone)) == len(everyone)


# --- what the page must show -------------------------------------------------------------


def expected(house: House) -> Shown:
    received = {p for m in house.members for p in m.programs}
    outcome = (
        "above_range"
        if house.desil > 5
        else ("receiving" if received else "in_scope_not_receiving")
    )
    in_scope = SCOPE[house.desil]
    return Shown(
        outcome,
        CURRENT,
        desil=house.desil,
        desa=DESA[house.kode_desa],
        members=tuple(
            MemberShown(
                mask_name(m.nama),
                RELATION_EN[m.hubungan],
                tuple(m.programs),
            )
            for m in house.members
        ),
        in_scope=tuple(in_scope),
        received=frozenset(received & set(in_scope)),
    )


def assert_no_full_name(shown: Shown, world: World) -> None:
    text = shown.text.upper()
    for house in world.previous + world.current:
        for m in house.members:
            assert m.nama not in text, "a full name on the page"


def publish_world(factory: Factory) -> World:
    built = build_world()
    built.publish(factory)
    return built


@pytest.fixture
def world(kept_world: KeptWorld) -> World:
    return kept_world(publish_world)


# --- the right household ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "member"),
    [
        ("nik_twin_a", 0),
        ("nik_twin_b", 0),
        ("kk_twin_c", 2),
        ("kk_twin_d", 1),
        ("same_desa_e", 0),
        ("same_desa_f", 1),
        ("middle", 0),
        ("last", -1),
        ("parents", 1),
    ],
)
def test_each_household_is_shown_exactly_with_its_own_members_and_programs(
    client: Client, world: World, name: str, member: int
) -> None:
    house = world.named[name]

    shown = lookup(client, house.members[member].nik, house.no_kk)

    assert shown == expected(house)
    assert_no_full_name(shown, world)


def test_a_woman_who_moved_to_her_husbands_card_sees_her_new_household(
    client: Client, world: World
) -> None:
    new_card = world.named["new_card"]

    shown = lookup(client, world.mover.nik, new_card.no_kk)

    assert shown == expected(new_card)
    assert shown.members[1] == MemberShown(mask_name(world.mover.nama), "Wife", ("BPNT", "PBI-JK"))
    assert shown.desa == "Segarajaya"


def test_with_her_parents_card_she_is_told_she_is_no_longer_on_it(
    client: Client, world: World
) -> None:
    shown = lookup(client, world.mover.nik, world.named["parents"].no_kk)

    assert (shown.outcome, shown.period, shown.removed_from) == ("removed", CURRENT, PREVIOUS)
    assert shown.members == ()
    assert_no_full_name(shown, world)


def test_a_household_whose_desil_moved_is_shown_at_the_current_desil(
    client: Client, world: World
) -> None:
    house = world.named["desil_moved"]

    shown = lookup(client, house.members[1].nik, house.no_kk)

    assert shown == expected(house)
    assert (shown.outcome, shown.desil, shown.in_scope, shown.received) == (
        "above_range",
        7,
        (),
        frozenset(),
    )
    assert {m.programs for m in shown.members} == {()}


def test_a_household_only_in_the_previous_period_is_told_it_was_removed(
    client: Client, world: World
) -> None:
    house = world.named["removed"]

    shown = lookup(client, house.members[0].nik, house.no_kk)

    assert (shown.outcome, shown.period, shown.removed_from) == ("removed", CURRENT, PREVIOUS)
    assert shown.members == ()


# --- look-alike numbers find nothing ------------------------------------------------------


def crossed_pairs(world: World) -> dict[str, tuple[str, str]]:
    n = world.named
    return {
        "NIK of twin A, card of twin B": (n["nik_twin_a"].members[0].nik, n["nik_twin_b"].no_kk),
        "NIK of twin B, card of twin A": (n["nik_twin_b"].members[0].nik, n["nik_twin_a"].no_kk),
        "member of card C, card D": (n["kk_twin_c"].members[0].nik, n["kk_twin_d"].no_kk),
        "member of card D, card C": (n["kk_twin_d"].members[1].nik, n["kk_twin_c"].no_kk),
        "member of E, card of F (same desa)": (
            n["same_desa_e"].members[1].nik,
            n["same_desa_f"].no_kk,
        ),
        "the mover, the first card": (world.mover.nik, world.current[0].no_kk),
    }


@pytest.mark.parametrize(
    "label",
    [
        "NIK of twin A, card of twin B",
        "NIK of twin B, card of twin A",
        "member of card C, card D",
        "member of card D, card C",
        "member of E, card of F (same desa)",
        "the mover, the first card",
    ],
)
def test_a_look_alike_or_crossed_pair_finds_no_family(
    client: Client, world: World, label: str
) -> None:
    nik_, no_kk = crossed_pairs(world)[label]

    shown = lookup(client, nik_, no_kk)

    assert (shown.outcome, shown.period, shown.members) == ("not_found", CURRENT, ())
    assert_no_full_name(shown, world)


def test_the_data_has_the_traps_it_claims() -> None:
    world = build_world()
    assert len(world.previous) >= 35
    twins = world.named["nik_twin_a"].members[0].nik, world.named["nik_twin_b"].members[0].nik
    assert one_digit_apart(*twins)
    assert expected(world.named["same_desa_e"]).desil == expected(world.named["same_desa_f"]).desil
    then = next(h for h in world.previous if h.no_kk == world.named["desil_moved"].no_kk)
    assert (then.desil, world.named["desil_moved"].desil) == (3, 7)
    assert world.mover.nik in {
        m.nik for h in world.previous for m in h.members if h.no_kk == world.named["parents"].no_kk
    }


# --- what every answer says, and what a deployment may change --------------------------------


def updated_on(app: Flask, period: str) -> str:
    """The publication date of PERIOD as the English page writes it (a Jakarta date)."""
    with app.app_context():
        published: datetime = db.session.scalars(
            select(Snapshot.published_at).where(Snapshot.period == period)
        ).one()
    return format_date(published.astimezone(ZoneInfo("Asia/Jakarta")), "long", locale="en")


@pytest.mark.parametrize(
    ("name", "outcome"),
    [("same_desa_e", "receiving"), ("removed", "removed"), (None, "not_found")],
)
def test_every_answer_says_when_the_current_data_was_updated(
    client: Client, world: World, app: Flask, name: str | None, outcome: str
) -> None:
    if name is None:
        nik_, no_kk = crossed_pairs(world)["NIK of twin A, card of twin B"]
    else:
        nik_, no_kk = world.named[name].members[0].nik, world.named[name].no_kk

    shown = lookup(client, nik_, no_kk)

    assert (shown.outcome, shown.period) == (outcome, CURRENT)
    assert f"updated on {updated_on(app, CURRENT)}" in shown.note


def test_a_deployment_that_narrows_a_programs_desil_range_narrows_what_is_in_scope(
    client: Client, world: World, app: Flask
) -> None:
    app.config["PROGRAM_MAX_DESIL"] = {"PKH": 3, "PIP": None}  # the app fixture restores it
    house = world.named["kk_twin_c"]  # desil 4

    shown = lookup(client, house.members[0].nik, house.no_kk)

    assert shown.desil == 4
    assert shown.in_scope == ("BPNT", "PBI-JK", "ATENSI")


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("nik_twin_a", service.Outcome.RECEIVING),
        ("nik_twin_b", service.Outcome.IN_SCOPE_NOT_RECEIVING),
        ("desil_moved", service.Outcome.ABOVE_RANGE),
        ("removed", service.Outcome.REMOVED),
    ],
)
def test_the_service_names_the_outcome_the_page_is_built_from(
    app: Flask, world: World, name: str, outcome: service.Outcome
) -> None:
    """The typed result, not only its page: a stored or redirected result is read from it."""
    house = world.named[name]
    with app.app_context():
        result = service.lookup(house.members[0].nik, house.no_kk)
    assert result.outcome is outcome
    assert str(result.period) == CURRENT
    assert result.matched
    if outcome is not service.Outcome.REMOVED:
        assert (result.desil, result.kode_desa) == (house.desil, house.kode_desa)
        assert [m.nama for m in result.members] == [m.nama for m in house.members]
