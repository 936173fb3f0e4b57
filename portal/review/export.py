"""Exports of approved cases to Pusdatin (DOMAIN.md: accepted cases leave the portal as an
export). An admin_dinsos exports the approved (``disetujui``) cases of their kabupaten/kota
as CSV; each exported case moves to ``diteruskan`` and points at its export, so a case is
never sent twice. The CSV is kept with the export (``export_chunks``) and can be downloaded
again later.

Set-based, whatever the number of cases: one conditional UPDATE moves the waiting cases
(their events, notifications and the households' access-log entries follow as INSERT ...
SELECT), then one joined query streams the rows out in id order, written to the file a
piece at a time. Nothing holds all the rows. Up to EXPORT_INLINE_MAX cases this runs in the
officer's request; larger exports are queued for the job worker (``flask jobs work``) and
the exports page shows their progress. Either way it is one transaction: the cases move and
the file appears together, or not at all.

Columns and format: docs/export.md. Creating and downloading are audited, and every
household whose data leaves in an export gets an entry in its access log (purpose
"export"; each download of the file another, purpose "download": portal.access).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, insert, null, select, true, update
from sqlalchemy import case as when
from sqlalchemy.orm import aliased

from portal import access, db
from portal.appeals import questions, tickets
from portal.appeals import service as appeals
from portal.appeals.models import Appeal
from portal.appeals.reasons import Kind
from portal.appeals.states import AppealStatus
from portal.audit.service import record
from portal.auth.models import Role, StaffUser
from portal.dataimport import queries as snapshots
from portal.dataimport.models import Household
from portal.jobs import service as jobs
from portal.jobs.models import Job, JobStatus
from portal.review import permissions
from portal.review.models import Export, ExportChunk, ExportStatus
from portal.review.service import NotAllowed, ReviewError
from portal.security import ip_prefix

COLUMNS = (
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
)

# A spreadsheet reads a cell starting with one of these as a formula (or strips the control
# character and then does). Notes come from citizens and staff, so no cell may start so.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

JOB_KIND = "export"
CHUNK_CHARS = 1 << 20  # a piece of the file: about 1 MB
FETCH_ROWS = 2000  # rows fetched at a time from the streaming query
PROGRESS_ROWS = 5000  # rows between two progress reports

__all__ = [
    "COLUMNS",
    "ExportBusy",
    "ExportPreview",
    "NotAllowed",
    "NothingToExport",
    "TooLate",
    "any_in_progress",
    "cancel_export",
    "chunks",
    "create_export",
    "exports_for",
    "filename",
    "finalize_due",
    "get_export",
    "in_window",
    "jobs_of",
    "preview",
    "record_download",
    "run_job",
    "state",
    "waiting_count",
]


class NothingToExport(ReviewError):
    """No approved case is waiting in the officer's area: no export is made."""


class ExportBusy(ReviewError):
    """An export of the same area is queued or being made: try again when it is done."""


class TooLate(ReviewError):
    """The export's undo window is over (or it was never held): it can no longer be
    cancelled."""


@dataclass(frozen=True)
class ExportPreview:
    """What the next export would take, shown before it is made: counted in the database."""

    total: int
    by_reason: list[tuple[str, int]]  # the filing reason code, the most cases first
    by_outcome: list[tuple[str, int]]  # the decision's reason code, the most cases first
    unverified_filer: int  # filed by someone DTSEN could not verify
    contests: int  # decisions on a contest of an earlier decision
    decided_late: int  # decided after their due date


# --- reads ----------------------------------------------------------------------------------


def _waiting(stmt: Any, user: StaffUser) -> Any:
    return permissions.scoped(stmt, user).where(
        Appeal.status == AppealStatus.DISETUJUI.value, Appeal.export_id.is_(None)
    )


def waiting_count(user: StaffUser) -> int:
    """How many approved cases in USER's area wait for the next export."""
    return int(db.session.scalar(_waiting(select(func.count()).select_from(Appeal), user)) or 0)


def preview(user: StaffUser) -> ExportPreview:
    """The waiting cases of USER's area as the next export would take them: how many, by
    filing reason and by decision reason, and how many need a second look. Three grouped
    queries over the scoped cases, whatever their number."""

    def grouped(column: Any) -> list[tuple[str, int]]:
        stmt = _waiting(select(column, func.count()).select_from(Appeal), user).group_by(column)
        rows = [(str(code or "-"), int(n)) for code, n in db.session.execute(stmt)]
        return sorted(rows, key=lambda row: (-row[1], row[0]))

    flags = _waiting(
        select(
            func.count(),
            func.sum(when((Appeal.filer_verified.is_(False), 1), else_=0)),
            func.sum(when((Appeal.contests_id.is_not(None), 1), else_=0)),
            func.sum(when((Appeal.decided_at > Appeal.due_at, 1), else_=0)),
        ).select_from(Appeal),
        user,
    )
    total, unverified, contests, late = db.session.execute(flags).one()
    return ExportPreview(
        total=int(total or 0),
        by_reason=grouped(Appeal.reason_code),
        by_outcome=grouped(Appeal.decision_reason),
        unverified_filer=int(unverified or 0),
        contests=int(contests or 0),
        decided_late=int(late or 0),
    )


