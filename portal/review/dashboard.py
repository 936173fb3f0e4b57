"""Statistics for the staff dashboard (admin_dinsos: its kabupaten/kota; pusat: national).

Every query starts from ``permissions.scoped`` (or ``scoped_counts`` over the maintained
summary), so no count ever includes a case outside the user's scope. Counts by status, reason
and area come from the summary tables kept by triggers (``summary.py``), never from reading
the cases; what depends on the clock (overdue) is counted through an index; the median comes
from the maintained histogram of decision times in hours, so it is exact to the hour (the
page shows tenths of a day) and costs the same at a million cases as at ten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select

from portal import db
from portal.appeals.reasons import REASONS
from portal.appeals.states import OPEN, AppealStatus
from portal.audit.service import record
from portal.auth.models import Role, StaffUser
from portal.review import queries
from portal.review.models import AppealCount, DecisionHours
from portal.review.permissions import scoped_counts
from portal.wilayah import queries as wilayah

OPEN_VALUES = sorted(s.value for s in OPEN)


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


def counts_by_status(user: StaffUser) -> dict[AppealStatus, int]:
    stmt = scoped_counts(
        select(AppealCount.status, func.sum(AppealCount.n)), user, AppealCount.kabupaten_code
    ).group_by(AppealCount.status)
    found = {str(status): int(n or 0) for status, n in db.session.execute(stmt).all()}
    return {s: found.get(s.value, 0) for s in AppealStatus}


def counts_by_reason(user: StaffUser) -> dict[str, int]:
    stmt = scoped_counts(
        select(AppealCount.reason_code, func.sum(AppealCount.n)), user, AppealCount.kabupaten_code
    ).group_by(AppealCount.reason_code)
    found = {str(code): int(n or 0) for code, n in db.session.execute(stmt).all() if n}
    counts = {code: found.pop(code, 0) for code in REASONS}
    counts.update(sorted(found.items()))  # a code no longer offered still counts
    return counts


def median_days_to_decision(user: StaffUser) -> float | None:
    """Median days from filing to decision over decided cases (decided_at is kept through
    diteruskan and selesai), to the hour; None when nothing was decided yet."""
    stmt = select(DecisionHours.hours, func.sum(DecisionHours.n))
    if user.role_enum is not Role.PUSAT:
        stmt = stmt.where(DecisionHours.kabupaten_code == user.office_code)
    histogram = [
        (int(h), int(n))
        for h, n in db.session.execute(
            stmt.group_by(DecisionHours.hours).order_by(DecisionHours.hours)
        )
        if n
    ]
    hours = median_of_histogram(histogram)
    return None if hours is None else hours / 24


def median_of_histogram(histogram: list[tuple[int, int]]) -> float | None:
    """The median of values given as (value, how many) pairs in ascending order: the middle
    value, or the mean of the two middle ones. None for no values."""
    total = sum(n for _value, n in histogram)
    if total == 0:
        return None

    def value_at(rank: int) -> int:
        seen = 0
        for value, n in histogram:
            seen += n
            if rank < seen:
                return value
        raise ValueError(rank)  # unreachable: rank < total

    return (value_at((total - 1) // 2) + value_at(total // 2)) / 2


def area_level(user: StaffUser) -> str:
    return "kabupaten" if user.role_enum is Role.PUSAT else "kecamatan"


def by_area(user: StaffUser, now: datetime | None = None) -> list[AreaRow]:
    """Open, decided and overdue cases per kecamatan (admin_dinsos) or per kabupaten/kota
    (pusat); only areas with at least one case, the most open cases first. Open and decided
    from the summaries; overdue also (whole days before today) plus today's from the index."""
    now = now or db.utcnow()
    kabupaten = area_level(user) == "kabupaten"
    area = AppealCount.kabupaten_code if kabupaten else AppealCount.kecamatan_code
    counted = scoped_counts(
        select(
            area,
            func.sum(case((AppealCount.status.in_(OPEN_VALUES), AppealCount.n), else_=0)),
            func.sum(case((AppealCount.decided, AppealCount.n), else_=0)),
            func.sum(AppealCount.n),
        ),
        user,
        AppealCount.kabupaten_code,
    ).group_by(area)
    late = queries.overdue_by_area(user, now, "kabupaten" if kabupaten else "kecamatan")
    rows = [
        (str(code), int(opened or 0), int(decided or 0), int(late.get(code, 0)))
        for code, opened, decided, total in db.session.execute(counted).all()
        if code and total
    ]
    known = wilayah.names({code for code, *_counts in rows})
    areas = [
        AreaRow(code, known.get(code, code), opened, decided, overdue)
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
    areas = by_area(user, now)
    return Dashboard(
        by_status=counts_by_status(user),
        by_reason=counts_by_reason(user),
        overdue=sum(a.overdue for a in areas),  # every overdue case is in one area
        escalated=queries.escalated_count(user),
        median_days=median_days_to_decision(user),
        areas=areas,
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
