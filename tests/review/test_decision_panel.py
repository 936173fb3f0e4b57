"""The decision panel on the case page (issue 14): options worded by what happens to the
family, a decision against the evidence stopped until confirmed with a note (kept, audited,
flagged in the Pusdatin export), standard explanations per office, save and take the next."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select, update

from portal import db
from portal.appeals.models import AppealEvent
from portal.appeals.states import AppealStatus
from portal.review.models import FieldCheck
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client, Page
from tests.review.conftest import (
    KOTA_BEKASI_DESA,
    NOTE,
    Case,
    CaseFactory,
    audit,
    errors,
    follow,
    get,
    location,
    post,
)
from tests.review.test_export import admin, download, export_now, exports_in_db

S = AppealStatus
OVERRIDE = "Kepala desa menunjukkan surat keterangan baru; kunjungan ulang tidak perlu."
# approved with the reason "the documents do not show it": a reason against the decision
AGAINST = {"decision": "disetujui", "reason": "documents_insufficient", "note": NOTE}
NO_FIELD_RESULT = (
    "This reason names what a field check found, but this case has no field check result. "
    "Choose another reason, or ask for a field check and decide when its result is in."
)


@pytest.fixture
def held(staff: StaffFactory, cases: CaseFactory) -> tuple[Officer, Case]:
    me = staff.create("verifikator")
    return me, cases.make(status=S.VERIFIKASI, assigned_to=me.id)


def url(case: Case) -> str:
    return f"/staf/kasus/{case.id}/putuskan"


def finding(app: Flask, case: Case, outcome: str) -> None:
    """The case's (done) field checks found OUTCOME."""
    with app.app_context():
        db.session.execute(
            update(FieldCheck).where(FieldCheck.appeal_id == case.id).values(outcome=outcome)
        )
        db.session.commit()


def options(page: Page) -> list[str]:
    return page.texts("#putuskan fieldset .choice__label")


def conflicts(page: Page) -> list[str]:
    return page.texts("#putuskan .conflict")


def shown_conflicts(page: Page) -> str:
    field = page.soup.find("input", attrs={"name": "conflicts"})
    assert field is not None
    return str(field["value"])


