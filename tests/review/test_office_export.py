"""The export's preview and undo window (EXPORT_UNDO_MINUTES): an admin_dinsos sees what the
next export would take before making it; a new export is held (its cases set aside, not yet
forwarded, nobody may download it) until its window is over, and may be cancelled meanwhile,
which puts its cases back in the pool. Once final it is exactly the export it always was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from portal import db
from portal.appeals.models import Appeal, OutboxMessage
from portal.audit.models import AuditEvent
from portal.jobs import service as jobs
from portal.jobs.models import Job
from portal.lookup.models import AccessEvent
from portal.review import export as exporting
from portal.review.models import Export, ExportStatus
from tests.fixtures.staff import StaffFactory
from tests.helpers import Client
from tests.review.test_export import (
    EXPORTS,
    KOTA_BEKASI_DESA,
    admin,
    approved_case,
    case,
    count,
    download,
    exports_in_db,
)

PREVIEW = f"{EXPORTS}/pratinjau"


@pytest.fixture
def window(app: Flask) -> float:
    app.config["EXPORT_UNDO_MINUTES"] = 10.0
    return 10.0


def make_export(app: Flask, client: Client, expected: int | None = None) -> int:
    data = {} if expected is None else {"expected": str(expected)}
    token = client.csrf_token(EXPORTS)
    response = client.post(EXPORTS, data={"csrf_token": token, **data})
    assert response.status_code == 302
    return max(e.id for e in exports_in_db(app))


def end_window(app: Flask, export_id: int) -> None:
    """Move the export's window into the past, as if its minutes had gone by."""
    with app.app_context():
        db.session.execute(
            update(Export)
            .where(Export.id == export_id)
            .values(final_at=db.utcnow() - timedelta(seconds=1))
        )
        db.session.commit()


def test_the_preview_counts_by_reason_and_outcome_and_flags_in_scope_only(
    app: Flask, staff: StaffFactory
) -> None:
    approved_case(app)
    approved_case(app, filer_verified=False)
    approved_case(app, desa=KOTA_BEKASI_DESA)  # another kabupaten/kota: not counted
    _officer, client = admin(staff, app)
    page = client.page(PREVIEW)
    assert page.status == 200
    assert page.texts(".preview-total")[0] == "2 approved cases would be exported."
    flags = page.texts(".preview-flags li")
    assert flags[0].startswith("1 case filed by a person DTSEN could not verify")
    reasons = page.texts(".table--preview-reasons tbody td")
    assert reasons == ["2"]
    outcomes = page.texts(".table--preview-outcomes tbody th")
    assert outcomes == ["Confirmed by the documents"]
    assert exports_in_db(app) == []  # a preview makes nothing
    with app.app_context():
        assert db.session.scalar(select(Appeal.id).where(Appeal.export_id.is_not(None))) is None


@pytest.mark.parametrize("role", ["verifikator", "operator_desa", "pusat"])
def test_only_an_admin_dinsos_sees_the_preview(app: Flask, staff: StaffFactory, role: str) -> None:
    officer = staff.create(role)
    client = staff.login(officer, app.test_client())  # type: ignore[arg-type]
    assert client.get(PREVIEW).status_code == 403


@pytest.mark.usefixtures("window")
def test_a_held_export_forwards_nothing_and_cannot_be_downloaded_until_final(
    app: Flask, staff: StaffFactory
) -> None:
    ids = [approved_case(app), approved_case(app)]
    _officer, client = admin(staff, app)
    export_id = make_export(app, client, expected=2)
    [held] = exports_in_db(app)
    assert held.status == ExportStatus.HELD
    assert held.case_count == 2
    assert held.final_at is not None
    assert all(case(app, i).status == "disetujui" for i in ids)  # not forwarded yet
    assert all(case(app, i).export_id == export_id for i in ids)  # set aside
    assert count(app, select(func.count()).where(AccessEvent.purpose == "export")) == 0
    assert count(app, select(func.count()).select_from(OutboxMessage)) == 0  # nobody told
    assert client.get(f"{EXPORTS}/{export_id}.csv").status_code == 404
    page = client.page(EXPORTS)
    assert "Not final yet" in page.text
    assert page.soup.select_one(f"form[action='{EXPORTS}/{export_id}/batal']") is not None
    # a second export meanwhile finds nothing waiting: the held cases are not taken twice
    assert "0 approved cases are waiting" in client.page(EXPORTS).text

    end_window(app, export_id)
    pusat = staff.login(staff.create("pusat"), app.test_client())  # type: ignore[arg-type]
    rows = download(pusat, export_id)  # the download makes it final first
    assert len(rows) == 2
    assert all(case(app, i).status == "diteruskan" for i in ids)
    [made] = exports_in_db(app)
    assert made.status == ExportStatus.READY
    assert count(app, select(func.count()).where(AccessEvent.purpose == "export")) == 2


