"""Office work on many cases at once: field checks (verval) for several cases of one desa,
and moving an officer's cases to another verifikator (an officer on leave).

Each use-case is one transaction with one audit row per case; a request naming a case the
officer may not act on (another desa, out of scope, already taken) is refused as a whole,
so nothing half-done is left behind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select, update

from portal import db
from portal.appeals import service as appeals
from portal.appeals.models import Appeal
from portal.appeals.states import OPEN, AppealStatus
from portal.audit.service import record
from portal.auth.models import Role, StaffUser
from portal.review import permissions
from portal.review.models import FieldCheck
from portal.review.service import NotAllowed, ReviewError
from portal.wilayah import queries as wilayah

BULK_MAX = 200  # cases in one bulk request: a desa's open cases, never a whole kabupaten
OPEN_VALUES = sorted(s.value for s in OPEN)

__all__ = [
    "BULK_MAX",
    "NotAllowed",
    "NotEligible",
    "OfficerRow",
    "bulk_candidates",
    "bulk_field_checks",
    "officers",
    "open_cases_of",
    "reassign",
    "targets",
]


class NotEligible(ReviewError):
    """A chosen case is not among those offered (another desa, out of scope, taken,
    already in a field check or no longer open): the whole request is refused."""


# --- bulk field checks ----------------------------------------------------------------------


def _may_bulk(user: StaffUser, kode_desa: str) -> bool:
    return (
        user.role_enum in permissions.DECIDERS
        and bool(user.office_code)
        and kode_desa in wilayah.desa_in_kabupaten(user.office_code)
    )


def _open_check() -> Any:
    return exists().where(FieldCheck.appeal_id == Appeal.id, FieldCheck.done_at.is_(None))


def _original_decider_is(user: StaffUser) -> Any:
    """The case contests a decision USER made (it must go to someone else)."""
    original = Appeal.__table__.alias("original")
    return exists().where(original.c.id == Appeal.contests_id, original.c.decided_by_id == user.id)


def _bulk_stmt(user: StaffUser, kode_desa: str) -> Any:
    return (
        permissions.scoped(select(Appeal), user)
        .where(
            Appeal.kode_desa == kode_desa,
            Appeal.status.in_(OPEN_VALUES),
            (Appeal.assigned_to_id == user.id) | Appeal.assigned_to_id.is_(None),
            ~_open_check(),
            ~_original_decider_is(user),
        )
        .order_by(Appeal.due_at, Appeal.id)
    )


def bulk_candidates(user: StaffUser, kode_desa: str) -> list[Appeal]:
    """The open cases of KODE_DESA that USER may send for verval together: those they hold
    and those nobody holds yet (claimed with the request), without an open field check.
    Empty when the desa is not in USER's kabupaten/kota or USER does not decide cases."""
    if not _may_bulk(user, kode_desa):
        return []
    return list(db.session.scalars(_bulk_stmt(user, kode_desa).limit(BULK_MAX)))


def bulk_field_checks(
    user: StaffUser, kode_desa: str, case_ids: Sequence[int], instructions: str
) -> list[FieldCheck]:
    """One field check per chosen case, all in KODE_DESA, with the same instructions; a case
    nobody held is claimed by USER first (as ``service.claim``). Audited per case. Raises
    NotAllowed (wrong role, desa outside the scope) or NotEligible (a chosen case is not
    offered: another desa, out of scope, taken meanwhile)."""
    if not _may_bulk(user, kode_desa):
        raise NotAllowed
    wanted = sorted(set(case_ids))
    if not wanted or len(wanted) > BULK_MAX:
        raise NotEligible
    found = list(
        db.session.scalars(
            _bulk_stmt(user, kode_desa).where(Appeal.id.in_(wanted)).with_for_update()
        )
    )
    if sorted(a.id for a in found) != wanted:
        db.session.rollback()
        raise NotEligible
    note = instructions.strip()
    now = db.utcnow()
    checks = []
    for appeal in found:
        if appeal.assigned_to_id is None:
            claimed = db.session.execute(
                update(Appeal)
                .where(Appeal.id == appeal.id, Appeal.assigned_to_id.is_(None))
                .values(assigned_to_id=user.id, assigned_at=now)
                .execution_options(synchronize_session=False)
            )
            if db.rowcount(claimed) != 1:
                db.session.rollback()
                raise NotEligible
            appeal.assigned_to_id, appeal.assigned_at = user.id, now
            record("claim", staff=user, target_type="appeal", target_id=appeal.id)
        if AppealStatus(appeal.status) is AppealStatus.DITERIMA:
            appeals.transition(appeal, AppealStatus.VERIFIKASI, actor="staff", staff_id=user.id)
        check = FieldCheck(
            appeal_id=appeal.id, kode_desa=kode_desa, requested_by_id=user.id, instructions=note
        )
        db.session.add(check)
        db.session.flush()
        record(
            "request_field_check",
            staff=user,
            target_type="appeal",
            target_id=appeal.id,
            after={"field_check": check.id, "desa": kode_desa, "bulk": len(found)},
            reason=note,
        )
        checks.append(check)
    db.session.commit()
    return checks


