"""Use-cases of the staff queue. Each is one transaction that writes its audit row with the
change; concurrent officers are kept apart by conditional UPDATEs (and SKIP LOCKED when
taking the next case on PostgreSQL), so exactly one wins a claim or a decision."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from portal import access, db
from portal.appeals import service as appeals
from portal.appeals.models import Appeal
from portal.appeals.reasons import DECISION_REASONS
from portal.appeals.states import DECIDED, OPEN, AppealStatus
from portal.audit.service import record
from portal.auth.models import StaffUser
from portal.review import permissions
from portal.review.models import FieldCheck

NOTE_MIN = 10


class ReviewError(Exception):
    pass


class AlreadyClaimed(ReviewError):
    pass


class NotAllowed(ReviewError):
    pass


class SameOfficer(ReviewError):
    """A contested decision must be decided by a different officer."""


class BadDecision(ReviewError):
    pass


class NothingToTake(ReviewError):
    pass


def _snapshot(appeal: Appeal) -> dict[str, Any]:
    return {"status": appeal.status, "assigned_to_id": appeal.assigned_to_id}


def _original_decider(appeal: Appeal) -> int | None:
    if appeal.contests_id is None:
        return None
    return db.session.scalar(select(Appeal.decided_by_id).where(Appeal.id == appeal.contests_id))


def view_case(
    appeal: Appeal, user: StaffUser, remote_addr: str | None, *, filer_shown: bool
) -> None:
    """Reading a case is an action too: audit it (saying whether the page showed who filed,
    see ``permissions.may_see_filer``), and log the household's data access."""
    record(
        "view_case",
        staff=user,
        target_type="appeal",
        target_id=appeal.id,
        after={"filer_shown": filer_shown},
    )
    _household_read(access.Purpose.CASE, appeal, access.Reader.staff(user, remote_addr))
    db.session.commit()


def _household_read(purpose: access.Purpose, appeal: Appeal, reader: access.Reader) -> None:
    """The case's household (when the case names one) reads in its access log that READER
    saw its data for PURPOSE."""
    if appeal.subject_kk_hmac:
        access.record(purpose, appeal.subject_kk_hmac, reader=reader, period=appeal.period)


def record_refusal(user: StaffUser, method: str, path: str, status: int) -> None:
    """A staff request answered 403/404 (out of scope, or not there): audited, so probing
    for other areas' cases leaves a trace. The path holds ids only, never a NIK."""
    record(
        "refused",
        staff=user,
        target_type="request",
        reason=f"{status} {method} {path[:200]}",
    )
    db.session.commit()


def view_photo(appeal: Appeal, photo_id: int, user: StaffUser) -> None:
    record(
        "view_photo",
        staff=user,
        target_type="appeal",
        target_id=appeal.id,
        after={"photo": photo_id},
    )
    db.session.commit()


def claim(appeal: Appeal, user: StaffUser) -> Appeal:
    """Assign the case to USER and start the review. Exactly one of two officers claiming at
    once wins: the UPDATE only matches while nobody holds the case."""
    if appeal.assigned_to_id is not None and appeal.assigned_to_id != user.id:
        raise AlreadyClaimed  # the page was loaded before another officer took it
    if not permissions.can_claim(user, appeal):
        raise NotAllowed
    if _original_decider(appeal) == user.id:
        raise SameOfficer
    before = _snapshot(appeal)
    now = db.utcnow()
    result = db.session.execute(
        update(Appeal)
        .where(
            Appeal.id == appeal.id,
            Appeal.assigned_to_id.is_(None),
            Appeal.status.in_([s.value for s in OPEN]),
        )
        .values(assigned_to_id=user.id, assigned_at=now)
        .execution_options(synchronize_session=False)
    )
    if db.rowcount(result) != 1:
        db.session.rollback()
        raise AlreadyClaimed
    appeal.assigned_to_id, appeal.assigned_at = user.id, now
    if AppealStatus(appeal.status) is AppealStatus.DITERIMA:
        appeals.transition(appeal, AppealStatus.VERIFIKASI, actor="staff", staff_id=user.id)
    record(
        "claim",
        staff=user,
        target_type="appeal",
        target_id=appeal.id,
        before=before,
        after=_snapshot(appeal),
    )
    db.session.commit()
    return appeal


