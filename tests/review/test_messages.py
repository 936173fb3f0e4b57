"""The messages to filers on the staff site (/staf/pesan, docs/notifications.md): an
admin_dinsos sees the messages of its kabupaten/kota that are not sent, with their last error
and the recipient masked, and sends a failed one again (audited, like ``flask notify retry``);
pusat sees all; other roles are refused; another area's message is not found."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from portal import db
from portal.appeals.models import OutboxMessage
from portal.review import outbox
from tests.fixtures.staff import StaffFactory
from tests.helpers import Client
from tests.review.conftest import (
    KOTA_BEKASI_DESA,
    Case,
    CaseFactory,
    audit,
    follow,
    get,
    location,
    notices,
    post,
)

URL = "/staf/pesan"
PHONE = "+6281234567890"
EMAIL = "warga.bekasi@example.com"
KOTA_EMAIL = "tetangga.kota@example.net"
SMTP_ERROR = "SMTP 550 for w***@example.com: mailbox unavailable"
KOTA_ERROR = "gateway answered 500 for +62813*****321"
NEXT_TRY = datetime(2030, 1, 15, 1, 30, tzinfo=UTC)  # 08:30 in Jakarta (WIB, UTC+7)


def message(
    app: Flask,
    case: Case,
    *,
    channel: str = "email",
    recipient: str = EMAIL,
    status: str = "failed",
    attempts: int = 5,
    error: str | None = SMTP_ERROR,
    **values: Any,
) -> int:
    with app.app_context():
        row = OutboxMessage(
            appeal_id=case.id,
            channel=channel,
            recipient=recipient,
            template="status_changed",
            payload={"ticket": case.ticket, "status": "ditolak"},
            locale="id",
            attempts=attempts,
            status=status,
            last_error=error,
            created_at=db.utcnow(),
            **values,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def row(app: Flask, ident: int) -> OutboxMessage:
    with app.app_context():
        found = db.session.get(OutboxMessage, ident)
        assert found is not None
        db.session.expunge(found)
        return found


def cards(client: Client, url: str = URL) -> dict[str, str]:
    """Each message card's title -> its whole text."""
    page = get(client, url)
    assert page.status == 200
    return {
        card.select_one(".message__title").get_text(" ", strip=True): card.get_text(" ", strip=True)
        for card in page.soup.select(".message")
    }


def figures(client: Client) -> dict[str, str]:
    page = get(client, URL)
    return {
        str(li["data-status"]): li.select_one(".figure__number").get_text(strip=True)
        for li in page.soup.select(".figure")
    }


@pytest.fixture
def world(app: Flask, cases: CaseFactory) -> dict[str, Any]:
    """A failed e-mail and a queued SMS in Kabupaten Bekasi, a failed e-mail in Kota Bekasi,
    a sent one in Bekasi (not listed)."""
    home, kota = cases.make(), cases.make(desa=KOTA_BEKASI_DESA)
    return {
        "home": home,
        "kota": kota,
        "failed": message(app, home),
        "queued": message(
            app,
            home,
            channel="sms",
            recipient=PHONE,
            status="queued",
            attempts=2,
            error="gateway answered 503",
            next_attempt_at=NEXT_TRY,
        ),
        "sent": message(app, home, status="sent", attempts=1, error=None),
        "other": message(app, kota, recipient=KOTA_EMAIL, error=KOTA_ERROR),
    }


def test_admin_sees_its_kabupatens_failed_message_with_its_last_error(
    world: dict[str, Any], staff: StaffFactory, sign_in: Callable[..., Client], app: Flask
) -> None:
    client = sign_in(staff.create("admin_dinsos"))
    shown = cards(client)
    assert set(shown) == {
        f"Message {world['queued']} · Queued",
        f"Message {world['failed']} · Failed",
    }  # the newest first, the sent one and Kota Bekasi's left out
    assert list(shown)[0].startswith(f"Message {world['queued']}")
    failed = shown[f"Message {world['failed']} · Failed"]
    assert SMTP_ERROR in failed
    assert world["home"].shown in failed
    assert "w***@example.com" in failed
    assert "Case status: Rejected" in failed
    assert "Attempts 5" in failed
    queued = shown[f"Message {world['queued']} · Queued"]
    assert "+62812*****890" in queued
    assert "Next try 1/15/30, 8:30\u202fAM WIB" in queued  # Jakarta time
    assert figures(client) == {"queued": "1", "sending": "0", "sent": "1", "failed": "1"}
    page = get(client, URL)
    assert KOTA_ERROR not in page
    assert world["kota"].shown not in page
    assert "Messages to filers" in page.texts(".site-nav a")
    views = audit(app, "view_messages")
    assert views
    assert views[-1].after == {"scope": "32.16", "page": 1}


def test_pusat_sees_every_kabupaten(
    world: dict[str, Any], staff: StaffFactory, sign_in: Callable[..., Client]
) -> None:
    client = sign_in(staff.create("pusat"))
    shown = cards(client)
    assert f"Message {world['other']} · Failed" in shown
    assert KOTA_ERROR in shown[f"Message {world['other']} · Failed"]
    assert figures(client)["failed"] == "2"


