"""The public statistics on a 360 px phone with JavaScript off, in Bahasa Indonesia: from the
home page's footer to Kabupaten Bekasi (the demo data), its charts and the tables beside
them, down to a kecamatan and a desa, another period, and the CSV (axe runs on every page)."""

from __future__ import annotations

from e2e.conftest import Phone
from e2e.stack import Stack


def test_statistik_for_bekasi_at_phone_size(phone: Phone, stack: Stack) -> None:
    phone.name = "statistik"
    phone.visit("/", "home")
    phone.follow("Statistik", "statistik", exact=True)
    assert phone.h1() == "Statistik DTSEN"
    phone.follow("Kabupaten Bekasi", "statistik-bekasi", exact=True)
    assert phone.h1() == "Kabupaten Bekasi"
    page = phone.page
    charts = page.locator("svg[role=img]")
    assert charts.count() == 4
    for i in range(4):
        chart = charts.nth(i)
        assert chart.is_visible()
        box = chart.bounding_box()
        assert box is not None
        assert box["width"] <= 360
        table_id = chart.get_attribute("aria-describedby")
        assert page.locator(f"table#{table_id}").is_visible()
    desil = page.locator("#t-desil tbody tr").all_inner_texts()
    assert desil[0].startswith("1")
    assert desil[-1].startswith("Jumlah")
    assert page.locator("#t-children tbody tr").count() > 10  # the kecamatan of Bekasi

    # down to a kecamatan and one of its desa: small counts are "<5"
    phone.follow("Tarumajaya", "statistik-kecamatan", exact=True)
    assert phone.h1() == "Tarumajaya"
    first_desa = page.locator("#t-children tbody a").first.inner_text()
    phone.follow(first_desa, "statistik-desa", exact=True)
    assert "<5" in page.locator("#t-desil").inner_text()
    assert page.locator("nav .crumbs a").all_inner_texts()[-1] == "Tarumajaya"

    # the period chooser: a GET form
    phone.select("Periode", "Triwulan II 2026")
    phone.submit("Tampilkan", "statistik-q2", form="main form")
    assert "periode=2026Q2" in page.url
    assert "Triwulan II 2026" in phone.main_text()

    # the CSV of the same numbers
    with page.expect_download() as download:
        page.get_by_role("link", name="Unduh angka-angka ini (CSV)").click()
    assert download.value.suggested_filename.startswith("statistik-32.16.01.")