def exports_for(user: StaffUser) -> list[Export]:
    """Past exports USER may see, newest first: pusat all, an admin_dinsos their area."""
    stmt = permissions.scoped(select(Export), user, permissions.EXPORTS).order_by(
        Export.created_at.desc(), Export.id.desc()
    )
    return list(db.session.scalars(stmt))


def jobs_of(exports: list[Export]) -> dict[int, Job]:
    """The background job of each export made by one, by job id (status and progress)."""
    ids = {e.job_id for e in exports if e.job_id is not None}
    if not ids:
        return {}
    return {job.id: job for job in db.session.scalars(select(Job).where(Job.id.in_(ids)))}


def in_window(export: Export, now: datetime | None = None) -> bool:
    """Whether EXPORT is held and its undo window still open (it may be cancelled)."""
    return (
        export.status == ExportStatus.HELD.value
        and export.final_at is not None
        and export.final_at > (now or db.utcnow())
    )


def state(export: Export, jobs: dict[int, Job]) -> str:
    """What the exports page says of EXPORT: held (in its undo window), ready, empty,
    cancelled, queued, running or failed."""
    if export.status == ExportStatus.HELD.value and in_window(export):
        return export.status
    if export.status not in (ExportStatus.PENDING.value, ExportStatus.HELD.value):
        return export.status
    job = jobs.get(export.job_id) if export.job_id is not None else None
    return job.status if job is not None else JobStatus.QUEUED.value


def any_in_progress(exports: list[Export], jobs: dict[int, Job]) -> bool:
    """Whether an export on the page is still queued or being made (the page refreshes)."""
    # not a held one: its window is minutes, and a page that reloads itself that soon is
    # a barrier to some readers (WCAG 2.2.1); the officer reloads, the text says until when
    return any(state(e, jobs) in (JobStatus.QUEUED, JobStatus.RUNNING) for e in exports)


def get_export(user: StaffUser, export_id: int) -> Export | None:
    """The export if USER may see it; None otherwise (the view answers 404 either way)."""
    return db.session.scalar(
        permissions.scoped(select(Export), user, permissions.EXPORTS).where(Export.id == export_id)
    )


def filename(export: Export) -> str:
    return f"dtsen-ekspor-{export.kabupaten_code}-{export.id}.csv"


def chunks(export: Export) -> Iterator[bytes]:
    """The file, a piece (about 1 MB) at a time, each read by its own small query."""
    seq = 0
    while True:
        data = db.session.scalar(
            select(ExportChunk.data).where(
                ExportChunk.export_id == export.id, ExportChunk.seq == seq
            )
        )
        if data is None:
            return
        yield data.encode("utf-8")
        seq += 1


# --- the CSV --------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, datetime):
        text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    else:
        text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _rows_query(export: Export, user: StaffUser) -> Any:
    """Every case of EXPORT with what its row needs, in case order: one query. A
    sanggahan's No. KK comes from the current snapshot, a contest's original ticket from the
    case it contests (both outer joins)."""
    contested = aliased(Appeal)
    current = snapshots.current_snapshot()
    no_kk: Any = null()
    stmt = select(
        Appeal.id,
        Appeal.ticket,
        Appeal.kind,
        Appeal.reason_code,
        Appeal.decision_reason,
        Appeal.decision_note,
        Appeal.decision_conflicts,
        Appeal.decision_override_note,
        Appeal.decided_at,
        Appeal.created_at,
        Appeal.period,
        Appeal.kabupaten_code,
        Appeal.kecamatan_code,
        Appeal.kode_desa,
        Appeal.subject_nik,
        Appeal.subject_is_filer_household,
        Appeal.subject_name,
        Appeal.subject_alamat,
        Appeal.subject_rt,
        Appeal.subject_rw,
        Appeal.details,
        Appeal.filer_verified,
        contested.ticket.label("contested"),
    ).outerjoin(contested, contested.id == Appeal.contests_id)
    if current is not None:
        no_kk = Household.no_kk
        stmt = stmt.outerjoin(
            Household,
            and_(
                Household.snapshot_id == current.id,
                Household.kk_hmac == Appeal.subject_kk_hmac,
            ),
        )
    stmt = stmt.add_columns(no_kk.label("snapshot_no_kk"))
    return permissions.scoped(stmt, user).where(Appeal.export_id == export.id).order_by(Appeal.id)


