"""The desa operator's field checks (verval): the task as the operator needs it in the field,
its server-side draft, sending the result, and the operator's own history.

What the task shows: the household to visit (DTSEN's head, address with RT/RW and members
with relationship and age, when the case names a household in the operator's desa; else the
household as the filer described it), the person concerned when that is not the filer, the
officer's instructions and the reason's checklist (portal/appeals/checklist.py). Never who
filed (``permissions.may_see_filer`` is never true for an operator): no NIK on the page, and
no member is marked as the filer.

A draft ("Simpan draf") keeps what the operator wrote and the photos they uploaded: one
draft per field check, restored when the task is opened again, deleted when the result is
sent. Photos are stored as they arrive (owned by the field check, no case yet), so a photo
survives a refused or interrupted send too; sending attaches them to the case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select, update

from portal import access, db
from portal.appeals import checklist, drafts
from portal.appeals import photos as photolib
from portal.appeals.models import Appeal, AppealPhoto
from portal.appeals.questions import address_line
from portal.audit.service import record
from portal.auth.models import Role, StaffUser
from portal.dataimport import queries as snapshots
from portal.review import permissions
from portal.review.models import FieldCheck, FieldCheckDraft
from portal.review.permissions import FIELD_CHECKS, scoped
from portal.wilayah import queries as wilayah

HISTORY_PAGE = 50  # the operator's sent results shown, newest first


class NotAllowed(Exception):
    """Not this operator's field check, or it was sent meanwhile."""


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRow:
    check: FieldCheck
    appeal: Appeal
    has_draft: bool


def open_checks(user: StaffUser) -> list[TaskRow]:
    """Field checks waiting in the operator's desa, oldest first, and whether each has a
    draft."""
    stmt = (
        scoped(select(FieldCheck, Appeal, FieldCheckDraft.field_check_id), user, FIELD_CHECKS)
        .join(Appeal, Appeal.id == FieldCheck.appeal_id)
        .outerjoin(FieldCheckDraft, FieldCheckDraft.field_check_id == FieldCheck.id)
        .where(FieldCheck.done_at.is_(None))
        .order_by(FieldCheck.requested_at, FieldCheck.id)
    )
    return [TaskRow(c, a, d is not None) for c, a, d in db.session.execute(stmt).all()]


def check_for(user: StaffUser, check_id: int) -> tuple[FieldCheck, Appeal] | None:
    """The field check if it is in USER's desa (None otherwise: the view answers 404)."""
    row = db.session.execute(
        scoped(select(FieldCheck, Appeal), user, FIELD_CHECKS)
        .join(Appeal, Appeal.id == FieldCheck.appeal_id)
        .where(FieldCheck.id == check_id)
    ).first()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class HistoryRow:
    check: FieldCheck
    appeal: Appeal


def history(user: StaffUser, limit: int = HISTORY_PAGE) -> list[HistoryRow]:
    """The results USER sent, newest first (in their desa still: a desa taken away from an
    operator takes its history with it)."""
    stmt = (
        scoped(select(FieldCheck, Appeal), user, FIELD_CHECKS)
        .join(Appeal, Appeal.id == FieldCheck.appeal_id)
        .where(FieldCheck.done_by_id == user.id)
        .order_by(FieldCheck.done_at.desc(), FieldCheck.id.desc())
        .limit(limit)
    )
    return [HistoryRow(c, a) for c, a in db.session.execute(stmt).all()]


@dataclass(frozen=True)
class Member:
    name: str
    hubungan: str
    age: int
    concerned: bool  # the person the case is about (never marked when that is the filer)


@dataclass
class Household:
    """The household to visit."""

    # DTSEN's head of household; with from_dtsen False, the name the filer gave (whoever
    # that is in the family: never to be shown as the head)
    name: str
    address: str  # with RT/RW
    place: str  # desa, kecamatan, kabupaten/kota
    members: list[Member] = field(default_factory=list)
    from_dtsen: bool = True  # else: as the filer described it


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def household_to_visit(user: StaffUser, appeal: Appeal, today: date) -> Household | None:
    """DTSEN's household of the case, when it lives in USER's desa; else the household the
    filer described (another household, reported by name and address); else None."""
    if appeal.subject_kk_hmac:
        snap = snapshots.current_snapshot()
        found = snapshots.household(snap.id, appeal.subject_kk_hmac) if snap else None
        if snap and found and permissions.desa_in_scope(user, found.kode_desa):
            people = snapshots.members(snap.id, appeal.subject_kk_hmac)
            # the person concerned is marked unless it is the filer (reporter protection:
            # marking them would tell the operator who filed)
            concerned = (
                appeal.subject_nik_hmac
                if appeal.subject_nik_hmac and appeal.subject_nik_hmac != appeal.filer_nik_hmac
                else None
            )
            heads = [p for p in people if p.hubungan == "KEPALA KELUARGA"] or people[:1]
            return Household(
                name=heads[0].nama if heads else "",
                address=found.alamat,
                place=wilayah.place(found.kode_desa),
                members=[
                    Member(
                        p.nama,
                        p.hubungan,
                        age_on(p.tanggal_lahir, today),
                        p.nik_hmac == concerned,
                    )
                    for p in people
                ],
            )
    if appeal.subject_name and not appeal.subject_is_filer_household:
        return Household(
            name=appeal.subject_name,
            address=address_line(appeal.subject_alamat, appeal.subject_rt, appeal.subject_rw),
            place=wilayah.place(appeal.subject_kode_desa or appeal.kode_desa or ""),
            from_dtsen=False,
        )
    return None