def take_next(user: StaffUser, attempts: int = 10) -> Appeal:
    """Claim the unassigned case in scope that is due first. On PostgreSQL the candidate row
    is locked with SKIP LOCKED, one at a time, so officers pressing the button at once get
    different cases and nobody is told "nothing waiting" while a case is free."""
    if user.role_enum not in permissions.DECIDERS:
        raise NotAllowed
    passed: list[int] = []  # contests of this officer's own decisions: for someone else
    for _attempt in range(attempts):
        stmt = (
            permissions.scoped(select(Appeal), user)
            .where(Appeal.assigned_to_id.is_(None), Appeal.status == AppealStatus.DITERIMA.value)
            .order_by(Appeal.due_at, Appeal.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if passed:
            stmt = stmt.where(Appeal.id.not_in(passed))
        candidate = db.session.scalars(stmt).first()
        if candidate is None:
            break
        if _original_decider(candidate) == user.id:
            passed.append(candidate.id)
            continue
        try:
            return claim(candidate, user)
        except AlreadyClaimed:
            continue
    db.session.rollback()
    raise NothingToTake


def request_field_check(
    appeal: Appeal, user: StaffUser, kode_desa: str, instructions: str
) -> FieldCheck:
    if not permissions.can_work(user, appeal):
        raise NotAllowed
    if not kode_desa.startswith(user.office_code + "."):
        raise NotAllowed
    check = FieldCheck(
        appeal_id=appeal.id,
        kode_desa=kode_desa,
        requested_by_id=user.id,
        instructions=instructions.strip(),
    )
    db.session.add(check)
    db.session.flush()
    record(
        "request_field_check",
        staff=user,
        target_type="appeal",
        target_id=appeal.id,
        after={"field_check": check.id, "desa": kode_desa},
        reason=instructions.strip(),
    )
    db.session.commit()
    return check


def decide(
    appeal: Appeal,
    user: StaffUser,
    status: AppealStatus,
    reason_code: str,
    note: str,
    duplicate_of: Appeal | None = None,
    *,
    conflicts: tuple[str, ...] = (),
    override_note: str = "",
) -> Appeal:
    """Decide with a reason from the list and a note; both are shown to the citizen. A
    decision against the evidence (portal/review/decisions.py weighs it) keeps its
    CONFLICTS and the officer's OVERRIDE_NOTE, in the case and the audit row."""
    if status not in DECIDED or reason_code not in DECISION_REASONS:
        raise BadDecision
    if len(note.strip()) < NOTE_MIN:
        raise BadDecision
    if not permissions.can_work(user, appeal):
        raise NotAllowed
    if _original_decider(appeal) == user.id:
        raise SameOfficer
    if status is AppealStatus.DUPLIKAT and (
        duplicate_of is None
        or duplicate_of.id == appeal.id
        or not permissions.in_scope(user, duplicate_of)
    ):
        raise BadDecision
    before = _snapshot(appeal)
    appeals.transition(
        appeal,
        status,
        actor="staff",
        staff_id=user.id,
        note=note.strip(),
        decision_reason=reason_code,
    )  # conditional on the current state: a second decision at once fails here
    appeal.decided_by_id = user.id
    if duplicate_of is not None:
        appeal.duplicate_of_id = duplicate_of.id
    appeal.decision_conflicts = "+".join(conflicts) or None
    appeal.decision_override_note = (override_note.strip() or None) if conflicts else None
    record(
        "decide",
        staff=user,
        target_type="appeal",
        target_id=appeal.id,
        before=before,
        after={
            "status": status.value,
            "reason": reason_code,
            "duplicate_of": appeal.duplicate_of_id,
            **(
                {"conflicts": list(conflicts), "override_note": appeal.decision_override_note}
                if conflicts
                else {}
            ),
        },
        reason=note.strip(),
    )
    db.session.commit()
    return appeal


def escalate_overdue() -> list[Appeal]:
    """Flag open cases past their due date for the admin_dinsos of their area (once each).
    Nothing is ever decided automatically."""
    now = db.utcnow()
    overdue = list(
        db.session.scalars(
            select(Appeal).where(
                Appeal.status.in_([s.value for s in OPEN]),
                Appeal.due_at < now,
                Appeal.escalated_at.is_(None),
            )
        )
    )
    for appeal in overdue:
        result = db.session.execute(
            update(Appeal)
            .where(Appeal.id == appeal.id, Appeal.escalated_at.is_(None))
            .values(escalated_at=now)
            .execution_options(synchronize_session=False)
        )
        if db.rowcount(result) == 1:
            appeal.escalated_at = now
            record(
                "escalate",
                staff=None,
                target_type="appeal",
                target_id=appeal.id,
                after={"kabupaten": appeal.kabupaten_code},
            )
    db.session.commit()
    return overdue
