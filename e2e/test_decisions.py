"""Deciding beside the evidence (issue 14), on a 360 px phone with JavaScript off, in Bahasa
Indonesia: a verifikator (a new account, enrolled here) takes a citizen's sanggahan, asks the
desa for a field check, and decides on the case page itself, beside the household, the
field check and the filer's note. The options say what happens to the family. A reason that
names a field result ("not confirmed" in the field) is refused while the check has no result;
approving with "the documents do not show it" while the check is still open is stopped, with
the conflicts named; confirmed with a note, it is saved and the case page shows it was decided
against the evidence."""

from __future__ import annotations

import secrets
from typing import Any

from e2e.conftest import stack_flask
from e2e.journeys import Officer, enrol
from e2e.stack import Stack
from e2e.test_staff import file_sanggahan_in_sagara, find_in_queue

INSTRUCTIONS = "Mohon cek apakah keluarga ini masih tinggal di alamat tersebut."
OVERRIDE = "Kepala desa sudah menyerahkan surat keterangan; verval tidak lagi diperlukan."


def new_verifikator(stack: Stack, phone: Any) -> Officer:
    email = f"verif-{secrets.token_hex(4)}@dinsos.example.go.id"
    out = stack_flask(
        stack, "staff", "create", "--email", email, "--name", "Dewi Verifikator",
        "--role", "verifikator", "--region", "32.16", "--base-url", stack.url,
    )  # fmt: skip
    link = out.strip().rsplit(" ", 1)[-1]
    officer = Officer(phone, email, "Dewi Verifikator", "verifikator", "kelapa muda es campur")
    enrol(officer, link.removeprefix(stack.url))
    return officer


def test_a_verifikator_decides_beside_the_evidence_and_a_contradiction_needs_a_note(
    phone_factory: Any, stack: Stack
) -> None:
    verifikator = new_verifikator(stack, phone_factory("decisions-verifikator"))
    citizen = phone_factory("decisions-citizen")
    ticket = file_sanggahan_in_sagara(citizen, stack)

    v = verifikator.phone
    find_in_queue(v, ticket)
    v.submit("Ambil laporan ini", "claimed", exact=True)
    v.fill("Apa yang perlu diperiksa operator desa?", INSTRUCTIONS)
    v.submit("Kirim ke desa", "verval-asked", exact=True)

    # the panel is on the case page, below the household, the filer's note and the check
    panel = v.page.locator("#putuskan")
    assert panel.locator("h2").inner_text().strip() == f"Putuskan {ticket}"
    assert v.page.locator(".household").count() >= 1
    assert "Menunggu operator desa." in v.page.locator(".field-check").inner_text()
    options = panel.locator("fieldset .choice__label").all_inner_texts()
    assert [o.strip() for o in options] == [
        "Setuju: usulkan keluar dari bansos",
        "Tolak: data tetap",
        "Duplikat: ditutup, ditangani di tiket lain",
    ]

    # a standard explanation, picked (no script: a link) and then edited
    panel.locator("details.explanations > summary").click()
    v.follow("Tidak terbukti dalam pemeriksaan lapangan (verval)", "explanation-picked")
    note = v.page.get_by_label("Penjelasan untuk warga", exact=True)
    assert note.input_value().startswith("Petugas telah mengunjungi keluarga tersebut")
    v.fill("Penjelasan untuk warga", note.input_value() + " Terima kasih atas laporan Anda.")

    # a reason that names a field result while the check has none: refused outright (no
    # note can confirm a visit that never reported)
    v.choose("Setuju: usulkan keluar dari bansos", group="Keputusan")
    v.submit("Simpan keputusan", "no-field-result", expect=400, exact=True)
    assert "kasus ini belum punya hasil verval" in v.page.locator("#putuskan").inner_text()
    assert v.page.locator("#putuskan .conflict").count() == 0
    assert v.page.locator(".status").first.inner_text().strip() == "Sedang diperiksa"

    # approving with "the documents do not show it" while the check is open: stopped, the
    # conflicts named
    v.page.locator("#putuskan details.explanations > summary").click()
    v.follow("Dokumen tidak membuktikannya", "explanation-picked-again")
    assert v.page.get_by_label("Penjelasan untuk warga", exact=True).input_value()
    v.choose("Setuju: usulkan keluar dari bansos", group="Keputusan")
    v.submit("Simpan keputusan", "contradiction", expect=400, exact=True)
    conflicts = v.page.locator("#putuskan .conflict").all_inner_texts()
    assert conflicts == [
        "Ada verval (pemeriksaan lapangan) kasus ini yang belum ada hasilnya.",
        "Alasan yang Anda pilih mendukung keputusan sebaliknya.",
    ]
    assert "Keputusan ini bertentangan dengan bukti." in v.notices()
    assert v.page.locator(".status").first.inner_text().strip() == "Sedang diperiksa"

    # confirmed, with a note for the office: saved, and shown as decided against the evidence
    v.choose("Saya sengaja memutuskan bertentangan dengan bukti")
    v.fill("Mengapa Anda memutuskan bertentangan dengan bukti", OVERRIDE)
    v.submit("Simpan keputusan", "confirmed", exact=True)
    assert "Keputusan disimpan. Warga sekarang dapat membacanya." in v.notices()
    assert v.page.locator(".status").first.inner_text().strip() == "Disetujui"
    assert OVERRIDE in v.page.locator(".override").inner_text()
