"""Statistics for the staff dashboard (admin_dinsos: its kabupaten/kota; pusat: national).

Every query starts from ``permissions.scoped`` (or ``scoped_counts`` over the maintained
summary), so no count ever includes a case outside the user's scope. Counts by status, reason
and area come from the summary tables kept by triggers (``summary.py``), never from reading
the cases; what depends on the clock (overdue) is counted through an index; the median comes
from the maintained histogram of decision times in hours (its two middle rows, found in SQL),
so it is exact to the hour (the page shows tenths of a day) and costs the same at a million
cases as at ten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import g
from sqlalchemy import Integer, String, bindparam, case, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY

from portal import db
from portal.appeals.models import Appeal
from portal.appeals.reasons import REASONS
from portal.appeals.states import OPEN, AppealStatus
from portal.audit.service import record
from portal.auth.models import Role, StaffUser
from portal.review import permissions, queries
from portal.review.models import (
    AppealCount,
    DecidedMonth,
    DecisionHours,
    FiledMonth,
    OpenDesaDue,
    OpenOfficerDue,
)
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
    diteruskan and selesai), to the hour; None when nothing was decided yet.

    From the histogram of whole hours (a row per hour a case took, some 1,400 a kabupaten),
    in SQL: the running count in hour order, and the first two hours at or past the middle
    rank. The value at rank r (from 0) is the first hour whose running count passes r; the
    median is the mean of ranks (total - 1) // 2 and total // 2, so only two rows come back."""
    per_hour = select(DecisionHours.hours, func.sum(DecisionHours.n).label("n"))
    if user.role_enum is not Role.PUSAT:
        per_hour = per_hour.where(DecisionHours.kabupaten_code == user.office_code)
    h = per_hour.group_by(DecisionHours.hours).having(func.sum(DecisionHours.n) > 0).subquery()
    running = select(
        h.c.hours,
        func.sum(h.c.n).over(order_by=h.c.hours).label("upto"),
        func.sum(h.c.n).over().label("total"),
    ).subquery()
    middle = (  # upto > (total - 1) / 2, in integers
        select(running.c.hours, running.c.upto, running.c.total)
        .where(running.c.upto * 2 > running.c.total - 1)
        .order_by(running.c.hours)
        .limit(2)
    )
    rows = [(int(hour), int(upto), int(total)) for hour, upto, total in db.session.execute(middle)]
    if not rows:
        return None
    (low, upto, total), rest = rows[0], rows[1:]
    high = low if upto > total // 2 else rest[0][0]
    return (low + high) / 2 / 24


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
    if kabupaten:
        late = queries.overdue_by_area(user, now, "kabupaten")
    else:  # today's part shared with the officer and desa tables (one index scan)
        late = queries.overdue_by_area(user, now, "kecamatan", today=_due_today(user, now, 0))
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


def summary(user: StaffUser, now: datetime | None = None) -> Dashboard:
    """The dashboard's counts and areas, for USER's scope."""
    now = now or db.utcnow()
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


# --- who is behind, where, since when (admin_dinsos: its kabupaten/kota) ---------------------


@dataclass(frozen=True)
class OfficerLoad:
    """An officer's open cases (held), decided this month, overdue, and the oldest open."""

    id: int | None  # None: the open cases nobody has taken yet
    name: str
    open: int
    decided_month: int
    overdue: int
    oldest: datetime | None  # the filing date of the oldest open case


@dataclass(frozen=True)
class DesaLoad:
    code: str
    name: str
    open: int
    overdue: int
    oldest: datetime | None


@dataclass(frozen=True)
class MonthRow:
    month: str  # YYYY-MM
    filed: int
    decided: int


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _open_scoped(user: StaffUser, *columns: Any) -> Any:
    return permissions.scoped(select(*columns), user).where(Appeal.status.in_(OPEN_VALUES))


def _due_today(user: StaffUser, now: datetime, column: int) -> dict[Any, int]:
    """The open cases of USER's kabupaten/kota due today before NOW (the part of overdue that
    the summaries, kept by due day, cannot tell), per value of COLUMN: 0 the kecamatan, 1 the
    desa ('' for none), 2 the officer (0 for nobody). The by-area, officer and desa tables
    share one index-only scan of the (kabupaten, status, due) index, which INCLUDEs these
    columns on PostgreSQL, kept for the request."""
    memo: dict[tuple[int, datetime], list[Any]] = g.setdefault("dashboard_due_today", {})
    if (user.id, now) not in memo:
        midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        columns = (Appeal.kecamatan_code, func.coalesce(Appeal.kode_desa, ""), ASSIGNEE)
        stmt = _open_scoped(user, *columns, func.count()).where(
            Appeal.due_at >= midnight, Appeal.due_at < now
        )
        memo[(user.id, now)] = list(db.session.execute(stmt.group_by(*columns)))
    out: dict[Any, int] = {}
    for row in memo[(user.id, now)]:
        out[row[column]] = out.get(row[column], 0) + int(row[3])
    return out


