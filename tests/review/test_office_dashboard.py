"""Who is behind, where, since when: the dashboard's tables per officer, per desa and per
month, and the printable monthly summary for the Kepala Dinas (/staf/dasbor/cetak).

Kabupaten Bekasi (32.16) is the admin_dinsos' area; a Kota Bekasi (32.75) case is made in
every test and must never appear in a figure (the scope mutation)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update

from portal import db
from portal.appeals.models import Appeal
from portal.appeals.states import AppealStatus
from portal.auth.models import StaffUser
from portal.review import dashboard
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client
from tests.review.conftest import (
    BABELAN_DESA,
    DESA,
    KOTA_BEKASI_DESA,
    OTHER_DESA,
    Case,
    CaseFactory,
    audit,
    get,
)

S = AppealStatus
URL = "/staf/dasbor"
PRINT = "/staf/dasbor/cetak"
SignIn = Callable[[Officer], Client]


def set_times(app: Flask, case: Case, **values: object) -> None:
    with app.app_context():
        db.session.execute(update(Appeal).where(Appeal.id == case.id).values(**values))
        db.session.commit()


def rows(page: object, table: str) -> list[list[str]]:
    soup = page.soup  # type: ignore[attr-defined]
    return [
        [cell.get_text(" ", strip=True) for cell in tr.find_all(["th", "td"])]
        for tr in soup.select(f"table.{table} tbody tr")
    ]


def world(app: Flask, staff: StaffFactory, cases: CaseFactory) -> dict[str, object]:
    ani = staff.create("verifikator")
    budi = staff.create("verifikator")
    kota = staff.create("verifikator", ["32.75"])
    now = db.utcnow()
    late = cases.make(status=S.VERIFIKASI, assigned_to=ani.id, due_in=timedelta(days=-3))
    cases.make(status=S.VERIFIKASI, assigned_to=ani.id)
    cases.make(status=S.VERIFIKASI, assigned_to=budi.id, desa=BABELAN_DESA)
    cases.make(status=S.DITERIMA)  # nobody holds it
    decided = cases.make(status=S.DITOLAK, assigned_to=budi.id, decided_by=budi.id)
    set_times(app, decided, decided_at=dashboard.month_start(now) + timedelta(seconds=1))
    set_times(app, late, created_at=now - timedelta(days=40))
    cases.make(desa=KOTA_BEKASI_DESA, status=S.VERIFIKASI, assigned_to=kota.id)
    return {"ani": ani, "budi": budi, "kota": kota, "now": now}


def test_per_officer_open_overdue_oldest_and_decided_this_month_in_scope_only(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: SignIn
) -> None:
    w = world(app, staff, cases)
    page = get(sign_in(staff.create("admin_dinsos")), URL)
    assert page.status == 200
    table = rows(page, "table--officers")
    # Officer, open, overdue, oldest open since, decided this month
    by_name = {row[0]: row[1:] for row in table}
    assert set(by_name) == {"Officer 1", "Officer 2", "Not taken by anyone yet"}
    assert by_name["Officer 1"][:2] == ["2", "1"]
    assert by_name["Officer 1"][3] == "0"
    assert by_name["Officer 2"][:2] == ["1", "0"]
    assert by_name["Officer 2"][3] == "1"
    assert by_name["Not taken by anyone yet"][:2] == ["1", "0"]
    oldest = (w["now"] - timedelta(days=40)).year  # type: ignore[operator]
    assert str(oldest) in by_name["Officer 1"][2]
    assert table[0][0] == "Officer 1"  # the most overdue first
    assert "Officer 3" not in page.text  # Kota Bekasi's officer


def test_per_desa_and_per_month_in_scope_only(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: SignIn
) -> None:
    w = world(app, staff, cases)
    page = get(sign_in(staff.create("admin_dinsos")), URL)
    desa = rows(page, "table--desa")
    assert [r[1:3] for r in desa] == [["3", "1"], ["1", "0"]]  # Sagara Makmur first (overdue)
    assert desa[0][0].startswith("Sagara Makmur")
    assert all("Bekasijaya" not in r[0] for r in desa)
    months = dashboard.months_back(w["now"], 12)  # type: ignore[arg-type]
    assert len(months) == 12
    assert months[-1] == w["now"].strftime("%Y-%m")  # type: ignore[attr-defined]
    assert "chart-month" in page.text  # the trend chart, beside its table
    with app.app_context():
        admin = db.session.scalars(
            select(StaffUser).where(StaffUser.role == "admin_dinsos")
        ).first()
        assert admin is not None
        trend = {m.month: m for m in dashboard.by_month(admin, w["now"])}  # type: ignore[arg-type]
    assert list(trend) == months
    # the 5 Bekasi cases (one filed 40 days ago), not Kota Bekasi's; one decided this month
    assert sum(m.filed for m in trend.values()) == 5
    assert trend[months[-1]].decided == 1


def test_officer_and_desa_tables_only_for_a_kabupaten(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: SignIn
) -> None:
    world(app, staff, cases)
    page = get(sign_in(staff.create("pusat")), URL)
    assert page.status == 200
    assert not page.soup.select("table.table--officers")
    assert not page.soup.select("table.table--desa")


def test_the_printable_summary_is_a4_without_script_for_the_kabupaten(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: SignIn
) -> None:
    w = world(app, staff, cases)
    browser = sign_in(staff.create("admin_dinsos"))
    month = w["now"].strftime("%Y-%m")  # type: ignore[attr-defined]
    page = get(browser, f"{PRINT}?bulan={month}")
    assert page.status == 200
    assert "Kabupaten Bekasi" in page.text or "Bekasi" in page.texts(".print-summary__office")[0]
    css = [link["href"] for link in page.soup.find_all("link", rel="stylesheet")]
    assert any("summary-print" in str(href) for href in css)
    assert "<script" not in page.text.lower()
    assert not page.soup.select(".site-nav")  # no navigation on paper
    figures = {
        r[0]: r[1] for r in (row for row in rows(page, "print-summary__figures") if len(row) == 2)
    }
    assert figures["Open cases"] == "4"  # Kota Bekasi's not counted
    assert figures["of which overdue"] == "1"
    assert figures["Cases decided"] == "1"
    assert figures["of which rejected"] == "1"
    assert [e.after for e in audit(app, "view_month_summary")] == [
        {"scope": "32.16", "month": month}
    ]
    css_file = browser.get(str(css[-1]))
    try:
        assert b"size: A4" in css_file.get_data()
    finally:
        css_file.close()


def test_the_printable_summary_refuses_bad_months_and_other_roles(
    staff: StaffFactory, sign_in: SignIn
) -> None:
    admin = sign_in(staff.create("admin_dinsos"))
    for bad in ("2026-13", "26-01", "2026-1", "x" * 500, "2999-01"):
        assert admin.get(f"{PRINT}?bulan={bad}").status_code == 400
    for role in ("verifikator", "operator_desa"):
        assert sign_in(staff.create(role)).get(PRINT).status_code == 403


def test_cases_due_earlier_today_are_overdue_and_later_today_not(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: SignIn
) -> None:
    """Overdue is whole days before today from the maintained counts plus today's part from
    the cases: a case due a minute ago counts, one due in a minute does not (at any hour)."""
    ani = staff.create("verifikator")
    cases.make(status=S.VERIFIKASI, assigned_to=ani.id, due_in=timedelta(minutes=-1))
    cases.make(status=S.VERIFIKASI, assigned_to=ani.id, due_in=timedelta(minutes=1))
    cases.make(desa=KOTA_BEKASI_DESA, status=S.VERIFIKASI, due_in=timedelta(minutes=-1))
    page = get(sign_in(staff.create("admin_dinsos")), URL)
    officers = {row[0]: row[1:] for row in rows(page, "table--officers")}
    assert officers["Officer 1"][:2] == ["2", "1"]
    assert [r[1:3] for r in rows(page, "table--desa")] == [["2", "1"]]


def test_today_s_part_is_counted_once_for_the_areas_the_officers_and_the_desa(
    app: Flask, staff: StaffFactory, cases: CaseFactory
) -> None:
    """The three tables share one count of the cases due today: each adds it up by its own
    column (kecamatan, officer, desa), several cases of one value each counted."""
    ani = staff.create("verifikator")
    admin = staff.create("admin_dinsos")
    minute = timedelta(minutes=1)
    cases.make(status=S.VERIFIKASI, assigned_to=ani.id, due_in=-minute)
    cases.make(status=S.VERIFIKASI, assigned_to=ani.id, due_in=minute)  # not yet
    cases.make(status=S.VERIFIKASI, assigned_to=ani.id, desa=OTHER_DESA, due_in=-minute)
    cases.make(status=S.DITERIMA, desa=BABELAN_DESA, due_in=-minute)  # nobody holds it
    now = db.utcnow()
    with app.app_context():
        user = db.session.get(StaffUser, admin.id)
        assert user is not None
        areas = {a.code: (a.open, a.overdue) for a in dashboard.by_area(user, now)}
        officers = {o.id: (o.open, o.overdue) for o in dashboard.by_officer(user, now)}
        desa = {d.code: (d.open, d.overdue) for d in dashboard.by_desa(user, now)}
    assert areas == {"32.16.01": (3, 2), "32.16.02": (1, 1)}
    assert officers == {ani.id: (3, 2), None: (1, 1)}
    assert desa == {DESA: (2, 1), OTHER_DESA: (1, 1), BABELAN_DESA: (1, 1)}


def test_the_oldest_open_case_of_an_officer_and_of_a_desa_whatever_its_status(
    app: Flask, staff: StaffFactory, cases: CaseFactory
) -> None:
    ani = staff.create("verifikator")
    admin = staff.create("admin_dinsos")
    now = db.utcnow()
    old = cases.make(status=S.DITERIMA, assigned_to=ani.id, desa=BABELAN_DESA)
    newer = cases.make(status=S.VERIFIKASI, assigned_to=ani.id, desa=BABELAN_DESA)
    done = cases.make(status=S.DITOLAK, assigned_to=ani.id, desa=BABELAN_DESA)
    set_times(app, old, created_at=now - timedelta(days=40))
    set_times(app, newer, created_at=now - timedelta(days=10))
    set_times(app, done, created_at=now - timedelta(days=90))  # decided: not open
    with app.app_context():
        user = db.session.get(StaffUser, admin.id)
        assert user is not None
        officer = next(o for o in dashboard.by_officer(user, now) if o.id == ani.id)
        desa = next(d for d in dashboard.by_desa(user, now) if d.code == BABELAN_DESA)
    for oldest in (officer.oldest, desa.oldest):
        assert oldest is not None
        assert abs(oldest - (now - timedelta(days=40))) < timedelta(seconds=1)
    assert (officer.open, desa.open) == (2, 2)
