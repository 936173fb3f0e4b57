"""The export for Pusdatin: an admin_dinsos exports the approved cases of their area as CSV
(the columns of docs/export.md), the cases move to diteruskan and are never sent twice,
nothing leaves another area, only admin_dinsos creates and pusat reads every export, each
export and download is audited and logged in the households' access log, spreadsheet
formulas are neutralised, and two exports racing for the same cases send each case once."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import db
from portal.appeals import service, tickets
from portal.appeals.models import Appeal, AppealEvent
from portal.appeals.states import AppealStatus
from portal.audit.models import AuditEvent
from portal.auth.models import StaffUser
from portal.lookup.models import AccessEvent
from portal.review import export as exporting
from portal.review.models import Export, ExportChunk
from tests.appeals.conftest import (
    World,
    answers_for,
    decide,
    load_case,
    path_of,
    publish_world,
    receipt_ticket,
    submit,
    track,
    walk,
)
from tests.fixtures.factories import DESA, make_appeal
from tests.fixtures.staff import Officer, StaffFactory
from tests.fixtures.worlds import KeptWorld
from tests.helpers import Client, Page

DOCS = Path(__file__).resolve().parents[2] / "docs" / "export.md"
HEADER = [
    "ticket",
    "kind",
    "reason_code",
    "status_decision",
    "decision_reason",
    "decision_note",
    "decided_at",
    "filed_at",
    "period",
    "kabupaten_code",
    "kecamatan_code",
    "kode_desa",
    "subject_nik",
    "subject_no_kk",
    "subject_name",
    "subject_address",
    "programs_proposed",
    "heir_nik",
    "deceased_nik",
    "filer_verified",
    "contested_ticket",
    "export_id",
    "exported_at",
    "override",
    "override_note",
]
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
KOTA_BEKASI_DESA = "32.75.01.1001"  # Bekasijaya, Bekasi Timur, Kota Bekasi
APPROVAL_NOTE = "Kunjungan lapangan membenarkan laporan ini."
EXPORTS = "/staf/ekspor"

# --- helpers --------------------------------------------------------------------------------


def english(app: Flask) -> Client:
    client: Client = app.test_client()  # type: ignore[assignment]
    return client.choose_language("en")


def admin(staff: StaffFactory, app: Flask, region: str = "32.16") -> tuple[Officer, Client]:
    officer = staff.create("admin_dinsos", [region])
    return officer, staff.login(officer, english(app))


def file_and_decide(
    app: Flask,
    kind: str,
    answers: dict[str, dict[str, Any]],
    status: AppealStatus = AppealStatus.DISETUJUI,
    note: str = APPROVAL_NOTE,
) -> str:
    """File a case through the citizen's pages (a fresh phone), then decide it."""
    citizen = english(app)
    walk(citizen, kind, answers)
    page = submit(citizen, kind)
    assert page.status == 302, page.error_summary()
    ticket = receipt_ticket(citizen)
    decide(app, ticket, status, reason="verified_in_field", note=note)
    return ticket


def approved_case(
    app: Flask,
    *,
    desa: str = DESA,
    note: str = APPROVAL_NOTE,
    kk_hmac: str | None = None,
    filer_verified: bool = True,
    status: AppealStatus = AppealStatus.DISETUJUI,
) -> int:
    """A sanggahan created directly (no pages), moved to STATUS by transition(); its id."""
    with app.app_context():
        now = db.utcnow()
        appeal = make_appeal(
            region=desa,
            filer_nik="3216010101800001",
            filer_verified=filer_verified,
            subject_nik="3216015505900002",
            subject_kk_hmac=kk_hmac or secrets.token_hex(16),
            subject_found=False,
            note="Rumahnya besar dan punya mobil baru.",
            period="2026Q3",
            now=now,
            due_at=now + timedelta(days=14),
        )
        db.session.add(appeal)
        db.session.flush()
        service.transition(appeal, AppealStatus.VERIFIKASI, actor="staff")
        service.transition(
            appeal, status, actor="staff", note=note, decision_reason="documents_confirm"
        )
        db.session.commit()
        return appeal.id


