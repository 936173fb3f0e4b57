"""Statistics for the staff dashboard (admin_dinsos: its kabupaten/kota; pusat: national).

Every query starts from ``permissions.scoped``, so no count ever includes a case outside the
user's scope. A handful of GROUP BY queries per page, never one query per case. The median
is computed in Python from (created_at, decided_at) pairs, so it is the same on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select

from portal import db
from portal.appeals.models import Appeal
from portal.appeals.reasons import REASONS
from portal.appeals.states import OPEN, AppealStatus
from portal.audit.service import record
from portal.auth.models import Role, StaffUser
from portal.review.permissions import scoped
from portal.wilayah import queries as wilayah

OPEN_VALUES = sorted(s.value for s in OPEN)
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class AreaRow:
    """One kecamatan (admin_dinsos) or kabupaten/kota (pusat)."""

    code: str
    name: str
    open: int
    decided: int
    overdue: int


@dataclass
class Dashboard:
    by_status: dict[AppealStatus, int]  # every status, zeros included, in workflow order
    by_reason: dict[str, int]  # every reason code, zeros included, in REASONS order
    overdue: int
    escalated: int
    median_days: float | None  # created -> decided, over decided cases; None without any
    areas: list[AreaRow] = field(default_factory=list)
    area_level: str = "kecamatan"  # or "kabupaten" for pusat
    scope_name: str | None = None  # the kabupaten/kota of an admin_dinsos; None: national

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def open(self) -> int:
        return sum(self.by_status[s] for s in OPEN)


def _is_open() -> ColumnElement[bool]:
    return Appeal.status.in_(OPEN_VALUES)


def _overdue(now: datetime) -> ColumnElement[bool]:
    return (Appeal.due_at < now) & _is_open()


def _escalated() -> ColumnElement[bool]:
    return Appeal.escalated_at.is_not(None) & _is_open()


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    """COUNT(*) FILTER (WHERE condition), written portably."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def counts_by_status(user: StaffUser) -> dict[AppealStatus, int]:
    stmt = scoped(select(Appeal.status, func.count()).select_from(Appeal), user).group_by(
        Appeal.status
    )
    found = {str(status): int(n) for status, n in db.session.execute(stmt).all()}
    return {s: found.get(s.value, 0) for s in AppealStatus}


def counts_by_reason(user: StaffUser) -> dict[str, int]:
    stmt = scoped(select(Appeal.reason_code, func.count()).select_from(Appeal), user).group_by(
        Appeal.reason_code
    )
    found = {str(code): int(n) for code, n in db.session.execute(stmt).all()}
    counts = {code: found.pop(code, 0) for code in REASONS}
    counts.update(sorted(found.items()))  # a code no longer offered still counts
    return counts


def overdue_and_escalated(user: StaffUser, now: datetime | None = None) -> tuple[int, int]:
    """Open cases past their due date, and open cases escalated to the admin_dinsos."""
    now = now or db.utcnow()
    stmt = scoped(
        select(
            _count_if(_overdue(now)),
            _count_if(_escalated()),
        ).select_from(Appeal),
        user,
    )
    overdue, escalated = db.session.execute(stmt).one()
    return int(overdue or 0), int(escalated or 0)


def overdue_count(user: StaffUser, now: datetime | None = None) -> int:
    return overdue_and_escalated(user, now)[0]


def escalated_count(user: StaffUser) -> int:
    return overdue_and_escalated(user)[1]


def median_days_to_decision(user: StaffUser) -> float | None:
    """Median days from filing to decision over decided cases (decided_at is kept through
    diteruskan and selesai); None when nothing was decided yet."""
    stmt = scoped(
        select(Appeal.created_at, Appeal.decided_at).where(Appeal.decided_at.is_not(None)), user
    )
    days = [
        (decided - created).total_seconds() / SECONDS_PER_DAY
        for created, decided in db.session.execute(stmt).all()
        if created is not None and decided is not None
    ]
    return statistics.median(days) if days else None


def area_level(user: StaffUser) -> str:
    return "kabupaten" if user.role_enum is Role.PUSAT else "kecamatan"


def by_area(user: StaffUser, now: datetime | None = None) -> list[AreaRow]:
    """Open, decided and overdue cases per kecamatan (admin_dinsos) or per kabupaten/kota
    (pusat); only areas with at least one case, the most open cases first."""
    now = now or db.utcnow()
    column = Appeal.kabupaten_code if area_level(user) == "kabupaten" else Appeal.kecamatan_code
    stmt = scoped(
        select(
            column,
            _count_if(_is_open()),
            _count_if(Appeal.decided_at.is_not(None)),
            _count_if(_overdue(now)),
        ).select_from(Appeal),
        user,
    ).group_by(column)
    rows = db.session.execute(stmt).all()
    known = wilayah.names({str(code) for code, *_counts in rows if code})
    areas = [
        AreaRow(str(code), known.get(str(code), str(code)), int(opened), int(decided), int(overdue))
        for code, opened, decided, overdue in rows
    ]
    return sorted(areas, key=lambda a: (-a.open, -a.overdue, a.name, a.code))


def scope_name(user: StaffUser) -> str | None:
    if user.role_enum is Role.PUSAT or not user.office_code:
        return None
    return wilayah.names({user.office_code}).get(user.office_code, user.office_code)


def summary(user: StaffUser) -> Dashboard:
    """Everything the dashboard page shows, for USER's scope."""
    now = db.utcnow()
    overdue, escalated = overdue_and_escalated(user, now)
    return Dashboard(
        by_status=counts_by_status(user),
        by_reason=counts_by_reason(user),
        overdue=overdue,
        escalated=escalated,
        median_days=median_days_to_decision(user),
        areas=by_area(user, now),
        area_level=area_level(user),
        scope_name=scope_name(user),
    )


def record_view(user: StaffUser) -> None:
    """Looking at the statistics is an action too: audit it."""
    record(
        "view_dashboard",
        staff=user,
        after={"scope": user.office_code or "national"},
    )
    db.session.commit()
