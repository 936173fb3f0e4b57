"""The notification worker (flask notify ...): the outbox delivered by e-mail to a local SMTP
server (aiosmtpd) and by SMS to a local stub of the HTTP gateway; retries, failures the admin
sees, no duplicate after a worker dies, SKIP LOCKED claims on PostgreSQL, what a message says
(the ticket, never a NIK or a name), and the contact normalised at filing."""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, text, update

from portal import db
from portal.appeals import tickets
from portal.appeals.models import OutboxMessage
from portal.appeals.states import AppealStatus
from portal.notify import contacts, content, service
from portal.notify.senders import JsonHttpGateway, Outgoing, SmtpSender
from tests.appeals.conftest import World, answers_for, decide, load_case, walk
from tests.helpers import Client

ROOT = Path(__file__).resolve().parents[2]
BASE_URL = "https://cekdtsen.kemensos.example.go.id"
TOKEN = "gateway-token-for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- a local SMTP server and a local SMS gateway --------------------------------------------


class Mailbox:
    """What the local SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        self.messages.append(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@dataclass
class Gateway:
    """The SMS gateway as docs/notifications.md describes it: answers from SCRIPT (then 200),
    and a reference it accepted before is accepted again without a second SMS."""

    url: str = ""
    script: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    delivered: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, body: dict[str, Any], authorization: str | None) -> int:
        with self.lock:
            self.requests.append(body)
            if authorization != f"Bearer {TOKEN}":
                return 401
            code = self.script.pop(0) if self.script else 200
            if 200 <= code < 300:
                self.delivered.setdefault(body["reference"], body)
            return code


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    stub = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            code = stub.answer(body, self.headers.get("Authorization"))
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"accepted": true}' if code < 300 else b'{"error": "no"}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_port}/sms"
    # shutdown() waits for the loop's next poll: at the default 0.5 s, half a second a test
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def notifying(app: Flask, smtp: tuple[Mailbox, int], gateway: Gateway) -> Flask:
    """The app with both channels pointing at the local servers (the app fixture restores
    the settings after the test)."""
    app.config.update(
        PUBLIC_BASE_URL=BASE_URL,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp[1],
        SMTP_STARTTLS=False,
        SMTP_FROM="DTSEN <no-reply@cekdtsen.example.go.id>",
        SMS_GATEWAY_URL=gateway.url,
        SMS_GATEWAY_TOKEN=TOKEN,
        NOTIFY_RETRY_SECONDS=0,  # a failed message is due again at once
        NOTIFY_TIMEOUT_SECONDS=5,
    )
    return app


def with_contact(world: World, code: str = "INC-MAMPU", **contact: str) -> dict:
    return {**answers_for(world, code), "kontak": {"phone": "", "email": "", **contact}}


def send(runner: FlaskCliRunner, expect: int = 0) -> str:
    result = runner.invoke(args=["notify", "send"])
    assert result.exit_code == expect, result.output
    return result.output


def messages(app: Flask) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


def age_claims(app: Flask) -> None:
    """Time passes beyond the lease of every claim (a worker that died stays dead)."""
    with app.app_context():
        lease = timedelta(seconds=app.config["NOTIFY_LEASE_SECONDS"] + 1)
        for message in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.claimed_at.is_not(None))
        ):
            message.claimed_at -= lease
        db.session.commit()


def body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


# --- the done-when: filed with an e-mail address, decided: two e-mails ----------------------


def test_a_case_filed_with_an_email_address_and_decided_sends_two_emails_with_the_ticket(
    client: Client, notifying: Flask, world: World, file_case, runner, smtp
) -> None:
    mailbox, _port = smtp
    ticket = file_case(client, "sanggahan", with_contact(world, email="Warga@Example.COM"))
    assert "1 sent, 0 not sent" in send(runner)
    decide(notifying, ticket, AppealStatus.DITOLAK)
    assert "1 sent, 0 not sent" in send(runner)
    assert "0 sent, 0 not sent" in send(runner)  # nothing twice

    assert [rcpt for _from, rcpt in mailbox.envelopes] == [["Warga@example.com"]] * 2
    received, decided = mailbox.messages
    assert ticket in received["Subject"]
    assert ticket in body(received)
    assert "Rejected" in decided["Subject"]
    assert ticket in body(decided)
    assert "The tracking page gives the reason" in body(decided)  # not "below"
    assert "below" not in body(decided)
    assert f"{BASE_URL}/lacak" in body(received)
    assert f"{BASE_URL}/lacak" in body(decided)
    assert received["Message-ID"] != decided["Message-ID"]
    assert received["Message-ID"].endswith("@cekdtsen.example.go.id>")
    assert received["Content-Language"] == "en"  # the filer's language (the client's)
    # never a NIK, a No. KK or a name: of the filer, of the household reported, of anyone
    people = [*world.filer.members, *world.other.members]
    secrets = [m.nik for m in people] + [m.nama for m in people]
    secrets += [world.filer.no_kk, world.other.no_kk, "Pak Budi", "SAGARA"]
    for message in mailbox.messages:
        whole = message.as_string()
        assert not [s for s in secrets if s.lower() in whole.lower()]
    assert {m.status for m in messages(notifying)} == {"sent"}


def test_the_filer_language_is_the_messages_language(
    client: Client, notifying: Flask, world: World, file_case, runner, smtp, gateway
) -> None:
    client.page("/?lang=id")
    ticket = file_case(client, "sanggahan", with_contact(world, email="warga@example.com"))
    client.page("/?lang=en")
    file_case(
        client,
        "sanggahan",
        {**with_contact(world, "INC-ASN", phone="081234567890")},
    )
    send(runner)

    [mail] = smtp[0].messages
    assert mail["Content-Language"] == "id"
    assert mail["Subject"] == f"Laporan Anda sudah terkirim: tiket {ticket}"
    assert f"Nomor tiket Anda {ticket}" in body(mail)
    assert f"Lacak laporan Anda di {BASE_URL}/lacak" in body(mail)
    [sms] = gateway.delivered.values()
    assert sms["to"] == "+6281234567890"
    assert sms["text"].startswith("DTSEN: case received")


# --- SMS and e-mail failures ----------------------------------------------------------------


def test_smtp_down_leaves_the_message_queued_with_its_error_then_it_is_delivered_once(
    client: Client, notifying: Flask, world: World, file_case, runner, smtp
) -> None:
    mailbox, port = smtp
    notifying.config["SMTP_PORT"] = free_port()  # nothing listens there: the server is down
    file_case(client, "sanggahan", with_contact(world, email="warga@example.com"))

    out = send(runner, expect=1)
    assert "queued (attempt 1)" in out
    [queued] = messages(notifying)
    assert (queued.status, queued.attempts, queued.sent_at) == ("queued", 1, None)
    assert "SMTP" in queued.last_error
    assert "refused" in queued.last_error.lower()
    listing = runner.invoke(args=["notify", "list"]).output
    assert "queued: 1" in listing
    assert "last error: SMTP" in listing
    assert "warga@example.com" not in listing  # the admin sees w***@example.com
    assert "w***@example.com" in listing

    notifying.config["SMTP_PORT"] = port  # the server is back
    send(runner)
    send(runner)
    assert len(mailbox.messages) == 1
    [sent] = messages(notifying)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 2, None)


def test_a_gateway_answering_500_is_retried_with_back_off(
    client: Client, notifying: Flask, world: World, file_case, runner, gateway
) -> None:
    notifying.config["NOTIFY_RETRY_SECONDS"] = 60
    gateway.script = [500]
    file_case(client, "sanggahan", with_contact(world, phone="0812-3456-7890"))

    send(runner, expect=1)
    [queued] = messages(notifying)
    assert queued.status == "queued"
    assert "HTTP 500" in queued.last_error
    assert queued.next_attempt_at is not None
    wait = (queued.next_attempt_at - queued.claimed_at).total_seconds()
    assert 30 <= wait <= 61  # 60 s with equal jitter: half fixed, half random
    assert "0 sent, 0 not sent" in send(runner)  # not due yet

    with notifying.app_context():
        db.session.execute(update(OutboxMessage).values(next_attempt_at=db.utcnow()))
        db.session.commit()
    send(runner)
    assert [m.status for m in messages(notifying)] == ["sent"]
    assert len(gateway.requests) == 2
    assert len(gateway.delivered) == 1


def test_a_gateway_refusing_the_message_4xx_fails_it_at_once_visible_to_the_admin(
    client: Client, notifying: Flask, world: World, file_case, runner, gateway
) -> None:
    gateway.script = [422]
    file_case(client, "sanggahan", with_contact(world, phone="081234567890"))

    assert "failed (attempt 1)" in send(runner, expect=1)
    assert "0 sent, 0 not sent" in send(runner)  # never tried again by itself
    [failed] = messages(notifying)
    assert failed.status == "failed"
    assert "HTTP 422" in failed.last_error
    assert "+6281234567890" not in failed.last_error
    listing = runner.invoke(args=["notify", "list", "--status", "failed"]).output
    assert "failed: 1" in listing
    assert "HTTP 422" in listing
    assert "+6281234567890" not in listing

    assert "1 message(s) queued again" in runner.invoke(args=["notify", "retry", "1"]).output
    send(runner)
    assert len(gateway.delivered) == 1


def test_after_the_last_attempt_a_message_is_failed_and_kept(
    client: Client, notifying: Flask, world: World, file_case, runner, gateway
) -> None:
    notifying.config["NOTIFY_MAX_ATTEMPTS"] = 3
    gateway.script = [503, 503, 503, 200]
    file_case(client, "sanggahan", with_contact(world, phone="081234567890"))
    for __ in range(4):
        runner.invoke(args=["notify", "send"])
    [failed] = messages(notifying)
    assert (failed.status, failed.attempts) == ("failed", 3)
    assert "HTTP 503" in failed.last_error
    assert len(gateway.requests) == 3
    assert not gateway.delivered


def test_a_wrong_gateway_token_keeps_messages_queued_not_refused_for_good(
    client: Client, notifying: Flask, world: World, file_case, runner, gateway
) -> None:
    notifying.config["SMS_GATEWAY_TOKEN"] = "wrong"
    file_case(client, "sanggahan", with_contact(world, phone="081234567890"))
    send(runner, expect=1)
    # 401 is a 4xx: the gateway refuses the request; documented as permanent (the token
    # must be fixed and the message retried by the admin)
    [message] = messages(notifying)
    assert message.status == "failed"
    assert "HTTP 401" in message.last_error


def test_a_channel_without_its_server_stays_queued_and_filing_never_waits(
    client: Client, notifying: Flask, world: World, file_case, runner, smtp
) -> None:
    notifying.config["SMS_GATEWAY_URL"] = None
    file_case(client, "sanggahan", with_contact(world, phone="081234567890", email="a@b.example"))
    send(runner)
    by_channel = {m.channel: m for m in messages(notifying)}
    assert by_channel["email"].status == "sent"
    assert (by_channel["sms"].status, by_channel["sms"].attempts) == ("queued", 0)


def test_the_worker_refuses_to_start_without_a_public_address_or_a_channel(
    notifying: Flask, runner
) -> None:
    notifying.config["PUBLIC_BASE_URL"] = None
    result = runner.invoke(args=["notify", "send"])
    assert result.exit_code == 1
    assert "PUBLIC_BASE_URL" in result.output
    notifying.config.update(PUBLIC_BASE_URL=BASE_URL, SMTP_HOST=None, SMS_GATEWAY_URL=None)
    result = runner.invoke(args=["notify", "run"])
    assert result.exit_code == 1
    assert "SMTP_HOST" in result.output


# --- no duplicate after a crash -------------------------------------------------------------


class Killed(BaseException):
    """The worker process dies (not an exception the worker handles)."""


class DiesAfterSending:
    def __init__(self, sender: Any) -> None:
        self.sender, self.channel, self.idempotent = sender, sender.channel, sender.idempotent

    def send(self, message: Outgoing) -> None:
        self.sender.send(message)
        raise Killed


def claim_and_die(app: Flask, *, after_send: bool) -> None:
    with app.app_context():
        senders = service.senders()
        service.recover(senders)  # as a worker's pass starts
        taken = service.claim(senders.keys())
        assert taken is not None
        if after_send:
            with pytest.raises(Killed):
                service.deliver(taken, DiesAfterSending(senders[taken.channel]))
        db.session.rollback()


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_a_worker_dying_after_its_claim_leaves_the_message_to_another_sent_once(
    client: Client, notifying: Flask, world: World, file_case, runner, smtp, gateway, channel
) -> None:
    contact = {"email": "warga@example.com"} if channel == "email" else {"phone": "0812345678901"}
    file_case(client, "sanggahan", with_contact(world, **contact))
    claim_and_die(notifying, after_send=False)

    assert "0 sent, 0 not sent" in send(runner)  # its claim still holds
    age_claims(notifying)
    send(runner)
    send(runner)

    assert len(smtp[0].messages) + len(gateway.requests) == 1
    [message] = messages(notifying)
    assert (message.status, message.attempts) == ("sent", 2)


def test_an_email_whose_worker_died_while_sending_is_not_sent_again_but_shown_failed(
    client: Client, notifying: Flask, world: World, file_case, runner, smtp
) -> None:
    file_case(client, "sanggahan", with_contact(world, email="warga@example.com"))
    claim_and_die(notifying, after_send=True)
    assert len(smtp[0].messages) == 1  # it left before the worker died

    age_claims(notifying)
    send(runner)
    send(runner)

    assert len(smtp[0].messages) == 1  # at most once: never a blind second e-mail
    [message] = messages(notifying)
    assert message.status == "failed"
    assert "outcome unknown" in message.last_error
    assert "outcome unknown" in runner.invoke(args=["notify", "list"]).output


def test_an_sms_whose_worker_died_while_sending_goes_again_with_the_same_reference(
    client: Client, notifying: Flask, world: World, file_case, runner, gateway
) -> None:
    file_case(client, "sanggahan", with_contact(world, phone="081234567890"))
    claim_and_die(notifying, after_send=True)
    age_claims(notifying)
    send(runner)

    first, second = gateway.requests
    assert first == second  # same text, same reference: the gateway drops the repeat
    assert len(gateway.delivered) == 1
    [message] = messages(notifying)
    assert message.status == "sent"


def test_an_sms_that_kills_its_worker_every_time_fails_after_the_last_attempt(
    client: Client, notifying: Flask, world: World, file_case, runner, gateway
) -> None:
    notifying.config["NOTIFY_MAX_ATTEMPTS"] = 2
    file_case(client, "sanggahan", with_contact(world, phone="081234567890"))
    for __ in range(2):
        claim_and_die(notifying, after_send=True)
        age_claims(notifying)
    send(runner)
    [message] = messages(notifying)
    assert (message.status, message.attempts) == ("failed", 2)
    assert message.last_error.endswith("no attempt left")
    assert len(gateway.delivered) == 1


# --- concurrent workers (PostgreSQL: SKIP LOCKED) -------------------------------------------


def postgres_only(app: Flask) -> None:
    with app.app_context():
        if db.get_engine().dialect.name != "postgresql":
            pytest.skip("SQLite: one notification worker (docs/notifications.md)")


def many_messages(app: Flask, appeal_id: int, n: int) -> None:
    with app.app_context():
        db.session.add_all(
            OutboxMessage(
                appeal_id=appeal_id,
                channel="sms",
                recipient="+6281234567890",
                template="status_changed",
                payload={"ticket": "K7QM4TXE", "status": "ditolak"},
                locale="id",
                attempts=0,
                created_at=db.utcnow(),
            )
            for __ in range(n)
        )
        db.session.commit()


def test_two_workers_at_once_never_send_the_same_message(
    client: Client, notifying: Flask, world: World, file_case, gateway
) -> None:
    postgres_only(notifying)
    ticket = file_case(client, "sanggahan", with_contact(world))
    many_messages(notifying, load_case(notifying, ticket).id, 60)
    start = threading.Barrier(2)
    outcomes: list[list[service.Outcome]] = []

    def worker() -> None:
        with notifying.app_context():
            start.wait()
            outcomes.append(service.run_pass())

    threads = [threading.Thread(target=worker) for __ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    references = [r["reference"] for r in gateway.requests]
    assert len(references) == 60 == len(set(references))
    assert all(outcomes)
    assert sum(len(o) for o in outcomes) == 60
    assert {m.status for m in messages(notifying)} == {"sent"}


def test_a_claim_skips_a_message_another_worker_has_locked(
    client: Client, notifying: Flask, world: World, file_case
) -> None:
    postgres_only(notifying)
    ticket = file_case(client, "sanggahan", with_contact(world))
    many_messages(notifying, load_case(notifying, ticket).id, 2)
    first, second = (m.id for m in messages(notifying))
    with notifying.app_context():
        engine = db.get_engine()
        with engine.connect() as other:  # another worker, in the middle of its claim
            other.execute(
                text("SELECT id FROM outbox_messages WHERE id = :id FOR UPDATE"), {"id": first}
            )
            db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
            taken = service.claim(["sms"], worker="test")
            other.rollback()
    assert taken is not None
    assert taken.id == second


# --- what a message says --------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["id", "en"])
def test_every_sms_fits_one_gsm_7_message_and_names_ticket_status_and_address(
    notifying: Flask, locale: str
) -> None:
    longest = "https://" + "x" * 57 + ".go.id"  # 71 characters: docs/notifications.md
    with notifying.test_request_context():
        for status in AppealStatus:
            payload = {"ticket": "K7QM4TXE", "status": status.value}
            sms = content.render("status_changed", payload, locale, "sms").text
            assert content.is_gsm7(sms), sms
            assert "K7QM-4TXE" in sms
            assert f"{BASE_URL}/lacak" in sms
            notifying.config["PUBLIC_BASE_URL"] = longest
            sms = content.render("status_changed", payload, locale, "sms").text
            assert len(sms) <= content.SMS_MAX, (status, len(sms), sms)
            notifying.config["PUBLIC_BASE_URL"] = BASE_URL
            mail = content.render("status_changed", payload, locale, "email")
            assert "K7QM-4TXE" in mail.subject
            assert "K7QM-4TXE" in mail.text


def test_indonesian_messages_are_in_indonesian(notifying: Flask) -> None:
    with notifying.test_request_context():
        payload = {"ticket": "K7QM4TXE", "status": "disetujui"}
        sms = content.render("status_changed", payload, "id", "sms").text
        mail = content.render("status_changed", payload, "id", "email")
    assert sms.startswith("DTSEN: status laporan K7QM-4TXE kini: Disetujui.")
    assert "Disetujui" in mail.subject
    assert "Kemensos" in mail.text


def test_a_row_this_release_cannot_render_fails_with_a_reason(
    client: Client, notifying: Flask, world: World, file_case, runner
) -> None:
    ticket = file_case(client, "sanggahan", with_contact(world))
    with notifying.app_context():
        db.session.add(
            OutboxMessage(
                appeal_id=load_case(notifying, ticket).id,
                channel="email",
                recipient="warga@example.com",
                template="from_the_future",
                payload={},
                locale="id",
                attempts=0,
                created_at=db.utcnow(),
            )
        )
        db.session.commit()
    assert "cannot render" in send(runner, expect=1)


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    import random

    rand = random.Random(7)
    waits = [service.backoff(n, 60, rand) for n in range(1, 6)]
    for n, wait in enumerate(waits, start=1):
        full = 60 * 2 ** (n - 1)
        assert full / 2 <= wait <= full
    assert service.backoff(30, 60, rand) <= 6 * 3600
    assert len({round(service.backoff(3, 60), 3) for __ in range(20)}) > 1  # jitter


def test_the_message_id_and_the_reference_are_stable_per_message(notifying: Flask) -> None:
    with notifying.app_context():
        now = db.utcnow()
    ref = content.reference(12, now)
    assert ref == content.reference(12, now) != content.reference(13, now)
    sender = SmtpSender(notifying.config)
    outgoing = Outgoing(ref, "warga@example.com", "s", "t", "id")
    assert sender.build(outgoing)["Message-ID"] == f"<{ref}@cekdtsen.example.go.id>"
    assert JsonHttpGateway(notifying.config).idempotent
    assert not sender.idempotent


# --- contact normalised at filing -----------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "0812-3456-7890",
        "+62 812 3456 7890",
        "6281234567890",
        "(0812) 3456 7890",
        "0062812-3456-7890",
    ],
)
def test_indonesian_mobile_numbers_are_stored_in_e164(typed: str) -> None:
    assert contacts.normalise_phone(typed) == "+6281234567890"


@pytest.mark.parametrize(
    "typed", ["12345", "021-5555-1234", "+44 7700 900123", "0812", "08ab34567890", "+62"]
)
def test_other_numbers_are_refused(typed: str) -> None:
    with pytest.raises(contacts.InvalidContact):
        contacts.normalise_phone(typed)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("Warga@Example.COM", "Warga@example.com"), (" warga@example.id ", "warga@example.id")],
)
def test_email_addresses_are_normalised_without_dns(typed: str, stored: str) -> None:
    assert contacts.normalise_email(typed) == stored


@pytest.mark.parametrize(
    "typed", ["warga@", "warga@example", "a b@example.com", "x" * 250 + "@e.id"]
)
def test_bad_email_addresses_are_refused(typed: str) -> None:
    with pytest.raises(contacts.InvalidContact):
        contacts.normalise_email(typed)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_contact_page_stores_normalised_contacts_and_explains_bad_ones(
    client: Client, app: Flask, world: World, file_case, lang: str
) -> None:
    client.page(f"/?lang={lang}")
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"), stop_at="kontak")
    refused = client.post_form("/sanggahan/kontak", {"phone": "021-5555-1234", "email": "a@b"})
    assert refused.status == 303
    errors = client.page("/sanggahan/kontak").error_summary()
    if lang == "en":
        assert errors == [
            "Enter a mobile number starting with 08 or +628.",
            "Enter an e-mail address like name@example.com.",
        ]
    else:
        assert len(errors) == 2
        assert all("Enter" not in e for e in errors)

    ticket = file_case(
        client, "sanggahan", with_contact(world, phone="62 812-3456-7890", email="W@Example.ID")
    )
    appeal = load_case(app, ticket)
    assert (appeal.contact_phone, appeal.contact_email) == ("+6281234567890", "W@example.id")
    assert tickets.normalise(ticket) == appeal.ticket


# --- the worker as systemd runs it ------------------------------------------------------------

WORKER = """
import sys
from portal import create_app