def export_now(client: Client) -> Page:
    """Press the export button (CSRF token from the page), follow the redirect."""
    sent = client.post_form(EXPORTS, {})
    assert sent.status == 302
    assert path_of(sent) == EXPORTS
    return client.page(EXPORTS)


def notices(page: Page) -> list[str]:
    return page.texts(".notice")


def download(client: Client, export_id: int) -> list[dict[str, str]]:
    response = client.get(f"{EXPORTS}/{export_id}.csv")
    assert response.status_code == 200
    text = response.get_data().decode("utf-8")
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == HEADER
    return list(reader)


def exports_in_db(app: Flask) -> list[Export]:
    with app.app_context():
        return list(db.session.scalars(select(Export).order_by(Export.id)))


def stored(app: Flask, export: Export) -> str:
    """The export's file as kept in the database (its pieces, in order)."""
    with app.app_context():
        stmt = (
            select(ExportChunk.data)
            .where(ExportChunk.export_id == export.id)
            .order_by(ExportChunk.seq)
        )
        return "".join(db.session.scalars(stmt))


def case(app: Flask, appeal_id: int) -> Appeal:
    with app.app_context():
        found = db.session.get(Appeal, appeal_id)
        assert found is not None
        return found


def count(app: Flask, stmt: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(stmt) or 0)


@pytest.fixture
def world(kept_world: KeptWorld) -> World:
    return kept_world(publish_world)


# --- making an export -----------------------------------------------------------------------


def test_admin_exports_approved_cases_as_documented_csv_and_they_become_diteruskan(
    app: Flask, staff: StaffFactory, world: World
) -> None:
    mampu = file_and_decide(
        app, "sanggahan", answers_for(world, "INC-MAMPU"), note="Mobil baru terlihat di rumah."
    )
    program = file_and_decide(app, "usulan", answers_for(world, "USUL-PROGRAM"))
    heir = file_and_decide(app, "usulan", answers_for(world, "USUL-AHLI-WARIS"))
    rejected = file_and_decide(
        app, "sanggahan", answers_for(world, "INC-ASN"), status=AppealStatus.DITOLAK
    )
    _officer, client = admin(staff, app)

    before = client.page(EXPORTS)
    assert before.h1 == "Export for Pusdatin"
    assert before.texts(".waiting") == ["3 approved cases are waiting."]
    assert before.texts(".no-exports") == ["No export has been made yet."]

    after = export_now(client)
    [made] = exports_in_db(app)
    assert notices(after) == [
        f"Export {made.id} is ready with 3 cases. The cases are now forwarded to Kemensos."
    ]
    assert after.texts(".waiting") == ["0 approved cases are waiting."]
    assert after.soup.find("a", href=f"{EXPORTS}/{made.id}.csv")
    assert made.case_count == 3
    assert made.kabupaten_code == "32.16"

    rows = download(client, made.id)
    assert [r["ticket"] for r in rows] == [mampu, program, heir]  # in case order
    assert stored(app, made).splitlines()[0] == ",".join(HEADER)
    for row in rows:
        assert row["status_decision"] == "disetujui"
        assert row["decision_reason"] == "verified_in_field"
        assert ISO_UTC.match(row["decided_at"])
        assert ISO_UTC.match(row["filed_at"])
        assert ISO_UTC.match(row["exported_at"])
        assert (row["period"], row["kabupaten_code"]) == ("2026Q3", "32.16")
        assert (row["kecamatan_code"], row["kode_desa"]) == ("32.16.01", DESA)
        assert (row["filer_verified"], row["contested_ticket"]) == ("true", "")
        assert row["export_id"] == str(made.id)
    by_ticket = {r["ticket"]: r for r in rows}
    assert (by_ticket[mampu]["kind"], by_ticket[mampu]["reason_code"]) == (
        "sanggahan",
        "INC-MAMPU",
    )
    assert by_ticket[mampu]["decision_note"] == "Mobil baru terlihat di rumah."
    assert by_ticket[mampu]["subject_nik"] == world.other.members[0].nik
    assert by_ticket[mampu]["subject_no_kk"] == world.other.no_kk  # from the current snapshot
    assert by_ticket[mampu]["programs_proposed"] == ""
    assert by_ticket[program]["kind"] == "usulan"
    assert by_ticket[program]["subject_no_kk"] == world.filer.no_kk
    assert by_ticket[program]["programs_proposed"] == "PKH"
    assert by_ticket[heir]["heir_nik"] == world.filer.members[1].nik
    assert by_ticket[heir]["deceased_nik"] == world.filer.members[0].nik
    assert by_ticket[program]["heir_nik"] == by_ticket[program]["deceased_nik"] == ""

    for ticket in (mampu, program, heir):
        moved = load_case(app, ticket)
        assert (moved.status, moved.export_id) == (AppealStatus.DITERUSKAN.value, made.id)
    left = load_case(app, rejected)
    assert (left.status, left.export_id) == (AppealStatus.DITOLAK.value, None)


