"""The staff side as one working day, in order, each person on their own 360 px phone with
JavaScript off, in Bahasa Indonesia:

1. the verifikator, the desa operator and the Dinsos admin open their one-time enrolment
   links, type the key into an authenticator (pyotp), choose a password and land signed in;
2. a citizen files a sanggahan about a household in Desa Sagara Makmur (32.16.01.2001);
3. the verifikator finds it in the queue, takes it and asks the desa for a field check;
4. the operator records the finding with a phone photo;
5. the verifikator signs out and in again (e-mail, password, a fresh code), reads the
   finding, sees the photo (without its GPS) and approves the case with a listed reason and
   a note; the citizen reads both at /lacak;
6. the admin exports the approved cases: the CSV holds the ticket; the citizen sees the case
   forwarded to Kemensos.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from PIL import Image

from e2e.conftest import Phone, stack_flask
from e2e.journeys import (
    Officer,
    about_another_household,
    declare_and_send,
    enrol,
    open_case,
    sign_out_and_in,
    start_sanggahan,
)
from e2e.stack import STAFF, Stack
from e2e.test_office import wait_until_final

DESA = "32.16.01.2001"  # Sagara Makmur, Tarumajaya: the operator's desa
INSTRUCTIONS = "Mohon cek rumah dan kendaraan keluarga ini, dan tanyakan kepada ketua RT."
FINDING = (
    "Rumah dua lantai berdinding bata diplester, ada satu mobil di garasi. "
    "Ketua RT 002 membenarkan keluarga ini sudah mampu."
)
DECISION_NOTE = (
    "Pemeriksaan lapangan membenarkan laporan Anda. Perubahan data dikirim ke Kemensos "
    "untuk pemutakhiran DTSEN triwulan berikutnya."
)
PASSWORDS = {  # a few unrelated words, as the enrolment page advises
    "verifikator": "sawah hijau kopi tubruk",
    "operator_desa": "perahu biru pasar ikan",
    "admin_dinsos": "layang-layang senja 45 kali",
}


def enrolment_path(stack: Stack, officer: Officer) -> str:
    """The link `staff create` printed; when this deployment already used it (the suite ran
    before against the same stack), a new one from `staff reset`, as an admin would do."""
    listing = stack_flask(stack, "staff", "list")
    line = next(line for line in listing.splitlines() if line.startswith(officer.email))
    link = stack.enrol_links[officer.role]
    if " not enrolled " not in line:
        out = stack_flask(stack, "staff", "reset", officer.email, "--base-url", stack.url)
        link = out.strip().rsplit(" ", 1)[-1]
    assert link.startswith(stack.url + "/staf/daftar/")
    return link.removeprefix(stack.url)


def file_sanggahan_in_sagara(citizen: Phone, stack: Stack) -> str:
    """The filer (another demo household) reports the desil-1 household of Sagara Makmur."""
    start_sanggahan(citizen, "Penerima jelas mampu", stack.demo["partly"])
    about_another_household(citizen, stack.demo["receiving"]["nik"])
    citizen.choose("Rumah besar atau bangunannya bagus")
    citizen.choose("Mobil, atau beberapa sepeda motor")
    citizen.fill("Jelaskan keadaannya", "Rumahnya sudah dua lantai dan ada mobil baru di garasi.")
    citizen.submit("Lanjutkan", "photos")
    citizen.submit("Lanjutkan tanpa foto", "contact")
    citizen.submit("Lanjutkan", "check")
    return declare_and_send(citizen)


def find_in_queue(verifikator: Phone, ticket: str) -> None:
    """From the queue, filtered to new cases of the desa, to the case page."""
    phone = verifikator
    phone.visit("/staf/", "queue")
    phone.page.locator("details.filters > summary").click()  # opens without script
    phone.select("Status", "Terkirim")
    phone.fill("Desa/kelurahan", "Sagara Makmur")  # typed, matched by the server
    phone.submit("Terapkan", "queue-filtered", exact=True)
    assert "status=diterima" in phone.page.url
    assert ticket in phone.page.locator(".table--queue").inner_text()
    phone.follow(ticket, "case", exact=True)
    assert phone.h1() == f"{ticket}: Penerima jelas mampu"


def case_text(phone: Phone, label: str) -> str:
    """The value of a row of the case's summary (Pelapor, Yang dilaporkan, Wilayah...)."""
    row = phone.page.locator(".summary__row", has=phone.page.locator("dt", has_text=label))
    return row.locator("dd").first.inner_text()