# The columns that are the case's own, not an answer's (the answers' columns, and how each
# is filled, are defined with their questions: portal/appeals/questions.py).
CASE_COLUMNS = (
    "ticket",
    "kind",
    "status_decision",
    "decision_reason",
    "decision_note",
    "decided_at",
    "filed_at",
    "period",
    "kabupaten_code",
    "kecamatan_code",
    "filer_verified",
    "contested_ticket",
    "export_id",
    "exported_at",
    "override",
    "override_note",
)


def _row(case: Any, export: Export) -> list[str]:
    usulan = case.kind == Kind.USULAN.value
    values = {
        "ticket": tickets.display(case.ticket),
        "kind": case.kind,
        "reason_code": case.reason_code,
        "status_decision": AppealStatus.DISETUJUI.value,
        "decision_reason": case.decision_reason,
        "decision_note": case.decision_note,
        "decided_at": case.decided_at,
        "filed_at": case.created_at,
        "period": case.period,
        "kabupaten_code": case.kabupaten_code,
        "kecamatan_code": case.kecamatan_code,
        "kode_desa": case.kode_desa,
        "subject_nik": case.subject_nik,
        "subject_no_kk": ((case.details or {}).get("household") or {}).get("no_kk")
        if usulan
        else case.snapshot_no_kk,
        "filer_verified": bool(case.filer_verified),
        "contested_ticket": tickets.display(case.contested) if case.contested else None,
        "export_id": export.id,
        "exported_at": export.created_at,
        # decided against the evidence (portal/review/decision_rules.py): the conflicts the
        # officer confirmed, and their note; empty for a decision that agrees with it
        "override": case.decision_conflicts,
        "override_note": case.decision_override_note,
        # subject_name, subject_address, programs_proposed, heir_nik, deceased_nik
        **questions.export_values(case),
    }
    return [_cell(values[column]) for column in COLUMNS]


class _File:
    """The export's CSV, written into export_chunks a piece at a time, hashed as it goes."""

    def __init__(self, export: Export) -> None:
        self.export = export
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        self.sha = hashlib.sha256()
        self.size = 0
        self.seq = 0

    def write(self, row: list[str] | tuple[str, ...]) -> None:
        self.writer.writerow(row)
        if self.buffer.tell() >= CHUNK_CHARS:
            self.flush()

    def flush(self) -> None:
        data = self.buffer.getvalue()
        if not data:
            return
        encoded = data.encode("utf-8")
        self.sha.update(encoded)
        self.size += len(encoded)
        db.session.execute(
            insert(ExportChunk).values(export_id=self.export.id, seq=self.seq, data=data)
        )
        self.seq += 1
        self.buffer.seek(0)
        self.buffer.truncate()


# --- writes ---------------------------------------------------------------------------------


def _log_access(
    export: Export, user: StaffUser, prefix: str | None, purpose: access.Purpose
) -> None:
    """One access-log entry per household (No. KK HMAC) whose data is in EXPORT, with the
    period of its first case in the file: one INSERT ... SELECT."""
    first = (
        permissions.scoped(select(func.min(Appeal.id)), user)
        .where(Appeal.export_id == export.id, Appeal.subject_kk_hmac.is_not(None))
        .group_by(Appeal.subject_kk_hmac)
    )
    households = select(Appeal.subject_kk_hmac, Appeal.period).where(Appeal.id.in_(first))
    reader = access.Reader(user.role, user.office_code or None, prefix)
    access.record(purpose, households, reader=reader)


