"""The staff dashboard (/staf/dasbor): figures in scope only, charts that need no script.

Cases are written directly as rows (how they got into their state is not the point here),
with explicit filing, due, decision and escalation times, so every expected number below can
be worked out by hand. Kabupaten Bekasi (32.16) is the admin_dinsos' area; Kota Bekasi
(32.75) is next door and must never leak into its figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from bs4 import Tag
from flask import Flask
from sqlalchemy import event, func, select

from portal import db
from portal.appeals.models import Appeal
from portal.appeals.states import AppealStatus
from portal.audit.models import AuditEvent
from portal.auth.models import StaffUser
from portal.review import dashboard
from portal.wilayah import queries as wilayah_queries
from tests.fixtures.factories import make_appeal
from tests.fixtures.staff import StaffFactory
from tests.helpers import Client, Page

S = AppealStatus
URL = "/staf/dasbor"
TARUMAJAYA = "32.16.01.2001"  # Sagara Makmur, Kecamatan Tarumajaya, Kabupaten Bekasi
BABELAN = "32.16.02.1006"  # Bahagia, Kecamatan Babelan, Kabupaten Bekasi
KOTA_BEKASI = "32.75.01.1001"  # Bekasijaya, Kecamatan Bekasi Timur, Kota Bekasi


@dataclass
class Spec:
    desa: str
    status: S
    reason: str = "INC-MAMPU"
    filed_days_ago: float = 2
    due_in_days: float = 12  # negative: past due
    decided_days_ago: float | None = None
    escalated: bool = False


def make_cases(app: Flask, specs: list[Spec]) -> None:
    with app.app_context():
        now = db.utcnow()
        for spec in specs:
            created = now - timedelta(days=spec.filed_days_ago)
            db.session.add(
                make_appeal(
                    reason_code=spec.reason,
                    status=spec.status,
                    region=spec.desa,
                    filer_nik_hmac="f" * 32,
                    filer_kk_hmac="k" * 32,
                    subject_nik_hmac="s" * 32,
                    subject_nik="3216010101800002",
                    subject_kk_hmac="h" * 32,
                    now=created,
                    due_at=now + timedelta(days=spec.due_in_days),
                    decided_at=None
                    if spec.decided_days_ago is None
                    else now - timedelta(days=spec.decided_days_ago),
                    escalated_at=now - timedelta(hours=1) if spec.escalated else None,
                )
            )
        db.session.commit()


# Kabupaten Bekasi: 8 cases. Open 4 (2 overdue, 1 escalated); decided in 2, 10 and 4 days.
BEKASI_CASES = [
    Spec(TARUMAJAYA, S.DITERIMA),
    Spec(TARUMAJAYA, S.DITERIMA, "INC-ASN", filed_days_ago=20, due_in_days=-6, escalated=True),
    Spec(TARUMAJAYA, S.VERIFIKASI, filed_days_ago=16, due_in_days=-2),
    Spec(TARUMAJAYA, S.DISETUJUI, "INC-MENINGGAL", filed_days_ago=10, decided_days_ago=8),
    Spec(TARUMAJAYA, S.DITOLAK, filed_days_ago=20, decided_days_ago=10),
    Spec(BABELAN, S.DITERUSKAN, "EXC-DICORET", filed_days_ago=30, decided_days_ago=26),
    Spec(BABELAN, S.DIBATALKAN, "INC-PINDAH"),
    # decided long ago, but a case past its date only counts as overdue while it is open
    Spec(BABELAN, S.VERIFIKASI, "EXC-DICORET", due_in_days=3),
]
# Kota Bekasi: 3 cases, one overdue and escalated, one decided after 99 days.
KOTA_CASES = [
    Spec(KOTA_BEKASI, S.DITERIMA, "INC-GANDA", filed_days_ago=30, due_in_days=-16, escalated=True),
    Spec(KOTA_BEKASI, S.DITOLAK, "INC-GANDA", filed_days_ago=100, decided_days_ago=1),
    Spec(KOTA_BEKASI, S.VERIFIKASI, "USUL-PROGRAM"),
]


@pytest.fixture
def cases(app: Flask) -> None:
    make_cases(app, BEKASI_CASES + KOTA_CASES)


def signed_in(staff: StaffFactory, role: str, regions: list[str] | None = None) -> Client:
    client = staff.login(staff.create(role, regions))
    return client.choose_language("en")


@pytest.fixture
def admin(staff: StaffFactory) -> Client:
    return signed_in(staff, "admin_dinsos")


@pytest.fixture
def pusat(staff: StaffFactory) -> Client:
    return signed_in(staff, "pusat")


# --- reading the page -----------------------------------------------------------------------


def table(page: Page, caption: str) -> dict[str, list[str]]:
    """The table captioned CAPTION: row header -> the other cells' text."""
    found = page.soup.find("caption", string=caption)
    assert found is not None, f"no table {caption!r}"
    body = found.find_parent("table").find("tbody")
    return {
        row.find("th").get_text(strip=True): [td.get_text(strip=True) for td in row.find_all("td")]
        for row in body.find_all("tr")
    }