url, port, base = sys.argv[1:4]
app = create_app({
    "ENV_NAME": "testing", "DATABASE_URL": url, "PUBLIC_BASE_URL": base,
    "SMTP_HOST": "127.0.0.1", "SMTP_PORT": int(port), "SMTP_STARTTLS": False,
    "NOTIFY_POLL_SECONDS": 0.2,
})
result = app.test_cli_runner().invoke(args=["notify", "run"])  # in this main thread: SIGTERM
print(result.output, end="")
sys.exit(result.exit_code)
"""


def wait_for(condition: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_the_worker_sends_as_cases_move_and_stops_cleanly_on_sigterm(
    client: Client, notifying: Flask, world: World, file_case, smtp
) -> None:
    mailbox, port = smtp
    ticket = file_case(client, "sanggahan", with_contact(world, email="warga@example.com"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PORTAL_ENV", None)
    url = notifying.config["DATABASE_URL"]
    worker = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", WORKER, url, str(port), BASE_URL],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        wait_for(lambda: len(mailbox.messages) == 1)
        decide(notifying, ticket, AppealStatus.DISETUJUI)
        wait_for(lambda: len(mailbox.messages) == 2)
        time.sleep(0.5)  # idle now: nothing more is sent
        assert len(mailbox.messages) == 2
        started = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
        stopped = time.monotonic() - started
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert stopped < 5
    assert out.count(": sent (attempt 1)") == 2, out
    assert out.strip().endswith("notify: stopped")
    assert {m.status for m in messages(notifying)} == {"sent"}
