"""Sending a case: idempotent (double click, retry, two requests racing), only ever a receipt
for a committed case, notifications in the outbox, clustering of reports about the same
household, and the limits on filing (open cases per household, cases per filer, honeypot)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import template_rendered
from sqlalchemy import event, func, select

from portal import db
from portal.appeals import service, tickets
from portal.appeals.models import Appeal, AppealDraft, AppealEvent, OutboxMessage
from portal.appeals.states import AppealStatus
from tests.appeals.conftest import answers_for, decide, load_case, path_of, submit, walk
from tests.fixtures.factories import DESA
from tests.helpers import Client, Page

SESSION_COOKIE = "dtsen_session"


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def session_data(app, client: Client) -> dict:
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def post_check(client: Client, token: str, kind: str = "sanggahan") -> Page:
    return Page(client.post(f"/{kind}/periksa", data={"csrf_token": token, "declaration": "y"}))


# --- idempotent submit ----------------------------------------------------------------------


@pytest.mark.parametrize("same_cookie", [False, True], ids=["retry", "double-click"])
def test_sending_the_check_page_twice_files_one_case_and_both_answers_show_the_receipt(
    client: Client, app, world, same_cookie: bool
) -> None:
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    token = client.csrf_token("/sanggahan/periksa")
    cookie_before = client.get_cookie(SESSION_COOKIE).value

    first = post_check(client, token)
    if same_cookie:  # a double click: both requests left the browser with the same cookie
        client.set_cookie(SESSION_COOKIE, cookie_before)
    second = post_check(client, token)

    assert (first.status, path_of(first)) == (302, "/tanda-terima")
    assert (second.status, path_of(second)) == (302, "/tanda-terima")
    assert count(app, Appeal) == 1
    ticket = client.page("/tanda-terima").texts(".ticket")[0]
    assert load_case(app, ticket).reason_code == "INC-MAMPU"


def draft_token(app, client: Client, kind: str = "sanggahan") -> str:
    return session_data(app, client)["drafts"][kind]


def test_submitting_a_draft_that_is_already_filed_returns_the_same_case(
    client: Client, app, world
) -> None:
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    token = draft_token(app, client)

    with app.app_context():
        draft = db.session.get(AppealDraft, token)
        first = service.submit(draft, locale="id")
        assert db.session.get(AppealDraft, token) is None  # the draft row is gone
        second = service.submit(draft, locale="id")

    assert second.id == first.id
    assert count(app, Appeal) == 1


def test_two_requests_submitting_one_draft_at_once_both_get_the_one_case(
    client: Client, app, world
) -> None:
    """Both pass the "already filed?" check before either inserts; the loser must return
    the winner's case (the unique draft_token decides), not fail."""
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    token = draft_token(app, client)
    winner: list[Appeal] = []

    with app.app_context():
        draft = db.session.get(AppealDraft, token)

        def other_request_commits_first(session, _ctx, _instances) -> None:
            if winner:
                return
            with app.app_context():
                winner.append(service.submit(db.session.get(AppealDraft, token), locale="id"))

        event.listen(db.session._get_current_object(), "before_flush", other_request_commits_first)
        loser = service.submit(draft, locale="id")

    assert winner
    assert loser.id == winner[0].id
    assert count(app, Appeal) == 1
    assert count(app, AppealEvent) == 1


def test_receipt_is_rendered_only_for_a_case_already_committed(
    client: Client, app, world, file_case
) -> None:
    seen: list[bool] = []

    def committed(_sender, template, context, **_extra) -> None:
        if template.name == "appeals/receipt.html":
            with app.extensions["db_sessionmaker"]() as fresh:
                found = fresh.scalar(select(Appeal.id).where(Appeal.id == context["appeal"].id))
                seen.append(found is not None)

    with template_rendered.connected_to(committed, app):
        file_case(client, "sanggahan", answers_for(world, "INC-MAMPU"))

    assert seen == [True]


def test_receipt_without_a_filed_case_sends_to_tracking(client: Client) -> None:
    response = client.get("/tanda-terima")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/lacak"


# --- notifications --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        ({"phone": "081234567890", "email": ""}, {("sms", "+6281234567890")}),
        ({"phone": "", "email": "warga@example.com"}, {("email", "warga@example.com")}),
        (
            {"phone": "+62 812-3456-7890", "email": "warga@example.com"},
            {("sms", "+6281234567890"), ("email", "warga@example.com")},
        ),
        ({"phone": "", "email": ""}, set()),
    ],
    ids=["phone", "email", "both", "none"],
)
def test_outbox_gets_one_message_per_channel_on_filing_and_on_each_move(
    client: Client, app, world, file_case, contact: dict, expected: set
) -> None:
    answers = {**answers_for(world, "INC-MAMPU"), "kontak": contact}
    ticket = file_case(client, "sanggahan", answers)

    with app.app_context():
        filed = list(db.session.scalars(select(OutboxMessage)))
    assert {(m.channel, m.recipient) for m in filed} == expected
    assert all(
        m.payload == {"ticket": tickets.normalise(ticket), "status": "diterima"} for m in filed
    )
    assert all(m.sent_at is None and m.locale == "en" for m in filed)

    decide(app, ticket, AppealStatus.DITOLAK)

    with app.app_context():
        moves = [
            (m.channel, m.payload["status"])
            for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]
    channels = sorted(channel for channel, _r in expected)
    assert sorted(moves) == sorted(
        (channel, status)
        for channel in channels
        for status in ("diterima", "ditolak")  # "in review" is not announced
    )


