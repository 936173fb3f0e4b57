"""Large exports and the exact file: more than EXPORT_INLINE_MAX approved cases are queued
as a job that ``flask jobs work`` makes; the exports page shows its state (queued, being
made, ready, failed, nothing left) and offers the file once it is ready. The file of a
many-case fixture is compared row by row, every column, with what each case says (a row
from the wrong case, household, snapshot or contest fails); another kabupaten's cases never
leave; running the job again changes nothing."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, update

from portal import db
from portal.appeals import tickets
from portal.appeals.models import Appeal, AppealEvent, OutboxMessage
from portal.appeals.states import AppealStatus
from portal.audit.models import AuditEvent
from portal.dataimport import retention
from portal.dataimport.models import Household, Snapshot
from portal.jobs.models import Job
from portal.lookup.models import AccessEvent
from portal.review.models import Export, ExportChunk
from tests.fixtures.factories import make_appeal
from tests.fixtures.staff import Officer, StaffFactory
from tests.helpers import Client, Page

EXPORTS = "/staf/ekspor"
DESA = "32.16.01.2001"  # Sagara Makmur, Kabupaten Bekasi
BABELAN = "32.16.02.2001"  # Bunibakti, Kabupaten Bekasi
KOTA_BEKASI = "32.75.01.1001"  # Bekasijaya, Kota Bekasi: another kabupaten/kota
KK_A, KK_B = "a" * 32, "b" * 32
NO_KK_A, NO_KK_B = "3216010101200001", "3216010101200002"  # look-alike numbers
NO_KK_A_OLD = "3216010101200009"  # household A's No. KK in the previous period
T0 = datetime(2026, 7, 1, 2, 3, 4, tzinfo=UTC)


@dataclass(frozen=True)
class Made:
    id: int
    ticket: str


def snapshots(app: Flask) -> None:
    """2026Q2 and 2026Q3 published; household A's No. KK changed between them."""
    with app.app_context():
        for period, homes in (
            ("2026Q2", [(KK_A, NO_KK_A_OLD)]),
            ("2026Q3", [(KK_A, NO_KK_A), (KK_B, NO_KK_B)]),
        ):
            snap = Snapshot(
                period=period,
                status="published",
                sha256=secrets.token_hex(32),
                source_name=f"{period}.csv",
                row_count=len(homes),
                household_count=len(homes),
                published_at=db.utcnow(),
            )
            db.session.add(snap)
            db.session.flush()
            retention.add_empty_partitions(db.session.connection(), snap.id)
            for kk_hmac, no_kk in homes:
                db.session.add(
                    Household(
                        snapshot_id=snap.id,
                        kk_hmac=kk_hmac,
                        no_kk=no_kk,
                        kode_desa=DESA,
                        alamat="KP. SAGARA",
                        desil=3,
                    )
                )
        db.session.commit()


def make_case(
    app: Flask,
    n: int,
    *,
    status: AppealStatus = AppealStatus.DISETUJUI,
    desa: str = DESA,
    **fields: Any,
) -> Made:
    """An approved case row with distinct values in every exported column (N varies them)."""
    values: dict[str, Any] = {
        "reason_code": "INC-MAMPU",
        "filer_verified": n % 2 == 0,
        "subject_is_filer_household": True,
        "subject_nik": f"32160155059{n:05d}",
        "subject_kk_hmac": None,
        "details": {},
        "period": "2026Q3",
        "decision_reason": f"reason_{n}",
        "decision_note": f"Catatan keputusan {n}",
        "contests_id": None,
    }
    values.update(fields)
    with app.app_context():
        appeal = make_appeal(
            status=status,
            filer_nik="3216010101800001",
            region=desa,
            note="Catatan pelapor.",
            now=T0 + timedelta(hours=n),
            due_at=T0 + timedelta(days=14),
            decided_at=T0 + timedelta(days=1, minutes=n),
            **values,
        )
        db.session.add(appeal)
        db.session.commit()
        return Made(appeal.id, appeal.ticket)


