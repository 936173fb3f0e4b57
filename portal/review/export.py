"""Exports of approved cases to Pusdatin (DOMAIN.md: accepted cases leave the portal as an
export). An admin_dinsos exports the approved (``disetujui``) cases of their kabupaten/kota
as CSV; each exported case moves to ``diteruskan`` and points at its export, so a case is
never sent twice. The CSV is kept in the Export row and can be downloaded again later.

Columns and format: docs/export.md. Creating and downloading are audited, and every
household whose data leaves in an export gets an entry in its access log (actor "export").
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import false, func, select

from portal import db
from portal.appeals import service as appeals
from portal.appeals import tickets
from portal.appeals.models import Appeal
from portal.appeals.queries import address_line
from portal.appeals.reasons import Kind
from portal.appeals.states import AppealStatus
from portal.audit.service import record
from portal.auth.models import Role, StaffUser
from portal.dataimport import queries as snapshots
from portal.lookup.models import AccessEvent, Actor
from portal.review import permissions
from portal.review.models import Export
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
)

# A spreadsheet reads a cell starting with one of these as a formula (or strips the control
# character and then does). Notes come from citizens and staff, so no cell may start so.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# How often to select again when another export takes a case between our selection and our
# move. Each retry means that other export committed cases, so the list only shrinks.
MAX_ATTEMPTS = 5

__all__ = [
    "COLUMNS",
    "ExportBusy",
    "NotAllowed",
    "NothingToExport",
    "create_export",
    "exports_for",
    "filename",
    "get_export",
    "record_download",
    "waiting_count",
]


class NothingToExport(ReviewError):
    """No approved case is waiting in the officer's area: no export is made."""


class ExportBusy(ReviewError):
    """Other exports kept taking the same cases; nothing was exported, try again."""


# --- reads ----------------------------------------------------------------------------------


def _waiting(stmt: Any, user: StaffUser) -> Any:
    return permissions.scoped(stmt, user).where(
        Appeal.status == AppealStatus.DISETUJUI.value, Appeal.export_id.is_(None)
    )


def waiting_count(user: StaffUser) -> int:
    """How many approved cases in USER's area wait for the next export."""
    return int(db.session.scalar(_waiting(select(func.count()).select_from(Appeal), user)) or 0)


def _waiting_cases(user: StaffUser) -> list[Appeal]:
    # id order: concurrent exports lock rows in the same order, so they never deadlock
    return list(db.session.scalars(_waiting(select(Appeal), user).order_by(Appeal.id)))


def _scoped_exports(stmt: Any, user: StaffUser) -> Any:
    role = user.role_enum
    if role is Role.PUSAT:
        return stmt
    if role is Role.ADMIN_DINSOS:
        return stmt.where(Export.kabupaten_code == user.office_code)
    return stmt.where(false())  # nobody else sees exports


def exports_for(user: StaffUser) -> list[Export]:
    """Past exports USER may see, newest first: pusat all, an admin_dinsos their area."""
    stmt = _scoped_exports(select(Export), user).order_by(
        Export.created_at.desc(), Export.id.desc()
    )
    return list(db.session.scalars(stmt))


def get_export(user: StaffUser, export_id: int) -> Export | None:
    """The export if USER may see it; None otherwise (the view answers 404 either way)."""
    return db.session.scalar(_scoped_exports(select(Export), user).where(Export.id == export_id))


def filename(export: Export) -> str:
    return f"dtsen-ekspor-{export.kabupaten_code}-{export.id}.csv"


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


def _subject_no_kk(appeal: Appeal, current_snapshot_id: int | None) -> str | None:
    if appeal.kind == Kind.USULAN.value:
        return (appeal.details.get("household") or {}).get("no_kk")
    if appeal.subject_kk_hmac and current_snapshot_id is not None:
        found = snapshots.household(current_snapshot_id, appeal.subject_kk_hmac)
        return found.no_kk if found else None
    return None


def _row(
    appeal: Appeal, export: Export, contested: dict[int, str], snapshot_id: int | None
) -> list[str]:
    details = appeal.details or {}
    usulan = appeal.kind == Kind.USULAN.value
    heir = details.get("heir") or {}
    reported = not usulan and not appeal.subject_is_filer_household
    values = {
        "ticket": tickets.display(appeal.ticket),
        "kind": appeal.kind,
        "reason_code": appeal.reason_code,
        "status_decision": AppealStatus.DISETUJUI.value,
        "decision_reason": appeal.decision_reason,
        "decision_note": appeal.decision_note,
        "decided_at": appeal.decided_at,
        "filed_at": appeal.created_at,
        "period": appeal.period,
        "kabupaten_code": appeal.kabupaten_code,
        "kecamatan_code": appeal.kecamatan_code,
        "kode_desa": appeal.kode_desa,
        "subject_nik": appeal.subject_nik,
        "subject_no_kk": _subject_no_kk(appeal, snapshot_id),
        # another household as the filer described it (never anything about the filer)
        "subject_name": appeal.subject_name if reported else None,
        "subject_address": address_line(appeal.subject_alamat, appeal.subject_rt, appeal.subject_rw)
        if reported
        else None,
        "programs_proposed": ";".join(details.get("programs") or []) if usulan else None,
        "heir_nik": heir.get("heir_nik"),
        "deceased_nik": heir.get("deceased_nik"),
        "filer_verified": bool(appeal.filer_verified),
        "contested_ticket": contested.get(appeal.contests_id) if appeal.contests_id else None,
        "export_id": export.id,
        "exported_at": export.created_at,
    }
    return [_cell(values[column]) for column in COLUMNS]


