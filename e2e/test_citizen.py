"""The citizen's journeys beyond the look-up, as a person does them on a 360 px phone with
JavaScript off, in Bahasa Indonesia, over HTTPS through nginx: a sanggahan about another
household with a phone photo, followed and withdrawn at /lacak; a photo that is too large;
an usulan for a household missing from DTSEN; a form whose session was lost; the language
switch.

Filers are the demo households, one per test (the portal allows 5 cases per filer a day)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from e2e.conftest import Phone
from e2e.journeys import about_another_household, declare_and_send, masked, start_sanggahan
from e2e.stack import Stack
from tests.photos import phone_photo

NOTE_MAMPU = (
    "Rumahnya baru dibangun dua lantai dan keluarga ini punya mobil sejak awal tahun, "
    "tetapi masih tercatat sebagai penerima bansos."
)


def test_sanggahan_about_another_household_with_a_phone_photo_then_withdrawn(
    phone: Phone, stack: Stack, photos: dict[str, Path]
) -> None:
    phone.name = "sanggahan"
    filer, reported = stack.demo["in_scope"], stack.demo["above"]

    start_sanggahan(phone, "Penerima jelas mampu", filer)
    about_another_household(phone, reported["nik"])
    phone.choose("Rumah besar atau bangunannya bagus")
    phone.choose("Mobil, atau beberapa sepeda motor")
    phone.fill("Jelaskan keadaannya", NOTE_MAMPU)
    phone.submit("Lanjutkan", "photos")

    # one photo as the phone's camera took it: 12 MP, 3-5 MB, with GPS in the EXIF
    assert phone.h1() == "Foto"
    phone.page.get_by_label("Tambah foto (tidak wajib)").set_input_files(photos["rumah"])
    phone.submit("Tambah foto", "photo-added", exact=True)
    assert "Foto ditambahkan." in phone.notices()
    added = phone.page.locator(".photo-list__item").all_inner_texts()
    assert len(added) == 1
    # re-encoded for the officers: at most 2048 px, far below the 4.7 MB that was sent
    size = re.search(r"Foto 1: (\d+) × (\d+) piksel, (\d+) KB", added[0])
    assert size, added
    assert max(int(size[1]), int(size[2])) <= 2048
    assert int(size[3]) * 1024 < photos["rumah"].stat().st_size
    phone.submit("Lanjutkan", "contact", exact=True)

    assert phone.h1() == "Bagaimana petugas bisa menghubungi Anda?"
    phone.fill("Nomor HP (tidak wajib)", "0812 3456 7890")
    phone.submit("Lanjutkan", "check")

    assert phone.h1() == "Periksa jawaban Anda sebelum mengirim"
    summary = phone.page.locator(".summary").inner_text()
    for shown in (
        "Penerima jelas mampu",
        f"NIK {masked(filer['nik'])}",
        "Ditemukan di DTSEN",
        "Keluarga lain",
        f"NIK {masked(reported['nik'])}",
        "Rumah besar atau bangunannya bagus",
        "Mobil, atau beberapa sepeda motor",
        NOTE_MAMPU,
        "1 foto",
        "+6281234567890",
    ):
        assert shown in summary, shown
    assert filer["nik"] not in phone.page.content()
    assert reported["nik"] not in phone.page.content()
    ticket = declare_and_send(phone)
    assert "Penerima jelas mampu" in phone.main_text()

    # following it: ticket + the filer's NIK
    phone.follow("Lacak laporan Anda", "track")
    phone.fill("Nomor tiket", ticket)
    phone.fill("NIK Anda", filer["nik"])
    phone.submit("Tampilkan laporan saya", "case")
    assert phone.h1() == "Penerima jelas mampu"
    assert phone.page.locator(".ticket").inner_text().strip() == ticket
    assert phone.page.locator(".status").inner_text().strip() == "Terkirim"

    # withdrawing it
    phone.follow("Tarik laporan ini", "withdraw")
    assert phone.h1() == "Tarik laporan Anda?"
    phone.choose("Saya ingin menarik laporan ini")
    phone.submit("Ya, tarik laporan saya", "withdrawn", exact=True)
    assert phone.page.url.endswith("/lacak/kasus")
    assert "Laporan Anda sudah ditarik." in phone.notices()
    assert phone.page.locator(".status").inner_text().strip() == "Ditarik"
    assert phone.page.get_by_role("link", name="Tarik laporan ini").count() == 0
    assert "Ditarik" in phone.page.locator(".timeline").inner_text()


def test_a_photo_over_5_mb_is_refused_by_name_and_the_way_on_stays_open(
    phone: Phone, stack: Stack, photos: dict[str, Path]
) -> None:
    phone.name = "photo-too-large"
    start_sanggahan(phone, "Penerima bekerja untuk negara", stack.demo["above"])
    about_another_household(phone, stack.demo["partly"]["nik"])
    phone.choose("Saya tahu tempat kerjanya (kantor, satuan kerja, atau perusahaan)")
    phone.fill("Jelaskan keadaannya", "Kepala keluarganya bekerja sebagai staf di kantor BUMD.")
    phone.submit("Lanjutkan", "photos")

    big = photos["besar"]
    phone.page.get_by_label("Tambah foto (tidak wajib)").set_input_files(big)
    phone.submit("Tambah foto", "photo-refused", exact=True)  # 303, then the page says why
    error = phone.page.locator(".field__error").inner_text()
    assert big.name in error
    assert "Ukuran foto lebih dari 5 MB" in error
    assert phone.page.locator(".photo-list__item").count() == 0

    phone.submit("Lanjutkan tanpa foto", "contact")
    assert phone.h1() == "Bagaimana petugas bisa menghubungi Anda?"
    phone.submit("Lanjutkan", "check")
    assert phone.h1() == "Periksa jawaban Anda sebelum mengirim"
    summary = phone.page.locator(".summary").inner_text()
    assert "Tidak ada foto" in summary
    assert "Tanpa kontak: lacak laporan dengan nomor tiketnya" in summary


def test_usulan_for_my_household_that_is_not_in_dtsen(phone: Phone, stack: Stack) -> None:
    phone.name = "usulan"
    filer = stack.demo["unknown"]  # valid numbers, in no snapshot
    phone.visit("/", "home")
    phone.follow("Ajukan sanggahan atau usulan", "start")
    phone.follow("Ajukan usulan", "start-usulan")
    phone.follow("Mulai", "reason", exact=True)
    assert phone.h1() == "Apa yang ingin Anda usulkan?"
    phone.choose("Keluarga belum terdata di DTSEN", exact=False)
    phone.submit("Lanjutkan", "filer")
    phone.fill("NIK Anda", filer["nik"])
    phone.fill("No. KK Anda", filer["no_kk"])
    phone.submit("Lanjutkan", "household")

    # not in DTSEN, and that is why they propose it: the form goes on. The household starts
    # as the filer's own family card, and its head can be "me": nothing is typed twice.
    assert phone.h1() == "Data keluarga"
    kk = filer["no_kk"]
    assert f"{kk[:4]} •••• •••• {kk[-4:]}" in phone.main_text()
    phone.choose("Saya sendiri, yang mengajukan", group="Siapa kepala keluarganya?", exact=False)
    phone.fill("Alamat", "KP. PULO KAPUK RT 003/RW 007 NO. 21")
    phone.submit("Lanjutkan", "desa")

    assert phone.h1() == "Tempat tinggal keluarga"
    phone.fill("Cari desa atau kelurahan berdasarkan nama", "Samudra")
    phone.submit("Cari", "desa-search", exact=True)
    assert phone.h1() == "Tempat tinggal keluarga"
    assert "desa ditemukan di Kabupaten Bekasi" in phone.main_text()
    desa = "Samudra Jaya, Tarumajaya"
    phone.choose(desa, exact=False)
    phone.submit("Lanjutkan", "programs")

    assert phone.h1() == "Program"
    phone.choose("PKH (Program Keluarga Harapan)", exact=False)
    phone.choose("BPNT / Sembako", exact=False)
    phone.submit("Lanjutkan", "conditions")

    assert phone.h1() == "Keadaan keluarga"
    for question, answer in (
        ("Pekerjaan utama kepala keluarga", "Buruh lepas atau harian"),
        ("Penghasilan keluarga per bulan", "Kurang dari Rp 1 juta"),
        ("Jenis lantai utama rumah", "Tanah"),
        ("Jenis dinding utama rumah", "Bambu, rumbia, atau papan"),
        ("Sumber utama air minum", "Sumur atau mata air tidak terlindung, sungai, atau air hujan"),
        ("Listrik", "PLN 450 VA"),
        ("WC", "WC bersama atau umum"),
    ):
        phone.choose(answer, group=question)
    phone.submit("Lanjutkan", "photos")
    phone.submit("Lanjutkan tanpa foto", "contact")
    phone.fill("Nomor HP (tidak wajib)", "0857-1122-3344")
    phone.submit("Lanjutkan", "check")

    assert phone.h1() == "Periksa jawaban Anda sebelum mengirim"
    summary = phone.page.locator(".summary").inner_text()
    for shown in (
        "Keluarga belum terdata di DTSEN",
        "Tidak ditemukan di DTSEN: petugas akan mempertimbangkan hal ini",
        f"No. KK {masked(filer['no_kk'])}",
        "KP. PULO KAPUK RT 003/RW 007 NO. 21",
        desa,
        "PKH (Program Keluarga Harapan)",
        "BPNT / Sembako",
        "Jenis lantai utama rumah: Tanah",
        "WC: WC bersama atau umum",
        "Tidak ada foto",
        "+6285711223344",
    ):
        assert shown in summary, shown
    declare_and_send(phone)
    assert "Keluarga belum terdata di DTSEN" in phone.main_text()


def test_a_form_whose_session_was_lost_is_shown_again_kindly(phone: Phone, stack: Stack) -> None:
    phone.name = "session-lost"
    pair = stack.demo["receiving"]
    phone.visit("/", "form")
    phone.fill("NIK", pair["nik"])
    phone.fill("No. KK", pair["no_kk"])
    # the form stayed open for hours: the session (and the token it checks) is gone
    phone.context.clear_cookies()
    phone.submit("Cek status saya", "expired")  # 303, then the form again, kindly

    assert phone.h1() == "Cek status DTSEN Anda"
    assert "Demi keamanan Anda, formulir hanya bisa dikirim" in phone.notices()
    assert pair["nik"] not in phone.page.content()

    phone.fill("NIK", pair["nik"])
    phone.fill("No. KK", pair["no_kk"])
    phone.submit("Cek status saya", "result")
    assert "Keluarga Anda terdaftar di DTSEN dan menerima bansos" in phone.h1()


def test_the_language_switch_holds_for_the_session(phone: Phone) -> None:
    phone.name = "language"
    phone.visit("/lacak", "track-id")
    assert phone.h1() == "Lacak laporan Anda"

    phone.follow("English", "track-en")
    assert phone.page.locator("html").get_attribute("lang") == "en"
    assert phone.h1() == "Track your case"
    assert "?lang=en" in phone.page.url

    # other pages, reached without ?lang, stay in English
    phone.follow("Check status", "home-en")
    assert phone.h1() == "Check your DTSEN status"
    phone.follow("File a sanggahan or usulan", "start-en")
    assert phone.h1() == "Correct or propose DTSEN data"
    assert "lang=" not in phone.page.url

    phone.follow("Bahasa Indonesia", "start-id")
    assert phone.page.locator("html").get_attribute("lang") == "id"
    assert phone.h1() == "Perbaiki atau usulkan data DTSEN"


def test_with_javascript_a_phone_photo_is_shrunk_in_the_browser_before_it_is_sent(
    phone_factory: Any, stack: Stack, photos: dict[str, Path], tmp_path: Path
) -> None:
    """The one journey with scripts on: static/js/photo-shrink.js redraws the 4.7 MB photo
    at 2048 px before sending, so a slow connection carries a fraction of it; a small photo,
    or no photo at all, goes at the first tap (the script once swallowed that tap)."""
    phone = phone_factory("photo-shrink", scripts=True)
    start_sanggahan(phone, "Penerima jelas mampu", stack.demo["receiving"])
    about_another_household(phone, stack.demo["removed"]["nik"])
    phone.choose("Rumah besar atau bangunannya bagus")
    phone.fill("Jelaskan keadaannya", NOTE_MAMPU)
    phone.submit("Lanjutkan", "photos")
    sent: list[int] = []
    phone.page.on(
        "request",
        lambda r: (
            sent.append(int(r.header_value("content-length") or 0))
            if r.method == "POST" and r.url.endswith("/sanggahan/foto")
            else None
        ),
    )

    phone.page.get_by_label("Tambah foto (tidak wajib)").set_input_files(photos["rumah"])
    phone.submit("Tambah foto", "photo-added", exact=True)

    assert "Foto ditambahkan." in phone.notices()
    assert len(sent) == 1
    original = photos["rumah"].stat().st_size
    assert sent[0] < original / 3, f"sent {sent[0]} bytes of a {original}-byte photo"
    assert len(phone.page.locator(".photo-list__item").all_inner_texts()) == 1

    # a photo too small to redraw goes as it is, on the first tap (phone.submit waits for
    # the page: a tap the script swallowed would time out there)
    small = tmp_path / "IMG_20260714_101900.jpg"
    small.write_bytes(phone_photo(4, (800, 600), quality=80))
    assert small.stat().st_size < 1024 * 1024
    phone.page.get_by_label("Tambah foto (tidak wajib)").set_input_files(small)
    phone.submit("Tambah foto", "small-photo-added", exact=True)
    assert "Foto ditambahkan." in phone.notices()
    assert len(sent) == 2
    assert len(phone.page.locator(".photo-list__item").all_inner_texts()) == 2

    # and with nothing chosen, Continue goes on at the first tap
    phone.submit("Lanjutkan", "contact", exact=True)
    assert len(sent) == 3
    assert phone.page.locator("[data-shrink-status]").count() == 0  # a new page, no wait note