def test_every_exported_column_is_documented_in_docs_export_md() -> None:
    documented = re.findall(r"^\| `([a-z_]+)` \|", DOCS.read_text(encoding="utf-8"), re.M)
    assert documented == HEADER
    assert list(exporting.COLUMNS) == HEADER


@pytest.mark.parametrize(
    ("language", "title"), [("en", "Forwarded to Kemensos"), ("id", "Diteruskan ke Kemensos")]
)
def test_the_citizen_sees_the_case_forwarded_to_kemensos_after_the_export(
    app: Flask, staff: StaffFactory, world: World, language: str, title: str
) -> None:
    ticket = file_and_decide(app, "sanggahan", answers_for(world, "INC-MAMPU"))
    _officer, client = admin(staff, app)
    export_now(client)

    citizen: Client = app.test_client()  # type: ignore[assignment]
    citizen.choose_language(language)
    tracked = track(citizen, ticket, world.filer_nik)
    assert tracked.status == 302
    page = citizen.page("/lacak/kasus")
    assert title in page.texts(".timeline__title")
    assert page.texts(".status") == [title]


def test_exporting_again_sends_nothing_and_a_case_is_never_in_two_exports(
    app: Flask, staff: StaffFactory
) -> None:
    first_ids = [approved_case(app), approved_case(app)]
    _officer, client = admin(staff, app)
    export_now(client)

    again = export_now(client)
    assert notices(again) == ["No approved case is waiting: there is nothing to export."]
    assert len(exports_in_db(app)) == 1
    assert not again.soup.find("form", action=EXPORTS)  # no button while nothing waits

    later = approved_case(app)
    export_now(client)
    first, second = exports_in_db(app)
    assert (first.case_count, second.case_count) == (2, 1)
    first_rows, second_rows = download(client, first.id), download(client, second.id)
    assert {r["ticket"] for r in first_rows}.isdisjoint({r["ticket"] for r in second_rows})
    assert [case(app, i).export_id for i in first_ids] == [first.id, first.id]
    assert case(app, later).export_id == second.id
    events = (
        select(func.count())
        .select_from(AppealEvent)
        .where(AppealEvent.to_status == AppealStatus.DITERUSKAN.value)
    )
    assert count(app, events) == 3  # each case forwarded exactly once