# --- reassignment ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficerRow:
    id: int
    name: str
    role: str
    active: bool
    open: int
    oldest: datetime | None  # the earliest claim among their open cases


def _may_reassign(user: StaffUser) -> bool:
    return user.role_enum is Role.ADMIN_DINSOS and bool(user.office_code)


def _colleague(user: StaffUser, staff_id: int) -> StaffUser | None:
    """A decider of USER's kabupaten/kota (active or not: a case may sit with a former
    officer), or None."""
    other = db.session.get(StaffUser, staff_id)
    if (
        other is None
        or other.office_code != user.office_code
        or other.role_enum not in permissions.DECIDERS
    ):
        return None
    return other


def officers(user: StaffUser) -> list[OfficerRow]:
    """The deciders of USER's kabupaten/kota with how many open cases each holds (one
    grouped query over the scoped cases), those holding the most first."""
    if not _may_reassign(user):
        return []
    held = {
        sid: (int(n), oldest)
        for sid, n, oldest in db.session.execute(
            permissions.scoped(
                select(Appeal.assigned_to_id, func.count(), func.min(Appeal.assigned_at)), user
            )
            .where(Appeal.status.in_(OPEN_VALUES), Appeal.assigned_to_id.is_not(None))
            .group_by(Appeal.assigned_to_id)
        )
    }
    staff = db.session.scalars(
        select(StaffUser).where(
            StaffUser.office_code == user.office_code,
            StaffUser.role.in_([r.value for r in permissions.DECIDERS]),
        )
    )
    rows = [OfficerRow(s.id, s.name, s.role, s.active, *held.get(s.id, (0, None))) for s in staff]
    return sorted(rows, key=lambda r: (-r.open, r.name, r.id))


def targets(user: StaffUser, exclude: int) -> list[StaffUser]:
    """The active verifikators of USER's kabupaten/kota who may receive cases."""
    if not _may_reassign(user):
        return []
    return list(
        db.session.scalars(
            select(StaffUser)
            .where(
                StaffUser.office_code == user.office_code,
                StaffUser.role == Role.VERIFIKATOR.value,
                StaffUser.active.is_(True),
                StaffUser.id != exclude,
            )
            .order_by(StaffUser.name, StaffUser.id)
        )
    )


def open_cases_of(user: StaffUser, officer_id: int, limit: int = 500) -> list[Appeal] | None:
    """The open cases OFFICER_ID holds, in USER's scope, due first; None when USER may not
    reassign or the officer is not of USER's office (the view answers 404)."""
    if not _may_reassign(user) or _colleague(user, officer_id) is None:
        return None
    stmt = (
        permissions.scoped(select(Appeal), user)
        .where(Appeal.assigned_to_id == officer_id, Appeal.status.in_(OPEN_VALUES))
        .order_by(Appeal.due_at, Appeal.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def reassign(
    user: StaffUser, from_id: int, to_id: int, case_ids: Sequence[int] | None
) -> list[int]:
    """Move the open cases FROM_ID holds (all, or CASE_IDS among them) to the verifikator
    TO_ID of the same kabupaten/kota; audited per case. Only an admin_dinsos. A contest of
    a decision TO_ID made cannot go to them. Returns the ids moved. Raises NotAllowed
    (role, officers not of this office, target not an active verifikator) or NotEligible
    (a chosen case is not theirs, not open, or a contest of the target's own decision)."""
    if not _may_reassign(user):
        raise NotAllowed
    source = _colleague(user, from_id)
    target = _colleague(user, to_id)
    if (
        source is None
        or target is None
        or target.id == source.id
        or target.role_enum is not Role.VERIFIKATOR
        or not target.active
    ):
        raise NotAllowed
    stmt = permissions.scoped(select(Appeal), user).where(
        Appeal.assigned_to_id == source.id, Appeal.status.in_(OPEN_VALUES)
    )
    if case_ids is not None:
        wanted = sorted(set(case_ids))
        if not wanted:
            raise NotEligible
        stmt = stmt.where(Appeal.id.in_(wanted))
    found = list(db.session.scalars(stmt.order_by(Appeal.id).with_for_update()))
    if not found or (case_ids is not None and [a.id for a in found] != wanted):
        db.session.rollback()
        raise NotEligible
    contested = [a.contests_id for a in found if a.contests_id is not None]
    if contested and db.session.scalar(
        select(Appeal.id)
        .where(Appeal.id.in_(contested), Appeal.decided_by_id == target.id)
        .limit(1)
    ):
        db.session.rollback()
        raise NotEligible
    now = db.utcnow()
    ids = [a.id for a in found]
    db.session.execute(
        update(Appeal)
        .where(Appeal.id.in_(ids), Appeal.assigned_to_id == source.id)
        .values(assigned_to_id=target.id, assigned_at=now)
        .execution_options(synchronize_session=False)
    )
    for appeal_id in ids:
        record(
            "reassign",
            staff=user,
            target_type="appeal",
            target_id=appeal_id,
            before={"assigned_to_id": source.id},
            after={"assigned_to_id": target.id},
        )
    db.session.commit()
    return ids
