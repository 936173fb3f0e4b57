"""Assisted filing at the desa office, against the deployed release: a desa operator, on a
360 px phone without script, files a sanggahan for a citizen who came to the desa office
(consent statement confirmed, the citizen's NIK + No. KK, the public journey's questions), is
refused for a household of another desa, prints the receipt (only the receipt is printed)
and sends the ticket by SMS: `flask notify send` of the release posts it to an SMS gateway
stub (a JSON HTTP server started here), with the ticket and without the NIK."""

from __future__ import annotations

import json
import secrets
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from e2e.conftest import Phone, stack_flask
from e2e.journeys import TICKET, Officer, about_another_household, enrol
from e2e.stack import Stack

DESA = "32.16.01.2001"  # Sagara Makmur: the operator's desa, where "receiving" lives
PASSWORD = "sawah hijau di pinggir kali"
PHONE_TYPED, PHONE_E164 = "0812-3456-7890", "+6281234567890"


class Gateway(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        Gateway.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "accepted"}')

    def log_message(self, *_args: Any) -> None:
        pass


def new_operator(stack: Stack) -> tuple[str, str]:
    email = f"bantu.{secrets.token_hex(3)}@desa.example.go.id"
    out = stack_flask(
        stack, "staff", "create", "--email", email, "--name", "Tini Operator",
        "--role", "operator_desa", "--region", DESA, "--base-url", stack.url,
    )  # fmt: skip
    return email, out.strip().rsplit(" ", 1)[-1].removeprefix(stack.url)


def send_with_gateway(stack: Stack, url: str) -> str:
    """`flask notify send` of the release, with an SMS gateway configured."""
    result = subprocess.run(
        [str(Path(stack.venv) / "bin" / "flask"), "--app", "portal", "notify", "send"],
        env={**stack.env, "SMS_GATEWAY_URL": url},
        cwd=Path(stack.venv).parent,
        check=True,
        text=True,
        capture_output=True,
    )
    return result.stdout


def start_assisting(p: Phone) -> None:
    p.follow("Ajukan untuk warga", "assist-start", exact=True)
    assert p.h1() == "Ajukan untuk warga"
    p.choose("Sanggahan: data warga di DTSEN salah")
    # one desa office: chosen already
    assert p.page.get_by_label("Sagara Makmur", exact=False).is_checked()
    p.choose("Saya sudah membacakan ini kepada warga", exact=False)
    p.submit("Mulai pertanyaan", "assist-reason", exact=True)
    assert p.h1() == "Sanggahan Anda tentang apa?"
    assert "Mengajukan untuk warga di kantor desa" in p.main_text()


def test_an_operator_files_for_a_citizen_prints_and_sends_the_ticket_by_sms(
    phone_factory: Any, stack: Stack
) -> None:
    citizen, other_desa = stack.demo["receiving"], stack.demo["partly"]
    email, path = new_operator(stack)
    operator = Officer(
        phone_factory("assist-operator"), email, "Tini Operator", "operator_desa", PASSWORD
    )
    enrol(operator, path)
    p = operator.phone

    # without the consent confirmed, nothing starts
    p.follow("Ajukan untuk warga", "assist-start", exact=True)
    p.choose("Sanggahan: data warga di DTSEN salah")
    p.submit("Mulai pertanyaan", "assist-no-consent", expect=400, exact=True)
    assert "Bacakan pernyataan kepada warga dan konfirmasi dulu." in p.notices()

    # a household of another desa is refused at "who is filing"
    p.visit("/staf/", "queue")
    start_assisting(p)
    p.choose("Penerima jelas mampu", exact=False)
    p.submit("Lanjutkan", "assist-filer")
    p.fill("NIK Anda", other_desa["nik"])
    p.fill("No. KK Anda", other_desa["no_kk"])
    p.submit("Lanjutkan", "assist-other-desa")
    assert p.h1() == "Siapa yang mengajukan"
    assert "Anda hanya dapat mengajukan untuk rumah tangga di desa Anda" in p.notices()

    # the citizen of Sagara Makmur: the same questions as on the website
    p.fill("NIK Anda", citizen["nik"])
    p.fill("No. KK Anda", citizen["no_kk"])
    p.submit("Lanjutkan", "assist-subject")
    about_another_household(p, stack.demo["in_scope"]["nik"])
    p.choose("Rumah besar atau bangunannya bagus")
    p.fill("Jelaskan keadaannya", "Rumahnya sudah dua lantai dan ada mobil di garasi.")
    p.submit("Lanjutkan", "assist-photos")
    p.submit("Lanjutkan tanpa foto", "assist-contact")
    p.submit("Lanjutkan", "assist-check")
    assert p.h1() == "Periksa jawaban Anda sebelum mengirim"
    p.choose("Saya menyatakan bahwa yang saya tulis benar", exact=False)
    p.submit("Kirim", "assist-receipt", exact=True)
    assert p.h1() == "Kasus sudah diterima"
    ticket = p.page.locator(".ticket").inner_text().strip()
    assert TICKET.match(ticket), ticket
    assert "/staf/bantu-ajukan/" in p.page.url
    assert "Kantor desa Sagara Makmur" in p.main_text()

    # printed: the receipt, without the SMS form, the menu or the log-out button
    p.page.emulate_media(media="print")
    assert p.page.locator(".ticket").is_visible()
    for hidden in (".no-print", ".staff-logout", ".site-nav"):
        assert not p.page.locator(hidden).first.is_visible(), hidden
    p.page.pdf(path=str(Path(stack.screenshots) / "assist-operator-receipt.pdf"))
    p.page.emulate_media(media="screen")

    # the ticket by SMS to the number the citizen gives
    p.fill("Nomor HP warga", "12345")
    p.submit("Kirim tiket", "assist-sms-bad", expect=400, exact=True)
    assert "Masukkan nomor HP yang diawali 08 atau +628." in p.notices()
    p.fill("Nomor HP warga", PHONE_TYPED)
    p.submit("Kirim tiket", "assist-sms", exact=True)
    assert "Tiket akan segera dikirim lewat SMS." in p.notices()

    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        send_with_gateway(stack, f"http://127.0.0.1:{server.server_port}/sms")
    finally:
        server.shutdown()
        server.server_close()
    ours = [m for m in Gateway.received if m["to"] == PHONE_E164 and ticket in m["text"]]
    assert len(ours) == 1, Gateway.received
    for secret in (citizen["nik"], citizen["no_kk"]):
        assert secret not in ours[0]["text"]

    # the next citizen starts afresh: the journey is no longer the citizen's
    p.visit("/sanggahan/alasan", "after")
    assert "Mengajukan untuk warga" not in p.main_text()