def test_an_admin_never_exports_or_sees_the_cases_or_exports_of_another_kabupaten(
    app: Flask, staff: StaffFactory, world: World
) -> None:
    answers = answers_for(world, "EXC-TIDAK-TERDATA")  # not in DTSEN: the chosen desa counts
    answers["desa"] = {"desa": KOTA_BEKASI_DESA, "desa_confirm": "y"}  # another kota: confirmed
    elsewhere = file_and_decide(app, "usulan", answers)
    assert load_case(app, elsewhere).kabupaten_code == "32.75"
    here = approved_case(app)
    direct_elsewhere = approved_case(app, desa="31.71.01.1001")  # Jakarta Pusat

    _officer, client = admin(staff, app)
    assert client.page(EXPORTS).texts(".waiting") == ["1 approved case is waiting."]
    export_now(client)
    [made] = exports_in_db(app)
    rows = download(client, made.id)
    assert [r["kabupaten_code"] for r in rows] == ["32.16"]
    assert case(app, here).export_id == made.id
    assert load_case(app, elsewhere).status == AppealStatus.DISETUJUI.value
    assert case(app, direct_elsewhere).status == AppealStatus.DISETUJUI.value

    _other, kota = admin(staff, app, "32.75")
    page = kota.page(EXPORTS)
    assert page.texts(".waiting") == ["1 approved case is waiting."]
    assert not page.soup.find("a", href=f"{EXPORTS}/{made.id}.csv")
    assert kota.get(f"{EXPORTS}/{made.id}.csv").status_code == 404  # not revealed
    export_now(kota)
    theirs = exports_in_db(app)[-1]
    assert [r["ticket"] for r in download(kota, theirs.id)] == [elsewhere]
    assert client.get(f"{EXPORTS}/{theirs.id}.csv").status_code == 404
    assert client.get(f"{EXPORTS}/999999.csv").status_code == 404


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["verifikator", "operator_desa"])
def test_verifikator_and_operator_desa_get_403_on_every_export_page(
    app: Flask, staff: StaffFactory, role: str
) -> None:
    approved_case(app)
    _officer, client = admin(staff, app)
    export_now(client)
    [made] = exports_in_db(app)
    approved_case(app)

    other = staff.login(staff.create(role), english(app))
    token = other.csrf_token(
        "/staf/?status="
    )  # from the staff layout: this role has no export page
    assert other.get(EXPORTS).status_code == 403
    assert other.post(EXPORTS, data={"csrf_token": token}).status_code == 403
    assert other.get(f"{EXPORTS}/{made.id}.csv").status_code == 403
    assert len(exports_in_db(app)) == 1
    assert not other.page("/staf/?status=").soup.find("a", href=EXPORTS)


def test_pusat_sees_and_downloads_every_export_but_cannot_create_one(
    app: Flask, staff: StaffFactory
) -> None:
    approved_case(app)
    approved_case(app, desa=KOTA_BEKASI_DESA)
    _bekasi, kabupaten = admin(staff, app)
    export_now(kabupaten)
    _kota, kota = admin(staff, app, "32.75")
    export_now(kota)
    first, second = exports_in_db(app)

    pusat = staff.login(staff.create("pusat"), english(app))
    page = pusat.page(EXPORTS)
    assert page.soup.find("a", href=f"{EXPORTS}/{first.id}.csv")
    assert page.soup.find("a", href=f"{EXPORTS}/{second.id}.csv")
    assert not page.soup.find("form", action=EXPORTS)
    assert page.texts(".waiting") == []
    assert [r["kabupaten_code"] for r in download(pusat, first.id)] == ["32.16"]
    assert [r["kabupaten_code"] for r in download(pusat, second.id)] == ["32.75"]

    approved_case(app)
    token = pusat.csrf_token(EXPORTS)
    assert pusat.post(EXPORTS, data={"csrf_token": token}).status_code == 403
    assert len(exports_in_db(app)) == 2


def test_exporting_without_a_csrf_token_is_refused(app: Flask, staff: StaffFactory) -> None:
    approved_case(app)
    _officer, client = admin(staff, app)
    assert client.post(EXPORTS, data={}).status_code == 400
    assert exports_in_db(app) == []


def test_download_is_a_utf8_csv_attachment_that_is_never_cached(
    app: Flask, staff: StaffFactory
) -> None:
    approved_case(app, note='Rumah permanen, lantai keramik; "mobil" baru, ada usaha.')
    _officer, client = admin(staff, app)
    export_now(client)
    [made] = exports_in_db(app)

    response = client.get(f"{EXPORTS}/{made.id}.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="dtsen-ekspor-32.16-{made.id}.csv"'
    )
    body = response.get_data()
    assert body == stored(app, made).encode("utf-8")
    assert response.headers["Content-Length"] == str(len(body)) == str(made.size_bytes)
    assert b"\r\n" not in body
    assert body.count(b"\n") == 2  # header + one row, each ending in \n
    assert '"Rumah permanen, lantai keramik; ""mobil"" baru, ada usaha."' in stored(app, made)
    assert hashlib.sha256(body).hexdigest() == made.sha256