def fixture_cases(app: Flask) -> dict[str, Made]:
    """Eight cases: six approved in Kabupaten Bekasi (each kind of row), one approved in
    Kota Bekasi, one rejected (the contested one)."""
    snapshots(app)
    original = make_case(app, 9, status=AppealStatus.DITOLAK)
    cases = {
        "own_a": make_case(app, 1, subject_kk_hmac=KK_A),
        "reported_b": make_case(
            app,
            2,
            subject_kk_hmac=KK_B,
            subject_is_filer_household=False,
            subject_name="Pak Rahmat",
            subject_alamat="KP. BUNI",
            subject_rt="003",
            subject_rw="012",
            contact_phone="081234567890",
        ),
        "usulan": make_case(
            app,
            3,
            reason_code="USUL-PROGRAM",
            subject_kk_hmac=KK_B,  # an usulan's No. KK is the one it proposes, not DTSEN's
            details={"household": {"no_kk": "3216020202200003"}, "programs": ["PKH", "BPNT"]},
            contact_email="warga@example.id",
        ),
        "heir": make_case(
            app,
            4,
            reason_code="USUL-AHLI-WARIS",
            details={
                "household": {"no_kk": NO_KK_A},
                "programs": ["PKH"],
                "heir": {"heir_nik": "3216015505900004", "deceased_nik": "3216010101500005"},
            },
            desa=BABELAN,
        ),
        "contest": make_case(
            app, 5, contests_id=original.id, decision_note="=1+1 bukan rumus", period=None
        ),
        "by_name": make_case(
            app,
            6,
            subject_nik=None,
            subject_is_filer_household=False,
            subject_name="Bu Sari, janda",
            subject_alamat='GG. "MAWAR"',
            subject_rt=None,
            subject_rw=None,
        ),
    }
    cases["elsewhere"] = make_case(app, 7, desa=KOTA_BEKASI, subject_kk_hmac=KK_A)
    cases["original"] = original
    return cases


def expected_rows(app: Flask, cases: dict[str, Made], export: Export) -> list[dict[str, str]]:
    def stamp(hours: float = 0, minutes: int = 0, days: int = 0) -> str:
        return (T0 + timedelta(hours=hours, minutes=minutes, days=days)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )

    exported_at = export.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def row(key: str, n: int, **changes: str) -> dict[str, str]:
        base = {
            "ticket": tickets.display(cases[key].ticket),
            "kind": "sanggahan",
            "reason_code": "INC-MAMPU",
            "status_decision": "disetujui",
            "decision_reason": f"reason_{n}",
            "decision_note": f"Catatan keputusan {n}",
            "decided_at": stamp(days=1, minutes=n),
            "filed_at": stamp(hours=n),
            "period": "2026Q3",
            "kabupaten_code": "32.16",
            "kecamatan_code": "32.16.01",
            "kode_desa": DESA,
            "subject_nik": f"32160155059{n:05d}",
            "subject_no_kk": "",
            "subject_name": "",
            "subject_address": "",
            "programs_proposed": "",
            "heir_nik": "",
            "deceased_nik": "",
            "filer_verified": "true" if n % 2 == 0 else "false",
            "contested_ticket": "",
            "export_id": str(export.id),
            "exported_at": exported_at,
            "override": "",
            "override_note": "",
        }
        base.update(changes)
        return base

    return [
        row("own_a", 1, subject_no_kk=NO_KK_A),  # the current period's No. KK
        row(
            "reported_b",
            2,
            subject_no_kk=NO_KK_B,
            subject_name="Pak Rahmat",
            subject_address="KP. BUNI RT 003/RW 012",
        ),
        row(
            "usulan",
            3,
            kind="usulan",
            reason_code="USUL-PROGRAM",
            subject_no_kk="3216020202200003",
            programs_proposed="PKH;BPNT",
        ),
        row(
            "heir",
            4,
            kind="usulan",
            reason_code="USUL-AHLI-WARIS",
            subject_no_kk=NO_KK_A,
            programs_proposed="PKH",
            heir_nik="3216015505900004",
            deceased_nik="3216010101500005",
            kecamatan_code="32.16.02",
            kode_desa=BABELAN,
        ),
        row(
            "contest",
            5,
            decision_note="'=1+1 bukan rumus",
            period="",
            contested_ticket=tickets.display(cases["original"].ticket),
        ),
        row(
            "by_name",
            6,
            subject_nik="",
            subject_name="Bu Sari, janda",
            subject_address='GG. "MAWAR"',
        ),
    ]


# --- helpers --------------------------------------------------------------------------------


def admin(staff: StaffFactory, app: Flask, region: str = "32.16") -> tuple[Officer, Client]:
    officer = staff.create("admin_dinsos", [region])
    client: Client = app.test_client()  # type: ignore[assignment]
    return officer, staff.login(officer, client.choose_language("en"))


def press_export(client: Client) -> Page:
    sent = client.post_form(EXPORTS, {})
    assert sent.status == 302
    return client.page(EXPORTS)


def work(runner: FlaskCliRunner) -> str:
    result = runner.invoke(args=["jobs", "work", "--burst"])
    assert result.exit_code == 0, result.output
    return result.output


def exports_in_db(app: Flask) -> list[Export]:
    with app.app_context():
        return list(db.session.scalars(select(Export).order_by(Export.id)))


def download(client: Client, export_id: int) -> tuple[bytes, list[dict[str, str]]]:
    response = client.get(f"{EXPORTS}/{export_id}.csv")
    assert response.status_code == 200
    body = response.get_data()
    return body, list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