def view(check: FieldCheck, appeal: Appeal, user: StaffUser, remote_addr: str | None) -> None:
    """The operator's task page shows the household: audit it, and log the data access as
    the field check of the operator's desa (the desa, not the kabupaten, is the office)."""
    record("view_field_check", staff=user, target_type="field_check", target_id=check.id)
    if appeal.subject_kk_hmac:
        reader = access.Reader.staff(user, remote_addr, office=check.kode_desa)
        access.record(
            access.Purpose.FIELD_CHECK, appeal.subject_kk_hmac, reader=reader, period=appeal.period
        )
    db.session.commit()


# --- the draft -----------------------------------------------------------------------------


def draft_of(check: FieldCheck) -> FieldCheckDraft | None:
    return db.session.get(FieldCheckDraft, check.id)


def draft_photos(check: FieldCheck) -> list[AppealPhoto]:
    """Photos uploaded for CHECK and not sent yet."""
    stmt = (
        select(AppealPhoto)
        .where(AppealPhoto.field_check_id == check.id, AppealPhoto.appeal_id.is_(None))
        .order_by(AppealPhoto.id)
    )
    return list(db.session.scalars(stmt))


def photo_room(check: FieldCheck) -> int:
    """How many more photos the result may have."""
    kept = db.session.scalar(
        select(func.count()).select_from(AppealPhoto).where(AppealPhoto.field_check_id == check.id)
    )
    return max(0, drafts.MAX_PHOTOS - int(kept or 0))


def _allowed(check: FieldCheck, user: StaffUser) -> None:
    if user.role_enum is not Role.OPERATOR_DESA or check.kode_desa not in user.desa_codes:
        raise NotAllowed
    if check.done_at is not None:
        raise NotAllowed


def keep_photo(check: FieldCheck, user: StaffUser, photo: photolib.CleanPhoto) -> AppealPhoto:
    """Store a photo for CHECK as it arrives (committed at once), kept with the draft."""
    _allowed(check, user)
    return drafts.save_photo(photo, field_check_id=check.id, uploaded_by="staff")


def draft_answers(reason_code: str, outcome: str, finding: str, raw: dict[str, Any]) -> dict:
    return {
        "outcome": outcome,
        "finding": finding,
        "checklist": checklist.clean(reason_code, raw),
    }


def save_draft(
    check: FieldCheck, appeal: Appeal, user: StaffUser, answers: dict[str, Any]
) -> FieldCheckDraft:
    """Keep ANSWERS (outcome, finding, checklist) as CHECK's draft, replacing the last one."""
    _allowed(check, user)
    draft = draft_of(check)
    if draft is None:
        draft = FieldCheckDraft(field_check_id=check.id, staff_id=user.id)
        db.session.add(draft)
    draft.staff_id = user.id
    draft.answers = answers
    draft.updated_at = db.utcnow()
    record(
        "save_field_check_draft",
        staff=user,
        target_type="field_check",
        target_id=check.id,
        after={"appeal": appeal.id},
    )
    db.session.commit()
    return draft


# --- sending -------------------------------------------------------------------------------


def send(
    check: FieldCheck,
    user: StaffUser,
    outcome: str,
    finding: str,
    answers: dict[str, str],
) -> FieldCheck:
    """Record the operator's result, once per field check: the outcome, the finding and
    the checklist answers; the draft's photos go to the case and the draft is deleted, in
    one transaction. A second send (a double tap, another operator) changes nothing."""
    _allowed(check, user)
    result = db.session.execute(
        update(FieldCheck)
        .where(FieldCheck.id == check.id, FieldCheck.done_at.is_(None))
        .values(
            done_by_id=user.id,
            done_at=db.utcnow(),
            outcome=outcome,
            finding=finding.strip(),
            checklist=answers,
        )
        .execution_options(synchronize_session=False)
    )
    if db.rowcount(result) != 1:
        db.session.rollback()
        raise NotAllowed
    db.session.execute(
        update(AppealPhoto)
        .where(AppealPhoto.field_check_id == check.id, AppealPhoto.appeal_id.is_(None))
        .values(appeal_id=check.appeal_id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(FieldCheckDraft).where(FieldCheckDraft.field_check_id == check.id))
    record(
        "record_field_check",
        staff=user,
        target_type="appeal",
        target_id=check.appeal_id,
        after={"field_check": check.id, "outcome": outcome, "checklist": answers},
        reason=finding.strip(),
    )
    db.session.commit()
    db.session.expire_all()
    db.session.refresh(check)
    return check