def test_no_full_phone_number_or_address_in_the_page(
    world: dict[str, Any], staff: StaffFactory, sign_in: Callable[..., Client]
) -> None:
    for role in ("admin_dinsos", "pusat"):
        text = get(sign_in(staff.create(role)), URL).text
        for full in (PHONE, PHONE[1:], "81234567890", EMAIL, "warga.bekasi", KOTA_EMAIL):
            assert full not in text


@pytest.mark.parametrize("role", ["verifikator", "operator_desa"])
def test_other_roles_are_refused(
    world: dict[str, Any],
    staff: StaffFactory,
    sign_in: Callable[..., Client],
    app: Flask,
    role: str,
) -> None:
    client = sign_in(staff.create(role))
    assert client.get(URL).status_code == 403
    assert post(client, f"{URL}/{world['failed']}/kirim-ulang").status == 403
    assert row(app, world["failed"]).status == "failed"
    assert "Messages to filers" not in get(client, "/staf/sesi").texts(".site-nav a")


def test_anonymous_visitor_is_sent_to_the_login(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert "/staf/masuk" in response.headers["Location"]


def test_send_again_queues_the_message_and_audits_it(
    world: dict[str, Any], staff: StaffFactory, sign_in: Callable[..., Client], app: Flask
) -> None:
    officer = staff.create("admin_dinsos")
    client = sign_in(officer)
    ident = world["failed"]
    done = post(client, f"{URL}/{ident}/kirim-ulang")
    assert location(done) == URL
    assert f"Message {ident} is queued again" in " ".join(notices(follow(client, done)))
    moved = row(app, ident)
    assert (moved.status, moved.attempts, moved.next_attempt_at) == ("queued", 0, None)
    events = audit(app, "notify_retry")
    assert [(e.staff_id, e.target_type, e.target_id) for e in events] == [
        (officer.id, "outbox_message", ident)
    ]
    assert events[0].before == {"status": "failed", "attempts": 5}
    assert events[0].after == {"status": "queued", "attempts": 0}
    # now queued: no button; a second POST changes nothing and says why
    assert f"Message {ident} · Queued" in cards(client)
    again = post(client, f"{URL}/{ident}/kirim-ulang")
    assert "is not failed" in " ".join(notices(follow(client, again)))
    assert len(audit(app, "notify_retry")) == 1


def test_only_failed_messages_have_the_button(
    world: dict[str, Any], staff: StaffFactory, sign_in: Callable[..., Client]
) -> None:
    page = get(sign_in(staff.create("admin_dinsos")), URL)
    actions = [form["action"] for form in page.soup.select(".message form")]
    assert actions == [f"{URL}/{world['failed']}/kirim-ulang"]


def test_another_kabupatens_message_is_not_found(
    world: dict[str, Any], staff: StaffFactory, sign_in: Callable[..., Client], app: Flask
) -> None:
    client = sign_in(staff.create("admin_dinsos"))
    assert post(client, f"{URL}/{world['other']}/kirim-ulang").status == 404
    assert post(client, f"{URL}/999999/kirim-ulang").status == 404
    assert row(app, world["other"]).status == "failed"
    assert audit(app, "notify_retry") == []
    # its own admin may
    kota = sign_in(staff.create("admin_dinsos", ["32.75"]))
    assert post(kota, f"{URL}/{world['other']}/kirim-ulang").status == 302
    assert row(app, world["other"]).status == "queued"


def test_send_again_without_the_csrf_token_is_refused(
    world: dict[str, Any], staff: StaffFactory, sign_in: Callable[..., Client], app: Flask
) -> None:
    client = sign_in(staff.create("admin_dinsos"))
    response = client.post(f"{URL}/{world['failed']}/kirim-ulang")
    assert response.status_code == 400
    assert row(app, world["failed"]).status == "failed"


def test_pages_of_25_newest_first(
    app: Flask, cases: CaseFactory, staff: StaffFactory, sign_in: Callable[..., Client]
) -> None:
    case = cases.make()
    made = [message(app, case) for _ in range(outbox.PAGE_SIZE + 3)]
    client = sign_in(staff.create("admin_dinsos"))
    first = get(client, URL)
    titles = first.texts(".message__title")
    assert titles == [f"Message {i} · Failed" for i in reversed(made)][: outbox.PAGE_SIZE]
    assert first.soup.find("a", string="Next page")["href"] == f"{URL}?halaman=2"
    second = cards(client, f"{URL}?halaman=2")
    assert list(second) == [f"Message {i} · Failed" for i in reversed(made[:3])]
    assert get(client, f"{URL}?halaman=3").texts(".no-messages") == ["Every message has been sent."]


@pytest.mark.parametrize(
    "bad", ["0", "-1", "abc", "1e3", "99999999999999999999", "²", "١", "1" * 5000]
)
def test_a_bad_page_number_is_not_found(
    bad: str, staff: StaffFactory, sign_in: Callable[..., Client]
) -> None:
    client = sign_in(staff.create("admin_dinsos"))
    assert client.get(f"{URL}?halaman={bad}").status_code == 404


def test_indonesian_page(
    world: dict[str, Any], staff: StaffFactory, sign_in: Callable[..., Client]
) -> None:
    client = sign_in(staff.create("admin_dinsos")).choose_language("id")
    page = get(client, URL)
    assert page.h1 == "Pesan ke pelapor"
    assert "Kirim ulang" in page.texts(".message button")
