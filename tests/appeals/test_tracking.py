"""Following a case at /lacak with the ticket and the filer's NIK: the timeline, forgiving
ticket input with a check character that catches typos, the same answer for every miss,
a short-lived session that never holds the NIK, withdrawing, and contesting a decision."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from babel.dates import format_date
from sqlalchemy import update

from portal import db
from portal.appeals import tickets
from portal.appeals.models import Appeal
from portal.appeals.states import AppealStatus
from portal.appeals.tracking import service as tracking
from tests.appeals.conftest import (
    DECISION_NOTE,
    INTERNAL_NOTE,
    JAKARTA,
    answers_for,
    decide,
    load_case,
    path_of,
    track,
)
from tests.fixtures.db import statements_seen
from tests.helpers import SIXTEEN_DIGITS, Client, Page

SESSION_COOKIE = "dtsen_session"


@pytest.fixture
def filed(client: Client, world, file_case) -> str:
    """A sanggahan about another household, filed by world.filer; its ticket."""
    return file_case(client, "sanggahan", answers_for(world, "INC-MAMPU"))


def open_case(client: Client, ticket: str, nik: str) -> Page:
    tracked = track(client, ticket, nik)
    assert tracked.status == 302, tracked.error_summary()
    assert path_of(tracked) == "/lacak/kasus"
    return client.page("/lacak/kasus")


def main_text(page: Page) -> str:
    return page.soup.main.get_text(" ", strip=True)


def one_symbol_off(ticket: str, position: int = 2) -> str:
    code = tickets.normalise(ticket)
    other = next(c for c in tickets.ALPHABET if c != code[position])
    return tickets.display(code[:position] + other + code[position + 1 :])


# --- the timeline ---------------------------------------------------------------------------


def test_ticket_and_filers_nik_show_the_timeline_with_the_due_date(
    client: Client, app, world, filed: str
) -> None:
    page = open_case(client, filed, world.filer_nik)

    assert filed in page.texts(".ticket")
    assert page.h1 == "A recipient is clearly well-off"
    assert page.texts(".status") == ["Received"]
    assert "Received" in page.texts(".timeline__title")
    due = load_case(app, filed).due_at.astimezone(JAKARTA).date()
    assert due == (load_case(app, filed).created_at + timedelta(days=14)).astimezone(JAKARTA).date()
    assert f"By {format_date(due, 'medium', locale='en')}" in page
    assert page.soup.find("a", href="/lacak/batalkan")


@pytest.mark.parametrize(
    "typed",
    [
        lambda t: t.lower(),
        lambda t: t.replace("-", " "),
        lambda t: t.replace("-", ""),
        lambda t: " ".join(t.replace("-", "").lower()),
    ],
    ids=["lower-case", "space", "no-separator", "spaced-symbols"],
)
def test_ticket_is_accepted_as_people_type_it(client: Client, world, filed: str, typed) -> None:
    page = open_case(client, typed(filed), world.filer_nik)
    assert filed in page.texts(".ticket")


def test_ticket_with_one_wrong_symbol_is_caught_and_the_real_one_suggested(
    client: Client, world, filed: str
) -> None:
    page = track(client, one_symbol_off(filed), world.filer_nik, follow_redirects=True)

    assert [r.status_code for r in page.redirects] == [303]
    assert page.status == 200
    assert "typo" in page
    assert f"Did you mean {filed}?" in page
    assert page.soup.select_one(".error-summary a[href='#ticket']")


def test_typo_suggestion_needs_the_filers_nik(client: Client, world, filed: str) -> None:
    page = track(client, one_symbol_off(filed), world.other.members[0].nik, follow_redirects=True)

    assert page.status == 200
    assert "typo" in page
    assert "Did you mean" not in page
    assert filed not in page


@pytest.mark.parametrize("typed", ["K7QM-4TX0", "KOQM-4TX9", "K7QM-1TX9", "KIQM-4TX9", "K7QM4TX"])
def test_ticket_of_the_wrong_shape_gets_the_format_message(
    client: Client, world, filed: str, typed: str
) -> None:
    page = track(client, typed, world.filer_nik, follow_redirects=True)

    assert page.path == "/lacak"
    assert "It never contains 0, O, 1 or I." in page
    assert page.soup.select_one(".error-summary a[href='#ticket']")


TICKET_REQUIRED = "Enter the ticket number from your receipt."


@pytest.mark.parametrize(
    ("ticket", "nik", "marked"),
    [
        ("", "", {"#ticket", "#nik"}),
        ("  ", "", {"#ticket", "#nik"}),
        ("", "filer", {"#ticket"}),
    ],
    ids=["both-empty", "ticket-blank", "ticket-empty"],
)
def test_an_empty_ticket_number_is_a_form_error_of_its_own(
    client: Client, world, filed: str, ticket: str, nik: str, marked: set[str]
) -> None:
    """An empty field is a form error, not a look-up: each empty field is marked, and no
    "no case found" is said (nothing was looked up)."""
    page = track(client, ticket, world.filer_nik if nik else "", follow_redirects=True)

    assert page.path == "/lacak"
    assert {a["href"] for a in page.soup.select(".error-summary a")} == marked
    ticket_error = page.soup.select_one("#ticket-error")
    assert ticket_error is not None
    assert TICKET_REQUIRED in ticket_error.get_text()
    assert page.soup.select_one("#ticket")["aria-invalid"] == "true"
    assert "It never contains 0, O, 1 or I." not in page
    assert "No case found" not in page


def test_wrong_nik_and_unknown_ticket_get_the_same_answer(
    client: Client, world, filed: str
) -> None:
    with_reported_nik = track(client, filed, world.other.members[0].nik, follow_redirects=True)
    unknown_ticket = track(
        client, tickets.display(tickets.new_ticket()), world.filer_nik, follow_redirects=True
    )

    assert with_reported_nik.status == unknown_ticket.status == 200
    assert "No case found with this ticket number and NIK." in with_reported_nik
    assert main_text(with_reported_nik) == main_text(unknown_ticket)
    hops = [(r.status_code, r.headers["Location"]) for r in with_reported_nik.redirects]
    assert hops == [(303, "/lacak")]
    assert hops == [(r.status_code, r.headers["Location"]) for r in unknown_ticket.redirects]


# --- the session ----------------------------------------------------------------------------


def test_session_keeps_the_tracked_case_but_never_the_nik(
    client: Client, app, world, filed: str
) -> None:
    open_case(client, filed, world.filer_nik)

    cookie = client.get_cookie(SESSION_COOKIE)
    data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    with app.app_context():
        assert tracking.tracked_appeal(data["track"]).id == load_case(app, filed).id
    dumped = json.dumps(data)
    assert world.filer_nik not in dumped
    # the CSRF token is 40 random hex digits, which hold 16 decimal ones in a row about once
    # in 75 sessions: the numbers are looked for everywhere else
    assert not SIXTEEN_DIGITS.search(
        json.dumps({k: v for k, v in data.items() if k != "csrf_token"})
    )
    assert not SIXTEEN_DIGITS.search(cookie.value)


def test_the_tracked_case_page_asks_outside_a_transaction(
    client: Client, app, world, filed: str
) -> None:
    """The case page only reads: on PostgreSQL its questions go without a BEGIN before them
    and a ROLLBACK after (portal.db.reads_only; sqlite3 never begins for a SELECT)."""
    open_case(client, filed, world.filer_nik)
    with statements_seen(app) as seen:
        page = client.page("/lacak/kasus")
    assert page.texts(".status") == ["Received"]
    assert seen
    assert all(s.kind == "SELECT" and not s.inside for s in seen), seen


@pytest.mark.parametrize(("minutes_ago", "still_open"), [(29, True), (31, False)])
def test_tracked_case_stays_open_for_thirty_minutes(
    client: Client, app, world, filed: str, minutes_ago: int, still_open: bool
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from portal import db
    from portal.appeals.models import TrackingGrant

    open_case(client, filed, world.filer_nik)
    with app.app_context():
        granted = db.utcnow() - timedelta(minutes=minutes_ago)
        db.session.execute(update(TrackingGrant).values(expires_at=granted + timedelta(minutes=30)))
        db.session.commit()

    response = client.get("/lacak/kasus")

    if still_open:
        assert response.status_code == 200
    else:
        assert urlsplit(response.headers["Location"]).path == "/lacak"
        assert "enter the ticket number and your NIK again" in client.page("/lacak")


def test_closing_the_case_on_this_device_forgets_it_for_every_copy_of_the_cookie(
    client: Client, app, world, filed: str
) -> None:
    open_case(client, filed, world.filer_nik)
    copied = app.test_client()  # someone copied the cookie from this phone
    copied.set_cookie(SESSION_COOKIE, client.get_cookie(SESSION_COOKIE).value)
    assert copied.get("/lacak/kasus").status_code == 200

    token = client.csrf_token("/lacak/kasus")
    assert client.post("/lacak/keluar", data={"csrf_token": token}).status_code == 302

    assert urlsplit(client.get("/lacak/kasus").headers["Location"]).path == "/lacak"
    assert urlsplit(copied.get("/lacak/kasus").headers["Location"]).path == "/lacak"


# --- withdraw -------------------------------------------------------------------------------


def test_filer_withdraws_an_open_case(client: Client, app, world, filed: str) -> None:
    open_case(client, filed, world.filer_nik)
    client.page("/lacak/batalkan")

    withdrawn = client.post_form("/lacak/batalkan", {"confirm": "y"})

    assert path_of(withdrawn) == "/lacak/kasus"
    page = client.page("/lacak/kasus")
    assert "Your case was withdrawn." in page
    assert page.texts(".status") == ["Withdrawn"]
    assert "Withdrawn" in page.texts(".timeline__title")
    assert not page.soup.find("a", href="/lacak/batalkan")
    case = load_case(app, filed)
    assert case.status == "dibatalkan"
    assert (case.events[-1].to_status, case.events[-1].actor) == ("dibatalkan", "filer")


def test_withdraw_needs_the_confirmation_box(client: Client, app, world, filed: str) -> None:
    open_case(client, filed, world.filer_nik)
    page = client.post_form("/lacak/batalkan", {}, follow_redirects=True)
    assert [r.status_code for r in page.redirects] == [303]
    assert page.path == "/lacak/batalkan"
    assert page.soup.select_one(".error-summary a[href='#confirm']")
    assert load_case(app, filed).status == "diterima"


def test_withdraw_is_refused_once_decided(client: Client, app, world, filed: str) -> None:
    open_case(client, filed, world.filer_nik)
    token = client.csrf_token("/lacak/kasus")
    decide(app, filed, AppealStatus.DITOLAK)

    assert path_of(Page(client.get("/lacak/batalkan"))) == "/lacak/kasus"
    refused = client.post("/lacak/batalkan", data={"csrf_token": token, "confirm": "y"})

    assert urlsplit(refused.headers["Location"]).path == "/lacak/kasus"
    assert "can no longer be withdrawn" in client.page("/lacak/kasus")
    assert load_case(app, filed).status == "ditolak"


# --- decision and contest -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason", "title", "label"),
    [
        (AppealStatus.DITOLAK, "not_confirmed_in_field", "Rejected", "Not confirmed by a field"),
        (AppealStatus.DISETUJUI, "verified_in_field", "Approved", "Confirmed by a field check"),
        (AppealStatus.DUPLIKAT, "duplicate_case", "Duplicate", "Already handled under another"),
    ],
)
def test_decided_case_shows_the_decision_reason_and_note_but_no_internal_note(
    client: Client, app, world, filed: str, status, reason: str, title: str, label: str
) -> None:
    decide(app, filed, status, reason=reason)

    page = open_case(client, filed, world.filer_nik)

    assert page.texts(".status") == [title]
    assert label in page
    assert DECISION_NOTE in page.texts(".timeline__note")
    assert INTERNAL_NOTE not in page.text
    assert page.soup.find("a", href="/lacak/sanggah-keputusan")
    assert not page.soup.find("a", href="/lacak/batalkan")


def contest(client: Client, note: str = "Mereka memang punya mobil, saya punya fotonya.") -> Page:
    return client.post_form("/lacak/sanggah-keputusan", {"note": note, "declaration": "y"})


def test_decision_is_contested_once_as_a_new_linked_case(
    client: Client, app, world, filed: str
) -> None:
    decide(app, filed, AppealStatus.DITOLAK)
    open_case(client, filed, world.filer_nik)

    contested = contest(client)

    assert path_of(contested) == "/tanda-terima"
    new_ticket = client.page("/tanda-terima").texts(".ticket")[0]
    assert new_ticket != filed
    new = load_case(app, new_ticket)
    assert new.contests_id == load_case(app, filed).id
    assert (new.status, new.reason_code) == ("diterima", "INC-MAMPU")
    original = open_case(client, filed, world.filer_nik)
    assert f"You contested this decision: ticket {new_ticket}." in original
    assert not original.soup.find("a", href="/lacak/sanggah-keputusan")
    again = client.get("/lacak/sanggah-keputusan")
    assert urlsplit(again.headers["Location"]).path == "/lacak/kasus"
    assert "can no longer be contested" in client.page("/lacak/kasus")
    follow = open_case(client, new_ticket, world.filer_nik)
    assert "This case contests an earlier decision" in follow


def test_contest_needs_a_reason_and_the_declaration(client: Client, app, world, filed) -> None:
    decide(app, filed, AppealStatus.DITOLAK)
    open_case(client, filed, world.filer_nik)

    page = client.post_form(
        "/lacak/sanggah-keputusan", {"note": "", "declaration": ""}, follow_redirects=True
    )

    assert page.path == "/lacak/sanggah-keputusan"
    links = {a["href"] for a in page.soup.select(".error-summary a")}
    assert links == {"#note", "#declaration"}


@pytest.mark.parametrize(("days_ago", "allowed"), [(29, True), (31, False)])
def test_contest_is_possible_for_thirty_days_after_the_decision(
    client: Client, app, world, filed: str, days_ago: int, allowed: bool
) -> None:
    decide(app, filed, AppealStatus.DITOLAK)
    with app.app_context():
        db.session.execute(
            update(Appeal)
            .where(Appeal.ticket == tickets.normalise(filed))
            .values(decided_at=db.utcnow() - timedelta(days=days_ago))
        )
        db.session.commit()

    page = open_case(client, filed, world.filer_nik)

    assert bool(page.soup.find("a", href="/lacak/sanggah-keputusan")) is allowed
    if allowed:
        assert path_of(contest(client)) == "/tanda-terima"
    else:
        response = client.get("/lacak/sanggah-keputusan")
        assert urlsplit(response.headers["Location"]).path == "/lacak/kasus"


def test_withdrawn_case_cannot_be_contested(client: Client, app, world, filed: str) -> None:
    open_case(client, filed, world.filer_nik)
    client.post_form("/lacak/batalkan", {"confirm": "y"})
    response = client.get("/lacak/sanggah-keputusan")
    assert urlsplit(response.headers["Location"]).path == "/lacak/kasus"


def test_decided_contest_cannot_be_contested_again(client: Client, app, world, filed) -> None:
    decide(app, filed, AppealStatus.DITOLAK)
    open_case(client, filed, world.filer_nik)
    contest(client)
    second = client.page("/tanda-terima").texts(".ticket")[0]
    decide(app, second, AppealStatus.DITOLAK, reason="documents_insufficient")

    page = open_case(client, second, world.filer_nik)

    assert page.texts(".status") == ["Rejected"]
    assert not page.soup.find("a", href="/lacak/sanggah-keputusan")
    assert urlsplit(client.get("/lacak/sanggah-keputusan").headers["Location"]).path == (
        "/lacak/kasus"
    )