# --- clustering -----------------------------------------------------------------------------


def test_reports_with_the_same_code_about_the_same_household_are_clustered(
    client: Client, app, world, file_case
) -> None:
    first = file_case(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    second = file_case(client, "sanggahan", answers_for(world, "INC-MAMPU", filer=world.third))
    other_code = file_case(client, "sanggahan", answers_for(world, "INC-ASN", filer=world.third))

    root = load_case(app, first)
    assert root.cluster_of_id is None
    assert load_case(app, second).cluster_of_id == root.id
    assert load_case(app, other_code).cluster_of_id is None


def test_a_report_about_another_household_is_not_clustered(
    client: Client, app, world, file_case
) -> None:
    file_case(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    apart = file_case(
        client, "sanggahan", answers_for(world, "INC-MAMPU", filer=world.other, about=world.third)
    )
    assert load_case(app, apart).cluster_of_id is None


# --- limits ---------------------------------------------------------------------------------


def test_third_open_case_about_the_same_household_is_refused_and_nothing_is_written(
    client: Client, app, world, file_case
) -> None:
    file_case(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    file_case(client, "sanggahan", answers_for(world, "INC-ASN"))
    before = (count(app, Appeal), count(app, AppealEvent), count(app, OutboxMessage))
    walk(client, "sanggahan", answers_for(world, "INC-PINDAH"))

    sent = submit(client, "sanggahan")
    assert sent.status == 303  # back to the check page, which says why
    page = client.page(sent.response.headers["Location"])

    assert page.path == "/sanggahan/periksa"
    assert "You already have open cases about this household" in page
    assert page.soup.select_one(".error-summary a[href='#declaration']")
    assert (count(app, Appeal), count(app, AppealEvent), count(app, OutboxMessage)) == before


def test_a_decided_case_no_longer_counts_as_open_for_the_cap(
    client: Client, app, world, file_case
) -> None:
    first = file_case(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    file_case(client, "sanggahan", answers_for(world, "INC-ASN"))
    decide(app, first, AppealStatus.DITOLAK)

    file_case(client, "sanggahan", answers_for(world, "INC-PINDAH"))

    assert count(app, Appeal) == 3


def test_filer_over_the_filing_limit_gets_429_and_no_case(
    client: Client, app, world, file_case
) -> None:
    app.config["APPEAL_FILER_LIMIT"] = "2 per day"
    file_case(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    file_case(client, "sanggahan", answers_for(world, "INC-ASN", about=world.third))
    walk(client, "sanggahan", answers_for(world, "EXC-DESIL-SALAH"))

    page = submit(client, "sanggahan")

    assert page.status == 429
    assert int(page.response.headers["Retry-After"]) > 0
    assert count(app, Appeal) == 2


def test_other_filers_are_not_held_by_one_filers_limit(
    client: Client, app, world, file_case
) -> None:
    app.config["APPEAL_FILER_LIMIT"] = "1 per day"
    file_case(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    file_case(client, "sanggahan", answers_for(world, "INC-MAMPU", filer=world.third))
    assert count(app, Appeal) == 2


@pytest.mark.parametrize("slug", ["pelapor", "periksa"])
def test_filled_honeypot_is_refused_with_429_and_no_case(
    client: Client, app, world, slug: str
) -> None:
    answers = answers_for(world, "INC-MAMPU")
    walk(client, "sanggahan", answers, stop_at=slug)
    data = {"declaration": "y"} if slug == "periksa" else answers[slug]

    page = client.post_form(f"/sanggahan/{slug}", {**data, "website": "http://spam.example"})

    assert page.status == 429
    assert "Retry-After" in page.response.headers
    assert count(app, Appeal) == 0


# --- an usulan about a household already in DTSEN goes to its area -----------------------------


def test_an_usulan_naming_a_no_kk_in_dtsen_goes_to_that_households_area_flagged(
    client: Client, app, world, file_case
) -> None:
    """Anyone may name any No. KK and choose their own desa: the desa DTSEN has decides."""
    answers = answers_for(world, "USUL-PROGRAM")  # the filer's own household, in DESA
    answers["desa"] = {"desa": "32.16.02.2001"}  # Bunibakti, Babelan: another kecamatan
    ticket = file_case(client, "usulan", answers)

    appeal = load_case(app, ticket)
    assert (appeal.kode_desa, appeal.kecamatan_code) == (DESA, "32.16.01")
    assert appeal.details["desa_mismatch"] == {"chosen": "32.16.02.2001", "dtsen": DESA}


def test_an_usulan_for_a_household_missing_from_dtsen_goes_to_the_chosen_desa(
    client: Client, app, world, file_case
) -> None:
    answers = answers_for(world, "EXC-TIDAK-TERDATA")
    answers["desa"] = {"desa": "32.16.02.2001"}
    appeal = load_case(app, file_case(client, "usulan", answers))
    assert appeal.kode_desa == "32.16.02.2001"
    assert "desa_mismatch" not in appeal.details