def _open_load(
    user: StaffUser, now: datetime, kept_key: Any, kept_due: Any, kept_n: Any, column: int
) -> dict[Any, tuple[int, int]]:
    """(open, overdue) per value of a maintained summary's KEPT_KEY (open cases by due day,
    kept by the triggers): the days before today from it, today's part (due before NOW)
    from the cases due today (``_due_today``'s COLUMN)."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    kept = scoped_counts(
        select(
            kept_key,
            func.sum(kept_n),
            func.sum(case((kept_due < midnight.date(), kept_n), else_=0)),
        ),
        user,
        kept_key.table.c.kabupaten_code,
    ).group_by(kept_key)
    load = {k: (int(n or 0), int(late or 0)) for k, n, late in db.session.execute(kept) if n}
    for key, late in _due_today(user, now, column).items():
        n, before = load.get(key, (0, 0))
        load[key] = (n, before + late)
    return load


# the officer holding a case, 0 for nobody yet, as the index on it writes it (ASSIGNEE_SQL:
# the 0 a literal, not a parameter, so that PostgreSQL matches the expression to the index)
ASSIGNEE = func.coalesce(Appeal.assigned_to_id, literal_column("0"))


def _values_table(values: list[Any], sql_type: Any) -> Any:
    """VALUES as a one-column table ``v.value``, bound as one parameter: PostgreSQL's
    unnest of an array, SQLite's json_each of a JSON list (one statement whatever their
    number, compiled and planned once)."""
    if db.session.get_bind().dialect.name == "postgresql":
        array = bindparam("values", values, type_=ARRAY(sql_type))
        return func.unnest(array).table_valued("value").render_derived(name="v")
    return func.json_each(json.dumps(values)).table_valued("value").alias("v")


def _oldest(
    user: StaffUser, column: Any, values: list[Any], sql_type: Any
) -> dict[Any, datetime | None]:
    """The filing date of the oldest open case for each of VALUES of COLUMN, in one
    statement: a probe of an index ending in created_at per value and open status
    (ix_appeals_kode_desa_status_created_at, ix_appeals_kabupaten_code_status_assignee_...)."""
    if not values:
        return {}
    v = _values_table(values, sql_type)
    firsts = [
        permissions.scoped(select(func.min(Appeal.created_at)), user)
        .where(Appeal.status == status, column == v.c.value)
        .scalar_subquery()
        for status in OPEN_VALUES
    ]
    out: dict[Any, datetime | None] = {}
    for value, *found in db.session.execute(select(v.c.value, *firsts).select_from(v)):
        times = [t for t in found if t is not None]
        out[value] = min(times) if times else None
    return out


def by_officer(user: StaffUser, now: datetime | None = None) -> list[OfficerLoad]:
    """Per officer of USER's kabupaten/kota: open and overdue cases held, and this month's
    decisions, from the maintained counts; the oldest open case of each, one index probe."""
    now = now or db.utcnow()
    load = _open_load(
        user,
        now,
        OpenOfficerDue.assigned_to,
        OpenOfficerDue.due_on,
        OpenOfficerDue.n,
        2,
    )
    held = {(int(k) or None): counts for k, counts in load.items()}
    month = scoped_counts(
        select(DecidedMonth.decided_by, func.sum(DecidedMonth.n)),
        user,
        DecidedMonth.kabupaten_code,
    ).where(
        DecidedMonth.month == now.astimezone(UTC).strftime("%Y-%m"), DecidedMonth.decided_by != 0
    )
    decided = {
        int(sid): int(n)
        for sid, n in db.session.execute(month.group_by(DecidedMonth.decided_by))
        if n
    }
    oldest = _oldest(user, ASSIGNEE, [sid or 0 for sid in held], Integer)
    oldest[None] = oldest.pop(0, None)
    ids: set[int] = {int(i) for i in held if i is not None} | set(decided)
    names = queries.staff_names(ids)
    rows = [
        OfficerLoad(
            sid,
            names.get(sid, "#" + str(sid)),
            held.get(sid, (0, 0))[0],
            decided.get(sid, 0),
            held.get(sid, (0, 0))[1],
            oldest.get(sid),
        )
        for sid in ids
    ]
    rows.sort(key=lambda r: (-r.overdue, -r.open, r.name))
    if None in held:
        n, late = held[None]
        rows.append(OfficerLoad(None, "", n, 0, late, oldest.get(None)))
    return rows


def by_desa(user: StaffUser, now: datetime | None = None, limit: int = 50) -> list[DesaLoad]:
    """The LIMIT desa with the most overdue, then open, cases in USER's scope: from the
    maintained counts, with the oldest open case of each (one index probe)."""
    now = now or db.utcnow()
    load = _open_load(
        user,
        now,
        OpenDesaDue.kode_desa,
        OpenDesaDue.due_on,
        OpenDesaDue.n,
        1,
    )
    ranked = sorted(
        ((str(c), n, late) for c, (n, late) in load.items() if c),
        key=lambda r: (-r[2], -r[1], r[0]),
    )[:limit]
    oldest = _oldest(user, Appeal.kode_desa, [c for c, *_rest in ranked], String)
    known = dict(wilayah.describe([c for c, *_rest in ranked]))
    return [DesaLoad(c, known.get(c, c), n, late, oldest.get(c)) for c, n, late in ranked]


def months_back(now: datetime, count: int) -> list[str]:
    """The last COUNT months up to NOW's, oldest first, as YYYY-MM."""
    year, month = now.year, now.month
    out = []
    for _i in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def by_month(user: StaffUser, now: datetime | None = None, count: int = 12) -> list[MonthRow]:
    """Cases filed and decided per month over the last COUNT months, in USER's scope (a
    kabupaten/kota or national: the dashboard's), zeros included, from the maintained
    monthly counts: a few rows a kabupaten/kota and month, whatever the number of cases."""
    months = months_back(now or db.utcnow(), count)

    def kept(model: type[FiledMonth] | type[DecidedMonth]) -> dict[str, int]:
        stmt = scoped_counts(
            select(model.month, func.sum(model.n)), user, model.kabupaten_code
        ).where(model.month >= months[0])
        return {str(m): int(n or 0) for m, n in db.session.execute(stmt.group_by(model.month))}

    filed, decided = kept(FiledMonth), kept(DecidedMonth)
    return [MonthRow(m, filed.get(m, 0), decided.get(m, 0)) for m in months]


