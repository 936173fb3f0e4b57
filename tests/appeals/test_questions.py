"""One definition per question (portal/appeals/questions.py).

The registry's own rules (unit tests), and, for every reason code, a case filed through the
citizen's pages, read on the check-answers page, on the staff case page and in the Pusdatin
export: each answer is where its question says it is, and nowhere it says it is not. A
question added to the registry but forgotten by a page (or shown by a page without being
defined) fails here.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from bs4 import Tag
from flask import Flask
from sqlalchemy import select

from portal import db
from portal.appeals import forms, journey, questions
from portal.appeals.models import AppealDraft
from portal.appeals.questions import QUESTIONS, Case, Context, Export, Hidden, Summary, Type
from portal.appeals.reasons import REASONS, Kind, Subject
from portal.appeals.states import AppealStatus
from portal.core.nik import mask_nik
from portal.review import export as exporting
from portal.review.models import Export as ExportRow
from portal.wilayah import queries as wilayah
from tests.appeals.conftest import (
    World,
    answers_for,
    decide,
    load_case,
    publish_world,
    receipt_ticket,
    submit,
    walk,
)
from tests.fixtures.staff import StaffFactory
from tests.fixtures.worlds import KeptWorld
from tests.helpers import Client, Page

# --- the registry ------------------------------------------------------------------------------


def test_every_question_page_of_the_journey_has_questions_and_every_question_a_page() -> None:
    journey_pages = {s.slug for steps in journey.STEPS.values() for s in steps}
    assert set(questions.pages()) == journey_pages


def test_question_ids_are_unique_and_name_their_page() -> None:
    assert len(QUESTIONS) == len(questions._QUESTIONS)
    for qid, q in QUESTIONS.items():
        assert qid == f"{q.page}.{q.name}"


def test_every_question_says_where_it_is_shown_or_why_not() -> None:
    for q in QUESTIONS.values():
        assert isinstance(q.summary, Summary | Hidden), q.id
        assert isinstance(q.case, Case | Hidden), q.id
        assert isinstance(q.export, Export | Hidden), q.id
        for place in (q.summary, q.case, q.export):
            if isinstance(place, Hidden):
                assert place.why.strip(), f"{q.id}: hidden without a reason"
        if isinstance(q.summary, Summary):
            # a line of its own, or a part of another question's line on the same page
            assert (q.summary.lines is None) != (q.summary.part_of is None), q.id
            if q.summary.part_of:
                host = QUESTIONS[f"{q.page}.{q.summary.part_of}"]
                assert isinstance(host.summary, Summary), q.id
                assert host.summary.lines, q.id


def test_choice_questions_have_their_choices() -> None:
    for q in QUESTIONS.values():
        if q.type not in (Type.CHOICE, Type.CHOICES) or q.id == "alasan.reason":
            continue  # the reasons are REASONS, per kind (forms.ReasonForm)
        for code in questions.asked_by(q):
            choices = q.choices_for(REASONS[code])
            assert choices, f"{q.id} has no choices for {code}"
            values = [value for value, _label in choices]
            assert len(values) == len(set(values)), q.id


def test_which_reasons_ask_a_question_follows_the_journey() -> None:
    sanggahan = {c for c, r in REASONS.items() if r.kind is Kind.SANGGAHAN}
    usulan = set(REASONS) - sanggahan
    either = {c for c, r in REASONS.items() if r.subject is Subject.EITHER}
    assert questions.asked_by(QUESTIONS["alasan.reason"]) == set(REASONS)
    assert questions.asked_by(QUESTIONS["subjek.subject_name"]) == either
    assert questions.asked_by(QUESTIONS["rincian.note"]) == sanggahan
    assert questions.asked_by(QUESTIONS["rumah-tangga.head_nik"]) == usulan
    assert questions.asked_by(QUESTIONS["ahli-waris.heir_nik"]) == {"USUL-AHLI-WARIS"}
    assert questions.asked_by(QUESTIONS["kondisi.water"]) == usulan - {"USUL-AHLI-WARIS"}


def test_the_export_columns_are_the_cases_own_and_the_questions_and_keep_their_order() -> None:
    own, asked = set(exporting.CASE_COLUMNS), set(questions.export_columns())
    assert not own & asked
    assert own | asked == set(exporting.COLUMNS)
    assert len(exporting.COLUMNS) == len(set(exporting.COLUMNS)) == 25  # docs/export.md


def test_a_person_chosen_from_the_family_card_is_asked_in_the_questions_words() -> None:
    chosen = [q for q in QUESTIONS.values() if q.choose is not None]
    assert {q.id for q in chosen} == {
        "rumah-tangga.head_nik",
        "ahli-waris.deceased_nik",
        "ahli-waris.heir_nik",
    }
    assert all(q.type is Type.NIK for q in chosen)
    assert len({q.name for q in chosen}) == len(chosen)  # prefill.py finds them by field name


PAGE_FORMS = {
    "alasan": lambda: forms.ReasonForm(Kind.SANGGAHAN, formdata=None),
    "pelapor": lambda: forms.FilerForm(formdata=None),
    "rincian": lambda: forms.DetailsForm(REASONS["INC-MAMPU"].evidence, formdata=None),
    "rumah-tangga": lambda: forms.HouseholdForm(formdata=None),
    "program": lambda: forms.ProgramsForm(formdata=None),
    "kondisi": lambda: forms.ConditionsForm(formdata=None),
    "ahli-waris": lambda: forms.HeirForm(formdata=None),
    "foto": lambda: forms.PhotosForm(formdata=None),
    "kontak": lambda: forms.ContactForm(formdata=None),
}
PICKER_FIELDS = ("desa_q", "desa_confirm")  # the desa picker's search box and confirmation
NOT_ASKED = ("csrf_token", "website", *PICKER_FIELDS)


def test_each_page_form_asks_exactly_its_questions_in_order_with_their_labels(
    app: Flask,
) -> None:
    with app.test_request_context():
        for page, make in PAGE_FORMS.items():
            form = make()
            fields = [f for f in form if f.name not in NOT_ASKED]
            assert [f.name for f in fields] == [q.name for q in questions.on_page(page)], page
            for f in fields:
                assert str(f.label.text) == str(QUESTIONS[f"{page}.{f.name}"].label), f.name
        subject = forms.SubjectForm.__dict__
        for q in questions.on_page("subjek"):
            assert q.name in subject, q.id


def test_a_required_answer_left_empty_gets_the_questions_message(app: Flask) -> None:
    with app.test_request_context("/?lang=en", method="POST"):
        from werkzeug.datastructures import MultiDict

        form = forms.DetailsForm(
            REASONS["INC-MAMPU"].evidence, formdata=MultiDict({"note": "short"})
        )
        form.meta.csrf = False
        assert not form.validate()
        assert form.note.errors == ["Write between 10 and 2000 characters."]
        conditions = forms.ConditionsForm(formdata=MultiDict({"work": "nonsense"}))
        conditions.meta.csrf = False
        assert not conditions.validate()
        assert conditions.work.errors == ["Choose one of the options shown."]
        assert conditions.income.errors == ["Choose one answer."]


def test_summary_lines_of_a_page_come_from_its_questions(app: Flask) -> None:
    with app.test_request_context("/?lang=en"):
        context = Context({"alasan": {"reason": "INC-MAMPU"}}, photos=2)
        assert questions.summary_lines(
            "subjek", {"whose": "own", "subject_name": None}, context
        ) == ["My own household"]
        other = {"whose": "other", "subject_name": "Pak Budi", "subject_alamat": "KP. A"}
        other |= {"subject_rt": "002", "subject_rw": None, "desa": None, "subject_nik": None}
        assert questions.summary_lines("subjek", other, context) == [
            "Another household",
            "Name: Pak Budi",  # as the filer typed it, for them to check the spelling
            "Address: KP. A RT 002/RW -",
            "NIK not given",
        ]
        assert questions.summary_lines("kontak", {"phone": "", "email": ""}, context) == [
            "No contact: follow the case with its ticket number"
        ]
        assert questions.summary_lines("foto", {"count": 2}, context) == ["2 photos"]
        one = Context({"alasan": {"reason": "INC-MAMPU"}}, photos=1)
        assert questions.summary_lines("foto", {"count": 1}, one) == ["1 photo"]
        assert questions.summary_lines("rincian", {"evidence": ["car"], "note": "x"}, context) == [
            "car",  # a value that is no longer a choice is shown as it is
            "x",
        ]


# --- every answer where its question says, through the pages ------------------------------------

CASE_ROWS = {"Filed", "Area", "Filer", "About", "Decision"}  # the case's own rows
PLACE_ROWS = {
    "evidence": "Evidence named",
    "note": "Filer's note",
    "household": "Proposed household",
    "programs": "Proposed household",
    "situation": "Situation",
    "heir": "Heir replacement",
}


def _fragments(q: questions.Question, value: Any, reason: str, *, public: bool) -> list[str]:
    """What a reader must find of VALUE: numbers masked on a public page (a name the filer
    typed is shown to them as typed, to check its spelling)."""
    if value in (None, "", []):
        return []
    if q.type in (Type.NIK, Type.KK):
        return [mask_nik(value) if public else value]
    if q.id == "alasan.reason":
        return [str(REASONS[value].title)]
    if q.type is Type.CHOICE:
        return [q.label_of(value, REASONS[reason])]
    if q.type is Type.CHOICES:
        return [q.label_of(v, REASONS[reason]) for v in value]
    if q.type is Type.NUMBER:
        return [f"{q.label} {value}"]  # RT 002, RW 005
    if q.type is Type.DESA:
        return [wilayah.names({value})[value]]
    return [str(value)]


def _summary(page: Page) -> dict[str, list[str]]:
    """The check-answers rows by page slug (from each row's Change link)."""
    rows = {}
    for row in page.soup.select(".summary__row"):
        href = row.select_one(".summary__action a")["href"]
        slug = href.split("?")[0].rsplit("/", 1)[-1]
        rows[slug] = [span.get_text() for span in row.select(".summary__line")]
    return rows


def _case_rows(page: Page) -> dict[str, str]:
    """The rows of "The case" on the staff case page: key -> text."""
    heading = next(h for h in page.soup.find_all("h2") if h.get_text() == "The case")
    listing = heading.find_next("dl")
    assert isinstance(listing, Tag)
    return {
        row.select_one(".summary__key").get_text(): row.select_one(".summary__value").get_text(" ")
        for row in listing.select(".summary__row")
    }


def _english(app: Flask) -> Client:
    client: Client = app.test_client()  # type: ignore[assignment]
    return client.choose_language("en")


@pytest.fixture
def world(kept_world: KeptWorld) -> World:
    return kept_world(publish_world)


@pytest.mark.parametrize("code", list(REASONS))
def test_each_answer_is_shown_where_its_question_says_and_nowhere_else(
    app: Flask, staff: StaffFactory, world: World, code: str
) -> None:
    reason = REASONS[code]
    citizen = _english(app)
    check = walk(citizen, reason.kind.value, answers_for(world, code))
    with app.test_request_context("/?lang=en"):
        saved = db.session.scalars(select(AppealDraft)).one().answers  # as the pages kept them
        asked = [q for q in QUESTIONS.values() if code in questions.asked_by(q)]
        public = {
            q.id: _fragments(q, (saved.get(q.page) or {}).get(q.name), code, public=True)
            for q in asked
        }
        full = {
            q.id: _fragments(q, (saved.get(q.page) or {}).get(q.name), code, public=False)
            for q in asked
        }

    # the check-answers page: a row per page, each answer on its page's row
    summary = _summary(citizen.page(check))
    assert list(summary) == [s.slug for s in journey.steps(reason.kind, saved)]
    for q in asked:
        text = " | ".join(summary[q.page])
        if isinstance(q.summary, Summary):
            for fragment in public[q.id]:
                assert fragment in text, f"{code}: {q.id} not in the summary ({text})"
        if q.type is Type.PHOTO:
            assert summary[q.page] == ["No photos"]
    # ... and nothing on a row that none of its questions put there
    for slug, lines in summary.items():
        expected = [f for q in questions.on_page(slug) if q in asked for f in public[q.id]]
        for line in lines:
            assert (
                any(f in line for f in expected)
                or line in KNOWN_LINES
                or line.startswith("Found in DTSEN")
            ), f"{code}: {slug} shows {line!r}, which no question of the page says"

    page = submit(citizen, reason.kind.value)
    assert page.status == 302, page.error_summary()
    ticket = receipt_ticket(citizen)
    decide(app, ticket, AppealStatus.DISETUJUI, reason="verified_in_field")
    officer = staff.create("admin_dinsos", ["32.16"])
    desk = staff.login(officer, _english(app))

    # the staff case page: each answer at its place, a hidden one nowhere in "The case"
    case_id = load_case(app, ticket).id
    case_page = Page(desk.get(f"/staf/kasus/{case_id}"))  # staff see whole numbers
    assert case_page.status == 200
    rows = _case_rows(case_page)
    title = case_page.texts("h1")[0]
    assert set(rows) <= CASE_ROWS | set(PLACE_ROWS.values()), set(rows)
    everything = " | ".join(rows.values())
    shown = {f for q in asked if isinstance(q.case, Case) for f in full[q.id]}
    for q in asked:
        if isinstance(q.case, Case):
            where = title if q.case.place == "heading" else everything
            if q.case.place in PLACE_ROWS:
                where = rows.get(PLACE_ROWS[q.case.place], "")
            if q.id == "subjek.whose":
                assert "About" in rows  # another household: a row of its own
                continue
            if q.type is Type.PHOTO:
                continue  # none sent here (tests/appeals/test_photos.py)
            for fragment in full[q.id]:
                assert fragment in where, f"{code}: {q.id} not on the case page"
        elif q.type in (Type.NIK, Type.KK, Type.TEXT):
            for fragment in set(full[q.id]) - shown:  # (the same number may be asked twice)
                assert fragment not in everything, f"{code}: {q.id} shown on the case page"

    # the export: each answer in its column, a hidden one in no cell
    sent = desk.post_form("/staf/ekspor", {})
    assert sent.status == 302
    with app.app_context():
        export_id = db.session.scalars(select(ExportRow.id)).one()
    text = desk.get(f"/staf/ekspor/{export_id}.csv").get_data().decode("utf-8")
    (row,) = list(csv.DictReader(io.StringIO(text)))
    for q in asked:
        value = (saved.get(q.page) or {}).get(q.name)
        if isinstance(q.export, Export):
            cell = row[q.export.column]
            if q.type is Type.CHOICES:
                assert set(value) <= set(cell.split(";")), f"{code}: {q.id} not exported"
            elif q.type is Type.NUMBER:
                assert f"{q.label} {value}" in cell, f"{code}: {q.id} not exported"
            elif value:
                assert value in cell, f"{code}: {q.id} not in {q.export.column}"
        elif value and isinstance(value, str):
            # the filer's own numbers leave only as the subject's (their own household)
            subject = (row["subject_nik"], row["subject_no_kk"])
            assert value not in set(row.values()) - set(subject), f"{code}: {q.id} exported"


KNOWN_LINES = {
    "Not found in DTSEN: staff will take this into account",
    "NIK not given",
    "No photos",
    "No contact: follow the case with its ticket number",
}
