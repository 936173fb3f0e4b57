"""Deciding a case: complete input or a clear message, one decision only, and officers racing
each other for a claim, a decision or the next case (PostgreSQL: real threads and row locks)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, text

from portal import db
from portal.appeals import errors as appeal_errors
from portal.appeals.models import AppealEvent
from portal.appeals.states import DECIDED, AppealStatus
from portal.auth.models import StaffUser
from portal.review import service
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client
from tests.review.conftest import (
    DECISION,
    KOTA_BEKASI_DESA,
    NOTE,
    Case,
    CaseFactory,
    Job,
    audit,
    count,
    errors,
    follow,
    get,
    load,
    location,
    notices,
    post,
    postgres,
    race,
)

S = AppealStatus


@pytest.fixture
def held(staff: StaffFactory, cases: CaseFactory) -> tuple[Officer, Case]:
    """A verifikator and the case they hold in review."""
    me = staff.create("verifikator")
    return me, cases.make(status=S.VERIFIKASI, assigned_to=me.id)


def decided_events(app: Flask, case: Case) -> int:
    return count(
        app,
        AppealEvent,
        AppealEvent.appeal_id == case.id,
        AppealEvent.to_status.in_([s.value for s in DECIDED]),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"decision": ""}, "Choose the decision."),
        ({"decision": "dibatalkan"}, "Choose one of the options shown."),
        ({"reason": ""}, "Choose the reason."),
        ({"reason": "because"}, "Choose one of the options shown."),
        ({"note": ""}, "Write the explanation."),
        ({"note": "          "}, "Write the explanation."),
        ({"note": "Too short"}, "Write between 10 and 2000 characters."),
        ({"note": "x" * 2001}, "Write between 10 and 2000 characters."),
        ({"note": "   short      "}, "Write between 10 and 2000 characters."),  # stripped
    ],
)
def test_a_decision_needs_a_decision_a_listed_reason_and_an_explanation(
    change: dict[str, str],
    message: str,
    app: Flask,
    held: tuple[Officer, Case],
    cases: CaseFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    me, case = held
    page = post(sign_in(me), f"/staf/kasus/{case.id}/putuskan", {**DECISION, **change})
    assert page.status == 400
    assert message in errors(page)
    assert page.soup.title.get_text().startswith("Error: ")
    assert cases.get(case).status == S.VERIFIKASI.value
    assert audit(app, "decide") == []


def test_a_decision_is_saved_with_its_reason_history_and_audit(
    app: Flask, held: tuple[Officer, Case], cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    me, case = held
    client = sign_in(me)
    page = post(client, f"/staf/kasus/{case.id}/putuskan", DECISION)
    assert location(page) == f"/staf/kasus/{case.id}"
    assert notices(follow(client, page), "success") == [
        "Decision saved. The citizen can read it now."
    ]
    appeal = cases.get(case)
    assert (appeal.status, appeal.decided_by_id) == (S.DITOLAK.value, me.id)
    assert (appeal.decision_reason, appeal.decision_note) == ("documents_insufficient", NOTE)
    assert cases.events(case) == ["diterima", "verifikasi", "ditolak"]
    [event] = audit(app, "decide")
    assert (event.staff_id, event.target_id, event.reason) == (me.id, case.id, NOTE)
    assert event.before["status"] == "verifikasi"
    assert event.after["status"] == "ditolak"


@pytest.mark.parametrize("which", ["empty", "own", "elsewhere", "malformed", "unknown"])
def test_a_duplicate_needs_the_ticket_of_another_case_in_scope(
    which: str,
    held: tuple[Officer, Case],
    cases: CaseFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    me, case = held
    tickets = {
        "empty": "",
        "own": case.shown,
        "elsewhere": cases.make(desa=KOTA_BEKASI_DESA).shown,
        "malformed": "ABC",
        "unknown": "2222-2222",
    }
    data = {**DECISION, "decision": "duplikat", "duplicate_of": tickets[which]}
    page = post(sign_in(me), f"/staf/kasus/{case.id}/putuskan", data)
    assert page.status == 400
    assert errors(page) == ["Enter the ticket of another case in your area."]
    assert cases.get(case).status == S.VERIFIKASI.value


def test_a_duplicate_of_a_case_in_scope_is_linked_to_it(
    held: tuple[Officer, Case], cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    me, case = held
    first = cases.make()
    data = {**DECISION, "decision": "duplikat", "duplicate_of": first.shown.lower()}
    assert post(sign_in(me), f"/staf/kasus/{case.id}/putuskan", data).status == 302
    appeal = cases.get(case)
    assert (appeal.status, appeal.duplicate_of_id) == (S.DUPLIKAT.value, first.id)


def test_deciding_an_already_decided_case_changes_nothing(
    app: Flask, held: tuple[Officer, Case], cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    me, case = held
    client = sign_in(me)
    url = f"/staf/kasus/{case.id}/putuskan"
    assert post(client, url, DECISION).status == 302
    again = post(client, url, {**DECISION, "decision": "disetujui", "reason": "other"})
    assert again.status == 302
    assert notices(follow(client, again), "error") == [
        "Only the officer who holds a case in review can decide it."
    ]
    assert get(client, url).status == 302  # the form itself is not offered any more
    assert cases.get(case).status == S.DITOLAK.value
    assert decided_events(app, case) == 1
    assert len(audit(app, "decide")) == 1


def test_a_case_held_by_another_officer_cannot_be_decided(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    holder = staff.create("verifikator", enrol=False)
    case = cases.make(status=S.VERIFIKASI, assigned_to=holder.id)
    client = sign_in(staff.create("admin_dinsos"))
    page = post(client, f"/staf/kasus/{case.id}/putuskan", DECISION)
    assert notices(follow(client, page), "error") == [
        "Only the officer who holds a case in review can decide it."
    ]
    assert cases.get(case).status == S.VERIFIKASI.value
    assert audit(app, "decide") == []


def test_a_decision_without_csrf_token_is_refused(
    app: Flask, held: tuple[Officer, Case], cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    me, case = held
    response = sign_in(me).post(f"/staf/kasus/{case.id}/putuskan", data=DECISION)
    assert response.status_code == 400
    assert cases.get(case).status == S.VERIFIKASI.value


def test_a_field_check_request_without_instructions_gets_a_message(
    held: tuple[Officer, Case], cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    me, case = held
    client = sign_in(me)
    page = post(client, f"/staf/kasus/{case.id}/verval", {"desa": case.desa, "instructions": ""})
    assert page.status == 302
    assert notices(follow(client, page), "error") == ["Say what to check."]
    assert cases.checks(case) == []


# --- officers racing each other -------------------------------------------------------------


def test_a_claim_on_a_page_loaded_before_another_officer_took_the_case_explains_why(
    app: Flask, staff: StaffFactory, cases: CaseFactory, sign_in: Callable[[Officer], Client]
) -> None:
    case = cases.make()
    first, second = staff.create("verifikator"), staff.create("verifikator")
    first_client, second_client = sign_in(first), sign_in(second)
    assert "Take this case" in get(second_client, f"/staf/kasus/{case.id}").texts("button")
    assert post(first_client, f"/staf/kasus/{case.id}/ambil").status == 302
    late = post(second_client, f"/staf/kasus/{case.id}/ambil")
    assert late.status == 302, "the second officer gets an error page, not an explanation"
    assert notices(follow(second_client, late), "error") == [
        "Another officer took this case a moment ago."
    ]
    assert cases.get(case).assigned_to_id == first.id
    assert len(audit(app, "claim")) == 1


def test_two_officers_claiming_one_case_at_once_exactly_one_wins(
    app: Flask, staff: StaffFactory, cases: CaseFactory
) -> None:
    """Both requests load the case before either writes (two sessions): the conditional
    UPDATE lets one through and tells the other it was taken."""
    case = cases.make()
    first, second = staff.create("verifikator"), staff.create("admin_dinsos")
    with app.app_context():
        late_user, late_case = load(second, case)  # the slower request, loaded already
        with app.app_context():  # the faster request
            user, appeal = load(first, case)
            service.claim(appeal, user)
        with pytest.raises(service.AlreadyClaimed):
            service.claim(late_case, late_user)
    assert cases.get(case).assigned_to_id == first.id
    assert cases.events(case) == ["diterima", "verifikasi"]
    assert [e.staff_id for e in audit(app, "claim")] == [first.id]


def test_two_decisions_on_one_case_at_once_make_exactly_one_decision(
    app: Flask, held: tuple[Officer, Case], cases: CaseFactory
) -> None:
    """The holder's double submit (two tabs): both load the case in review first."""
    me, case = held
    with app.app_context():
        user, late = load(me, case)
        with app.app_context():
            user_now, appeal = load(me, case)
            service.decide(appeal, user_now, S.DITOLAK, "not_confirmed_in_field", NOTE)
        with pytest.raises(appeal_errors.InvalidTransition):
            service.decide(late, user, S.DISETUJUI, "documents_confirm", NOTE)
    assert cases.get(case).status == S.DITOLAK.value
    assert decided_events(app, case) == 1
    assert len(audit(app, "decide")) == 1