def _make(
    export: Export,
    user: StaffUser,
    prefix: str | None,
    progress: Any = None,
) -> None:
    """Move the waiting cases of USER's area (or, for a held export, the cases set aside
    for it) into EXPORT and write its file, in the session's transaction (the caller
    commits). Raises NothingToExport if none moved."""
    if export.status == ExportStatus.HELD.value:
        waiting = (
            permissions.scoped(select(Appeal.id), user)
            .where(Appeal.export_id == export.id)
            .whereclause
        )
    elif user.role_enum is not Role.PUSAT:
        waiting = _waiting(select(Appeal.id), user).whereclause
    else:
        waiting = true()
    moved = appeals.transition_all(
        waiting if waiting is not None else true(),
        AppealStatus.DITERUSKAN,
        before=AppealStatus.DISETUJUI,
        actor="staff",
        staff_id=user.id,
        moved=Appeal.export_id == export.id,
        values={"export_id": export.id},
    )
    if not moved:
        raise NothingToExport
    if progress:
        progress(0, moved, force=True)
    _log_access(export, user, prefix, access.Purpose.EXPORT)

    file = _File(export)
    file.write(COLUMNS)
    ids: list[int] = []
    result = db.session.execute(
        _rows_query(export, user), execution_options={"yield_per": FETCH_ROWS}
    )
    for case in result:
        file.write(_row(case, export))
        ids.append(case.id)
        if progress and len(ids) % PROGRESS_ROWS == 0:
            progress(len(ids), moved)
    file.flush()
    export.case_count = len(ids)
    export.sha256 = file.sha.hexdigest()
    export.size_bytes = file.size
    export.status = ExportStatus.READY.value
    if progress:
        progress(len(ids), moved, force=True)
    record(
        "export",
        staff=user,
        target_type="export",
        target_id=export.id,
        after={
            "kabupaten": export.kabupaten_code,
            "case_count": export.case_count,
            "cases": ids,
            "sha256": export.sha256,
        },
    )


def _busy(kabupaten_code: str) -> bool:
    """An export of this area is queued or being made by the job worker."""
    active = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
    stmt = (
        select(Export.id)
        .join(Job, Job.id == Export.job_id)
        .where(
            Export.kabupaten_code == kabupaten_code,
            Export.status == ExportStatus.PENDING.value,
            Job.status.in_(active),
        )
        .limit(1)
    )
    return db.session.scalar(stmt) is not None


def create_export(user: StaffUser, *, remote_addr: str | None = None) -> Export:
    """Export the approved cases of USER's kabupaten/kota: move each to ``diteruskan``,
    link it to the new export, write the CSV, audit it and log the read in each household's
    access log, in one transaction. Up to EXPORT_INLINE_MAX cases it is made now (status
    ready); more are queued for the job worker (status pending, with its job).

    Raises NothingToExport when no case waits (no row made), ExportBusy while an earlier
    export of the area is still queued or being made. Two exports made at the same moment
    never send a case twice: the move is conditional on each case still waiting, so the
    later one takes only what is left (and is not made if nothing is)."""
    if not permissions.can_export(user):
        raise NotAllowed
    if _busy(user.office_code):
        db.session.rollback()
        raise ExportBusy
    waiting = waiting_count(user)
    if not waiting:
        db.session.rollback()
        raise NothingToExport
    export = Export(
        kabupaten_code=user.office_code,
        created_by_id=user.id,
        created_at=db.utcnow(),
        status=ExportStatus.PENDING.value,
        case_count=0,
        sha256="",
        size_bytes=0,
    )
    db.session.add(export)
    db.session.flush()
    prefix = ip_prefix(remote_addr) or None
    window = float(current_app.config["EXPORT_UNDO_MINUTES"])
    if window > 0:
        _hold(export, user, prefix, timedelta(minutes=window))
    elif waiting <= int(current_app.config["EXPORT_INLINE_MAX"]):
        try:
            _make(export, user, prefix)
        except NothingToExport:
            db.session.rollback()
            raise
    else:
        job = jobs.enqueue(
            JOB_KIND,
            {"export_id": export.id, "staff_id": user.id, "ip_prefix": prefix},
            total=waiting,
        )
        export.job_id = job.id
    db.session.commit()
    return export


def _hold(export: Export, user: StaffUser, prefix: str | None, window: timedelta) -> None:
    """Set the waiting cases aside for EXPORT (one conditional UPDATE: a case another
    export took meanwhile is skipped) for its undo window; they are moved and written out
    when it is over (``finalize_due`` or the job queued for that moment)."""
    taken = db.session.execute(
        update(Appeal)
        .where(_waiting(select(Appeal.id), user).whereclause)
        .values(export_id=export.id)
        .execution_options(synchronize_session=False)
    )
    held = db.rowcount(taken)
    if not held:
        db.session.rollback()
        raise NothingToExport
    export.status = ExportStatus.HELD.value
    export.case_count = held
    export.final_at = db.utcnow() + window
    job = jobs.enqueue(
        JOB_KIND, {"export_id": export.id, "staff_id": user.id, "ip_prefix": prefix}, total=held
    )
    job.run_after = export.final_at
    export.job_id = job.id
    record(
        "export_held",
        staff=user,
        target_type="export",
        target_id=export.id,
        after={
            "kabupaten": export.kabupaten_code,
            "case_count": held,
            "final_at": export.final_at.isoformat(),
        },
    )


