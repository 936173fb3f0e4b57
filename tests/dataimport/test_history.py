"""Period history (portal/dataimport/history.py): the exact change rows between two published
periods, computed by the real import, on a fixture of households where every kind of change
happens once and look-alike households do not change at all."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date

from flask import Flask
from sqlalchemy import delete, func, select

from portal import db
from portal.dataimport.demo import House, Member
from portal.dataimport.models import HouseholdChange, PersonChange, Snapshot
from portal.dataimport.queries import pseudonym
from tests.fixtures.factories import Factory


@dataclass
class Periods:
    q2: list[House]
    q3: list[House]
    labels: dict[str, str]  # hmac -> a readable label ("H2", "H2.1")


def two_periods(factory: Factory) -> Periods:
    """Q2 -> Q3 with: H1 unchanged; H2 desil 4 -> 6, its child loses PKH and gains PIP, its
    head's name is corrected and they swap PKH and BPNT for PBI-JK and PIP; H3 removed; H4
    added; H5's child moves to H1 and a baby is born into H5; H6 moves address and its second
    member dies."""
    h1 = factory.household(desil=3, programs=("PKH", "BPNT", "PBI-JK"))
    h2 = factory.household(desil=4, programs=("PKH", "BPNT"))
    h3 = factory.household(desil=2, programs=("BPNT",))
    h4 = factory.household(desil=5, programs=())
    h5 = factory.household(desil=5, programs=("PBI-JK",), size=3)
    h6 = factory.household(desil=7, programs=(), size=2)
    q2 = [h1, h2, h3, h5, h6]
    labels: dict[str, str] = {}
    for name, house in zip(
        ("H1", "H2", "H3", "H4", "H5", "H6"), (h1, h2, h3, h4, h5, h6), strict=True
    ):
        labels[house.no_kk] = name
        for i, m in enumerate(house.members, 1):
            labels[m.nik] = f"{name}.{i}"

    n1, n2, n5, n6 = (copy.deepcopy(h) for h in (h1, h2, h5, h6))
    n2.desil = 6
    n2.members[1].programs = ["BPNT", "PIP"]
    n2.members[0].nama = "BUDI SANTOSA"
    n2.members[0].programs = ["PIP", "PBI-JK"]
    moved = n5.members.pop(2)
    moved.hubungan = "ANAK"
    n1.members.append(moved)
    baby = Member(
        factory.numbers.nik("32.16.01", date(2026, 5, 1), "L"),
        "BAYU",
        "L",
        date(2026, 5, 1),
        "ANAK",
        ["PBI-JK"],
    )
    labels[baby.nik] = "H5.new"
    n5.members.append(baby)
    n6.alamat = "KP. BARU RT 001/RW 001"
    n6.members.pop(1)
    q3 = [n1, n2, h4, n5, n6]
    return Periods(q2, q3, labels)


def household_rows(app: Flask, snapshot_id: int, labels: dict[str, str]) -> set[tuple]:
    with app.app_context():
        by_hmac = {pseudonym(k, "kk"): v for k, v in labels.items()}
        rows = db.session.execute(
            select(
                HouseholdChange.kk_hmac,
                HouseholdChange.kind,
                HouseholdChange.desil_from,
                HouseholdChange.desil_to,
            ).where(HouseholdChange.snapshot_id == snapshot_id)
        ).all()
        return {(by_hmac.get(kk, kk), kind, a, b) for kk, kind, a, b in rows}


def person_rows(app: Flask, snapshot_id: int, labels: dict[str, str]) -> set[tuple]:
    with app.app_context():
        kk = {pseudonym(k, "kk"): v for k, v in labels.items()}
        nik = {pseudonym(k, "nik"): v for k, v in labels.items()}
        rows = db.session.execute(
            select(
                PersonChange.nik_hmac,
                PersonChange.kind,
                PersonChange.programs,
                PersonChange.kk_hmac,
            ).where(PersonChange.snapshot_id == snapshot_id)
        ).all()
        return {(nik.get(n, n), kind, p, kk.get(k, k)) for n, kind, p, k in rows}


EXPECTED_HOUSEHOLDS = {
    ("H2", "desil", 4, 6),
    ("H3", "removed", 2, None),
    ("H4", "added", None, 5),
    ("H6", "moved", 7, 7),
}

EXPECTED_PERSONS = {
    ("H2.1", "data", "", "H2"),
    ("H2.1", "program_lost", "PKH;BPNT", "H2"),  # the codes in PROGRAMS order
    ("H2.1", "program_gained", "PBI-JK;PIP", "H2"),
    ("H2.2", "program_lost", "PKH", "H2"),
    ("H2.2", "program_gained", "PIP", "H2"),
    ("H3.1", "removed", "", "H3"),
    ("H3.2", "removed", "", "H3"),
    ("H4.1", "added", "", "H4"),
    ("H4.2", "added", "", "H4"),
    # the child who moved keeps their PBI-JK: no program change
    ("H5.3", "left", "", "H5"),
    ("H5.3", "joined", "", "H1"),
    ("H5.new", "added", "", "H5"),
    ("H6.2", "removed", "", "H6"),
}


def test_changes_between_two_periods_are_exact(app: Flask, factory: Factory) -> None:
    periods = two_periods(factory)
    first = factory.publish("2026Q2", periods.q2)
    second = factory.publish("2026Q3", periods.q3)
    assert household_rows(app, second.snapshot_id, periods.labels) == EXPECTED_HOUSEHOLDS
    assert person_rows(app, second.snapshot_id, periods.labels) == EXPECTED_PERSONS
    # the first period has nothing to compare with
    assert household_rows(app, first.snapshot_id, periods.labels) == set()
    assert person_rows(app, first.snapshot_id, periods.labels) == set()
    with app.app_context():
        previous = set(db.session.scalars(select(PersonChange.previous_snapshot_id)))
        previous |= set(db.session.scalars(select(HouseholdChange.previous_snapshot_id)))
    assert previous == {first.snapshot_id}


def test_a_replacing_file_is_compared_with_the_previous_period_not_the_replaced_file(
    app: Flask, factory: Factory
) -> None:
    periods = two_periods(factory)
    factory.publish("2026Q2", periods.q2)
    wrong = copy.deepcopy(periods.q3)
    wrong[0].desil = 9  # a first Q3 file with H1 at desil 9
    replaced = factory.publish("2026Q3", wrong)
    assert ("H1", "desil", 3, 9) in household_rows(app, replaced.snapshot_id, periods.labels)
    fixed = factory.publish("2026Q3", periods.q3)
    assert fixed.replaced == [replaced.snapshot_id]
    assert household_rows(app, fixed.snapshot_id, periods.labels) == EXPECTED_HOUSEHOLDS
    assert person_rows(app, fixed.snapshot_id, periods.labels) == EXPECTED_PERSONS


def test_replacing_an_earlier_period_recomputes_the_next_one(app: Flask, factory: Factory) -> None:
    periods = two_periods(factory)
    wrong = copy.deepcopy(periods.q2)
    wrong[1].desil = 6  # H2 already at desil 6 in the first Q2 file
    factory.publish("2026Q2", wrong)
    q3 = factory.publish("2026Q3", periods.q3)
    assert ("H2", "desil", 4, 6) not in household_rows(app, q3.snapshot_id, periods.labels)
    factory.publish("2026Q2", periods.q2)  # the corrected Q2 file
    assert household_rows(app, q3.snapshot_id, periods.labels) == EXPECTED_HOUSEHOLDS
    assert person_rows(app, q3.snapshot_id, periods.labels) == EXPECTED_PERSONS


def test_deleting_a_snapshot_deletes_its_change_rows(app: Flask, factory: Factory) -> None:
    periods = two_periods(factory)
    first = factory.publish("2026Q2", periods.q2)
    second = factory.publish("2026Q3", periods.q3)
    with app.app_context():
        # pruning the older period keeps the newer one's history (what changed in Q3)
        db.session.execute(delete(Snapshot).where(Snapshot.id == first.snapshot_id))
        db.session.commit()
    assert person_rows(app, second.snapshot_id, periods.labels) == EXPECTED_PERSONS
    with app.app_context():
        db.session.execute(delete(Snapshot).where(Snapshot.id == second.snapshot_id))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(PersonChange)) == 0
        assert db.session.scalar(select(func.count()).select_from(HouseholdChange)) == 0