def _build_csv(export: Export, cases: list[Appeal]) -> str:
    contests = {a.contests_id for a in cases if a.contests_id}
    contested = (
        {
            ident: tickets.display(ticket)
            for ident, ticket in db.session.execute(
                select(Appeal.id, Appeal.ticket).where(Appeal.id.in_(contests))
            ).all()
        }
        if contests
        else {}
    )
    current = snapshots.current_snapshot()
    snapshot_id = current.id if current else None
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(COLUMNS)
    for appeal in cases:
        writer.writerow(_row(appeal, export, contested, snapshot_id))
    return buffer.getvalue()


# --- writes ---------------------------------------------------------------------------------


def _log_access(
    households: Iterable[tuple[str | None, str | None]], user: StaffUser, remote_addr: str | None
) -> None:
    """One entry per household (No. KK HMAC, period) whose data leaves in the export."""
    seen: set[str] = set()
    for kk_hmac, period in households:
        if not kk_hmac or kk_hmac in seen:
            continue
        seen.add(kk_hmac)
        db.session.add(
            AccessEvent(
                kk_hmac=kk_hmac,
                channel="export",
                actor=Actor.EXPORT,
                actor_role=user.role,
                actor_office=user.office_code or None,
                period=period,
                ip_prefix=ip_prefix(remote_addr) or None,
            )
        )


def _export_once(user: StaffUser, remote_addr: str | None) -> Export:
    cases = _waiting_cases(user)
    if not cases:
        db.session.rollback()
        raise NothingToExport
    export = Export(
        kabupaten_code=user.office_code,
        created_by_id=user.id,
        created_at=db.utcnow(),
        case_count=0,
        sha256="",
        content="",
    )
    db.session.add(export)
    db.session.flush()
    for appeal in cases:
        # conditional on the case still being approved: if another export took it since we
        # selected, this raises InvalidTransition after rolling the whole session back
        appeals.transition(appeal, AppealStatus.DITERUSKAN, actor="staff", staff_id=user.id)
        appeal.export_id = export.id
    content = _build_csv(export, cases)
    export.content = content
    export.sha256 = hashlib.sha256(content.encode("utf-8")).hexdigest()
    export.case_count = len(cases)
    record(
        "export",
        staff=user,
        target_type="export",
        target_id=export.id,
        after={
            "kabupaten": export.kabupaten_code,
            "case_count": export.case_count,
            "cases": [a.id for a in cases],
            "sha256": export.sha256,
        },
    )
    _log_access(((a.subject_kk_hmac, a.period) for a in cases), user, remote_addr)
    db.session.commit()
    return export


def create_export(user: StaffUser, *, remote_addr: str | None = None) -> Export:
    """Export the approved cases of USER's kabupaten/kota in one transaction: move each to
    ``diteruskan``, link it to the new export, keep the CSV, audit it and log the read in
    each household's access log. Raises NothingToExport when no case waits (no row made).

    A case another export takes meanwhile makes transition() fail and roll the session
    back, which discards this attempt entirely (nothing half-done survives); we then select
    again, without that case. So the export goes on with the rest, and no case is sent twice.
    """
    if not permissions.can_export(user):
        raise NotAllowed
    for _attempt in range(MAX_ATTEMPTS):
        try:
            return _export_once(user, remote_addr)
        except appeals.InvalidTransition:
            continue
    raise ExportBusy


def record_download(user: StaffUser, export: Export, remote_addr: str | None = None) -> None:
    """Downloading puts the households' data in an officer's hands: audit it, and log it in
    the access log of each household in the export."""
    if get_export(user, export.id) is None:
        raise NotAllowed
    record("export_download", staff=user, target_type="export", target_id=export.id)
    households = db.session.execute(
        permissions.scoped(select(Appeal.subject_kk_hmac, Appeal.period), user)
        .where(Appeal.export_id == export.id)
        .order_by(Appeal.id)
    ).all()
    _log_access(((kk, period) for kk, period in households), user, remote_addr)
    db.session.commit()
