"""Steps the citizen journeys share (e2e/test_citizen.py, e2e/test_staff.py): the labels and
headings are the Indonesian ones a person reads (translations/id)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from e2e.conftest import Phone, totp_code

TICKET = re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}$")


def masked(number: str) -> str:
    """A NIK or No. KK as the pages show it: region prefix, 8 stars, last two digits."""
    return number[:6] + "*" * 8 + number[-2:]


def start_sanggahan(phone: Phone, reason: str, filer: dict[str, str]) -> None:
    """From the home page to the question after "who is filing"."""
    phone.visit("/", "home")
    phone.follow("Ajukan sanggahan atau usulan", "start")
    phone.follow("Ajukan sanggahan", "start-sanggahan")
    assert phone.h1() == "Ajukan sanggahan"  # what to prepare, how long it takes
    phone.follow("Mulai", "reason", exact=True)
    assert phone.h1() == "Sanggahan Anda tentang apa?"
    phone.choose(reason, exact=False)  # the label carries a line of help under the title
    phone.submit("Lanjutkan", "filer")
    assert phone.h1() == "Siapa yang mengajukan"
    phone.fill("NIK Anda", filer["nik"])
    phone.fill("No. KK Anda", filer["no_kk"])
    phone.submit("Lanjutkan", "subject")


def about_another_household(
    phone: Phone, nik: str | None = None, *, name: str = "Pak Rahmat", desa: str = "Segarajaya"
) -> None:
    """The neighbour as a neighbour knows them: name, address with RT/RW and desa (found with
    the one-form desa picker, within the filer's kabupaten); the NIK only when NIK is given."""
    assert phone.h1() == "Data siapa yang dilaporkan?"
    phone.choose("Keluarga lain")
    phone.fill("Nama orang yang dilaporkan", name)
    phone.fill("Alamat mereka", "KP. SAGARA, rumah cat hijau dekat masjid")
    phone.fill("RT", "2")
    phone.fill("RW", "5")
    phone.fill("Cari desa atau kelurahan berdasarkan nama", desa)
    phone.submit("Cari", "subject-desa-search", exact=True)  # 303, then the page again
    assert phone.h1() == "Data siapa yang dilaporkan?"
    assert "desa ditemukan di Kabupaten Bekasi" in phone.main_text()
    # what was typed before the search is still there
    assert phone.page.get_by_label("Nama orang yang dilaporkan", exact=True).input_value() == name
    phone.choose(desa, exact=False)
    if nik:
        phone.fill("NIK orang yang dilaporkan (boleh dikosongkan)", nik)
    phone.submit("Lanjutkan", "details")
    assert phone.h1() == "Ceritakan yang Anda ketahui"


def declare_and_send(phone: Phone) -> str:
    """On the check-answers page: tick the declaration, send; the ticket on the receipt."""
    assert phone.h1() == "Periksa jawaban Anda sebelum mengirim"
    phone.choose(
        "Saya menyatakan bahwa yang saya tulis benar sepanjang pengetahuan saya.", exact=False
    )
    phone.submit("Kirim", "receipt", exact=True)
    assert phone.h1() == "Laporan Anda sudah terkirim"
    ticket = phone.page.locator(".ticket").inner_text().strip()
    assert TICKET.match(ticket), ticket
    return ticket


def open_case(phone: Phone, ticket: str, nik: str, step: str = "case") -> None:
    """/lacak: ticket + the filer's NIK, to the case page."""
    phone.visit("/lacak", f"{step}-track")
    phone.fill("Nomor tiket", ticket)
    phone.fill("NIK Anda", nik)
    phone.submit("Tampilkan laporan saya", step)
    assert phone.page.locator(".ticket").inner_text().strip() == ticket


# --- staff ----------------------------------------------------------------------------------

ROLE_TITLES = {
    "verifikator": "Verifikator",
    "operator_desa": "Operator desa",
    "admin_dinsos": "Admin Dinsos",
}


@dataclass
class Officer:
    phone: Phone
    email: str
    name: str
    role: str
    password: str
    secret: str = ""
    last_code: str = ""


def enrol(officer: Officer, path: str) -> None:
    """The one-time enrolment page at PATH: the key typed into an authenticator app (pyotp),
    the password chosen, the app's code; the officer lands signed in, in the queue."""
    phone = officer.phone
    phone.visit(path, "enrol")
    assert phone.h1() == "Siapkan akun Anda"
    assert officer.email in phone.main_text()
    # "Tidak bisa memindai?": the key as the page shows it, in groups of four
    shown = phone.page.locator(".qr__secret").inner_text().strip()
    groups = shown.split(" ")
    assert len(groups) > 4
    assert all(len(g) == 4 for g in groups[:-1]), shown
    officer.secret = "".join(groups)
    officer.last_code = totp_code(officer.secret)
    phone.fill("Kata sandi baru", officer.password)
    phone.fill("Ulangi kata sandi", officer.password)
    phone.fill("Kode autentikasi", officer.last_code)
    phone.submit("Selesai dan masuk", "signed-in")
    signed_in(officer)


def signed_in(officer: Officer) -> None:
    """Signed in, at home: the queue, or for a desa operator their field checks."""
    phone = officer.phone
    if officer.role == "operator_desa":
        assert urlsplit(phone.page.url).path == "/staf/verval"
        assert phone.h1() == "Pemeriksaan lapangan (verval) di desa Anda"
    else:
        assert urlsplit(phone.page.url).path == "/staf/"
        assert phone.h1() == "Antrean laporan"
    who = phone.page.locator(".staff-who").inner_text()
    assert who == f"{officer.name} · {ROLE_TITLES[officer.role]}", who


def sign_out_and_in(officer: Officer) -> None:
    """Log out, find the staff area closed, sign in with e-mail, password and a new code."""
    phone = officer.phone
    phone.submit("Keluar", "signed-out", exact=True)
    assert phone.h1() == "Masuk untuk petugas"
    assert "Anda sudah keluar." in phone.notices()
    # the staff area is closed without a session
    phone.visit("/staf/", "closed")
    assert phone.h1() == "Masuk untuk petugas"

    phone.fill("E-mail", officer.email)
    phone.fill("Kata sandi", officer.password)
    # the code used at enrolment is spent: a person waits for the app's next one
    officer.last_code = totp_code(officer.secret, after=officer.last_code)
    phone.fill("Kode autentikasi", officer.last_code)
    phone.submit("Masuk", "signed-in-again", exact=True)
    signed_in(officer)