@pytest.mark.postgres
@postgres
def test_concurrent_claims_on_postgresql_let_exactly_one_officer_win(
    app: Flask, staff: StaffFactory, cases: CaseFactory
) -> None:
    case = cases.make()
    officers = [staff.create("verifikator") for _ in range(4)]

    def claim_as(officer: Officer) -> Job:
        def job(barrier: threading.Barrier) -> Any:
            user, appeal = load(officer, case)
            barrier.wait()
            return service.claim(appeal, user).assigned_to_id

        return job

    results = race(app, [claim_as(o) for o in officers])
    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1, results
    assert all(isinstance(r, service.AlreadyClaimed) for r in results if r not in winners)
    assert cases.get(case).assigned_to_id == winners[0]
    assert cases.events(case) == ["diterima", "verifikasi"]
    assert len(audit(app, "claim")) == 1


@pytest.mark.postgres
@postgres
def test_concurrent_decisions_on_postgresql_record_exactly_one(
    app: Flask, held: tuple[Officer, Case], cases: CaseFactory
) -> None:
    me, case = held

    def decide_as(status: AppealStatus) -> Job:
        def job(barrier: threading.Barrier) -> Any:
            user, appeal = load(me, case)
            barrier.wait()
            return service.decide(appeal, user, status, "other", NOTE).status

        return job

    results = race(app, [decide_as(S.DITOLAK), decide_as(S.DISETUJUI), decide_as(S.DITOLAK)])
    done = [r for r in results if isinstance(r, str)]
    assert len(done) == 1, results
    assert all(isinstance(r, appeal_errors.InvalidTransition) for r in results if r not in done)
    assert cases.get(case).status == done[0]
    assert decided_events(app, case) == 1
    assert len(audit(app, "decide")) == 1