# --- audit and the households' access log -----------------------------------------------------


def test_an_export_and_each_download_are_audited_and_logged_for_each_household(
    app: Flask, staff: StaffFactory
) -> None:
    approved_case(app, kk_hmac="a" * 32)
    approved_case(app, kk_hmac="a" * 32)  # two cases about the same household
    approved_case(app, kk_hmac="b" * 32)
    officer, client = admin(staff, app)
    export_now(client)
    [made] = exports_in_db(app)

    with app.app_context():
        [audit] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export"))
        assert (audit.staff_id, audit.role, audit.office_code) == (
            officer.id,
            "admin_dinsos",
            "32.16",
        )
        assert (audit.target_type, audit.target_id) == ("export", made.id)
        assert audit.after["case_count"] == 3
        assert audit.after["sha256"] == made.sha256
        reads = list(db.session.scalars(select(AccessEvent).order_by(AccessEvent.kk_hmac)))
        assert [r.kk_hmac for r in reads] == ["a" * 32, "b" * 32]
        assert {(r.channel, r.actor, r.actor_role, r.actor_office, r.purpose) for r in reads} == {
            ("export", "export", "admin_dinsos", "32.16", "export")
        }

    pusat = staff.login(staff.create("pusat"), english(app))
    download(pusat, made.id)
    with app.app_context():
        [downloaded] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export_download")
        )
        assert (downloaded.target_type, downloaded.target_id) == ("export", made.id)
        assert downloaded.role == "pusat"
        pusat_reads = list(
            db.session.scalars(select(AccessEvent).where(AccessEvent.actor_role == "pusat"))
        )
        assert sorted(r.kk_hmac for r in pusat_reads) == ["a" * 32, "b" * 32]
        assert {(r.actor, r.actor_office, r.purpose) for r in pusat_reads} == {
            ("export", None, "download")
        }


def test_nothing_to_export_writes_no_export_no_audit_and_no_access_event(
    app: Flask, staff: StaffFactory
) -> None:
    approved_case(app, status=AppealStatus.DITOLAK)
    _officer, client = admin(staff, app)
    page = export_now(client)
    assert notices(page) == ["No approved case is waiting: there is nothing to export."]
    assert exports_in_db(app) == []
    audit = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "export")
    assert count(app, audit) == 0
    assert count(app, select(func.count()).select_from(AccessEvent)) == 0


# --- what goes in the file --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "written"),
    [
        ('=HYPERLINK("http://evil.example","klik")', '\'=HYPERLINK("http://evil.example","klik")'),
        ("+62 812 3456", "'+62 812 3456"),
        ("-1+1 dan seterusnya", "'-1+1 dan seterusnya"),
        ("@SUM(A1:A9) catatan", "'@SUM(A1:A9) catatan"),
        ("\t=1+1 tersembunyi", "'\t=1+1 tersembunyi"),
        ("Biasa saja, tanpa rumus.", "Biasa saja, tanpa rumus."),
    ],
)
def test_spreadsheet_formulas_in_notes_are_neutralised(
    app: Flask, staff: StaffFactory, note: str, written: str
) -> None:
    approved_case(app, note=note)
    _officer, client = admin(staff, app)
    export_now(client)
    [made] = exports_in_db(app)
    [row] = download(client, made.id)
    assert row["decision_note"] == written