@dataclass
class MonthSummary:
    """The printable monthly summary for the Kepala Dinas."""

    month: str  # YYYY-MM
    scope_name: str | None
    filed: int
    decided: int
    approved: int
    rejected: int
    open_now: int
    overdue_now: int
    by_reason: list[tuple[str, int]]  # filed this month per reason code


def month_summary(user: StaffUser, month: str, now: datetime | None = None) -> MonthSummary:
    """Figures of MONTH (YYYY-MM) in USER's scope: filed, decided (approved, rejected) in
    it, and the open and overdue cases now. Grouped queries over that month's cases."""
    now = now or db.utcnow()
    start = datetime.fromisoformat(month + "-01").replace(tzinfo=now.tzinfo)
    end = (start + timedelta(days=32)).replace(day=1)
    filed_rows = db.session.execute(
        permissions.scoped(select(Appeal.reason_code, func.count()), user)
        .where(Appeal.created_at >= start, Appeal.created_at < end)
        .group_by(Appeal.reason_code)
    ).all()
    approved_values = (
        AppealStatus.DISETUJUI.value,
        AppealStatus.DITERUSKAN.value,
        AppealStatus.SELESAI.value,
    )
    decided, approved, rejected = db.session.execute(
        permissions.scoped(
            select(
                func.count(),
                func.sum(case((Appeal.status.in_(approved_values), 1), else_=0)),
                func.sum(case((Appeal.status == AppealStatus.DITOLAK.value, 1), else_=0)),
            ),
            user,
        ).where(Appeal.decided_at >= start, Appeal.decided_at < end)
    ).one()
    open_now, overdue_now = db.session.execute(
        _open_scoped(user, func.count(), func.sum(case((Appeal.due_at < now, 1), else_=0)))
    ).one()
    return MonthSummary(
        month=month,
        scope_name=scope_name(user),
        filed=sum(int(n) for _code, n in filed_rows),
        decided=int(decided or 0),
        approved=int(approved or 0),
        rejected=int(rejected or 0),
        open_now=int(open_now or 0),
        overdue_now=int(overdue_now or 0),
        by_reason=sorted(((str(c), int(n)) for c, n in filed_rows), key=lambda r: (-r[1], r[0])),
    )


def record_print(user: StaffUser, month: str) -> None:
    record(
        "view_month_summary",
        staff=user,
        after={"scope": user.office_code or "national", "month": month},
    )
    db.session.commit()
