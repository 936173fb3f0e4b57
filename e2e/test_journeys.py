"""Issue 10's journeys, as a person does them on a 360 px phone with JavaScript off, in
Bahasa Indonesia, over HTTPS through nginx: mistakes on purpose, Back, refresh, "Ubah" and the
language switch, and no NIK or No. KK typed twice (``Phone.typed_once``).

Every page passes through ``Phone.check_page`` (screenshot, no number in the URL, no sideways
scroll, axe-core: 0 violations)."""

from __future__ import annotations

from e2e.conftest import Phone
from e2e.journeys import about_another_household, declare_and_send
from e2e.stack import Stack

NOTE_DESIL = (
    "Suami saya sudah tidak bekerja sejak Maret dan kami tinggal menumpang di rumah orang tua, "
    "tetapi desil kami tertulis tinggi."
)
NOTE_DICORET = (
    "Keluarga kami dicoret dari data, padahal keadaan kami tidak berubah dan anak kami masih "
    "sekolah."
)


def grouped(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, 16, 4))


def look_up(phone: Phone, pair: dict[str, str], step: str) -> None:
    phone.visit("/", f"{step}-form")
    phone.fill("NIK", pair["nik"])
    phone.fill("No. KK", pair["no_kk"])
    phone.submit("Cek status saya", step)


def test_a_look_up_with_a_mistake_then_back_refresh_language_and_a_sanggahan_typed_once(
    phone: Phone, stack: Stack
) -> None:
    phone.name = "typed-once"
    pair = stack.demo["above"]

    # a mistake on purpose: the No. KK is cut short. The NIK that passed stays in its box.
    phone.visit("/", "form")
    phone.fill("NIK", pair["nik"])
    phone.fill("No. KK", pair["no_kk"][:10])
    phone.submit("Cek status saya", "kk-too-short")  # 303, then the form again
    assert phone.page.url.rstrip("/") == stack.url
    assert "No. KK harus terdiri dari 16 angka" in phone.notices()
    assert phone.page.get_by_label("NIK", exact=True).input_value() == grouped(pair["nik"])
    assert phone.page.get_by_label("No. KK", exact=True).input_value() == ""
    # refreshing the error page sends nothing again: the same page comes back
    response = phone.page.reload()
    assert response is not None
    assert response.status == 200
    assert "No. KK harus terdiri dari 16 angka" in phone.notices()
    phone.fill("No. KK", pair["no_kk"])
    phone.submit("Cek status saya", "result")
    heading = "Keluarga Anda terdaftar di DTSEN, tetapi desilnya di atas sasaran program bansos"
    assert phone.h1() == heading
    assert phone.page.url.endswith("/hasil")
    assert "Triwulan" in phone.main_text()
    assert "2026Q" not in phone.main_text()

    # refresh, the language switch and Back all keep the result
    response = phone.page.reload()
    assert response is not None
    assert response.status == 200
    phone.check_page("result-refreshed")
    assert phone.h1() == heading
    phone.follow("English", "result-en")
    assert phone.h1() == "Your family is in DTSEN, above the range of the bansos programs"
    phone.follow("Bahasa Indonesia", "result-id")
    assert phone.h1() == heading

    # the sanggahan the result offers; Back from its first question shows the result again
    phone.follow("Ajukan sanggahan: desil saya salah", "reason")
    phone.page.go_back()
    phone.check_page("result-back")
    assert phone.page.url.endswith("/hasil?lang=id")
    assert phone.h1() == heading
    phone.follow("Ajukan sanggahan: desil saya salah", "reason-again")
    assert phone.h1() == "Sanggahan Anda tentang apa?"
    phone.submit("Lanjutkan", "filer")
    assert phone.h1() == "Siapa yang mengajukan"
    assert "dari cek Anda barusan" in phone.main_text()
    assert f"{pair['nik'][:4]} •••• •••• {pair['nik'][-4:]}" in phone.main_text()
    assert pair["nik"] not in phone.page.content()
    phone.submit("Lanjutkan", "found")
    assert "Ditemukan di DTSEN: terdaftar di Triwulan" in phone.notices()
    if phone.h1() == "Data siapa yang dilaporkan?":
        phone.choose("Keluarga saya sendiri")
        phone.submit("Lanjutkan", "details")
    assert phone.h1() == "Ceritakan yang Anda ketahui"

    # another mistake on purpose (a note too short): the evidence ticked stays ticked
    first_evidence = phone.page.locator("input[name=evidence]").first
    first_evidence.check()
    phone.fill("Jelaskan keadaannya", "salah")
    phone.submit("Lanjutkan", "note-too-short")
    assert phone.h1() == "Ceritakan yang Anda ketahui"
    assert "Tulis antara 10 sampai 2000 karakter" in phone.notices()
    assert phone.page.locator("input[name=evidence]").first.is_checked()
    phone.fill("Jelaskan keadaannya", NOTE_DESIL)
    phone.submit("Lanjutkan", "photos")
    phone.submit("Lanjutkan tanpa foto", "contact")
    phone.submit("Lanjutkan", "check")

    # "Ubah" from check answers, an error there, and back to check answers (not question 1)
    assert phone.h1() == "Periksa jawaban Anda sebelum mengirim"
    phone.page.locator(".summary").get_by_role("link", name="Ubah").nth(0).click()
    phone.page.wait_for_load_state()
    phone.check_page("change-from-check")
    if phone.h1() == "Siapa yang mengajukan":  # the filer: kept, shown masked
        assert f"{pair['no_kk'][:4]} •••• •••• {pair['no_kk'][-4:]}" in phone.main_text()
        phone.submit("Lanjutkan", "check-again")
    else:
        phone.submit("Lanjutkan", "check-again")
    assert phone.h1() == "Periksa jawaban Anda sebelum mengirim"

    ticket = declare_and_send(phone)
    # Back after sending shows the receipt, not an empty question 1
    phone.page.go_back()
    phone.page.wait_for_load_state()
    phone.check_page("back-after-send")
    assert phone.h1() == "Laporan Anda sudah terkirim"
    assert ticket in phone.main_text()

    assert phone.typed_once() == 32  # the NIK and the No. KK, once each