def test_a_contest_names_the_contested_ticket_and_an_unverified_filer_says_false(
    app: Flask, staff: StaffFactory
) -> None:
    original_id = approved_case(app, status=AppealStatus.DITOLAK)
    unverified = approved_case(app, filer_verified=False)
    with app.app_context():
        original = db.session.get(Appeal, original_id)
        contest = service.contest(original, "Saya tidak setuju dengan keputusan ini.", locale="id")
        service.transition(contest, AppealStatus.VERIFIKASI, actor="staff")
        service.transition(
            contest,
            AppealStatus.DISETUJUI,
            actor="staff",
            note=APPROVAL_NOTE,
            decision_reason="other",
        )
        db.session.commit()
        contest_ticket, original_ticket = contest.ticket, original.ticket
        unverified_ticket = db.session.get(Appeal, unverified).ticket
    _officer, client = admin(staff, app)
    export_now(client)
    [made] = exports_in_db(app)
    rows = {r["ticket"]: r for r in download(client, made.id)}
    assert rows[tickets.display(contest_ticket)]["contested_ticket"] == tickets.display(
        original_ticket
    )
    assert rows[tickets.display(unverified_ticket)]["filer_verified"] == "false"
    assert rows[tickets.display(unverified_ticket)]["subject_no_kk"] == ""  # not in a snapshot


# --- two exports at once ----------------------------------------------------------------------


def test_a_case_another_export_took_meanwhile_is_skipped_and_the_rest_exported(
    app: Flask, staff: StaffFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [approved_case(app) for _ in range(3)]
    _officer, client = admin(staff, app)
    count_waiting = exporting.waiting_count
    counted: list[int] = []

    def counted_then_someone_else_moves_one(user: StaffUser) -> int:
        counted.append(count_waiting(user))
        if len(counted) == 1:
            with app.app_context():  # another request with its own session, committed first
                taken = db.session.get(Appeal, ids[0])
                service.transition(taken, AppealStatus.DITERUSKAN, actor="staff")
                db.session.commit()
        return counted[-1]

    monkeypatch.setattr(exporting, "waiting_count", counted_then_someone_else_moves_one)
    page = export_now(client)

    [made] = exports_in_db(app)
    assert notices(page) == [
        f"Export {made.id} is ready with 2 cases. The cases are now forwarded to Kemensos."
    ]
    assert counted[0] == 3  # counted 3, but the move is conditional: the taken one stays out
    assert made.case_count == 2
    assert len(download(client, made.id)) == 2
    assert case(app, ids[0]).export_id is None  # taken by the other one, not by this export
    assert [case(app, i).export_id for i in ids[1:]] == [made.id, made.id]
    events = (
        select(func.count())
        .select_from(AppealEvent)
        .where(AppealEvent.to_status == AppealStatus.DITERUSKAN.value)
    )
    assert count(app, events) == 3


def test_two_exports_racing_for_the_same_cases_send_each_case_once(
    app: Flask, staff: StaffFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [approved_case(app) for _ in range(3)]
    _first, client = admin(staff, app)
    second = staff.create("admin_dinsos")
    count_waiting = exporting.waiting_count
    counted: list[int] = []

    def both_count_then_the_other_commits_first(user: StaffUser) -> int:
        counted.append(count_waiting(user))
        if len(counted) == 1:
            with app.app_context():  # the other officer's export runs to the end meanwhile
                other = db.session.get(StaffUser, second.id)
                assert other is not None
                assert exporting.create_export(other).case_count == 3
        return counted[0]

    monkeypatch.setattr(exporting, "waiting_count", both_count_then_the_other_commits_first)
    page = export_now(client)

    assert notices(page) == ["No approved case is waiting: there is nothing to export."]
    assert counted[:2] == [3, 3]  # ours, then the other's (complete); ours then moved none
    [made] = exports_in_db(app)  # ours was not made
    assert made.created_by_id == second.id
    assert [case(app, i).export_id for i in ids] == [made.id] * 3
    events = (
        select(func.count())
        .select_from(AppealEvent)
        .where(AppealEvent.to_status == AppealStatus.DITERUSKAN.value)
    )
    assert count(app, events) == 3
    audit = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "export")
    assert count(app, audit) == 1


def test_create_export_refuses_other_roles_in_the_service_too(
    app: Flask, staff: StaffFactory
) -> None:
    approved_case(app)
    officers = [staff.create(role) for role in ("verifikator", "operator_desa", "pusat")]
    with app.app_context():
        for officer in officers:
            user = db.session.get(StaffUser, officer.id)
            assert user is not None
            with pytest.raises(exporting.NotAllowed):
                exporting.create_export(user)
    assert exports_in_db(app) == []
