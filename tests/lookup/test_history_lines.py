"""The look-up says what the period's change rows support: the desil move, each member's
program lost or gained, who joined and who left the family card, and for a family (or NIK)
gone from the latest data, whether its members are on another card or in none. Through
HTTP, on the two-period fixture of tests/dataimport/test_history.py."""

from __future__ import annotations

import copy
import re

import pytest
from flask import Flask
from sqlalchemy import event

from portal.dataimport.demo import House
from tests.dataimport.test_history import Periods, two_periods
from tests.fixtures.factories import Factory
from tests.helpers import Client, Page
from tests.lookup.test_outcomes import look_up, main_text

Q3 = "Q3 2026 (July-September)"


@pytest.fixture
def periods(app: Flask, factory: Factory) -> Periods:
    periods = two_periods(factory)
    factory.publish("2026Q2", periods.q2)
    factory.publish("2026Q3", periods.q3)
    return periods


def house(periods: Periods, label: str, when: str = "q2") -> House:
    kk = next(k for k, v in periods.labels.items() if v == label)
    return next(h for h in getattr(periods, when) if h.no_kk == kk)


def members(page: Page) -> list[str]:
    return page.texts(".member")


def test_desil_move_and_each_members_program_lines(client: Client, periods: Periods) -> None:
    h2 = house(periods, "H2", "q3")
    page = look_up(client, h2.members[0].nik, h2.no_kk)
    assert page.status == 200
    assert f"Desil moved from 4 to 6 in {Q3}." in page.texts(".change")
    head, child = members(page)
    assert f"Name, birth date or relation corrected in {Q3}" in head
    assert f"PKH, BPNT lost in {Q3}" in head
    assert f"PBI-JK, PIP received from {Q3}" in head
    assert f"PKH lost in {Q3}" in child
    assert f"PIP received from {Q3}" in child
    assert "BPNT lost" not in child


def test_who_joined_and_who_left_the_family_card(client: Client, periods: Periods) -> None:
    h5 = house(periods, "H5", "q3")
    page = look_up(client, h5.members[0].nik, h5.no_kk)
    lines = members(page)
    assert [f"Joined this family in {Q3}" in line for line in lines] == [False, False, True]
    departed = page.texts(".change--departed")
    assert len(departed) == 1
    assert f"left this family in {Q3}" in departed[0]
    assert "AHMAD FAUZI" not in page.text  # the name that left is masked like the others

    h1 = house(periods, "H1", "q3")
    page = look_up(client, h1.members[0].nik, h1.no_kk)
    assert [f"Joined this family in {Q3}" in line for line in members(page)] == [
        False,
        False,
        True,
    ]
    assert page.texts(".change") == []


def test_a_new_household_and_an_unchanged_one(client: Client, periods: Periods) -> None:
    h4 = house(periods, "H4", "q3")
    page = look_up(client, h4.members[0].nik, h4.no_kk)
    assert page.texts(".change") == [f"Your family is new in the data of {Q3}."]
    # new households' members are "added", but the whole family is new: no member lines
    h6 = house(periods, "H6", "q3")
    page = look_up(client, h6.members[0].nik, h6.no_kk)
    assert f"The address was updated in {Q3}." in page.texts(".change")


def test_a_removed_family_is_told_what_the_data_shows(client: Client, periods: Periods) -> None:
    h3 = house(periods, "H3")
    page = look_up(client, h3.members[0].nik, h3.no_kk)
    text = main_text(page)
    assert "Your family is not in the latest data" in text
    assert f"The update for {Q3} no longer has your family card." in text
    assert "2 members of your family are on no family card in that update." in text
    assert all(f"Not in the data of {Q3}" in line for line in members(page))


# a sentence's end glued to the next one's count ("card.2 members"), and the spacing wanted
GLUED = re.compile(r"\.\d")
SPACED = re.compile(r"\. \d")


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_removed_familys_sentences_are_spaced(
    client: Client, factory: Factory, lang: str
) -> None:
    """A removed family of three: one member on another card now, two on none. Its three
    sentences read as three, in both languages (the template's tags eat line breaks)."""
    gone = factory.household(desil=2, size=3)
    other = factory.household(desil=4)
    factory.publish("2026Q2", [gone, other])
    moved_on = copy.deepcopy(other)
    moved_on.members.append(gone.members[2])
    factory.publish("2026Q3", [moved_on])

    client.choose_language(lang)
    page = client.post_form(
        "/", {"nik": gone.members[0].nik, "no_kk": gone.no_kk}, follow_redirects=True
    )
    facts = page.soup.select_one(".removed-facts")

    assert facts is not None, "not the removed family's page"
    text = " ".join(facts.get_text().split())
    assert len(SPACED.findall(text)) == 2, text
    assert not GLUED.search(text), text
    if lang == "en":
        assert text.endswith(
            "no longer has your family card. 1 member of your family is now on another family"
            " card. 2 members of your family are on no family card in that update."
        ), text


def test_a_nik_gone_from_a_card_that_stays(client: Client, periods: Periods) -> None:
    h6 = house(periods, "H6")
    page = look_up(client, h6.members[1].nik, h6.no_kk)
    assert (
        f"Your family card is still in the update for {Q3}, but this NIK is no longer on it."
        in main_text(page)
    )
    h5 = house(periods, "H5")
    page = look_up(client, h5.members[2].nik, h5.no_kk)
    assert (
        f"Your family card is still in the update for {Q3}, but this NIK is on another family "
        "card now." in main_text(page)
    )


def test_the_lines_are_in_indonesian_by_default(client: Client, periods: Periods) -> None:
    h2 = house(periods, "H2", "q3")
    client.choose_language("id")
    page = client.post_form(
        "/", {"nik": h2.members[0].nik, "no_kk": h2.no_kk}, follow_redirects=True
    )
    assert any("Triwulan III 2026" in line for line in page.texts(".change"))


def test_the_history_costs_one_query_per_look_up(
    app: Flask, client: Client, periods: Periods
) -> None:
    h2 = house(periods, "H2", "q3")
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        # the POST finds the household and its history once; the result page shows what it kept
        look_up(client, h2.members[0].nik, h2.no_kk)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    history = [s for s in statements if "person_changes" in s or "household_changes" in s]
    assert len(history) == 1
    assert all("household_changes" in s and "person_changes" in s for s in history)
