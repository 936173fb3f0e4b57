"""The maintained counts (appeal_counts, appeal_open_due, appeal_decision_hours, the months
filed and decided, the open cases by desa and officer, the cases with a field check by verval
state) and each case's verval stay equal to counting the cases and their field checks after
every kind of write, on both engines; the region cache is cleared by an import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, update

from portal import db
from portal.appeals import service as appeal_service
from portal.appeals.models import Appeal
from portal.appeals.states import OPEN
from portal.appeals.states import AppealStatus as S
from portal.auth.models import Role
from portal.review import summary
from portal.review.dashboard import median_days_to_decision
from portal.review.models import (
    AppealCount,
    AppealOpenDue,
    AppealVervalCount,
    DecidedMonth,
    DecisionHours,
    FieldCheck,
    FiledMonth,
    OpenDesaDue,
    OpenOfficerDue,
)
from portal.wilayah import queries as wilayah
from tests.fixtures.staff import StaffFactory
from tests.review.test_dashboard import Spec, make_cases

SPECS = [
    Spec("32.16.01.2001", S.DITERIMA, "INC-MAMPU"),
    Spec("32.16.01.2001", S.VERIFIKASI, "INC-ASN", filed_days_ago=20, due_in_days=-6),
    Spec("32.16.02.1006", S.DITOLAK, "EXC-DICORET", filed_days_ago=9, decided_days_ago=2),
    Spec("32.16.02.1006", S.DISETUJUI, "ERR-DATA", filed_days_ago=5, decided_days_ago=4.5),
    Spec("32.75.01.1001", S.DITERIMA, "USUL-PROGRAM"),
]


Summaries = tuple[dict[tuple, int], ...]


def month(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def live(app: Flask) -> Summaries:
    """The summaries as counted from the cases now, in Python."""
    counts: dict[tuple, int] = {}
    due: dict[tuple, int] = {}
    hours: dict[tuple, int] = {}
    filed: dict[tuple, int] = {}
    decided_in: dict[tuple, int] = {}
    open_desa: dict[tuple, int] = {}
    open_officer: dict[tuple, int] = {}

    def bump(table: dict[tuple, int], key: tuple) -> None:
        table[key] = table.get(key, 0) + 1

    verval: dict[tuple, int] = {}
    with app.app_context():
        for a in db.session.scalars(select(Appeal)):
            state = verval_of(a.id)
            if state != "none":
                bump(verval, (a.kabupaten_code, a.kecamatan_code, a.reason_code, a.status, state))
            decided = a.decided_at is not None
            bump(counts, (a.kabupaten_code, a.kecamatan_code, a.reason_code, a.status, decided))
            if S(a.status) in OPEN:
                day = a.due_at.astimezone(UTC).date()
                bump(due, (a.kabupaten_code, a.kecamatan_code, day, a.escalated_at is not None))
                bump(open_desa, (a.kabupaten_code, a.kode_desa or "", day))
                bump(open_officer, (a.kabupaten_code, a.assigned_to_id or 0, day))
            if a.decided_at is not None:
                h = round((a.decided_at - a.created_at).total_seconds() / 3600)
                bump(hours, (a.kabupaten_code, h))
                bump(decided_in, (a.kabupaten_code, month(a.decided_at), a.decided_by_id or 0))
            bump(filed, (a.kabupaten_code, month(a.created_at)))
    return counts, due, hours, filed, decided_in, open_desa, open_officer, verval


def verval_of(appeal_id: int) -> str:
    """Where a case's verval stands, from its field checks (as the queue's filter says)."""
    done = [
        c.done_at is not None
        for c in db.session.scalars(select(FieldCheck).where(FieldCheck.appeal_id == appeal_id))
    ]
    return "none" if not done else ("received" if all(done) else "requested")


def kept(app: Flask) -> Summaries:
    with app.app_context():
        counts = {
            (c.kabupaten_code, c.kecamatan_code, c.reason_code, c.status, c.decided): c.n
            for c in db.session.scalars(select(AppealCount))
            if c.n
        }
        due = {
            (d.kabupaten_code, d.kecamatan_code, d.due_on, d.escalated): d.n
            for d in db.session.scalars(select(AppealOpenDue))
            if d.n
        }
        hours = {
            (h.kabupaten_code, h.hours): h.n
            for h in db.session.scalars(select(DecisionHours))
            if h.n
        }
        filed = {
            (m.kabupaten_code, m.month): m.n for m in db.session.scalars(select(FiledMonth)) if m.n
        }
        decided_in = {
            (m.kabupaten_code, m.month, m.decided_by): m.n
            for m in db.session.scalars(select(DecidedMonth))
            if m.n
        }
        open_desa = {
            (d.kabupaten_code, d.kode_desa, d.due_on): d.n
            for d in db.session.scalars(select(OpenDesaDue))
            if d.n
        }
        open_officer = {
            (o.kabupaten_code, o.assigned_to, o.due_on): o.n
            for o in db.session.scalars(select(OpenOfficerDue))
            if o.n
        }
        verval = {
            (v.kabupaten_code, v.kecamatan_code, v.reason_code, v.status, v.verval): v.n
            for v in db.session.scalars(select(AppealVervalCount))
            if v.n
        }
        return counts, due, hours, filed, decided_in, open_desa, open_officer, verval


def assert_kept_right(app: Flask) -> None:
    expected = live(app)
    assert kept(app) == expected
    with app.app_context():  # each case's own verval, kept from its field checks
        cases = db.session.execute(select(Appeal.id, Appeal.verval)).all()
        assert dict(cases) == {i: verval_of(i) for i, _v in cases}


@pytest.fixture
def cases(app: Flask) -> None:
    make_cases(app, SPECS)


def case_id(app: Flask, status: S, reason: str) -> int:
    with app.app_context():
        found = db.session.scalar(
            select(Appeal.id).where(Appeal.status == status.value, Appeal.reason_code == reason)
        )
        assert found is not None
        return found


@pytest.mark.usefixtures("cases")
def test_counts_follow_inserts(app: Flask) -> None:
    counts, due, hours, filed, decided_in, open_desa, open_officer, verval = kept(app)
    assert sum(counts.values()) == len(SPECS)
    assert sum(due.values()) == 3  # the open ones
    assert sum(hours.values()) == 2
    assert sum(filed.values()) == len(SPECS)
    assert sum(decided_in.values()) == 2
    assert sum(open_desa.values()) == sum(open_officer.values()) == 3
    assert verval == {}  # no field check yet
    assert (("32.16", 168)) in hours  # 9 - 2 days = 7 days = 168 hours
    assert_kept_right(app)


@pytest.mark.usefixtures("cases")
def test_counts_follow_each_transition_and_decision(app: Flask) -> None:
    ident = case_id(app, S.DITERIMA, "INC-MAMPU")
    for target in (S.VERIFIKASI, S.DITOLAK):
        with app.app_context():
            appeal = db.session.get(Appeal, ident)
            appeal_service.transition(appeal, target, actor="staff", decision_reason="other")
            db.session.commit()
        assert_kept_right(app)
    with app.app_context():
        rejected = db.session.scalar(
            select(func.count())
            .select_from(AppealCount)
            .where(
                AppealCount.status == "ditolak",
                AppealCount.reason_code == "INC-MAMPU",
                AppealCount.n == 1,
                AppealCount.decided.is_(True),
            )
        )
        assert rejected == 1


@pytest.mark.usefixtures("cases")
def test_counts_follow_a_withdrawal_a_contest_and_a_forward(app: Flask) -> None:
    with app.app_context():
        appeal_service.withdraw(db.session.get(Appeal, case_id(app, S.DITERIMA, "INC-MAMPU")))
    assert_kept_right(app)
    with app.app_context():
        appeal_service.contest(
            db.session.get(Appeal, case_id(app, S.DITOLAK, "EXC-DICORET")),
            "Saya keberatan.",
            locale="id",
        )
    assert_kept_right(app)
    with app.app_context():
        appeal = db.session.get(Appeal, case_id(app, S.DISETUJUI, "ERR-DATA"))
        appeal_service.transition(appeal, S.DITERUSKAN, actor="system")
        db.session.commit()
    assert_kept_right(app)


@pytest.mark.usefixtures("cases")
def test_counts_follow_moves_between_areas_reason_changes_and_new_dates(app: Flask) -> None:
    ident = case_id(app, S.DITOLAK, "EXC-DICORET")
    with app.app_context():
        appeal = db.session.get(Appeal, ident)
        appeal.kode_desa = "32.16.01.2001"
        appeal.kecamatan_code = "32.16.01"
        appeal.reason_code = "ERR-DATA"
        db.session.commit()
    assert_kept_right(app)
    with app.app_context():
        appeal = db.session.get(Appeal, ident)
        assert appeal.decided_at is not None
        appeal.decided_at = appeal.decided_at + timedelta(hours=30)
        db.session.commit()
    assert_kept_right(app)
    with app.app_context():  # filed and decided in other months (the dashboard's months)
        appeal = db.session.get(Appeal, ident)
        appeal.created_at = appeal.created_at - timedelta(days=75)
        appeal.decided_at = appeal.created_at + timedelta(days=40)
        db.session.commit()
    assert_kept_right(app)
    with app.app_context():  # escalated, and a new due date
        appeal = db.session.get(Appeal, case_id(app, S.VERIFIKASI, "INC-ASN"))
        appeal.escalated_at = db.utcnow()
        appeal.due_at = appeal.due_at + timedelta(days=3)
        db.session.commit()
    assert_kept_right(app)
    with app.app_context():  # a bulk UPDATE bypasses the ORM, not the triggers
        db.session.execute(
            update(Appeal).where(Appeal.kabupaten_code == "32.75").values(kode_desa=None)
        )
        db.session.commit()
    assert_kept_right(app)


@pytest.mark.usefixtures("cases")
def test_counts_follow_deletes_and_rebuild_gives_the_same(app: Flask) -> None:
    with app.app_context():
        db.session.execute(delete(Appeal).where(Appeal.kabupaten_code == "32.75"))
        db.session.commit()
    assert_kept_right(app)
    before = kept(app)
    with app.app_context():
        summary.rebuild(db.session.connection())
        db.session.commit()
    assert kept(app) == before


@pytest.mark.usefixtures("cases")
def test_a_summary_emptied_before_the_cases_gets_no_negative_rows(app: Flask) -> None:
    with app.app_context():
        db.session.execute(delete(AppealCount))
        db.session.execute(delete(AppealOpenDue))
        db.session.execute(delete(DecisionHours))
        db.session.execute(delete(Appeal))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(AppealCount)) == 0
        assert db.session.scalar(select(func.count()).select_from(DecisionHours)) == 0
        assert db.session.scalar(select(func.count()).select_from(AppealOpenDue)) == 0


@pytest.mark.parametrize(
    ("histogram", "median"),
    [
        ([], None),
        ([(5, 1)], 5),
        ([(24, 1), (48, 1)], 36),
        ([(48, 1), (96, 1), (240, 1), (2376, 1)], 168),
        ([(1, 3), (9, 1)], 1),
        ([(1, 2), (9, 2)], 5),
        ([(1, 1), (3, 1), (9, 2)], 6),
        ([(0, 0), (7, 1)], 7),
        ([(2, 0), (7, 1), (11, 0)], 7),
        ([(0, 1), (5, 2), (6, 1), (40, 3)], 6),
        ([(hour, 1) for hour in range(1, 1400)], 700),
        ([(hour, hour % 3) for hour in range(1, 1400)], 700),
    ],
)
def test_the_median_is_the_middle_of_the_kept_hours_of_the_scope_only(
    app: Flask, histogram: list[tuple[int, int]], median: float | None
) -> None:
    """The dashboard's median from appeal_decision_hours (hours -> how many cases): the
    middle value, or the mean of the two middle ones, in days; another kabupaten's hours
    count nationally only."""
    admin = SimpleNamespace(role_enum=Role.ADMIN_DINSOS, office_code="32.16")
    pusat = SimpleNamespace(role_enum=Role.PUSAT, office_code=None)
    with app.app_context():
        db.session.add_all(
            DecisionHours(kabupaten_code="32.16", hours=h, n=n) for h, n in histogram
        )
        db.session.add(DecisionHours(kabupaten_code="32.75", hours=1, n=len(histogram) + 5))
        db.session.commit()
        days = median_days_to_decision(admin)  # type: ignore[arg-type]
        assert days == (None if median is None else median / 24)
        assert median_days_to_decision(pusat) == 1 / 24  # type: ignore[arg-type]


def test_region_names_are_cached_until_an_import_clears_them(app: Flask) -> None:
    with app.app_context():
        wilayah.clear_cache()
        assert wilayah.names({"32.16"}) == {"32.16": "Kabupaten Bekasi"}
        kec = wilayah.desa_in_kabupaten("32.16")
        assert len(kec) == 187
        from portal.wilayah.models import Wilayah

        region = db.session.get(Wilayah, "32.16")
        old = region.name
        region.name = "KABUPATEN BEKASI BARU"
        db.session.commit()
        try:
            assert wilayah.names({"32.16"}) == {"32.16": old}  # cached
            wilayah.clear_cache()  # what `flask wilayah import` does
            assert wilayah.names({"32.16"}) == {"32.16": "KABUPATEN BEKASI BARU"}
        finally:
            region = db.session.get(Wilayah, "32.16")
            region.name = old
            db.session.commit()
            wilayah.clear_cache()


def test_the_open_statuses_in_the_triggers_are_the_workflow_s() -> None:
    assert "(" + ", ".join(f"'{s.value}'" for s in sorted(OPEN)) + ")" == summary.OPEN_SQL


@pytest.mark.usefixtures("cases")
def test_counts_follow_assignments_and_who_decided(app: Flask, staff: StaffFactory) -> None:
    """The dashboard's officer and desa tables: taking a case, moving it to another officer,
    giving it back, and recording who decided, each counted where it now belongs."""
    ani, budi = staff.create("verifikator"), staff.create("verifikator")
    open_case = case_id(app, S.VERIFIKASI, "INC-ASN")
    for holder in (ani.id, budi.id, None):
        with app.app_context():
            db.session.get(Appeal, open_case).assigned_to_id = holder
            db.session.commit()
        assert_kept_right(app)
    with app.app_context():  # a bulk UPDATE, as the reassign page makes
        db.session.execute(
            update(Appeal).where(Appeal.kabupaten_code == "32.16").values(assigned_to_id=ani.id)
        )
        db.session.execute(
            update(Appeal).where(Appeal.decided_at.is_not(None)).values(decided_by_id=budi.id)
        )
        db.session.commit()
    assert_kept_right(app)
    with app.app_context():
        held = {o.assigned_to for o in db.session.scalars(select(OpenOfficerDue)) if o.n}
        decided_by = {m.decided_by for m in db.session.scalars(select(DecidedMonth)) if m.n}
    assert ani.id in held
    assert budi.id not in held
    assert decided_by == {budi.id}


@pytest.mark.usefixtures("cases")
def test_verval_and_its_counts_follow_the_field_checks(app: Flask, staff: StaffFactory) -> None:
    """A field check asked, answered, asked again, moved to another case, deleted in bulk, and
    its case deleted: each case's verval and the counts by verval follow, whatever wrote."""
    me = staff.create("verifikator")
    first = case_id(app, S.DITERIMA, "INC-MAMPU")
    second = case_id(app, S.VERIFIKASI, "INC-ASN")

    def ask(appeal_id: int) -> int:
        with app.app_context():
            check = FieldCheck(
                appeal_id=appeal_id,
                kode_desa="32.16.01.2001",
                requested_by_id=me.id,
                instructions="Visit the family.",
            )
            db.session.add(check)
            db.session.commit()
            return check.id

    def answer(check_id: int) -> None:
        with app.app_context():
            check = db.session.get(FieldCheck, check_id)
            check.done_by_id, check.done_at, check.outcome = me.id, db.utcnow(), "confirmed"
            db.session.commit()

    def state(appeal_id: int) -> str:
        with app.app_context():
            return db.session.get(Appeal, appeal_id).verval

    one = ask(first)
    assert state(first) == "requested"
    assert_kept_right(app)
    answer(one)
    assert state(first) == "received"
    assert_kept_right(app)
    two = ask(first)  # asked again: waiting again
    assert state(first) == "requested"
    answer(two)
    assert state(first) == "received"
    three = ask(second)
    assert_kept_right(app)
    assert (state(first), state(second)) == ("received", "requested")
    with app.app_context():  # moved to the other case: both cases change
        db.session.execute(update(FieldCheck).where(FieldCheck.id == three).values(appeal_id=first))
        db.session.commit()
    assert (state(first), state(second)) == ("requested", "none")
    assert_kept_right(app)
    with app.app_context():  # and back
        db.session.execute(
            update(FieldCheck).where(FieldCheck.id == three).values(appeal_id=second)
        )
        db.session.commit()
    assert (state(first), state(second)) == ("received", "requested")
    with app.app_context():  # a bulk UPDATE answers every check at once
        db.session.execute(update(FieldCheck).values(done_at=db.utcnow(), done_by_id=me.id))
        db.session.commit()
    assert (state(first), state(second)) == ("received", "received")
    assert_kept_right(app)
    with app.app_context():  # a bulk DELETE of the first case's checks: none again
        db.session.execute(delete(FieldCheck).where(FieldCheck.appeal_id == first))
        db.session.commit()
    assert (state(first), state(second)) == ("none", "received")
    assert_kept_right(app)
    with app.app_context():  # the case moves on (and its status with its verval counts)
        appeal = db.session.get(Appeal, second)
        appeal_service.transition(appeal, S.DISETUJUI, actor="staff", decision_reason="other")
        db.session.commit()
    assert_kept_right(app)
    with app.app_context():  # deleted with its checks (ON DELETE CASCADE)
        db.session.execute(delete(Appeal).where(Appeal.id == second))
        db.session.commit()
    assert_kept_right(app)
    with app.app_context():  # a repair after a bulk load that bypassed the triggers
        db.session.execute(update(Appeal).values(verval="requested"))
        summary.rebuild(db.session.connection())
        db.session.commit()
    assert_kept_right(app)