def cancel_export(user: StaffUser, export_id: int) -> Export:
    """Cancel a held export within its undo window: its cases wait again (they were never
    moved nor sent), audited with each case. Only the admin_dinsos of its area. Raises
    NotAllowed (not theirs: the view answers 404) or TooLate."""
    if not permissions.can_export(user):
        raise NotAllowed
    export = db.session.scalar(
        permissions.scoped(select(Export), user, permissions.EXPORTS)
        .where(Export.id == export_id)
        .with_for_update()
    )
    if export is None:
        db.session.rollback()
        raise NotAllowed
    now = db.utcnow()
    if (
        export.status != ExportStatus.HELD.value
        or export.final_at is None
        or export.final_at <= now
    ):
        db.session.rollback()
        raise TooLate
    ids = list(
        db.session.scalars(
            select(Appeal.id).where(Appeal.export_id == export.id).order_by(Appeal.id)
        )
    )
    db.session.execute(
        update(Appeal)
        .where(Appeal.export_id == export.id, Appeal.status == AppealStatus.DISETUJUI.value)
        .values(export_id=None)
        .execution_options(synchronize_session=False)
    )
    export.status = ExportStatus.CANCELLED.value
    for appeal_id in ids:
        record(
            "export_cancel_case",
            staff=user,
            target_type="appeal",
            target_id=appeal_id,
            after={"export": export.id},
        )
    record(
        "export_cancel",
        staff=user,
        target_type="export",
        target_id=export.id,
        after={"kabupaten": export.kabupaten_code, "case_count": len(ids), "cases": ids},
    )
    db.session.commit()
    return export


def _finalize(export_id: int, progress: Any = None) -> None:
    """Make a held export whose undo window is over (or a queued large one): the export row
    is locked first, so the job and a page asking at once make it only once."""
    export = db.session.scalar(select(Export).where(Export.id == export_id).with_for_update())
    if export is None or export.status not in (
        ExportStatus.PENDING.value,
        ExportStatus.HELD.value,
    ):
        db.session.rollback()
        return
    if export.status == ExportStatus.HELD.value and (
        export.final_at is not None and export.final_at > db.utcnow()
    ):
        db.session.rollback()  # still in its window (a clock apart): finalize_due makes it
        return
    job = db.session.get(Job, export.job_id) if export.job_id is not None else None
    payload = job.payload if job is not None else {}
    user = db.session.get(StaffUser, export.created_by_id)
    if user is None or not permissions.can_export(user):
        raise NotAllowed("the officer who asked for this export may no longer export")
    ident = export.id
    try:
        _make(export, user, payload.get("ip_prefix"), progress=progress)
    except NothingToExport:  # another export took every case meanwhile
        db.session.rollback()
        db.session.execute(
            update(Export)
            .where(
                Export.id == ident,
                Export.status.in_((ExportStatus.PENDING.value, ExportStatus.HELD.value)),
            )
            .values(status=ExportStatus.EMPTY.value)
        )
    db.session.commit()


def finalize_due(user: StaffUser) -> None:
    """Make the held exports USER may see whose undo window is over, up to
    EXPORT_INLINE_MAX cases each (larger ones are the job worker's, queued for the end of
    their window). Called by the exports page and the download, so an export is final as
    soon as anyone looks, worker or not."""
    limit = int(current_app.config["EXPORT_INLINE_MAX"])
    due = list(
        db.session.scalars(
            permissions.scoped(select(Export.id), user, permissions.EXPORTS).where(
                Export.status == ExportStatus.HELD.value,
                Export.final_at <= db.utcnow(),
                Export.case_count <= limit,
            )
        )
    )
    for export_id in due:
        _finalize(export_id)


def run_job(context: jobs.JobContext) -> None:
    """The job worker's side of a queued export (kinds.REGISTRY "export"): a large one, or
    a held one at the end of its undo window. Safe to run again: the export row is locked
    first, so a second run waits for a first one still going, and finds it made (or sees
    it was not, and makes it); a cancelled export is left alone."""
    _finalize(int(context.payload["export_id"]), progress=context.progress)


def record_download(user: StaffUser, export: Export, remote_addr: str | None = None) -> None:
    """Downloading puts the households' data in an officer's hands: audit it, and log it in
    the access log of each household in the export."""
    if get_export(user, export.id) is None or export.status != ExportStatus.READY.value:
        raise NotAllowed
    record("export_download", staff=user, target_type="export", target_id=export.id)
    _log_access(export, user, ip_prefix(remote_addr) or None, access.Purpose.DOWNLOAD)
    db.session.commit()