def figure(page: Page, label_start: str) -> str:
    for item in page.soup.select(".figure"):
        if item.select_one(".figure__label").get_text(" ", strip=True).startswith(label_start):
            return item.select_one(".figure__number").get_text(strip=True)
    raise AssertionError(f"no figure {label_start!r}")


def db_status_counts(app: Flask, kabupaten: str | None) -> dict[str, int]:
    with app.app_context():
        stmt = select(Appeal.status, func.count()).group_by(Appeal.status)
        if kabupaten:
            stmt = stmt.where(Appeal.kabupaten_code == kabupaten)
        return {str(status): int(n) for status, n in db.session.execute(stmt).all()}


STATUS_TITLES = {
    S.DITERIMA: "Received",
    S.VERIFIKASI: "In review",
    S.DISETUJUI: "Approved",
    S.DITOLAK: "Rejected",
    S.DUPLIKAT: "Duplicate",
    S.DIBATALKAN: "Withdrawn",
    S.DITERUSKAN: "Forwarded to Kemensos",
    S.SELESAI: "Done",
}


# --- admin_dinsos: its kabupaten only -------------------------------------------------------


@pytest.mark.usefixtures("cases")
def test_admin_sees_headline_figures_of_its_kabupaten_only(admin: Client) -> None:
    page = admin.page(URL)
    assert page.h1 == "Dashboard"
    assert "Cases filed in Kabupaten Bekasi." in page
    assert "8 cases in total." in page
    assert figure(page, "open") == "4"
    assert figure(page, "cases overdue") == "2"
    assert figure(page, "case escalated") == "1"
    # decided after 2, 10 and 4 days; Kota Bekasi's 99 days do not count
    assert figure(page, "median days") == "4"


@pytest.mark.usefixtures("cases")
def test_admin_status_table_matches_the_database_with_zeros(admin: Client, app: Flask) -> None:
    rows = table(admin.page(URL), "Cases by state")
    in_db = db_status_counts(app, "32.16")
    assert rows == {STATUS_TITLES[s]: [str(in_db.get(s.value, 0))] for s in AppealStatus}
    assert rows["Received"] == ["2"]
    assert rows["In review"] == ["2"]
    assert rows["Duplicate"] == ["0"]
    assert rows["Done"] == ["0"]


@pytest.mark.usefixtures("cases")
def test_admin_reason_table_counts_its_cases_and_not_the_neighbours(admin: Client) -> None:
    rows = table(admin.page(URL), "Cases by reason code")
    assert rows["INC-MAMPU"] == ["A recipient is clearly well-off", "3"]
    assert rows["INC-ASN"][-1] == "1"
    assert rows["INC-MENINGGAL"][-1] == "1"
    assert rows["INC-PINDAH"][-1] == "1"
    assert rows["EXC-DICORET"][-1] == "2"
    assert rows["INC-GANDA"][-1] == "0"  # only filed in Kota Bekasi
    assert rows["USUL-PROGRAM"][-1] == "0"
    assert sum(int(cells[-1]) for cells in rows.values()) == 8


@pytest.mark.usefixtures("cases")
def test_admin_sees_open_decided_and_overdue_per_kecamatan(admin: Client) -> None:
    page = admin.page(URL)
    assert table(page, "Cases per kecamatan") == {
        "Tarumajaya": ["3", "2", "2"],  # open, overdue, decided
        "Babelan": ["1", "0", "1"],
    }
    assert "Bekasi Timur" not in page
    assert "Kota Bekasi" not in page


def test_admin_median_is_the_middle_of_an_even_number_of_decisions(
    admin: Client, app: Flask
) -> None:
    make_cases(
        app,
        [
            Spec(TARUMAJAYA, S.DITOLAK, filed_days_ago=5, decided_days_ago=4),
            Spec(TARUMAJAYA, S.DISETUJUI, filed_days_ago=5, decided_days_ago=3),
            Spec(KOTA_BEKASI, S.DITOLAK, filed_days_ago=50, decided_days_ago=1),
        ],
    )
    assert figure(admin.page(URL), "median days") == "1.5"
    admin.choose_language("id")
    page = admin.page(URL)
    assert page.lang == "id"
    assert figure(page, "") == "0"  # the first figure: open cases
    assert "1,5" in page.texts(".figure__number")


def test_without_cases_the_page_shows_zeros_and_no_median(admin: Client, app: Flask) -> None:
    make_cases(app, KOTA_CASES)  # next door only
    page = admin.page(URL)
    assert figure(page, "open") == "0"
    assert figure(page, "cases overdue") == "0"
    assert figure(page, "median days to decision: no case decided yet") == "–"
    assert set(map(tuple, table(page, "Cases by state").values())) == {("0",)}
    assert "No case has been filed here yet." in page


@pytest.mark.usefixtures("cases")
def test_overdue_figure_links_to_the_queue_filtered_on_overdue(admin: Client) -> None:
    page = admin.page(URL)
    link = page.soup.select_one(".figure--alert a")
    assert link is not None
    assert link["href"] == "/staf/?overdue=y"
    assert link.select_one(".figure__number").get_text(strip=True) == "2"
    queue = admin.page(link["href"])
    assert len(queue.soup.select("tr.is-overdue")) == 2


