"""Notifications against the deployed release: a citizen files a sanggahan in the browser
with an e-mail address, a verifikator takes and decides it, and `flask notify send` of the
release delivers two e-mails to the stack's SMTP server (aiosmtpd, Maildir e2e/out/mail):
the ticket on filing and the decision, in Bahasa Indonesia, with the tracking address, and
without the NIK, the No. KK or the name of anyone."""

from __future__ import annotations

import mailbox
import secrets
from email.message import Message
from typing import Any

from e2e.conftest import Phone, stack_flask
from e2e.journeys import (
    Officer,
    about_another_household,
    declare_and_send,
    enrol,
    start_sanggahan,
)
from e2e.stack import Stack

OFFICER = ("notifikasi@dinsos.example.go.id", "Dewi Verifikator", "verifikator", "32.16")
PASSWORD = "kereta malam ke cirebon"
NOTE = "Dokumen yang ada belum menunjukkan bahwa keluarga ini mampu. Silakan lengkapi."


def mails_to(stack: Stack, address: str) -> list[Message]:
    box = mailbox.Maildir(stack.mail_dir, create=False)
    found = [m for m in box if m["To"] == address]
    return sorted(found, key=lambda m: str(m["Date"]))


def text_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def enrolment_path(stack: Stack) -> str:
    email, name, role, region = OFFICER
    listing = stack_flask(stack, "staff", "list")
    if any(line.startswith(email) for line in listing.splitlines()):  # the suite ran before
        out = stack_flask(stack, "staff", "reset", email, "--base-url", stack.url)
    else:
        out = stack_flask(
            stack, "staff", "create", "--email", email, "--name", name, "--role", role,
            "--region", region, "--base-url", stack.url,
        )  # fmt: skip
    return out.strip().rsplit(" ", 1)[-1].removeprefix(stack.url)


def test_a_case_filed_with_an_email_address_and_decided_sends_two_emails(
    phone_factory: Any, stack: Stack
) -> None:
    local = f"WARGA.{secrets.token_hex(4).upper()}"
    typed, stored = f"{local}@Example.COM", f"{local}@example.com"  # the domain lower-cased
    filer, reported = stack.demo["in_scope"], stack.demo["receiving"]

    # the citizen files, giving an e-mail address on the contact page
    citizen: Phone = phone_factory("notify-citizen")
    start_sanggahan(citizen, "Penerima jelas mampu", filer)
    about_another_household(citizen, reported["nik"])
    citizen.choose("Rumah besar atau bangunannya bagus")
    citizen.fill("Jelaskan keadaannya", "Rumahnya sudah dua lantai dan ada mobil di garasi.")
    citizen.submit("Lanjutkan", "photos")
    citizen.submit("Lanjutkan tanpa foto", "contact")
    citizen.fill("Alamat e-mail (tidak wajib)", typed)
    citizen.submit("Lanjutkan", "check")
    ticket = declare_and_send(citizen)

    sent = stack_flask(stack, "notify", "send")
    assert "1 sent, 0 not sent" in sent, sent
    [received] = mails_to(stack, stored)

    # a verifikator takes the case and rejects it
    email, name, role, _region = OFFICER
    officer = Officer(phone_factory("notify-verifikator"), email, name, role, PASSWORD)
    enrol(officer, enrolment_path(stack))
    v = officer.phone
    v.visit("/staf/", "queue")
    v.follow(ticket, "case", exact=True)
    v.submit("Ambil laporan ini", "claimed", exact=True)
    # the decision panel is on the case page (issue 14), its options worded by outcome
    assert v.page.locator("#putuskan h2").inner_text().strip() == f"Putuskan {ticket}"
    v.choose("Tolak: data tetap", group="Keputusan")
    v.select("Alasan", "Dokumen tidak membuktikannya")
    v.fill("Penjelasan untuk warga", NOTE)
    v.submit("Simpan keputusan", "decided", exact=True)
    assert "Keputusan disimpan." in v.notices()

    sent = stack_flask(stack, "notify", "send")
    assert "1 sent, 0 not sent" in sent, sent  # "in review" is not announced
    assert "0 sent, 0 not sent" in stack_flask(stack, "notify", "send")
    mails = mails_to(stack, stored)
    assert len(mails) == 2, [m["Subject"] for m in mails]
    decided = next(m for m in mails if m["Message-ID"] != received["Message-ID"])

    assert received["Subject"] == f"Laporan Anda sudah terkirim: tiket {ticket}"
    assert decided["Subject"] == f"Laporan {ticket}: Ditolak"
    for mail in (received, decided):
        body = text_of(mail)
        assert ticket in body
        assert f"{stack.url}/lacak" in body
        assert mail["Content-Language"] == "id"
        for secret in (filer["nik"], filer["no_kk"], reported["nik"], reported["no_kk"]):
            assert secret not in mail.as_string()
        assert "SITI AMINAH" not in mail.as_string().upper()  # the reported family's head
        assert "Rahmat" not in mail.as_string()  # the name the filer typed
    assert "Alasannya, dan cara mengajukan keberatan" in text_of(decided)
