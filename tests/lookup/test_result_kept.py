"""The look-up's reference keeps what its result page shows (lookup_references.found), so the
result page (GET /hasil) asks nothing of the snapshot: the POST found the household, its
history and its programs once. What is kept is only what the page shows: names already
masked, members by position, never a NIK's or No. KK's HMAC. A page shown from what was kept
is the same page as one found again from the numbers (a reference kept without its result,
e.g. written before the column existed); a newer snapshot still outdates it.
"""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import event, select, update

from portal import db
from portal.dataimport import queries as snapshot_queries
from portal.dataimport.demo import House
from portal.replay.models import LookupReference
from tests.dataimport.test_history import Periods, two_periods
from tests.fixtures.factories import Factory
from tests.fixtures.worlds import KeptWorld
from tests.helpers import Client, Page
from tests.lookup.test_outcomes import look_up, main_text

SNAPSHOT_TABLES = ("persons", "households", "person_changes", "household_changes")


def publish_periods(factory: Factory) -> Periods:
    periods = two_periods(factory)
    factory.publish("2026Q2", periods.q2)
    factory.publish("2026Q3", periods.q3)
    return periods


@pytest.fixture
def periods(kept_world: KeptWorld) -> Periods:
    return kept_world(publish_periods)


def house(periods: Periods, label: str, when: str = "q2") -> House:
    kk = next(k for k, v in periods.labels.items() if v == label)
    return next(h for h in getattr(periods, when) if h.no_kk == kk)


def kept(app: Flask) -> dict:
    with app.app_context():
        found = db.session.scalars(select(LookupReference.found)).all()
    assert len(found) == 1
    return found[0]


def forget_what_was_found(app: Flask) -> None:
    """The reference as one written before it kept its result: numbers only."""
    with app.app_context():
        db.session.execute(update(LookupReference).values(found=None))
        db.session.commit()


def statements_of(app: Flask, client: Client, path: str) -> tuple[Page, list[str]]:
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = client.page(path)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return page, statements


def test_the_result_page_asks_nothing_of_the_snapshot(
    app: Flask, client: Client, periods: Periods
) -> None:
    h2 = house(periods, "H2", "q3")
    first = look_up(client, h2.members[0].nik, h2.no_kk)
    assert first.path == "/hasil"

    again, statements = statements_of(app, client, "/hasil")

    assert again.status == 200
    assert main_text(again) == main_text(first)
    assert len(again.texts(".member")) == len(h2.members)
    asked = [s for s in statements if any(f" {t} " in f" {s} " for t in SNAPSHOT_TABLES)]
    assert asked == []
    assert any("lookup_references" in s for s in statements)


@pytest.mark.parametrize(
    ("label", "when", "member"),
    [
        ("H1", "q3", 0),  # unchanged, receiving
        ("H2", "q3", 0),  # desil moved, programs lost and gained, a name corrected
        ("H3", "q2", 0),  # removed in the last update
        ("H5", "q2", 2),  # a NIK now on another family card
        ("H5", "q3", 0),  # a member left, a baby joined
        ("H6", "q2", 1),  # a NIK gone from a card that stays
    ],
)
def test_a_kept_result_is_the_page_found_again(
    app: Flask, client: Client, periods: Periods, label: str, when: str, member: int
) -> None:
    h = house(periods, label, when)
    for lang in ("en", "id"):
        client.choose_language(lang)
        client.post_form("/", {"nik": h.members[member].nik, "no_kk": h.no_kk})
        from_kept = client.page("/hasil")
        assert kept(app) is not None

        forget_what_was_found(app)
        found_again = client.page("/hasil")

        assert from_kept.status == found_again.status == 200
        assert main_text(from_kept) == main_text(found_again)
        assert from_kept.texts(".member") == found_again.texts(".member")
        assert from_kept.texts(".change") == found_again.texts(".change")


def test_a_miss_is_kept_as_a_miss(app: Flask, client: Client, periods: Periods) -> None:
    nik, no_kk = periods.q3[0].members[0].nik, periods.q3[1].no_kk  # another family's card
    page = look_up(client, nik, no_kk)
    assert "No family found" in page.h1
    assert kept(app)["outcome"] == "not_found"

    forget_what_was_found(app)
    assert main_text(client.page("/hasil")) == main_text(page)


def test_what_is_kept_has_no_name_and_no_pseudonym(
    app: Flask, client: Client, periods: Periods
) -> None:
    h5 = house(periods, "H5", "q3")  # with a member who left: a departed name is kept too
    look_up(client, h5.members[0].nik, h5.no_kk)
    text = json.dumps(kept(app))

    people = [m for h in (*periods.q2, *periods.q3) for m in h.members]
    for person in people:
        for word in person.nama.split():
            if len(word) > 1:
                assert word not in text, "a name is kept in clear"
        assert person.nik not in text
    with app.test_request_context():
        hmacs = [snapshot_queries.pseudonym(m.nik, "nik") for m in people]
        hmacs += [snapshot_queries.pseudonym(h.no_kk, "kk") for h in (*periods.q2, *periods.q3)]
    assert not [x for x in hmacs if x in text], "an HMAC is kept"
    assert h5.no_kk not in text


def test_a_new_snapshot_outdates_a_kept_result(
    app: Flask, client: Client, factory: Factory
) -> None:
    first = factory.household(desil=2, size=2)
    factory.publish("2026Q3", [first])
    look_up(client, first.members[0].nik, first.no_kk)
    factory.publish("2026Q4", [first])

    page = client.page("/hasil", follow_redirects=True)

    assert page.path == "/"
    assert "The data was updated since your check" in main_text(page)