def test_a_case_from_enrolment_through_field_check_and_decision_to_the_export(
    phone_factory: Any, stack: Stack, photos: dict[str, Path]
) -> None:
    officers = {
        role: Officer(phone_factory(f"staff-{role}"), email, name, role, PASSWORDS[role])
        for email, name, role, _region in STAFF
    }
    verifikator = officers["verifikator"]
    operator = officers["operator_desa"]
    admin = officers["admin_dinsos"]

    # 1. enrolment, each on their own phone
    for officer in (verifikator, operator, admin):
        enrol(officer, enrolment_path(stack, officer))

    # 2. a citizen files a sanggahan about a household in the operator's desa
    citizen = phone_factory("staff-citizen")
    ticket = file_sanggahan_in_sagara(citizen, stack)
    filer, reported = stack.demo["partly"], stack.demo["receiving"]

    # 3. the verifikator takes it and asks for verval
    v = verifikator.phone
    find_in_queue(v, ticket)
    assert v.page.locator(".status").first.inner_text().strip() == "Terkirim"
    assert "Sagara Makmur" in case_text(v, "Wilayah")
    assert filer["nik"] in case_text(v, "Pelapor")  # staff see who filed
    assert "terverifikasi di DTSEN" in case_text(v, "Pelapor")
    assert reported["nik"] in case_text(v, "Yang dilaporkan")
    assert "SITI AMINAH" in v.page.locator(".household").first.inner_text()
    case_path = v.page.url.removeprefix(stack.url)

    v.submit("Ambil laporan ini", "claimed", exact=True)
    assert "Laporan ini sekarang Anda pegang." in v.notices()
    assert v.page.locator(".status").first.inner_text().strip() == "Sedang diperiksa"
    assert f"Dipegang oleh {verifikator.name}" in v.page.locator(".status-line").inner_text()
    chosen = v.page.get_by_label("Desa tempat pemeriksaan dilakukan", exact=True)
    assert chosen.input_value() == DESA  # the household's desa, chosen already
    v.fill("Apa yang perlu diperiksa operator desa?", INSTRUCTIONS)
    v.submit("Kirim ke desa", "verval-asked", exact=True)
    assert "Permintaan pemeriksaan lapangan (verval) sudah dikirim" in v.notices()
    assert "Menunggu operator desa." in v.page.locator(".field-check").inner_text()

    # 4. the desa operator records what they found, with a photo from their phone
    o = operator.phone
    o.follow("Pemeriksaan lapangan (verval)", "verval-list")
    assert o.h1() == "Pemeriksaan lapangan (verval) di desa Anda"
    o.follow(f"{ticket} · INC-MAMPU", "verval-task")
    assert o.h1() == f"Pemeriksaan lapangan (verval) untuk {ticket}"
    assert INSTRUCTIONS in o.main_text()
    o.choose("Terbukti: laporan sesuai kenyataan")
    o.fill("Jelaskan apa yang Anda lihat dan dengan siapa Anda berbicara", FINDING)
    o.page.get_by_label("Foto (tidak wajib)").set_input_files(photos["lapangan"])
    o.submit("Kirim hasil pemeriksaan", "verval-done", exact=True)
    assert "Terima kasih. Petugas sekarang dapat melihat hasil pemeriksaan Anda." in o.notices()
    assert f"{ticket} · INC-MAMPU" not in o.main_text()  # no longer waiting

    # 5. the verifikator, signed in again with a fresh code (the one used at enrolment is
    # spent), reads the finding and decides
    sign_out_and_in(verifikator)
    v.visit(case_path, "finding")
    check = v.page.locator(".field-check").inner_text()
    assert "Terbukti: laporan sesuai kenyataan" in check
    assert FINDING in check
    assert operator.name in check
    photo = v.page.get_by_role("img", name="Foto 1 (pemeriksaan lapangan)")
    answer = v.context.request.get(stack.url + photo.get_attribute("src"))
    assert answer.status == 200
    assert answer.headers["content-type"] == "image/jpeg"
    picture = Image.open(io.BytesIO(answer.body()))
    assert max(picture.size) <= 2048
    assert not picture.getexif().get_ifd(0x8825), "the GPS position reached the officers"

    # the decision panel is on the case page, beside the finding (issue 14)
    assert v.page.locator("#putuskan h2").inner_text().strip() == f"Putuskan {ticket}"
    v.choose("Setuju: usulkan keluar dari bansos", group="Keputusan")
    v.select("Alasan", "Terbukti dari pemeriksaan lapangan (verval)")
    v.fill("Penjelasan untuk warga", DECISION_NOTE)
    v.submit("Simpan keputusan", "decided", exact=True)
    assert "Keputusan disimpan. Warga sekarang dapat membacanya." in v.notices()
    assert v.page.locator(".status").first.inner_text().strip() == "Disetujui"

    # ... and the citizen reads the decision and its reason
    open_case(citizen, ticket, filer["nik"], "decision")
    assert citizen.page.locator(".status").inner_text().strip() == "Disetujui"
    timeline = citizen.page.locator(".timeline").inner_text()
    assert "Alasan: Terbukti dari pemeriksaan lapangan (verval)" in timeline
    assert DECISION_NOTE in timeline
    assert FINDING not in citizen.page.content()  # the operator's notes stay with staff
    assert citizen.page.get_by_role("link", name="Tarik laporan ini").count() == 0

    # 6. the admin exports the approved cases for Pusdatin
    a = admin.phone
    a.follow("Ekspor", "exports", exact=True)
    assert a.h1() == "Ekspor untuk Pusdatin"
    assert "laporan yang disetujui sedang menunggu" in a.main_text()
    a.follow("Pratinjau ekspor", "export-preview", exact=True)
    a.submit("Ekspor laporan ini", "exported", exact=True)
    made = a.notices()
    assert "Ekspor ini final pada" in made, made
    export_id = made.split("Ekspor ", 1)[1].split(" ", 1)[0]
    wait_until_final(a, export_id)  # the undo window (EXPORT_UNDO_MINUTES in e2e/stack.py)
    with a.page.expect_download() as download:
        a.page.get_by_role("link", name=f"Unduh CSV ekspor {export_id}", exact=True).click()
    assert download.value.suggested_filename == f"dtsen-ekspor-32.16-{export_id}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    row = next((r for r in rows if r["ticket"] == ticket), None)
    assert row is not None, f"{ticket} not in the export: {[r['ticket'] for r in rows]}"
    assert row["kind"] == "sanggahan"
    assert row["reason_code"] == "INC-MAMPU"
    assert row["status_decision"] == "disetujui"
    assert row["decision_reason"] == "verified_in_field"
    assert row["decision_note"] == DECISION_NOTE
    assert row["kode_desa"] == DESA
    assert row["subject_nik"] == reported["nik"]
    assert row["subject_no_kk"] == reported["no_kk"]

    # ... and the citizen sees the case on its way to Kemensos
    citizen.visit("/lacak/kasus", "forwarded")
    assert citizen.page.locator(".status").inner_text().strip() == "Diteruskan ke Kemensos"