def count(app: Flask, model: type, *where: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def status(app: Flask, ident: int) -> str:
    with app.app_context():
        return str(db.session.scalar(select(Appeal.status).where(Appeal.id == ident)))


def refreshes(page: Page) -> bool:
    """The page says an export is still being made, with a link to look again; it never
    reloads by itself (WCAG 2.2.1: a self-refresh moves a screen reader back to the top)."""
    assert page.soup.find("meta", attrs={"http-equiv": "refresh"}) is None
    return bool(page.texts(".exports__pending"))


@pytest.fixture
def small_inline(app: Flask) -> Flask:
    app.config["EXPORT_INLINE_MAX"] = 2
    return app


# --- tests ----------------------------------------------------------------------------------


def test_a_large_export_is_queued_then_made_by_the_worker_with_exactly_these_rows(
    small_inline: Flask, staff: StaffFactory, runner: FlaskCliRunner
) -> None:
    app = small_inline
    cases = fixture_cases(app)
    _officer, client = admin(staff, app)

    page = press_export(client)
    [made] = exports_in_db(app)
    assert page.texts(".notice") == [
        f"Export {made.id} is being made in the background. This page shows its progress; "
        "the file appears here when it is ready."
    ]
    assert (made.status, made.job_id is not None) == ("pending", True)
    assert page.texts(".export-state--queued") == ["Queued: waiting for the job worker."]
    assert refreshes(page)
    assert not page.soup.find("a", href=f"{EXPORTS}/{made.id}.csv")
    assert client.get(f"{EXPORTS}/{made.id}.csv").status_code == 404  # no file yet
    assert status(app, cases["own_a"].id) == "disetujui"  # nothing moves before the job runs

    output = work(runner)
    assert f"job {made.job_id} export: done" in output
    page = client.page(EXPORTS)
    [made] = exports_in_db(app)
    assert (made.status, made.case_count) == ("ready", 6)
    assert page.soup.find("a", href=f"{EXPORTS}/{made.id}.csv")
    assert not refreshes(page)

    body, rows = download(client, made.id)
    assert rows == expected_rows(app, cases, made)
    with app.app_context():
        pieces = db.session.scalars(
            select(ExportChunk.data)
            .where(ExportChunk.export_id == made.id)
            .order_by(ExportChunk.seq)
        )
        assert "".join(pieces).encode("utf-8") == body
    # moved with their history, as transition() would, and nothing else
    exported = [
        cases[k].id for k in ("own_a", "reported_b", "usulan", "heir", "contest", "by_name")
    ]
    assert {status(app, i) for i in exported} == {"diteruskan"}
    assert status(app, cases["elsewhere"].id) == "disetujui"  # another kabupaten stays
    assert status(app, cases["original"].id) == "ditolak"
    with app.app_context():
        events = db.session.execute(
            select(
                AppealEvent.appeal_id,
                AppealEvent.from_status,
                AppealEvent.to_status,
                AppealEvent.actor,
                AppealEvent.actor_staff_id,
            ).order_by(AppealEvent.appeal_id)
        ).all()
        assert [tuple(e) for e in events] == [
            (i, "disetujui", "diteruskan", "staff", _officer.id) for i in exported
        ]
        outbox = db.session.execute(
            select(
                OutboxMessage.appeal_id,
                OutboxMessage.channel,
                OutboxMessage.recipient,
                OutboxMessage.template,
                OutboxMessage.payload,
                OutboxMessage.locale,
            ).order_by(OutboxMessage.appeal_id)
        ).all()
        tickets_by_id = {m.id: m.ticket for m in cases.values()}
        assert [tuple(m) for m in outbox] == [
            (
                cases["reported_b"].id,
                "sms",
                "081234567890",
                "status_changed",
                {"ticket": tickets_by_id[cases["reported_b"].id], "status": "diteruskan"},
                "id",
            ),
            (
                cases["usulan"].id,
                "email",
                "warga@example.id",
                "status_changed",
                {"ticket": tickets_by_id[cases["usulan"].id], "status": "diteruskan"},
                "id",
            ),
        ]
        reads = db.session.execute(
            select(AccessEvent.kk_hmac, AccessEvent.period, AccessEvent.actor_office).order_by(
                AccessEvent.kk_hmac
            )
        ).all()
        # one entry per household for the export, and again for the download
        assert [tuple(r) for r in reads] == [(KK_A, "2026Q3", "32.16")] * 2 + [
            (KK_B, "2026Q3", "32.16")
        ] * 2
        [audit] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export"))
        assert audit.after["cases"] == exported
        assert audit.after["case_count"] == 6


def test_the_page_says_when_an_export_is_being_made_and_when_it_failed(
    small_inline: Flask, staff: StaffFactory, runner: FlaskCliRunner
) -> None:
    app = small_inline
    for n in range(3):
        make_case(app, n)
    _officer, client = admin(staff, app)
    press_export(client)
    [made] = exports_in_db(app)

    with app.app_context():
        db.session.execute(
            update(Job)
            .where(Job.id == made.job_id)
            .values(
                status="running",
                progress_done=2000,
                progress_total=3000,
                lease_until=db.utcnow() + timedelta(minutes=5),
            )
        )
        db.session.commit()
    page = client.page(EXPORTS)
    assert page.texts(".export-state--running") == ["Being made: 2000 of 3000 cases written."]
    assert refreshes(page)
    again = press_export(client)  # one export of an area at a time
    assert again.texts(".notice") == [
        "An export of your area is still being made. Wait until it is ready, then try again."
    ]
    assert len(exports_in_db(app)) == 1

    with app.app_context():
        db.session.execute(update(Job).where(Job.id == made.job_id).values(status="failed"))
        db.session.commit()
    page = client.page(EXPORTS)
    assert page.texts(".export-state--failed") == [
        "Failed. The cases were not exported and still wait: make a new export."
    ]
    assert not refreshes(page)
    assert page.texts(".waiting") == ["3 approved cases are waiting."]

    indonesian: Client = app.test_client()  # type: ignore[assignment]
    staff.login(staff.create("admin_dinsos"), indonesian.choose_language("id"))
    assert indonesian.page(EXPORTS).texts(".export-state--failed") == [
        "Gagal. Laporan tidak diekspor dan masih menunggu: buat ekspor baru."
    ]

    press_export(client)  # a failed export does not block a new one
    work(runner)
    assert [e.status for e in exports_in_db(app)] == ["pending", "ready"]
    assert exports_in_db(app)[1].case_count == 3


def test_running_the_job_again_changes_nothing(
    small_inline: Flask, staff: StaffFactory, runner: FlaskCliRunner
) -> None:
    app = small_inline
    for n in range(3):
        make_case(app, n)
    _officer, client = admin(staff, app)
    press_export(client)
    work(runner)
    [made] = exports_in_db(app)
    body, _rows = download(client, made.id)
    before = (
        count(app, AppealEvent),
        count(app, OutboxMessage),
        count(app, ExportChunk),
        count(app, AuditEvent, AuditEvent.action == "export"),
    )

    # its worker died after committing the export but before recording the job done: the
    # job is claimed again once the lease runs out, and runs again
    with app.app_context():
        db.session.execute(
            update(Job)
            .where(Job.id == made.job_id)
            .values(status="running", lease_until=db.utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert f"job {made.job_id} export: done" in work(runner)
    [again] = exports_in_db(app)
    assert (again.status, again.case_count, again.sha256) == ("ready", 3, made.sha256)
    assert download(client, made.id)[0] == body
    after = (
        count(app, AppealEvent),
        count(app, OutboxMessage),
        count(app, ExportChunk),
        count(app, AuditEvent, AuditEvent.action == "export"),
    )
    assert after == before
    assert press_export(client).texts(".notice") == [
        "No approved case is waiting: there is nothing to export."
    ]


def test_a_queued_export_whose_cases_were_all_taken_meanwhile_says_nothing_was_left(
    small_inline: Flask, staff: StaffFactory, runner: FlaskCliRunner
) -> None:
    app = small_inline
    ids = [make_case(app, n).id for n in range(3)]
    _officer, client = admin(staff, app)
    press_export(client)
    with app.app_context():  # e.g. an export made by hand in between
        db.session.execute(update(Appeal).where(Appeal.id.in_(ids)).values(status="diteruskan"))
        db.session.commit()
    work(runner)
    [made] = exports_in_db(app)
    assert (made.status, made.case_count) == ("empty", 0)
    assert client.page(EXPORTS).texts(".export-state--empty") == [
        "Nothing left to export: another export took these cases first."
    ]
    assert client.get(f"{EXPORTS}/{made.id}.csv").status_code == 404


def test_a_queued_export_of_one_kabupaten_never_takes_another_kabupatens_cases(
    small_inline: Flask, staff: StaffFactory, runner: FlaskCliRunner
) -> None:
    app = small_inline
    ours = [make_case(app, n).id for n in range(3)]
    theirs = [make_case(app, n, desa=KOTA_BEKASI).id for n in range(3, 6)]
    _officer, client = admin(staff, app)
    press_export(client)
    work(runner)
    [made] = exports_in_db(app)
    _body, rows = download(client, made.id)
    assert {r["kabupaten_code"] for r in rows} == {"32.16"}
    assert len(rows) == 3
    assert {status(app, i) for i in ours} == {"diteruskan"}
    assert {status(app, i) for i in theirs} == {"disetujui"}
    _other, kota = admin(staff, app, "32.75")
    assert kota.page(EXPORTS).texts(".waiting") == ["3 approved cases are waiting."]
    assert kota.get(f"{EXPORTS}/{made.id}.csv").status_code == 404