# --- pusat: national, per kabupaten/kota ----------------------------------------------------


@pytest.mark.usefixtures("cases")
def test_pusat_sees_national_totals_and_rows_per_kabupaten(pusat: Client, app: Flask) -> None:
    page = pusat.page(URL)
    assert "Cases filed in all of Indonesia." in page
    assert "11 cases in total." in page
    assert figure(page, "open") == "6"
    assert figure(page, "cases overdue") == "3"
    assert figure(page, "cases escalated") == "2"
    assert figure(page, "median days") == "7"  # 2, 4, 10, 99
    in_db = db_status_counts(app, None)
    assert table(page, "Cases by state") == {
        STATUS_TITLES[s]: [str(in_db.get(s.value, 0))] for s in AppealStatus
    }
    assert table(page, "Cases per kabupaten/kota") == {
        "Kabupaten Bekasi": ["4", "2", "3"],
        "Kota Bekasi": ["2", "1", "1"],
    }
    assert table(page, "Cases by reason code")["INC-GANDA"][-1] == "2"
    assert "Cases per kecamatan" not in page


# --- who may see it -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["verifikator", "operator_desa"])
def test_other_roles_are_refused(staff: StaffFactory, role: str) -> None:
    client = signed_in(staff, role)
    assert client.get(URL).status_code == 403


def test_anonymous_visitor_is_sent_to_the_login(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert "/staf/masuk" in response.headers["Location"]


def test_admin_of_another_kabupaten_sees_only_its_own(staff: StaffFactory, app: Flask) -> None:
    make_cases(app, BEKASI_CASES + KOTA_CASES)
    page = signed_in(staff, "admin_dinsos", ["32.75"]).page(URL)
    assert "3 cases in total." in page
    assert table(page, "Cases per kecamatan") == {"Bekasi Timur": ["2", "1", "1"]}
    assert figure(page, "median days") == "99"


# --- the page itself ------------------------------------------------------------------------


@pytest.mark.usefixtures("cases")
def test_charts_are_accessible_svg_without_script_or_inline_style(admin: Client) -> None:
    page = admin.page(URL)
    svgs = page.soup.find_all("svg")
    assert len(svgs) == 4  # state, reason, area, month
    for svg in svgs:
        assert svg["role"] == "img"
        assert svg.get("viewbox")  # html.parser lowercases attribute names
        title = svg.find("title")
        assert isinstance(title, Tag)
        assert title.get_text(strip=True)
        assert svg["aria-labelledby"] == title["id"]
        assert page.soup.find(id=svg["aria-describedby"]).name == "desc"
    status_chart = svgs[0]
    assert status_chart.find("title").get_text() == "Cases by state"
    assert "Received: 2" in status_chart.find("desc").get_text()
    assert [t.get_text() for t in status_chart.select("text.chart__value")] == [
        "2", "2", "1", "1", "0", "1", "1", "0",
    ]  # fmt: skip
    widths = [float(r["width"]) for r in status_chart.select("rect.chart__bar")]
    assert widths[0] == widths[1] == max(widths)  # the largest counts fill the width
    assert widths[2] == pytest.approx(widths[0] / 2)
    assert widths[4] == 0
    assert "<script" not in page.text.lower()
    assert not re.search(r"\son[a-z]+\s*=", page.text)  # no inline event handlers
    assert "style=" not in page.text
    assert "default-src 'self'" in page.response.headers["Content-Security-Policy"]


@pytest.mark.usefixtures("cases")
def test_viewing_the_dashboard_is_audited(admin: Client, app: Flask) -> None:
    admin.page(URL)
    with app.app_context():
        events = list(
            db.session.scalars(select(AuditEvent).where(AuditEvent.action == "view_dashboard"))
        )
    assert len(events) == 1
    assert events[0].role == "admin_dinsos"
    assert events[0].office_code == "32.16"
    assert events[0].staff_id is not None


def test_refused_visit_is_not_audited(staff: StaffFactory, app: Flask) -> None:
    signed_in(staff, "verifikator").get(URL)
    with app.app_context():
        count = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "view_dashboard")
        )
    assert count == 0


def test_the_number_of_queries_does_not_grow_with_the_cases(
    staff: StaffFactory, app: Flask
) -> None:
    officer = staff.create("pusat")

    def statements() -> int:
        engine = app.extensions["db_engine"]
        seen: list[str] = []

        def count(*args: object) -> None:
            seen.append(str(args[2]))

        with app.app_context():
            user = db.session.get(StaffUser, officer.id)
            assert user is not None
            # both counts from cold region caches: they are per process, and which names an
            # earlier test left there must not change the count
            wilayah_queries.clear_cache()
            event.listen(engine, "before_cursor_execute", count)
            try:
                dashboard.summary(user)
            finally:
                event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    make_cases(app, KOTA_CASES)
    few = statements()
    make_cases(app, BEKASI_CASES * 3)
    assert statements() == few <= 8
