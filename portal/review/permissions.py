"""Who may see and do what, enforced in queries. Every staff query over a table with rows
that belong to a place passes through ``scoped()``: the queue, its counts, a case by id or
ticket and the cases an export takes (over the cases, ``CASES``), the export files
(``EXPORTS``), a desa operator's field checks (``FIELD_CHECKS``) and the messages to filers
(``OUTBOX``, by their case's kabupaten/kota); the maintained counts
through ``scoped_counts()``. So the region filter cannot be forgotten; a row outside the scope
is simply not found (404, never 403: existence is not revealed), and so are a case's photos,
read only through a case found that way.
``in_scope()`` and ``desa_in_scope()`` answer the same question in Python, for a case or a
household a service was handed (tests/review/test_scope_agreement.py keeps them equal)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVarTuple

from sqlalchemy import Select, false

from portal.appeals.models import Appeal
from portal.appeals.states import OPEN, AppealStatus
from portal.auth.models import Role, StaffUser
from portal.review.models import Export, FieldCheck

Ts = TypeVarTuple("Ts")  # the columns of the statement, which scoping leaves as they are

DECIDERS = frozenset({Role.VERIFIKATOR, Role.ADMIN_DINSOS})


@dataclass(frozen=True)
class Area:
    """Where the rows of a table belong (its kabupaten/kota and desa columns, either may be
    missing) and which roles see any of them at all."""

    roles: frozenset[Role]
    kabupaten: Any = None  # the column holding the kabupaten/kota code
    desa: Any = None  # the column holding the desa code


ALL_ROLES = frozenset(Role)
# the cases: pusat all, Dinsos staff their kabupaten/kota, a desa operator their desa
CASES = Area(ALL_ROLES, Appeal.kabupaten_code, Appeal.kode_desa)
# the Pusdatin export files: pusat all, an admin_dinsos their kabupaten/kota, nobody else
EXPORTS = Area(frozenset({Role.PUSAT, Role.ADMIN_DINSOS}), Export.kabupaten_code)
# the field checks (verval tasks), read by the desa operator of their desa; Dinsos staff
# read a case's field checks through the case (found by ``scoped()`` over CASES)
FIELD_CHECKS = Area(frozenset({Role.OPERATOR_DESA}), desa=FieldCheck.kode_desa)
# the messages to filers (the notification outbox), by their case's kabupaten/kota: pusat
# all, an admin_dinsos their kabupaten/kota, nobody else. The query joins the message's case.
OUTBOX = Area(frozenset({Role.PUSAT, Role.ADMIN_DINSOS}), Appeal.kabupaten_code)


def scoped(stmt: Select[*Ts], user: StaffUser, area: Area = CASES) -> Select[*Ts]:
    """Restrict a query over AREA's table (the cases unless told) to the rows USER may see."""
    role = user.role_enum
    if role not in area.roles:
        return stmt.where(false())
    if role is Role.PUSAT:
        return stmt
    if role is Role.OPERATOR_DESA:
        if area.desa is None:
            return stmt.where(false())
        # the codes themselves, not a sub-select: the planner then reads the desa's range of
        # the (kode_desa, due_at, id) index instead of the whole table in due order
        return stmt.where(area.desa.in_(user.desa_codes))
    if area.kabupaten is None:
        return stmt.where(false())
    return stmt.where(area.kabupaten == user.office_code)


def counts_kept_for(user: StaffUser) -> bool:
    """Whether USER's scope is a whole kabupaten/kota or the nation, which the maintained
    summaries (review.summary) count by; a desa operator's few desa are counted from the
    cases."""
    return user.role_enum is not Role.OPERATOR_DESA


def scoped_counts(stmt: Select[*Ts], user: StaffUser, kabupaten_column: Any) -> Select[*Ts]:
    """Restrict a query over a maintained summary (its KABUPATEN_COLUMN) like ``scoped``
    restricts one over the cases. Only for scopes that ``counts_kept_for``."""
    role = user.role_enum
    if role is Role.PUSAT:
        return stmt
    if role is Role.OPERATOR_DESA:
        raise ValueError("a desa scope is counted from the cases")
    return stmt.where(kabupaten_column == user.office_code)


def in_scope(user: StaffUser, appeal: Appeal) -> bool:
    """Whether ``scoped()`` would find APPEAL for USER."""
    role = user.role_enum
    if role is Role.PUSAT:
        return True
    if role is Role.OPERATOR_DESA:
        return appeal.kode_desa in user.desa_codes
    return appeal.kabupaten_code == user.office_code


def desa_in_scope(user: StaffUser, kode_desa: str) -> bool:
    """Whether USER may see data of a household living in KODE_DESA (DTSEN's desa of it):
    household data is scoped like cases, whatever case brings it up."""
    role = user.role_enum
    if role is Role.PUSAT:
        return True
    if role is Role.OPERATOR_DESA:
        return kode_desa in user.desa_codes
    return bool(user.office_code) and kode_desa.startswith(user.office_code + ".")


def may_see_filer(user: StaffUser, appeal: Appeal) -> bool:
    """Whether a page may show USER who filed APPEAL: the filer's NIK, whether DTSEN verified
    them, whether the case is about their own household, and their own note (free text that
    may name them). Only the deciders (verifikator, admin_dinsos) of the case's area, who
    weigh the filer's standing in the decision; never a desa operator, who may live next door
    to the filer (whistle-blower protection), nor pusat. The filer's phone and e-mail are
    shown to no staff at all: only the notifications use them. Every page that shows the
    filer audits it (``service.view_case`` records ``filer_shown``). See docs/roles.md."""
    return user.role_enum in DECIDERS and in_scope(user, appeal)


def can_claim(user: StaffUser, appeal: Appeal) -> bool:
    return (
        user.role_enum in DECIDERS
        and in_scope(user, appeal)
        and AppealStatus(appeal.status) in OPEN
        and appeal.assigned_to_id is None
    )


def can_work(user: StaffUser, appeal: Appeal) -> bool:
    """Ask for verval and decide: the officer who holds the case."""
    return (
        user.role_enum in DECIDERS
        and in_scope(user, appeal)
        and appeal.assigned_to_id == user.id
        and AppealStatus(appeal.status) is AppealStatus.VERIFIKASI
    )


def can_export(user: StaffUser) -> bool:
    return user.role_enum is Role.ADMIN_DINSOS


def can_edit_contact(user: StaffUser, kabupaten_code: str) -> bool:
    """The Dinas Sosial contact shown to citizens: the admin_dinsos of that kabupaten only."""
    return (
        user.role_enum is Role.ADMIN_DINSOS
        and bool(user.office_code)
        and user.office_code == kabupaten_code
    )