@pytest.mark.postgres
@postgres
def test_officers_taking_the_next_case_at_once_get_different_cases_on_postgresql(
    app: Flask, staff: StaffFactory, cases: CaseFactory
) -> None:
    made = [cases.make(due_in=timedelta(hours=i)) for i in range(12)]
    officers = [staff.create("verifikator") for _ in range(3)]

    def take_as(officer: Officer) -> Job:
        def job(barrier: threading.Barrier) -> Any:
            user = db.session.get(StaffUser, officer.id)
            barrier.wait()
            return service.take_next(user).id

        return job

    results = race(app, [take_as(o) for o in officers])
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 3
    holders = {c.id: cases.get(c).assigned_to_id for c in made}
    assert sorted(h for h in holders.values() if h) == sorted(o.id for o in officers)


@pytest.mark.postgres
@postgres
def test_take_the_next_case_skips_a_case_another_transaction_has_locked(
    app: Flask, db_url: str, staff: StaffFactory, cases: CaseFactory
) -> None:
    locked, free = cases.make(due_in=timedelta(hours=1)), cases.make(due_in=timedelta(hours=2))
    officer = staff.create("verifikator")
    engine = create_engine(db_url)
    try:
        with engine.connect() as other:  # another officer's transaction, mid-claim
            other.execute(
                text("SELECT id FROM appeals WHERE id = :id FOR UPDATE"), {"id": locked.id}
            )

            def job(barrier: threading.Barrier) -> Any:
                barrier.wait()
                return service.take_next(db.session.get(StaffUser, officer.id)).id

            [taken] = race(app, [job])
            other.rollback()
    finally:
        engine.dispose()
    assert taken == free.id
    assert cases.get(locked).assigned_to_id is None


@pytest.mark.postgres
@postgres
def test_an_officer_taking_the_next_case_while_another_is_mid_claim_gets_the_next_one(
    app: Flask, staff: StaffFactory, cases: CaseFactory
) -> None:
    """Officer A's request has picked its candidate (row locked) but not yet committed when
    officer B presses the button: B must get the other waiting case, not 'nothing waiting'."""
    first, second = cases.make(due_in=timedelta(hours=1)), cases.make(due_in=timedelta(hours=2))
    a, b = staff.create("verifikator"), staff.create("verifikator")
    picked, resume = threading.Event(), threading.Event()

    def pause_a_after_picking(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "SKIP LOCKED" in statement and threading.current_thread().name == "officer-a":
            picked.set()
            resume.wait(10)

    engine = app.extensions["db_engine"]
    event.listen(engine, "after_cursor_execute", pause_a_after_picking)
    taken: dict[str, Any] = {}

    def officer_a() -> None:
        with app.app_context():
            taken["a"] = service.take_next(db.session.get(StaffUser, a.id)).id

    thread = threading.Thread(target=officer_a, name="officer-a")
    try:
        thread.start()
        assert picked.wait(10)
        with app.app_context():
            try:
                taken["b"] = service.take_next(db.session.get(StaffUser, b.id)).id
            except service.NothingToTake:
                taken["b"] = "nothing waiting"
    finally:
        resume.set()
        thread.join(10)
        event.remove(engine, "after_cursor_execute", pause_a_after_picking)
    assert taken == {"a": first.id, "b": second.id}