def test_a_removed_family_files_its_sanggahan_with_the_last_period_and_finds_it_later(
    phone_factory, stack: Stack
) -> None:
    pair = stack.demo["removed"]
    phone = phone_factory("removed")
    look_up(phone, pair, "result")
    assert phone.h1() == "Keluarga Anda tidak ada di data terbaru"
    held = phone.page.locator("#held-title").inner_text()
    assert held.startswith("Data dan bansos keluarga Anda pada Triwulan")

    phone.follow("Ajukan sanggahan: dicoret padahal masih layak", "reason")
    phone.submit("Lanjutkan", "filer")
    assert "dari cek Anda barusan" in phone.main_text()
    phone.submit("Lanjutkan", "found")
    assert "Ditemukan di DTSEN: terdaftar di Triwulan" in phone.notices()
    if phone.h1() == "Data siapa yang dilaporkan?":
        phone.choose("Keluarga saya sendiri")
        phone.submit("Lanjutkan", "details")
    phone.fill("Jelaskan keadaannya", NOTE_DICORET)
    phone.submit("Lanjutkan", "photos")
    phone.submit("Lanjutkan tanpa foto", "contact")
    phone.submit("Lanjutkan", "check")
    assert "terdaftar di Triwulan" in phone.page.locator(".summary").inner_text()
    ticket = declare_and_send(phone)
    assert phone.typed_once() == 32

    # another day, another phone: "Lihat semua laporan saya" with NIK + No. KK
    later = phone_factory("my-cases")
    later.visit("/lacak", "track")
    later.follow("Lihat semua laporan saya", "my-cases")
    later.fill("NIK", pair["nik"])
    later.fill("No. KK", pair["no_kk"])
    later.submit("Tampilkan laporan saya", "my-cases-list")
    assert later.h1() == "Laporan Anda"
    assert ticket in later.main_text()
    response = later.page.reload()  # a GET: nothing is sent again
    assert response is not None
    assert response.status == 200
    later.check_page("my-cases-refreshed")
    assert ticket in later.main_text()


def test_reporting_a_neighbour_by_name_without_their_nik(phone: Phone, stack: Stack) -> None:
    phone.name = "neighbour"
    filer = stack.demo["partly"]
    phone.visit("/sanggahan", "start-sanggahan")
    assert "Yang perlu disiapkan" in phone.main_text()
    phone.follow("Mulai", "reason", exact=True)
    phone.choose("Penerima jelas mampu", exact=False)
    phone.submit("Lanjutkan", "filer")
    phone.fill("NIK Anda", filer["nik"])
    phone.fill("No. KK Anda", filer["no_kk"])
    phone.submit("Lanjutkan", "subject")
    about_another_household(phone, name="Bu Eni Suryani")
    phone.choose("Rumah besar atau bangunannya bagus")
    phone.fill("Jelaskan keadaannya", "Rumahnya baru dibangun dua lantai dan ada mobil baru.")
    phone.submit("Lanjutkan", "photos")
    phone.submit("Lanjutkan tanpa foto", "contact")
    phone.submit("Lanjutkan", "check")
    summary = phone.page.locator(".summary").inner_text()
    assert "Keluarga lain" in summary
    assert "Segarajaya" in summary
    assert "Bu Eni Suryani" in summary  # the name the filer typed, to check its spelling
    declare_and_send(phone)
    assert phone.typed_once() == 32


def test_help_where_people_are(phone: Phone) -> None:
    """The pages a person without a phone, or with a question, needs; each one axe-checked."""
    phone.name = "help"
    phone.visit("/", "home")
    phone.follow("Cara lain untuk mendapat bantuan", "other-ways", exact=True)
    text = phone.main_text().lower()
    for channel in ("desa", "pendamping", "musyawarah", "sp4n-lapor!"):
        assert channel in text, channel
    phone.visit("/privasi", "privacy")
    assert "UU" in phone.main_text()
    assert "27" in phone.main_text()
    phone.visit("/aksesibilitas", "accessibility")
    phone.visit("/", "home-again")
    phone.follow("Waspada penipuan", "beware", exact=True)
    assert "Yang tidak pernah kami minta" in phone.main_text()
    phone.visit("/usulan", "start-usulan")
    phone.follow("Mulai", "usulan-reason", exact=True)
    assert phone.h1() == "Apa yang ingin Anda usulkan?"