@pytest.mark.usefixtures("window")
def test_cancelling_in_the_window_puts_the_cases_back_and_audits_each(
    app: Flask, staff: StaffFactory
) -> None:
    ids = [approved_case(app), approved_case(app)]
    _officer, client = admin(staff, app)
    export_id = make_export(app, client)
    sent = client.post(
        f"{EXPORTS}/{export_id}/batal", data={"csrf_token": client.csrf_token(EXPORTS)}
    )
    assert sent.status_code == 302
    page = client.page(EXPORTS)
    assert f"Export {export_id} is cancelled" in page.text
    assert "2 approved cases are waiting" in page.text
    [cancelled] = exports_in_db(app)
    assert cancelled.status == ExportStatus.CANCELLED
    assert all(case(app, i).export_id is None for i in ids)
    assert all(case(app, i).status == "disetujui" for i in ids)
    with app.app_context():
        per_case = db.session.scalars(
            select(AuditEvent.target_id).where(AuditEvent.action == "export_cancel_case")
        ).all()
        assert sorted(per_case) == sorted(ids)
        # the job queued for the end of the window finds it cancelled and does nothing
        job = db.session.get(Job, cancelled.job_id)
        assert job is not None
        context = jobs.JobContext(job.id, job.kind, job.payload, 1, 60, db.get_engine())
        end_window(app, cancelled.id)
        exporting.run_job(context)
    assert exports_in_db(app)[0].status == ExportStatus.CANCELLED
    assert all(case(app, i).status == "disetujui" for i in ids)
    # exporting again takes the same cases
    again = make_export(app, client)
    assert again != export_id
    assert all(case(app, i).export_id == again for i in ids)


@pytest.mark.usefixtures("window")
def test_no_cancel_after_the_window_nor_by_another_area_or_role(
    app: Flask, staff: StaffFactory
) -> None:
    ids = [approved_case(app)]
    _officer, client = admin(staff, app)
    export_id = make_export(app, client)
    # Kota Bekasi's admin: the export is not found
    _kota, other = admin(staff, app, "32.75")
    token = other.csrf_token(EXPORTS)
    assert other.post(f"{EXPORTS}/{export_id}/batal", data={"csrf_token": token}).status_code == 404
    pusat = staff.login(staff.create("pusat"), app.test_client())  # type: ignore[arg-type]
    token = pusat.csrf_token(EXPORTS)
    assert pusat.post(f"{EXPORTS}/{export_id}/batal", data={"csrf_token": token}).status_code == 403
    assert exports_in_db(app)[0].status == ExportStatus.HELD
    # after the window: final, no cancel
    end_window(app, export_id)
    token = client.csrf_token(EXPORTS)  # the page makes it final
    sent = client.post(f"{EXPORTS}/{export_id}/batal", data={"csrf_token": token})
    assert sent.status_code == 302
    assert "can no longer be cancelled" in client.page(EXPORTS).text
    assert exports_in_db(app)[0].status == ExportStatus.READY
    assert case(app, ids[0]).status == "diteruskan"


@pytest.mark.usefixtures("window")
def test_an_export_from_a_stale_preview_is_not_made(app: Flask, staff: StaffFactory) -> None:
    approved_case(app)
    _officer, client = admin(staff, app)
    token = client.csrf_token(PREVIEW)
    approved_case(app)  # a case approved after the preview was read
    sent = client.post(EXPORTS, data={"csrf_token": token, "expected": "1"})
    assert sent.status_code == 302
    assert sent.headers["Location"].endswith(PREVIEW)
    assert exports_in_db(app) == []
    bad = client.post(EXPORTS, data={"csrf_token": token, "expected": "-1"})
    assert bad.status_code == 400
