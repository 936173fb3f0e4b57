"""What the receipt and the tracked case page tell a person (issue 10): the ticket is what to
keep, how to follow the case (the portal's address, printed), where to ask in person (the
Dinsos contact of the case's kabupaten/kota, or the general channels), and which messages
will come: to the contact the filer gave (masked) when this deployment sends on its channel,
otherwise none. Also the words of case statuses and of withdrawing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from flask_babel import force_locale
from sqlalchemy import select

from portal import db
from portal.appeals.models import OutboxMessage
from portal.appeals.states import TITLES, AppealStatus
from tests.appeals.conftest import answers_for, decide, load_case, track, walk
from tests.helpers import Client, Page

CONTACTS = (
    "kode_kabupaten,nama_kantor,alamat,telepon,whatsapp,email,jam_layanan\n"
    "32.16,Dinas Sosial Kabupaten Uji,Jl. Uji Coba No. 1,021 555 0101,,,Senin-Jumat 08.00\n"
)
GENERAL = "the Dinas Sosial of your kabupaten/kota."


@pytest.fixture
def contacts(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "kontak.csv"
    path.write_text(CONTACTS, encoding="utf-8")
    result = runner.invoke(args=["wilayah", "contacts", "import", str(path)])
    assert result.exit_code == 0, result.output


@pytest.fixture
def filed(client: Client, world, file_case) -> str:
    """A sanggahan about another household of Kabupaten Bekasi, with a phone number given."""
    return file_case(client, "sanggahan", answers_for(world, "INC-MAMPU"))


def with_contact(world, **contact: str) -> dict:
    return {**answers_for(world, "INC-MAMPU"), "kontak": {"phone": "", "email": "", **contact}}


def section(page: Page, selector: str) -> str:
    found = page.soup.select_one(selector)
    assert found is not None, f"no {selector}"
    return found.get_text(" ", strip=True)


def open_case(client: Client, ticket: str, nik: str) -> Page:
    tracked = track(client, ticket, nik, follow_redirects=True)
    assert tracked.status == 200
    return client.page("/lacak/kasus")


# --- the receipt -------------------------------------------------------------------------------


def test_the_receipt_says_what_to_keep_how_to_follow_and_whom_to_ask(
    client: Client, contacts, filed: str
) -> None:
    page = client.page("/tanda-terima")
    text = section(page, "main")

    assert "Keep this ticket number: it is how you follow your case." in text
    assert "open localhost/lacak and type the ticket number and your NIK" in text
    assert page.soup.select_one("a.site-address")["href"] == "https://localhost/lacak"
    contact = section(page, "section.contact")
    assert "Dinas Sosial Kabupaten Uji" in contact
    assert "Jl. Uji Coba No. 1" in contact
    assert GENERAL not in contact


# What the receipt says about messages follows what the notification worker will do: it sends
# to the contact the filer gave, on a channel whose server this deployment set
# (portal/notify/senders.configured).
SMTP = {"SMTP_HOST": "127.0.0.1"}
SMS = {"SMS_GATEWAY_URL": "http://127.0.0.1:9/sms"}
EMAIL, PHONE = "Warga@Example.COM", "0812 3456 7890"
MASKED_EMAIL, MASKED_PHONE = "W***@example.com", "+62812*****890"
NO_MESSAGES = (
    "We will not send you messages about this case: the news about your case is on the case page."
)
NEVER_ASK = "Our messages never ask for money, a PIN or an OTP code."


@pytest.mark.parametrize(
    ("contact", "channels", "said"),
    [
        (
            {"email": EMAIL},
            SMTP,
            f"We will also send news about your case by e-mail to {MASKED_EMAIL}.",
        ),
        (
            {"phone": PHONE},
            SMS,
            f"We will also send news about your case by SMS to {MASKED_PHONE}.",
        ),
        (
            {"email": EMAIL, "phone": PHONE},
            SMTP | SMS,
            f"We will also send news about your case by e-mail to {MASKED_EMAIL} and by SMS "
            f"to {MASKED_PHONE}.",
        ),
        (
            {"email": EMAIL, "phone": PHONE},
            SMS,
            f"We will also send news about your case by SMS to {MASKED_PHONE}.",
        ),
    ],
    ids=["e-mail", "sms", "both", "only-the-channel-that-is-sent"],
)
def test_the_receipt_names_the_masked_contact_that_news_will_be_sent_to(
    client: Client, app: Flask, world, file_case, contact: dict, channels: dict, said: str
) -> None:
    app.config.update(channels)
    file_case(client, "sanggahan", with_contact(world, **contact))

    text = section(client.page("/tanda-terima"), "main")

    assert said in text
    assert NEVER_ASK in text
    assert NO_MESSAGES not in text
    assert "does not send" not in text
    assert "Warga@" not in text  # masked, as typed or as stored
    assert "81234567890" not in text
    if "SMTP_HOST" not in channels:
        assert MASKED_EMAIL not in text


@pytest.mark.parametrize(
    ("contact", "channels"),
    [
        ({}, SMTP | SMS),
        ({"email": EMAIL, "phone": PHONE}, {}),
        ({"email": EMAIL}, SMS),
        ({"phone": PHONE}, SMTP),
    ],
    ids=["no-contact-given", "no-channel-set", "e-mail-not-sent-here", "sms-not-sent-here"],
)
def test_without_a_contact_that_is_sent_to_the_receipt_promises_no_messages(
    client: Client, app: Flask, world, file_case, contact: dict, channels: dict
) -> None:
    app.config.update(channels)
    file_case(client, "sanggahan", with_contact(world, **contact))

    text = section(client.page("/tanda-terima"), "main")

    assert NO_MESSAGES in text
    assert "We will also send" not in text
    assert "W***" not in text
    assert "*****890" not in text


def test_the_receipt_promises_messages_only_the_worker_sends(
    client: Client, app: Flask, world, file_case
) -> None:
    """What the receipt says and what is queued agree: an e-mail for the e-mail address given
    on the contact step, in the outbox of the case just filed."""
    app.config.update(SMTP)
    ticket = file_case(client, "sanggahan", with_contact(world, email=EMAIL))

    assert f"by e-mail to {MASKED_EMAIL}." in section(client.page("/tanda-terima"), "main")
    case = load_case(app, ticket)
    with app.app_context():
        queued = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.appeal_id == case.id)
        ).all()
        assert [(m.channel, m.recipient) for m in queued] == [("email", "Warga@example.com")]


def test_the_receipt_prints_the_configured_address_not_the_one_the_browser_used(
    client: Client, app: Flask, filed: str
) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://cekdtsen.example.go.id/"
    page = client.page("/tanda-terima")  # the browser asked https://localhost

    assert "open cekdtsen.example.go.id/lacak and type" in section(page, "main")
    address = page.soup.select_one("a.site-address")
    assert address["href"] == "https://cekdtsen.example.go.id/lacak"
    assert "localhost" not in address.get_text()


def test_without_a_contact_the_receipt_names_the_general_channels(
    client: Client, filed: str
) -> None:
    contact = section(client.page("/tanda-terima"), "section.contact")
    assert GENERAL in contact
    assert "your desa/kelurahan office;" in contact


def test_the_receipt_of_a_contest_says_which_decision_it_contests(
    client: Client, app: Flask, world, filed: str
) -> None:
    decide(app, filed, AppealStatus.DITOLAK)
    open_case(client, filed, world.filer_nik)
    client.post_form(
        "/lacak/sanggah-keputusan",
        {"note": "Mereka memang punya mobil, saya punya fotonya.", "declaration": "y"},
    )

    page = client.page("/tanda-terima")

    new_ticket = page.texts(".ticket")[0]
    assert new_ticket != filed
    assert page.h1 == "Your contest of the decision was received"
    text = section(page, "main")
    assert f"This case contests the decision on case {filed}" in text
    assert "a different officer" in text
    rows = dict(zip(page.texts(".summary__key"), page.texts(".summary__value"), strict=True))
    assert rows["Contests the decision on"] == filed


def test_the_receipt_of_a_new_case_does_not_read_as_a_contest(client: Client, filed: str) -> None:
    page = client.page("/tanda-terima")
    assert page.h1 == "Your case was received"
    assert "contest" not in section(page, "main").lower()


# --- the tracked case page ---------------------------------------------------------------------


def test_the_case_page_shows_the_contact_of_the_case_s_dinsos(
    client: Client, world, contacts, filed: str
) -> None:
    page = open_case(client, filed, world.filer_nik)
    contact = section(page, "section.contact")
    assert "Dinas Sosial Kabupaten Uji" in contact
    assert "Senin-Jumat 08.00" in contact


def test_the_status_of_a_new_case_does_not_read_received_in_indonesian(
    client: Client, world, filed: str
) -> None:
    open_case(client, filed, world.filer_nik)
    indonesian = client.page("/lacak/kasus?lang=id")

    assert indonesian.texts(".status") == ["Terkirim"]
    assert "diterima" not in section(indonesian, ".timeline").lower()


@pytest.mark.parametrize("status", list(AppealStatus))
def test_no_case_status_title_uses_the_word_for_programs_received(
    app: Flask, status: AppealStatus
) -> None:
    with app.test_request_context("/"), force_locale("id"):
        title = str(TITLES[status])
    assert "diterima" not in title.lower()
    assert "batal" not in title.lower()  # withdrawing is "tarik", not "cancel"


# --- withdrawing -------------------------------------------------------------------------------


def test_withdrawing_reads_as_taking_the_case_back_not_cancel(
    client: Client, world, filed: str
) -> None:
    open_case(client, filed, world.filer_nik)
    english = client.page("/lacak/batalkan")
    assert english.soup.select_one("main button[type=submit]").get_text(strip=True) == (
        "Yes, withdraw my case"
    )
    assert english.soup.find("a", string="No, keep my case")["href"] == "/lacak/kasus"

    indonesian = client.page("/lacak/batalkan?lang=id")
    assert indonesian.soup.select_one("main button[type=submit]").get_text(strip=True) == (
        "Ya, tarik laporan saya"
    )
    assert "batal" not in section(indonesian, "main").lower()

    withdrawn = client.post_form("/lacak/batalkan", {"confirm": "y"}, follow_redirects=True)
    assert withdrawn.texts(".status") == ["Ditarik"]


# --- the photo hint ----------------------------------------------------------------------------


def test_the_photo_hint_speaks_of_the_phone_not_of_file_formats(client: Client, world) -> None:
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"), stop_at="foto")
    text = section(client.page("/sanggahan/foto"), "main")

    assert "Up to 3 photos from your phone's camera or gallery" in text
    assert "JPEG" not in text
