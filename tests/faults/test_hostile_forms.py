"""Every form fed hostile input (hypothesis), through the Flask test client: any text, unicode
and control characters, huge values, fields missing, repeated or unknown, a forged or missing
CSRF token, random bytes as photos.

Whatever comes, the answer is a page with <html lang> (or a redirect), never a 500, and nothing
is half written: no case without its history, no case whose state is not its last move, no
photo file without its row or row without its file, no more than three photos to a draft, no
field check done without its finding, no decision without its audit row.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask
from hypothesis import example, given
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import text, update
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from portal import db
from portal.appeals.models import Appeal, AppealDraft
from portal.appeals.reasons import DECISION_REASONS
from portal.appeals.states import AppealStatus
from portal.dataimport.queries import pseudonym
from portal.review.forms import OUTCOMES
from tests.appeals.conftest import (
    NOTE,
    World,
    answers_for,
    publish_world,
    receipt_ticket,
    submit,
    walk,
)
from tests.faults.strategies import Pairs, csrf_token, form_body, hostile_text
from tests.fixtures.factories import Factory
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client, Page
from tests.review.conftest import DESA, CaseFactory

S = AppealStatus
CONTEST_NOTE = "Rumah kami sangat sederhana, petugas tidak datang ke rumah."
FINDING = "Visited the house and spoke with the head of the RT."


# --- what every answer must be ----------------------------------------------------------------


def answered(response: TestResponse, client: Client | None = None) -> None:
    """A page with <html lang> and a title, or a redirect; never a server error. With CLIENT,
    the page a 303 leads to (a public form refused: Post/Redirect/Get) is shown and checked
    too, as it holds what the POST kept."""
    status = response.status_code
    page = Page(response)
    assert status < 500, f"{status} {page.soup.title.get_text() if page.soup.title else ''}"
    if 300 <= status < 400:
        location = response.headers.get("Location")
        assert location, "a redirect to nowhere"
        if status == 303 and client is not None:
            answered(client.get(location))
        return
    assert response.content_type.startswith("text/html"), response.content_type
    assert page.lang in ("id", "en"), "no <html lang>"
    assert page.soup.title, "no <title>"
    assert page.soup.title.get_text(strip=True), "an empty <title>"


WHOLE = {
    "a case without its history": "SELECT count(*) FROM appeals a WHERE NOT EXISTS"
    " (SELECT 1 FROM appeal_events e WHERE e.appeal_id = a.id)",
    "a case whose state is not its last move": "SELECT count(*) FROM appeals a WHERE a.status <>"
    " (SELECT e.to_status FROM appeal_events e WHERE e.appeal_id = a.id"
    " ORDER BY e.id DESC LIMIT 1)",
    "a decision without its audit row": "SELECT count(*) FROM appeal_events e"
    " WHERE e.actor = 'staff' AND e.to_status IN ('disetujui', 'ditolak', 'duplikat')"
    " AND e.actor_staff_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM audit_events a"
    " WHERE a.action = 'decide' AND a.target_type = 'appeal' AND a.target_id = e.appeal_id)",
    "a field check half done": "SELECT count(*) FROM field_checks WHERE"
    " (done_at IS NULL) <> (outcome IS NULL) OR (done_at IS NULL) <> (finding IS NULL)",
    "a draft with more than three photos": "SELECT count(*) FROM (SELECT draft_token"
    " FROM appeal_photos WHERE draft_token IS NOT NULL GROUP BY draft_token"
    " HAVING count(*) > 3) AS x",
    # a NUL kept in a draft cannot be filed: PostgreSQL refuses it in text columns
    "a draft holding a NUL": "SELECT count(*) FROM appeal_drafts"
    " WHERE position('\\u0000' IN CAST(answers AS TEXT)) > 0",
}


def assert_whole(app: Flask) -> None:
    uploads = Path(app.config["UPLOAD_DIR"])
    with app.app_context():
        conn = db.session.connection()
        broken = {what: conn.execute(text(sql)).scalar_one() for what, sql in WHOLE.items()}
        keys = set(conn.execute(text("SELECT storage_key FROM appeal_photos")).scalars())
    assert {what: n for what, n in broken.items() if n} == {}
    files = {p.name for p in uploads.iterdir()} if uploads.exists() else set()
    assert files == keys, f"files without rows: {files - keys}; rows without files: {keys - files}"


# --- sending ----------------------------------------------------------------------------------


def send(client: Client, url: str, pairs: Pairs, tail: bytes | None = None) -> TestResponse:
    """POST the fields as a form; with TAIL, raw bytes appended to the encoded body (broken
    percent escapes, invalid UTF-8, stray separators)."""
    if tail is None:
        return client.post(url, data=MultiDict(pairs))
    body = urlencode(pairs).encode() + tail
    return client.post(url, data=body, content_type="application/x-www-form-urlencoded")


tails = st.one_of(st.none(), st.none(), st.binary(max_size=200))


@pytest.fixture
def loose(app: Flask, tmp_path: Path) -> Flask:
    """Photos in a directory of the test's own; filing limits out of the way, so that a form
    the fuzzer got right files again instead of meeting a limit."""
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    app.config["APPEAL_FILER_LIMIT"] = "100000 per day"
    app.config["APPEAL_MAX_OPEN_PER_SUBJECT"] = 100000
    return app


def draft_of(client: Client, kind: str) -> str:
    with client.session_transaction() as session:
        return str(session["drafts"][kind])


def set_draft(app: Flask, client: Client, kind: str, answers: dict[str, Any]) -> None:
    """This browser's draft of KIND, with ANSWERS: the one it has, or a new one once the
    last was filed."""
    with app.app_context():
        draft = db.session.get(AppealDraft, draft_of(client, kind))
        if draft is None:
            draft = AppealDraft(token=secrets.token_urlsafe(32), kind=kind)
            db.session.add(draft)
        draft.answers = answers
        db.session.commit()
        token = draft.token
    with client.session_transaction() as session:
        session["drafts"] = {**session.get("drafts", {}), kind: token}


def saved_answers(app: Flask, client: Client, kind: str) -> dict[str, Any]:
    with app.app_context():
        draft = db.session.get(AppealDraft, draft_of(client, kind))
        assert draft is not None
        return dict(draft.answers)


# --- the public forms -------------------------------------------------------------------------


def test_the_look_up_answers_any_form_with_a_page(
    loose: Flask, client: Client, factory: Factory
) -> None:
    world = publish_world(factory)
    token = client.csrf_token("/")
    fields = {
        "nik": [world.filer_nik, world.other.members[0].nik, world.stranger[0]],
        "no_kk": [world.filer.no_kk, world.other.no_kk, world.stranger[1]],
        "website": [""],
        "wait": [],
    }

    @given(body=form_body(fields), csrf=csrf_token(token), tail=tails)
    def look_up(body: Pairs, csrf: Pairs, tail: bytes | None) -> None:
        answered(send(client, "/", csrf + body, tail), client)
        assert_whole(loose)

    look_up()


def fields_of(answers: dict[str, Any]) -> dict[str, list[str]]:
    """Form fields with the values a person could give, from complete answers of a page."""
    fields: dict[str, list[str]] = {}
    for name, answer in answers.items():
        values = answer if isinstance(answer, list) else [answer]
        fields[name] = [str(v) for v in values if v is not None]
    return fields


JOURNEYS = [("sanggahan", "INC-MAMPU"), ("usulan", "USUL-PROGRAM"), ("usulan", "USUL-AHLI-WARIS")]


@pytest.mark.parametrize(("kind", "code"), JOURNEYS, ids=[code for __, code in JOURNEYS])
def test_every_question_page_answers_any_form_with_a_page(
    loose: Flask, client: Client, factory: Factory, kind: str, code: str
) -> None:
    world = publish_world(factory)
    answers = answers_for(world, code)
    walk(client, kind, answers)
    complete = saved_answers(loose, client, kind)
    token = client.csrf_token(f"/{kind}/periksa")
    pages = {slug: fields_of(page) for slug, page in answers.items()}
    pages["alasan"]["reason"] += ["INC-ASN", "EXC-TIDAK-TERDATA", "USUL-AHLI-WARIS"]
    pages["pelapor"]["website"] = [""]
    extra = {"return": ["check"], "wait": []}

    bodies = st.sampled_from(sorted(pages)).flatmap(
        lambda slug: form_body({**pages[slug], **extra}).map(lambda body: (slug, body))
    )

    @given(page=bodies, csrf=csrf_token(token), tail=tails)
    @example(page=nul_answer(kind, answers), csrf=[("csrf_token", token)], tail=None)
    def answer(page: tuple[str, Pairs], csrf: Pairs, tail: bytes | None) -> None:
        set_draft(loose, client, kind, complete)  # every page reachable, whatever came before
        slug, body = page
        answered(send(client, f"/{kind}/{slug}", csrf + body, tail), client)
        assert_whole(loose)

    answer()


def nul_answer(kind: str, answers: dict[str, Any]) -> tuple[str, Pairs]:
    """Found by this test: a NUL in a note or an address was kept in the draft, and filing it
    was a 500 (PostgreSQL refuses NUL in text)."""
    if kind == "sanggahan":
        evidence = answers["rincian"]["evidence"][0]
        return "rincian", [("evidence", evidence), ("note", NOTE + "\x00")]
    household = answers["rumah-tangga"]
    return "rumah-tangga", [
        ("no_kk", household["no_kk"]),
        ("head_nik", household["head_nik"]),
        ("alamat", "KP. BARU\x00 RT 1/RW 2"),
    ]


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 40)).save(buf, "PNG")
    return buf.getvalue()


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (48, 32), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


PNG, JPEG = png(), jpeg()
photo_bytes = st.one_of(
    st.binary(max_size=3000),
    st.sampled_from([PNG, JPEG]),
    st.integers(1, len(PNG) - 1).map(lambda n: PNG[:n]),  # cut off mid-way
    st.tuples(st.integers(0, len(JPEG) - 1), st.binary(min_size=1, max_size=8)).map(
        lambda t: JPEG[: t[0]] + t[1] + JPEG[t[0] + len(t[1]) :]  # a few bytes overwritten
    ),
)
photo_files = st.lists(
    st.tuples(
        photo_bytes,
        st.one_of(
            st.sampled_from(["foto.jpg", "IMG_0001.PNG", "", "../../etc/passwd"]), hostile_text(30)
        ),
        st.sampled_from(["image/jpeg", "image/png", "application/octet-stream", "text/html"]),
    ),
    max_size=4,
)


def multipart(pairs: Pairs, files: list[tuple[bytes, str, str]], field: str) -> MultiDict:
    data: MultiDict = MultiDict(pairs)
    for body, name, content_type in files:
        data.add(field, (io.BytesIO(body), name, content_type))
    return data


def test_the_photo_page_answers_any_files_and_keeps_rows_and_files_together(
    loose: Flask, client: Client, factory: Factory
) -> None:
    world = publish_world(factory)
    at = walk(client, "sanggahan", answers_for(world, "INC-MAMPU"), stop_at="foto")
    token = client.csrf_token(at)
    actions = ["continue", "upload", "upload", *(f"remove:{i}" for i in range(1, 6))]
    fields = {"action": actions, "return": ["check"]}

    @given(body=form_body(fields), csrf=csrf_token(token), files=photo_files)
    @example(body=[("action", "remove:2200000000")], csrf=[("csrf_token", token)], files=[])
    @example(body=[("action", "remove:\u00b2")], csrf=[("csrf_token", token)], files=[])
    def upload(body: Pairs, csrf: Pairs, files: list[tuple[bytes, str, str]]) -> None:
        data = multipart(csrf + body, files, "photos")
        answered(client.post(at, data=data, content_type="multipart/form-data"), client)
        assert_whole(loose)

    upload()


def test_the_check_page_answers_any_form_and_files_a_case_whole_or_not_at_all(
    loose: Flask, client: Client, factory: Factory
) -> None:
    world = publish_world(factory)
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    complete = saved_answers(loose, client, "sanggahan")
    token = client.csrf_token("/sanggahan/periksa")
    fields = {"declaration": ["y", "on", "1"], "website": [""], "return": []}

    @given(body=form_body(fields), csrf=csrf_token(token), tail=tails)
    def send_case(body: Pairs, csrf: Pairs, tail: bytes | None) -> None:
        set_draft(loose, client, "sanggahan", complete)  # a new draft once one was filed
        response = send(client, "/sanggahan/periksa", csrf + body, tail)
        answered(response, client)
        if urlsplit(response.headers.get("Location", "")).path == "/tanda-terima":
            assert receipt_ticket(client)
        assert_whole(loose)

    send_case()


def file_through_pages(client: Client, world: World) -> str:
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    assert submit(client, "sanggahan").status == 302
    return receipt_ticket(client)


def test_tracking_answers_any_form_with_a_page(
    loose: Flask, client: Client, factory: Factory
) -> None:
    world = publish_world(factory)
    ticket = file_through_pages(client, world)
    token = client.csrf_token("/lacak")
    typo = ticket[:-1] + ("A" if ticket[-1] != "A" else "B")
    fields = {
        "ticket": [ticket, ticket.replace("-", "").lower(), typo],
        "nik": [world.filer_nik, world.stranger[0]],
        "website": [""],
        "wait": [],
    }

    @given(body=form_body(fields), csrf=csrf_token(token), tail=tails)
    def track(body: Pairs, csrf: Pairs, tail: bytes | None) -> None:
        answered(send(client, "/lacak", csrf + body, tail), client)
        assert_whole(loose)

    track()


class TrackedCase:
    """A case of this browser's filer in a given state, opened through /lacak; made anew
    whenever a form the fuzzer got right has moved it on."""

    def __init__(self, app: Flask, client: Client, status: AppealStatus, nik: str) -> None:
        self.app, self.client, self.status, self.nik = app, client, status, nik
        self.id = 0
        self.renew()

    def renew(self) -> None:
        case = CaseFactory(self.app).make(status=self.status)
        with self.app.app_context():
            db.session.execute(
                update(Appeal)
                .where(Appeal.id == case.id)
                .values(filer_nik=self.nik, filer_nik_hmac=pseudonym(self.nik, "nik"))
            )
            db.session.commit()
        opened = self.client.post_form("/lacak", {"ticket": case.shown, "nik": self.nik})
        assert opened.status == 302, opened.error_summary_text()
        self.id = case.id

    def moved_on(self, moved: Callable[[Appeal], bool]) -> None:
        with self.app.app_context():
            appeal = db.session.get(Appeal, self.id)
            assert appeal is not None
            if moved(appeal):
                self.renew()


def test_withdrawing_answers_any_form_with_a_page(
    loose: Flask, client: Client, factory: Factory
) -> None:
    world = publish_world(factory)
    case = TrackedCase(loose, client, S.DITERIMA, world.filer_nik)
    token = client.csrf_token("/lacak/batalkan")

    @given(body=form_body({"confirm": ["y", "on"]}), csrf=csrf_token(token), tail=tails)
    def withdraw(body: Pairs, csrf: Pairs, tail: bytes | None) -> None:
        answered(send(client, "/lacak/batalkan", csrf + body, tail), client)
        assert_whole(loose)
        case.moved_on(lambda appeal: appeal.status != S.DITERIMA.value)

    withdraw()


def test_contesting_answers_any_form_with_a_page(
    loose: Flask, client: Client, factory: Factory
) -> None:
    world = publish_world(factory)
    case = TrackedCase(loose, client, S.DITOLAK, world.filer_nik)
    token = client.csrf_token("/lacak/sanggah-keputusan")
    fields = {"note": [CONTEST_NOTE, NOTE], "declaration": ["y"], "website": [""]}

    def contested(appeal: Appeal) -> bool:
        with loose.app_context():
            found = db.session.scalar(
                text("SELECT count(*) FROM appeals WHERE contests_id = :id"), {"id": appeal.id}
            )
        return bool(found)

    @given(body=form_body(fields), csrf=csrf_token(token), tail=tails)
    @example(
        body=[("note", CONTEST_NOTE + "\x00"), ("declaration", "y")],
        csrf=[("csrf_token", token)],
        tail=None,
    )
    def contest(body: Pairs, csrf: Pairs, tail: bytes | None) -> None:
        answered(send(client, "/lacak/sanggah-keputusan", csrf + body, tail), client)
        assert_whole(loose)
        case.moved_on(contested)

    contest()


# --- the staff forms --------------------------------------------------------------------------


def test_staff_sign_in_answers_any_form_with_a_page(loose: Flask, staff: StaffFactory) -> None:
    officer = staff.create("verifikator")
    with loose.app_context():
        code = officer.code()
    fields = {
        "email": [officer.email, officer.email.upper(), "nobody@dinsos.example.go.id"],
        "password": [officer.password, officer.password + " "],
        "code": [code, "000000", code[::-1]],
    }

    @given(body=form_body(fields), tail=tails, forged=st.booleans())
    @example(
        body=[("email", "\x00"), ("password", "x"), ("code", "123456")], tail=None, forged=False
    )
    def sign_in(body: Pairs, tail: bytes | None, forged: bool) -> None:
        client: Client = loose.test_client()  # type: ignore[assignment]
        token = "forged" if forged else client.csrf_token("/staf/masuk")
        answered(send(client, "/staf/masuk", [("csrf_token", token), *body], tail))
        assert_whole(loose)

    sign_in()


@pytest.fixture
def verifikator(loose: Flask, staff: StaffFactory) -> tuple[Officer, Client]:
    officer = staff.create("verifikator")
    return officer, staff.login(officer, loose.test_client())  # type: ignore[arg-type]


def test_a_decision_answers_any_form_with_a_page_and_is_whole_or_not_made(
    loose: Flask, verifikator: tuple[Officer, Client]
) -> None:
    officer, client = verifikator
    cases = CaseFactory(loose)
    other = cases.make(status=S.VERIFIKASI)
    held = {"case": cases.make(status=S.VERIFIKASI, assigned_to=officer.id)}

    def url() -> str:
        return f"/staf/kasus/{held['case'].id}/putuskan"

    token = client.csrf_token(url())
    fields = {
        "decision": [s.value for s in (S.DISETUJUI, S.DITOLAK, S.DUPLIKAT)],
        "reason": list(DECISION_REASONS),
        "note": [FINDING],
        "duplicate_of": [other.shown, held["case"].shown, "K7QM-4TX9"],
    }

    @given(body=form_body(fields), csrf=csrf_token(token), tail=tails)
    def decide(body: Pairs, csrf: Pairs, tail: bytes | None) -> None:
        answered(send(client, url(), csrf + body, tail))
        assert_whole(loose)
        if cases.get(held["case"]).status != S.VERIFIKASI.value:
            held["case"] = cases.make(status=S.VERIFIKASI, assigned_to=officer.id)

    decide()


def test_a_field_check_answers_any_form_and_photos_and_is_whole_or_not_recorded(
    loose: Flask, staff: StaffFactory
) -> None:
    requester = staff.create("verifikator")
    operator = staff.create("operator_desa")
    client = staff.login(operator, loose.test_client())  # type: ignore[arg-type]
    cases = CaseFactory(loose)

    def new_check() -> int:
        case = cases.make(desa=DESA, status=S.VERIFIKASI, assigned_to=requester.id)
        return cases.field_check(case, requested_by=requester.id)

    open_check = {"id": new_check()}
    token = client.csrf_token(f"/staf/verval/{open_check['id']}")
    fields = {"outcome": list(OUTCOMES), "finding": [FINDING]}

    @given(body=form_body(fields), csrf=csrf_token(token), files=photo_files)
    def record(body: Pairs, csrf: Pairs, files: list[tuple[bytes, str, str]]) -> None:
        url = f"/staf/verval/{open_check['id']}"
        data = multipart(csrf + body, files, "photos")
        answered(client.post(url, data=data, content_type="multipart/form-data"))
        assert_whole(loose)
        with loose.app_context():
            done = db.session.scalar(
                text("SELECT done_at IS NOT NULL FROM field_checks WHERE id = :id"),
                {"id": open_check["id"]},
            )
        if done:
            open_check["id"] = new_check()

    record()
