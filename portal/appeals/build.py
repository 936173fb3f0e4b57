"""The one way to build a case row: filing (service.submit), contesting (service.contest) and
the tests all go through ``new_appeal``, so the ~30 columns of a case are set in one place
and a column added to ``Appeal`` is given its value here, not in six copies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from portal import db
from portal.appeals.models import Appeal
from portal.appeals.reasons import REASONS
from portal.appeals.states import AppealStatus
from portal.core.nik import kecamatan_of


@dataclass(frozen=True)
class Region:
    """Where a case belongs: the Dinsos (kabupaten/kota) and, when known, the desa."""

    kabupaten: str
    kecamatan: str
    desa: str | None


def region_of_desa(code: str) -> Region:
    parts = code.split(".")
    return Region(".".join(parts[:2]), ".".join(parts[:3]), code)


def region_of_nik(nik: str) -> Region:
    kec = kecamatan_of(nik)
    return Region(kec.rsplit(".", 1)[0], kec, None)


def new_appeal(
    *,
    ticket: str,
    reason_code: str,
    region: Region | str,
    filer_nik: str,
    filer_nik_hmac: str,
    filer_kk_hmac: str,
    filer_verified: bool,
    subject_is_filer_household: bool,
    subject_found: bool,
    draft_token: str,
    status: AppealStatus = AppealStatus.DITERIMA,
    locale: str = "id",
    now: datetime | None = None,
    due_at: datetime | None = None,
    **columns: Any,
) -> Appeal:
    """A new (unsaved) case. The kind follows from the reason code; REGION is a Region or a
    desa code; a case is always declared true by its filer (the check page's box); it is due
    APPEAL_SLA_DAYS after NOW (default: the current time) unless DUE_AT is given. COLUMNS
    are the other ``Appeal`` columns (subject, note, evidence, details, contact, period,
    links to other cases, staff work); an unknown name is a TypeError."""
    where = region_of_desa(region) if isinstance(region, str) else region
    now = now or db.utcnow()
    if due_at is None:
        due_at = now + timedelta(days=int(current_app.config["APPEAL_SLA_DAYS"]))
    columns.setdefault("note", "")
    columns.setdefault("evidence", [])
    columns.setdefault("details", {})
    columns.setdefault("created_at", now)
    columns.setdefault("updated_at", now)
    return Appeal(
        ticket=ticket,
        kind=REASONS[reason_code].kind.value,
        reason_code=reason_code,
        status=status.value,
        filer_nik_hmac=filer_nik_hmac,
        filer_nik=filer_nik,
        filer_kk_hmac=filer_kk_hmac,
        filer_verified=filer_verified,
        filer_locale=locale,
        subject_is_filer_household=subject_is_filer_household,
        subject_found=subject_found,
        kabupaten_code=where.kabupaten,
        kecamatan_code=where.kecamatan,
        kode_desa=where.desa,
        declared=True,
        due_at=due_at,
        draft_token=draft_token,
        **columns,
    )
