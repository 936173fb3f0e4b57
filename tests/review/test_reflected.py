"""Auto-selesai (portal/appeals/reflected.py): publishing a period moves each forwarded case
whose change the data now shows to selesai, with a system audit row and a note the filer
reads; a look-alike case whose household did not change stays forwarded, and staff see how
many periods it has waited. One scenario per reason code, through the real import."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal import db
from portal.appeals import tickets
from portal.appeals.models import Appeal, AppealEvent
from portal.appeals.states import AppealStatus
from portal.audit.models import AuditEvent
from portal.dataimport.demo import House
from portal.dataimport.queries import pseudonym
from tests.fixtures.factories import Factory, make_appeal
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client
from tests.review.conftest import get

S = AppealStatus
Mutation = Callable[[House], None]


def forwarded(
    app: Flask,
    reason: str,
    house: House,
    *,
    person: int | None = None,
    details: dict[str, Any] | None = None,
    period: str = "2026Q2",
) -> int:
    """A case about HOUSE (and its member PERSON) exported to Pusdatin yesterday."""
    with app.app_context():
        now = db.utcnow()
        nik = house.members[person].nik if person is not None else None
        appeal = make_appeal(
            reason_code=reason,
            status=S.DITERUSKAN,
            region=house.kode_desa,
            filer_nik="3216014101900002",
            locale="en",
            subject_nik_hmac=pseudonym(nik, "nik") if nik else None,
            subject_nik=nik,
            subject_kk_hmac=pseudonym(house.no_kk, "kk"),
            details=details or {},
            period=period,
            created_at=now - timedelta(days=20),
            updated_at=now - timedelta(days=1),
            due_at=now - timedelta(days=6),
            decided_at=now - timedelta(days=5),
        )
        db.session.add(appeal)
        db.session.flush()
        path = [None, S.DITERIMA, S.VERIFIKASI, S.DISETUJUI, S.DITERUSKAN]
        for before, after in zip(path, path[1:], strict=False):
            db.session.add(
                AppealEvent(
                    appeal_id=appeal.id,
                    at=now,  # after the period it was filed in was published
                    from_status=before.value if before else None,
                    to_status=after.value,
                    actor="staff" if before else "filer",
                )
            )
        db.session.commit()
        return appeal.id


def status(app: Flask, appeal_id: int) -> str:
    with app.app_context():
        appeal = db.session.get(Appeal, appeal_id)
        assert appeal is not None
        return appeal.status


def drop_member(index: int) -> Mutation:
    return lambda h: h.members.pop(index) and None


def set_programs(*codes: str) -> Mutation:
    def mutate(h: House) -> None:
        for m in h.members:
            m.programs = list(codes)

    return mutate


def add_program(code: str) -> Mutation:
    def mutate(h: House) -> None:
        h.members[0].programs = [*h.members[0].programs, code]

    return mutate


def set_desil(desil: int) -> Mutation:
    def mutate(h: House) -> None:
        h.desil = desil

    return mutate


def rename(h: House) -> None:
    h.members[1].nama = "SITI AMINAH HASANAH"


def new_address(h: House) -> None:
    h.alamat = "KP. BARU RT 001/RW 001"


def unchanged(h: House) -> None:
    return None


@dataclass
class Scenario:
    reason: str
    change: Mutation | None  # None: the household leaves the data
    person: int | None = None
    details: Callable[[House], dict[str, Any]] = lambda h: {}
    look_alike_change: Mutation = unchanged  # what happens to the household that must stay
    programs: tuple[str, ...] = ("PKH", "BPNT")
    desil: int = 3
    ids: list[int] = field(default_factory=list)


def heir(h: House) -> dict[str, Any]:
    return {"heir": {"deceased_nik": h.members[0].nik, "heir_nik": h.members[1].nik}}


SCENARIOS = [
    Scenario("USUL-PROGRAM", add_program("PBI-JK"), details=lambda h: {"programs": ["PBI-JK"]}),
    Scenario("USUL-AHLI-WARIS", drop_member(0), details=heir),
    Scenario("INC-ASN", set_programs()),
    Scenario("INC-MAMPU", None),
    Scenario("INC-SELF", set_programs()),
    Scenario("INC-MENINGGAL", drop_member(1), person=1, look_alike_change=drop_member(2)),
    Scenario("INC-PINDAH", new_address),
    Scenario("INC-GANDA", drop_member(1), person=1),
    Scenario("EXC-DESIL-SALAH", set_desil(2), look_alike_change=set_desil(5)),
    Scenario("EXC-DICORET", add_program("PBI-JK"), look_alike_change=set_programs("PKH")),
    Scenario("ERR-DATA", rename),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.reason)
def test_a_forwarded_case_is_selesai_when_the_next_period_reflects_it(
    app: Flask, factory: Factory, scenario: Scenario
) -> None:
    target = factory.household(desil=scenario.desil, programs=scenario.programs, size=3)
    look_alike = factory.household(desil=scenario.desil, programs=scenario.programs, size=3)
    factory.publish("2026Q2", [target, look_alike])
    reflected = forwarded(
        app,
        scenario.reason,
        target,
        person=scenario.person,
        details=scenario.details(target),
    )
    waiting = forwarded(
        app,
        scenario.reason,
        look_alike,
        person=scenario.person,
        details=scenario.details(look_alike),
    )
    changed, other = copy.deepcopy(target), copy.deepcopy(look_alike)
    scenario.look_alike_change(other)
    if scenario.change is not None:
        scenario.change(changed)
    result = factory.publish("2026Q3", ([changed] if scenario.change else []) + [other])

    assert result.closed_cases == 1
    assert status(app, reflected) == S.SELESAI.value
    assert status(app, waiting) == S.DITERUSKAN.value
    with app.app_context():
        event = db.session.scalars(
            select(AppealEvent).where(AppealEvent.appeal_id == reflected).order_by(AppealEvent.id)
        ).all()[-1]
        assert (event.from_status, event.to_status, event.actor) == (
            "diteruskan",
            "selesai",
            "system",
        )
        assert "Q3 2026" in (event.note or "")
        audit = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auto_selesai")
        ).all()
        assert [(a.target_id, a.staff_id, a.after) for a in audit] == [
            (reflected, None, {"status": "selesai", "period": "2026Q3"})
        ]


def test_a_household_proposed_for_dtsen_is_selesai_once_it_is_in_the_data(
    app: Flask, factory: Factory
) -> None:
    proposed, never = factory.household(), factory.household()
    factory.publish("2026Q2", [factory.household()])
    reflected = forwarded(app, "EXC-TIDAK-TERDATA", proposed)
    waiting = forwarded(app, "EXC-TIDAK-TERDATA", never)
    factory.publish("2026Q3", [proposed])
    assert (status(app, reflected), status(app, waiting)) == ("selesai", "diteruskan")


def test_changes_before_the_case_was_filed_do_not_count(app: Flask, factory: Factory) -> None:
    house = factory.household(desil=3)
    factory.publish("2026Q2", [house])
    lower = copy.deepcopy(house)
    lower.desil = 2
    factory.publish("2026Q3", [lower])  # the desil went down before the case was filed
    case = forwarded(app, "EXC-DESIL-SALAH", house, period="2026Q3")
    factory.publish("2026Q4", [copy.deepcopy(lower)])
    assert status(app, case) == "diteruskan"


def test_a_replaced_period_closes_what_the_replacing_file_shows(
    app: Flask, factory: Factory
) -> None:
    house = factory.household(desil=4)
    factory.publish("2026Q2", [house])
    case = forwarded(app, "EXC-DESIL-SALAH", house)
    same = copy.deepcopy(house)
    first = factory.publish("2026Q3", [same, factory.household()])
    assert first.closed_cases == 0
    lower = copy.deepcopy(house)
    lower.desil = 3
    fixed = factory.publish("2026Q3", [lower])  # the corrected file for the same period
    assert fixed.replaced == [first.snapshot_id]
    assert status(app, case) == "selesai"


def test_the_filer_reads_the_note_and_staff_see_the_periods_waited(
    app: Flask,
    factory: Factory,
    client: Client,
    staff: StaffFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    from tests.appeals.conftest import track

    house, other = factory.household(), factory.household()
    factory.publish("2026Q2", [house, other])
    closed = forwarded(app, "INC-MAMPU", house)
    still = forwarded(app, "INC-MAMPU", other)
    factory.publish("2026Q3", [other])
    with app.app_context():
        filed = db.session.get(Appeal, closed)
        assert filed is not None
        ticket, nik = tickets.display(filed.ticket), filed.filer_nik
        # the filer's NIK is what tracking checks
        filed.filer_nik_hmac = pseudonym(nik, "nik")
        db.session.commit()

    client.choose_language("en")
    assert track(client, ticket, nik).status == 302
    page = client.page("/lacak/kasus")
    assert page.texts(".status") == ["Done"]
    assert (
        "The DTSEN data of Q3 2026 (July-September) shows the household no longer receiving "
        "bansos." in page.texts(".timeline__note")
    )

    officer = sign_in(staff.create("verifikator"))
    queue = get(officer, "/staf/?status=diteruskan")
    rows = {
        r.find("a").get_text(strip=True): r.get_text(" ", strip=True)
        for r in queue.soup.select("tbody tr")
    }
    assert "not yet reflected after 1 period" in rows[tickets.display(_ticket(app, still))]
    case_page = get(officer, f"/staf/kasus/{still}")
    assert "not yet reflected after 1 period" in case_page.text
    assert "not yet reflected" not in get(officer, f"/staf/kasus/{closed}").text


def _ticket(app: Flask, appeal_id: int) -> str:
    with app.app_context():
        appeal = db.session.get(Appeal, appeal_id)
        assert appeal is not None
        return appeal.ticket