def test_the_panel_sits_on_the_case_page_beside_the_evidence_worded_by_effect(
    app: Flask,
    staff: StaffFactory,
    held: tuple[Officer, Case],
    cases: CaseFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    me, case = held
    operator = staff.create("operator_desa")
    cases.field_check(case, me.id, done_by=operator.id)
    cases.photo(case)
    client = sign_in(me)
    page = get(client, f"/staf/kasus/{case.id}")
    assert page.status == 200
    # the field result, the photos and the filer's note on the same page as the panel
    assert "The family lives there, as reported." in page.text
    assert page.soup.select(".photo-grid img")
    assert "Rumahnya besar dan punya mobil baru." in page.text
    assert page.soup.select_one("form[action*='/putuskan']") is not None
    assert options(page) == [
        "Approve: propose that the household leaves bansos",
        "Reject: the data stays as it is",
        "Duplicate: closed, handled under another ticket",
    ]
    usulan = cases.make(status=S.VERIFIKASI, assigned_to=me.id, reason="EXC-TIDAK-TERDATA")
    assert options(get(client, f"/staf/kasus/{usulan.id}"))[:2] == [
        "Approve: propose adding the household to DTSEN",
        "Reject: the household is not proposed",
    ]
    desil = cases.make(status=S.VERIFIKASI, assigned_to=me.id, reason="EXC-DESIL-SALAH")
    assert options(get(client, f"/staf/kasus/{desil.id}"))[0] == (
        "Approve: propose correcting the desil"
    )


@pytest.mark.parametrize("who", ["operator_desa", "other_verifikator", "admin_dinsos"])
def test_only_the_holder_gets_the_panel_and_an_operator_still_never_sees_the_filer(
    who: str,
    staff: StaffFactory,
    held: tuple[Officer, Case],
    sign_in: Callable[[Officer], Client],
) -> None:
    _, case = held
    officer = staff.create("verifikator" if who == "other_verifikator" else who)
    page = get(sign_in(officer), f"/staf/kasus/{case.id}")
    assert page.status == 200
    assert page.soup.select_one("#putuskan") is None
    if who == "operator_desa":  # reporter protection: not the filer, nor their words
        assert "3216014101900002" not in page.text
        assert "Rumahnya besar" not in page.text


def test_a_decision_against_its_own_reason_is_stopped_then_confirmed_with_a_note(
    app: Flask,
    held: tuple[Officer, Case],
    cases: CaseFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    me, case = held
    client = sign_in(me)
    first = post(client, url(case), AGAINST)
    assert first.status == 400
    assert first.soup.title.get_text().startswith("Error: ")
    assert conflicts(first) == ["The reason you chose speaks for the other decision."]
    assert errors(first) == [
        "This decision contradicts the evidence. Change it, or confirm it with a note "
        "for the office."
    ]
    assert cases.get(case).status == S.VERIFIKASI.value
    assert audit(app, "decide") == []
    # the box ticked, but no note: still not saved
    ticked = {**AGAINST, "conflicts": shown_conflicts(first), "confirm": "y"}
    no_note = post(client, url(case), ticked)
    assert no_note.status == 400
    assert errors(no_note) == ["Write why you decide against the evidence."]
    assert cases.get(case).status == S.VERIFIKASI.value
    # confirmed with a note: saved, kept, audited
    saved = post(client, url(case), {**ticked, "override_note": OVERRIDE})
    assert location(saved) == f"/staf/kasus/{case.id}"
    appeal = cases.get(case)
    assert appeal.status == S.DISETUJUI.value
    assert appeal.decision_conflicts == "reason_against_decision"
    assert appeal.decision_override_note == OVERRIDE
    [event] = audit(app, "decide")
    assert event.after["conflicts"] == ["reason_against_decision"]
    assert event.after["override_note"] == OVERRIDE
    # the citizen reads the explanation, never the office's note
    with app.app_context():
        notes = db.session.scalars(
            select(AppealEvent.note).where(AppealEvent.appeal_id == case.id)
        ).all()
    assert NOTE in notes
    assert OVERRIDE not in notes
    shown = follow(client, saved)
    assert shown.texts(".override") == [
        f"Decided against the evidence, confirmed with the note: {OVERRIDE}"
    ]


def test_approving_while_the_field_check_is_open_or_against_its_finding_needs_a_confirmation(
    app: Flask,
    staff: StaffFactory,
    held: tuple[Officer, Case],
    cases: CaseFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    me, case = held
    client = sign_in(me)
    cases.field_check(case, me.id)  # asked, not done yet
    page = post(client, url(case), {"decision": "disetujui", "reason": "other", "note": NOTE})
    assert page.status == 400
    assert conflicts(page) == ["A field check of this case has no result yet."]
    approve = {"decision": "disetujui", "reason": "verified_in_field", "note": NOTE}
    assert errors(post(client, url(case), approve)) == [NO_FIELD_RESULT]  # no result to name
    with app.app_context():
        db.session.execute(
            update(FieldCheck)
            .where(FieldCheck.appeal_id == case.id)
            .values(done_by_id=staff.create("operator_desa").id, done_at=db.utcnow())
        )
        db.session.commit()
    finding(app, case, "not_confirmed")
    page = post(client, url(case), approve)
    assert conflicts(page) == [
        "The latest field check found the opposite of this decision.",
        "The reason names a field result the latest field check did not find.",
    ]
    assert cases.get(case).status == S.VERIFIKASI.value
    # agreeing with the finding: saved at once, nothing flagged
    finding(app, case, "confirmed")
    saved = post(client, url(case), approve)
    assert saved.status == 302
    appeal = cases.get(case)
    assert (appeal.status, appeal.decision_conflicts, appeal.decision_override_note) == (
        S.DISETUJUI.value,
        None,
        None,
    )
    assert "conflicts" not in audit(app, "decide")[0].after


@pytest.mark.parametrize(
    ("decision", "reason"),
    [("disetujui", "verified_in_field"), ("ditolak", "not_confirmed_in_field")],
)
def test_a_reason_naming_a_field_result_is_refused_while_the_case_has_none(
    app: Flask,
    staff: StaffFactory,
    held: tuple[Officer, Case],
    cases: CaseFactory,
    sign_in: Callable[[Officer], Client],
    decision: str,
    reason: str,
) -> None:
    """The issue's case: "confirmed by a field check" when no field check was ever asked.
    Refused on the reason, and no confirming note can save it (the citizen would read of a
    visit that never reported); once a field check has a result, the reason may be used."""
    me, case = held
    client = sign_in(me)
    data = {"decision": decision, "reason": reason, "note": NOTE}
    page = post(client, url(case), data)
    assert page.status == 400
    assert page.soup.title.get_text().startswith("Error: ")
    assert errors(page) == [NO_FIELD_RESULT]
    assert page.soup.select_one("#putuskan select[name=reason][aria-invalid=true]") is not None
    assert page.soup.select_one("#putuskan input[name=confirm]") is None  # nothing to confirm
    forged = {
        **data,
        "conflicts": "reason_against_finding",
        "confirm": "y",
        "override_note": OVERRIDE,
    }
    assert errors(post(client, url(case), forged)) == [NO_FIELD_RESULT]
    cases.field_check(case, me.id)  # asked: still no result
    assert errors(post(client, url(case), data)) == [NO_FIELD_RESULT]
    assert cases.get(case).status == S.VERIFIKASI.value
    assert audit(app, "decide") == []
    with app.app_context():  # the result is in, and says what the reason names
        db.session.execute(
            update(FieldCheck)
            .where(FieldCheck.appeal_id == case.id)
            .values(done_by_id=staff.create("operator_desa").id, done_at=db.utcnow())
        )
        db.session.commit()
    finding(app, case, "confirmed" if decision == "disetujui" else "not_confirmed")
    assert post(client, url(case), data).status == 302
    assert cases.get(case).decision_reason == reason


def test_a_confirmation_covers_only_the_conflicts_the_officer_was_shown(
    app: Flask,
    held: tuple[Officer, Case],
    cases: CaseFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    """Confirmed before a field check was asked (or with the hidden list forged empty): the
    new conflict is shown and asked for again."""
    me, case = held
    client = sign_in(me)
    first = post(client, url(case), AGAINST)
    confirmed = {
        **AGAINST,
        "conflicts": shown_conflicts(first),
        "confirm": "y",
        "override_note": OVERRIDE,
    }
    cases.field_check(case, me.id)  # meanwhile: a field check is asked
    again = post(client, url(case), confirmed)
    assert again.status == 400
    assert errors(again) == [
        "The evidence changed meanwhile. Read the conflicts again before confirming."
    ]
    assert shown_conflicts(again) == "field_check_open+reason_against_decision"
    forged = post(client, url(case), {**confirmed, "conflicts": ""})
    assert forged.status == 400
    assert cases.get(case).status == S.VERIFIKASI.value
    assert audit(app, "decide") == []


def test_an_overridden_decision_is_flagged_with_its_note_in_the_pusdatin_export(
    app: Flask,
    staff: StaffFactory,
    cases: CaseFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    me = staff.create("verifikator")
    against, agreed = (cases.make(status=S.VERIFIKASI, assigned_to=me.id) for _ in range(2))
    client = sign_in(me)
    first = post(client, url(against), AGAINST)
    confirm = {"conflicts": shown_conflicts(first), "confirm": "y", "override_note": OVERRIDE}
    assert post(client, url(against), {**AGAINST, **confirm}).status == 302
    approve = {"decision": "disetujui", "reason": "documents_confirm", "note": NOTE}
    assert post(client, url(agreed), approve).status == 302
    _, office = admin(staff, app)
    export_now(office)
    [made] = exports_in_db(app)
    rows = {r["ticket"]: r for r in download(office, made.id)}
    assert (rows[against.shown]["override"], rows[against.shown]["override_note"]) == (
        "reason_against_decision",
        OVERRIDE,
    )
    assert (rows[agreed.shown]["override"], rows[agreed.shown]["override_note"]) == ("", "")


def test_save_and_take_the_next_case_opens_the_next_unassigned_case(
    held: tuple[Officer, Case],
    cases: CaseFactory,
    sign_in: Callable[[Officer], Client],
) -> None:
    me, case = held
    waiting = cases.make()
    cases.make(desa=KOTA_BEKASI_DESA)  # another kabupaten/kota's: never taken
    client = sign_in(me)
    decide = {"decision": "ditolak", "reason": "documents_insufficient", "note": NOTE}
    page = post(client, url(case), {**decide, "next": "1"})
    assert location(page) == f"/staf/kasus/{waiting.id}"
    assert cases.get(waiting).assigned_to_id == me.id
    assert cases.get(case).status == S.DITOLAK.value
    # nothing left to take: the queue, with a message
    other = cases.make(status=S.VERIFIKASI, assigned_to=me.id)
    last = post(client, url(other), {**decide, "next": "1"})
    assert location(last) == "/staf/"
    assert "No unassigned case is waiting." in follow(client, last).text
