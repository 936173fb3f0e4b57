"""/statistik through HTTP: real imports of small snapshots (tests.fixtures.factories), real
cases (tests/review fixtures), the pages and the CSV a visitor reads."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import db
from portal.appeals.states import AppealStatus
from portal.dataimport import demo
from portal.statistik import queries
from portal.statistik.models import StatCaseCount, StatCell
from tests.fixtures.factories import Factory
from tests.fixtures.staff import StaffFactory
from tests.helpers import Client, Page
from tests.review.conftest import DECISION, CaseFactory, cases, post, sign_in  # noqa: F401
from tests.statistik.test_suppression import determined
from tests.test_security_headers import assert_security_headers

S = AppealStatus
KAB = "32.16"
KEC = "32.16.01"  # Tarumajaya
DESA_A = "32.16.01.2001"  # Sagara Makmur
DESA_B = "32.16.01.2002"  # Segarajaya
DESA_C = "32.16.01.2003"
BANDS = ["1", "2", "3", "4", "5", "6-10"]


def houses(factory: Factory, desa: str, desil: int, count: int) -> list:
    return [
        factory.household(desil=desil, desa=desa, programs=("BPNT",)) for _house in range(count)
    ]


def publish_q3(factory: Factory, b_desil1: int = 3) -> None:
    """Desa A: 10 households in desil 1, 20 in desil 3; desa B: B_DESIL1 in desil 1 and 15
    in desil 3; desa C: 8 in desil 7."""
    factory.publish(
        "2026Q3",
        houses(factory, DESA_A, 1, 10)
        + houses(factory, DESA_A, 3, 20)
        + houses(factory, DESA_B, 1, b_desil1)
        + houses(factory, DESA_B, 3, 15)
        + houses(factory, DESA_C, 7, 8),
    )


def band_table(page: Page) -> dict[str, list[str]]:
    rows = {}
    for tr in page.soup.select("#t-desil tbody tr"):
        cells = [c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])]
        rows[cells[0]] = cells[1:]
    return rows


def children_table(page: Page) -> dict[str, list[str]]:
    rows = {}
    for tr in page.soup.select("#t-children tbody tr"):
        cells = [c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])]
        link = tr.find("a")
        rows[link["href"].split("?")[0].rsplit("/", 1)[1] if link else cells[0]] = cells[1:]
    return rows


def english(client: Client) -> Client:
    return client.choose_language("en")


def test_the_bekasi_page_shows_charts_tables_and_hides_small_counts(
    client: Client, factory: Factory
) -> None:
    publish_q3(factory)
    english(client)
    page = client.page(f"/statistik/{KEC}?periode=2026Q3")
    assert page.h1 == "Tarumajaya"
    table = band_table(page)
    assert table["1"][:2] == ["13", "26"]  # 10 + 3 households, 2 people each
    assert table["Total"][:2] == ["56", "112"]
    svgs = page.soup.select("svg[role=img]")
    assert len(svgs) == 4
    for svg in svgs:
        assert svg.title.get_text(strip=True)
        assert page.soup.find(id=svg["aria-describedby"]).name == "table"
    desa_b = client.page(f"/statistik/{DESA_B}?periode=2026Q3")
    assert band_table(desa_b)["1"][0] == "<5"
    assert "<5" in desa_b.soup.select_one("#c-desil-t").find_parent("svg").get_text()
    # the kecamatan's children link to the desa pages, the breadcrumb back up
    assert set(children_table(page)) == {DESA_A, DESA_B, DESA_C}
    crumbs = [a["href"].split("?")[0] for a in desa_b.soup.select(".crumbs a")]
    assert crumbs == ["/statistik", f"/statistik/{KAB}", f"/statistik/{KEC}"]
    # cases count by the DTSEN period current when filed, which the heading says, not by
    # the calendar quarter of filing (a case filed in December under the Q3 data is there)
    heading = page.soup.select_one("#s-cases").get_text(" ", strip=True)
    assert heading.startswith("Sanggahan and usulan filed while the data of Q3 2026")
    assert heading.endswith("was current")
    assert "filed in that period" not in page.soup.select_one(".lead").get_text()


def scraped_grid(client: Client, period: str) -> tuple[dict, set]:
    """The kecamatan x band table as a visitor can rebuild it from the kecamatan page and
    each desa page: values of the shown cells, and the cells not shown."""
    kec = client.page(f"/statistik/{KEC}?periode={period}")
    known: dict = {}
    hidden: set = set()
    pages = {KEC: band_table(kec)}
    for code in children_table(kec):
        pages[code] = band_table(client.page(f"/statistik/{code}?periode={period}"))
    for code, table in pages.items():
        for band, (households, *_rest) in table.items():
            col = "T" if band == "Total" else band
            row = "T" if code == KEC else code
            if households.replace(".", "").replace(",", "").isdigit():
                known[(row, col)] = int(households.replace(",", "").replace(".", ""))
            else:
                hidden.add((row, col))
    return known, hidden


def test_no_hidden_desa_count_follows_from_the_kecamatan_and_desa_pages(
    client: Client, factory: Factory
) -> None:
    publish_q3(factory)
    english(client)
    known, hidden = scraped_grid(client, "2026Q3")
    assert (DESA_B, "1") in hidden  # the 3 households: "<5"
    assert len(hidden) >= 4  # and a rectangle of partners, never the 3 alone
    from portal.statistik.suppression import Table

    rows = sorted({r for r, _c in known} | {r for r, _c in hidden} - {"T"}) + ["T"]
    table = Table(rows, [*BANDS, "T"], {(r, c): (r, c) for r in rows for c in [*BANDS, "T"]})
    assert not determined(table, hidden)
    # without the partners the 3 would be the kecamatan's 13 minus desa A's 10
    partners = {h for h in hidden if h != (DESA_B, "1")}
    assert determined(table, hidden - partners) == {(DESA_B, "1")}


def test_the_change_of_a_count_hidden_in_either_period_is_hidden(
    client: Client, factory: Factory
) -> None:
    factory.publish(
        "2026Q2",
        houses(factory, DESA_A, 1, 10)
        + houses(factory, DESA_A, 3, 20)
        + houses(factory, DESA_B, 1, 6)
        + houses(factory, DESA_B, 3, 15),
    )
    publish_q3(factory, b_desil1=3)
    english(client)
    q2 = band_table(client.page(f"/statistik/{DESA_B}?periode=2026Q2"))
    q3 = band_table(client.page(f"/statistik/{DESA_B}?periode=2026Q3"))
    assert q2["1"][0] == "6"
    assert q3["1"][0] == "<5"
    assert q3["1"][2] == "*"  # -3 would give the 3 away from the 6 of 2026Q2
    kec = band_table(client.page(f"/statistik/{KEC}?periode=2026Q3"))
    assert kec["1"][2] == "-3"  # 13 against 16: both shown
    assert kec["6-10"][2] == "+8"


@pytest.mark.parametrize(
    "url",
    [
        "/statistik/32.16?periode=2019Q1",  # a period not published
        "/statistik/32.16?periode=2026Q9",  # not a period
        "/statistik/32.16?periode=%27%3B--",
        "/statistik/99.99",  # no such region
        "/statistik/32.75",  # a real kabupaten/kota without data
        "/statistik/32",  # a province: not a page of its own
        "/statistik/abc",
        "/statistik/32.16.01.2001.1",
        "/statistik/32.16/data.csv?periode=2019Q1",
        "/statistik?periode=2019Q1",
    ],
)
def test_an_unknown_region_or_period_is_a_translated_404(
    client: Client, factory: Factory, url: str
) -> None:
    publish_q3(factory)
    page = client.page(url, status=404)
    assert page.h1 == "Tidak ada statistik di sini"
    english(client)
    assert client.page(url, status=404).h1 == "No statistics here"


def test_the_csv_has_the_numbers_of_the_tables_with_the_same_suppression(
    client: Client, factory: Factory
) -> None:
    publish_q3(factory)
    english(client)
    for code in (KEC, DESA_B):
        page = client.page(f"/statistik/{code}?periode=2026Q3")
        link = page.soup.find("a", string="Download these numbers (CSV)")["href"]
        response = client.get(link)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="statistik-{code}-2026Q3.csv"'
        )
        text = response.get_data().decode("utf-8")
        assert text.startswith("\ufeff")
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        from_csv = {
            r["kategori"]: r["nilai"]
            for r in rows
            if r["kode_wilayah"] == code and r["ukuran"] == "rumah_tangga"
        }
        people = {
            r["kategori"]: r["nilai"]
            for r in rows
            if r["kode_wilayah"] == code and r["ukuran"] == "jiwa"
        }
        table = band_table(page)
        for band in BANDS:
            assert from_csv[band] == table[band][0].replace(",", "")
            assert people[band] == table[band][1].replace(",", "")
        assert from_csv["total"] == table["Total"][0].replace(",", "")
        children = children_table(page)
        for child, cells in children.items():
            [row] = [
                r for r in rows if r["kode_wilayah"] == child and r["ukuran"] == "rumah_tangga"
            ]
            assert row["nilai"] == cells[0].replace(",", "")
    b_rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"/statistik/{DESA_B}/data.csv").get_data(as_text=True))
        )
    )
    households = {
        r["nilai"] for r in b_rows if (r["kategori"], r["ukuran"]) == ("1", "rumah_tangga")
    }
    assert households == {"<5"}


def test_the_demo_bekasi_page_is_small_public_and_cacheable(
    app: Flask, client: Client, tmp_path
) -> None:
    with app.app_context():
        demo.load(tmp_path)
    response = client.get("/statistik/32.16")
    assert response.status_code == 200
    assert len(response.get_data()) < 30 * 1024, len(response.get_data())
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert "Set-Cookie" not in response.headers
    assert_security_headers(response)
    page = Page(response).check()
    assert not page.soup.find_all(style=True)
    assert not page.soup.find_all(["script", "style"])
    assert page.h1 == "Kabupaten Bekasi"
    assert len(children_table(page)) > 10  # kecamatan of Bekasi
    # nothing personal: no name of the demo's households
    for name in ("SITI", "AHMAD", "BUDI"):
        assert name not in page.text
    index = client.page("/statistik")
    assert index.soup.find("a", string="Kabupaten Bekasi")
    home = client.page("/")
    assert home.soup.find("a", href="/statistik")


def stat_cells(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(StatCell)) or 0)


def test_the_counts_follow_each_import_and_leave_with_a_pruned_period(
    app: Flask, client: Client, factory: Factory
) -> None:
    factory.publish("2026Q3", houses(factory, DESA_A, 3, 6))
    english(client)
    assert band_table(client.page(f"/statistik/{DESA_A}"))["3"][0] == "6"
    factory.publish("2026Q3", houses(factory, DESA_A, 3, 9))  # a new file for the period
    assert band_table(client.page(f"/statistik/{DESA_A}"))["3"][0] == "9"
    app.config["SNAPSHOT_KEEP_PERIODS"] = 2
    for period in ("2026Q4", "2027Q1"):
        factory.publish(period, houses(factory, DESA_A, 3, 7))
    client.page(f"/statistik/{DESA_A}?periode=2026Q3", status=404)
    with app.app_context():
        periods = set(db.session.scalars(select(StatCell.snapshot_id).distinct()))
        assert len(periods) == 2  # the pruned period's rows went with its snapshot


def test_the_case_counts_follow_a_decision(
    app: Flask,
    client: Client,
    factory: Factory,
    cases: CaseFactory,  # noqa: F811
    staff: StaffFactory,
    sign_in: Callable,  # noqa: F811
) -> None:
    publish_q3(factory)
    me = staff.create("verifikator")
    made = [cases.make(status=S.VERIFIKASI, assigned_to=me.id) for _case in range(6)]
    for _case in range(5):
        cases.make(status=S.DITOLAK, decided_by=me.id, reason="INC-ASN")
    english(client)
    queries.clear_cache()
    page = client.page(f"/statistik/{KAB}?periode=2026Q3")
    outcomes = {
        tr.th.get_text(strip=True): tr.td.get_text(strip=True)
        for tr in page.soup.select("#t-outcome tbody tr")
    }
    assert (outcomes["Still open"], outcomes["Rejected"]) == ("6", "5")
    assert "Median time to a decision: 2 days." in page
    assert "Decided within the promised 14 days: 100%." in page
    officer = sign_in(me)
    decided = post(officer, f"/staf/kasus/{made[0].id}/putuskan", DECISION)
    assert decided.status == 302
    with app.app_context():
        rejected = db.session.scalar(
            select(func.sum(StatCaseCount.n)).where(StatCaseCount.outcome == "rejected")
        )
        assert rejected == 6
    queries.clear_cache()
    page = client.page(f"/statistik/{KAB}?periode=2026Q3")
    outcomes = {
        tr.th.get_text(strip=True): tr.td.get_text(strip=True)
        for tr in page.soup.select("#t-outcome tbody tr")
    }
    assert (outcomes["Still open"], outcomes["Rejected"]) == ("5", "6")
    reasons = {
        tr.th.get_text(" ", strip=True).split()[0]: tr.td.get_text(strip=True)
        for tr in page.soup.select("#t-reason tbody tr")
    }
    assert reasons["INC-ASN"] == "5"
    assert reasons["INC-MAMPU"] == "6"


def test_the_refresh_command_recomputes_what_a_manual_change_broke(
    app: Flask,
    factory: Factory,
    runner,
    cases: CaseFactory,  # noqa: F811
) -> None:
    publish_q3(factory)
    cases.make(status=S.DITERIMA)
    with app.app_context():
        before = db.session.execute(
            select(
                StatCell.region_code,
                StatCell.measure,
                StatCell.category,
                StatCell.value,
                StatCell.mark,
            )
        ).all()
        db.session.execute(StatCell.__table__.update().values(value=0, mark=0))
        db.session.execute(StatCaseCount.__table__.delete())
        db.session.commit()
    result = runner.invoke(args=["statistik", "refresh"])
    assert result.exit_code == 0, result.output
    assert "1 published snapshot(s)" in result.output
    with app.app_context():
        after = db.session.execute(
            select(
                StatCell.region_code,
                StatCell.measure,
                StatCell.category,
                StatCell.value,
                StatCell.mark,
            )
        ).all()
        assert sorted(after) == sorted(before)
        assert db.session.scalar(select(func.sum(StatCaseCount.n))) == 1


def test_the_public_statistics_and_help_pages_ask_outside_a_transaction(
    app: Flask, client: Client, factory: Factory
) -> None:
    """These pages only read: each of their questions runs in autocommit, so on PostgreSQL
    no BEGIN goes before them and no ROLLBACK after (two round trips a page; sqlite3 begins
    only before a write, so there the check is weaker)."""
    from tests.fixtures.db import statements_seen

    publish_q3(factory)
    for url in ("/statistik", f"/statistik/{KAB}", f"/statistik/{DESA_A}/data.csv", "/cara-lain"):
        with statements_seen(app) as seen:
            assert client.get(url).status_code == 200, url
        assert seen, url
        assert all(s.kind == "SELECT" and not s.inside for s in seen), (url, seen)
