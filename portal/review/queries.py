"""Reads for the staff pages. Every query over cases or field checks passes through
permissions.scoped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    false,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
)

from portal import db
from portal.appeals.models import Appeal, AppealPhoto
from portal.appeals.reasons import REASONS
from portal.appeals.states import OPEN
from portal.auth.models import Role, StaffUser
from portal.core.names import mask_name
from portal.dataimport import queries as snapshots
from portal.dataimport.models import Household, Person
from portal.review import permissions
from portal.review.models import AppealCount, AppealOpenDue, AppealVervalCount, FieldCheck
from portal.review.permissions import Ts, scoped, scoped_counts
from portal.wilayah import queries as wilayah

PAGE_SIZE = 25
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database

# Where a case's field verification (verval) stands: no field check asked, one asked and
# not answered yet, or every one asked answered by the desa operator.
VERVAL_NONE = "none"
VERVAL_REQUESTED = "requested"
VERVAL_RECEIVED = "received"
VERVAL_STATES = (VERVAL_NONE, VERVAL_REQUESTED, VERVAL_RECEIVED)


def verval_condition(state: str) -> Any:
    """The cases whose verval is in STATE (one of VERVAL_STATES): ``appeals.verval``, kept
    from the field checks by triggers (migration 0025). A case with a field check also says
    so in the words of the partial index that lists those cases in due order, literally:
    neither engine infers it from the equality, and SQLite never from a bound parameter."""
    if state == VERVAL_NONE:
        return Appeal.verval == VERVAL_NONE
    return and_(Appeal.verval != literal_column(f"'{VERVAL_NONE}'"), Appeal.verval == state)


@dataclass
class QueueFilter:
    status: str | None = None
    reason: str | None = None
    kecamatan: str | None = None
    desa: str | None = None
    overdue: bool = False
    mine: bool = False
    escalated: bool = False
    verval: str | None = None  # one of VERVAL_STATES
    nothing: bool = False  # a filter value was refused: match no case

    def apply(self, stmt: Select[*Ts], user: StaffUser, now: datetime) -> Select[*Ts]:
        if self.nothing:
            return stmt.where(false())
        if self.status:
            stmt = stmt.where(Appeal.status == self.status)
        if self.reason:
            stmt = stmt.where(Appeal.reason_code == self.reason)
        if self.kecamatan:
            stmt = stmt.where(Appeal.kecamatan_code == self.kecamatan)
        if self.desa:
            stmt = stmt.where(Appeal.kode_desa == self.desa)
        if self.overdue:
            stmt = stmt.where(Appeal.due_at < now, Appeal.status.in_([s.value for s in OPEN]))
        if self.escalated:
            stmt = stmt.where(
                Appeal.escalated_at.is_not(None), Appeal.status.in_([s.value for s in OPEN])
            )
        if self.mine:
            stmt = stmt.where(Appeal.assigned_to_id == user.id)
        if self.verval in VERVAL_STATES:
            stmt = stmt.where(verval_condition(self.verval))
        return stmt


def encode_cursor(appeal: Appeal) -> str:
    return f"{appeal.due_at.isoformat()}|{appeal.id}"


def decode_cursor(raw: str | None) -> tuple[datetime, int] | None:
    if not raw or "|" not in raw:
        return None
    due, _sep, ident = raw.rpartition("|")
    try:
        when, number = datetime.fromisoformat(due), int(ident)
    except ValueError:
        return None
    if when.tzinfo is None or not 0 < number <= MAX_ID:
        return None  # not a cursor this page made: start from the first page
    return when, number


@dataclass
class QueuePage:
    cases: list[Appeal]
    next_cursor: str | None
    counts: dict[str, int] = field(default_factory=dict)
    overdue: int = 0


def queue(user: StaffUser, filters: QueueFilter, cursor: str | None) -> QueuePage:
    """Cases in scope sorted by due date (then id), PAGE_SIZE at a time, keyset-paginated.

    The page is an index range scan (scope [+ status] + due_at + id, migration 0013); the
    status counts come from the maintained summary when the filters allow it, the overdue
    count from the same index."""
    now = db.utcnow()
    after = decode_cursor(cursor)
    if filters.status or not (filters.overdue or filters.escalated):
        rows = _page(select(Appeal), user, filters, now, after)
    else:
        # open cases only (overdue, escalated): one ordered index range per open status,
        # merged. PostgreSQL cannot merge the ranges of an IN list itself; it walks the
        # whole scope in due order instead, filtering out every closed case (seconds).
        branches = [
            _page(select(Appeal.id, Appeal.due_at), user, filters, now, after, status.value)
            for status in sorted(OPEN)
        ]
        merged = union_all(*(b.subquery().select() for b in branches)).subquery()
        ids = select(merged.c.id).order_by(merged.c.due_at, merged.c.id).limit(PAGE_SIZE + 1)
        rows = list(
            db.session.scalars(
                select(Appeal)
                .where(Appeal.id.in_(ids.scalar_subquery()))
                .order_by(Appeal.due_at, Appeal.id)
            )
        )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return QueuePage(
        rows,
        encode_cursor(rows[-1]) if more and rows else None,
        status_counts(user, filters, now),
        overdue_count(user, now),
    )


def _page(
    stmt: Select[*tuple[Any, ...]],
    user: StaffUser,
    filters: QueueFilter,
    now: datetime,
    after: tuple[datetime, int] | None,
    status: str | None = None,
) -> Any:
    """One page (PAGE_SIZE + 1 rows) of STMT in scope under FILTERS, after the cursor; with
    STATUS, only that status (a query, not rows: the caller merges the branches)."""
    stmt = filters.apply(scoped(stmt, user), user, now).order_by(Appeal.due_at, Appeal.id)
    if after is not None:
        # a row-value comparison: one index range on both engines (an OR of two is not)
        stmt = stmt.where(tuple_(Appeal.due_at, Appeal.id) > tuple_(*after))
    stmt = stmt.limit(PAGE_SIZE + 1)
    if status is not None:
        return stmt.where(Appeal.status == status)
    return list(db.session.scalars(stmt))


def status_counts(user: StaffUser, filters: QueueFilter, now: datetime) -> dict[str, int]:
    """Cases per status under FILTERS except the status filter itself."""
    kept = (
        permissions.counts_kept_for(user)
        and not (filters.nothing or filters.overdue or filters.mine or filters.escalated)
        and not filters.desa
    )
    if not kept:
        # a desa, the clock or the officer: counted from the cases (a narrow set, indexed)
        without_status = QueueFilter(**{**filters.__dict__, "status": None})
        stmt = without_status.apply(
            scoped(select(Appeal.status, func.count()).select_from(Appeal), user), user, now
        ).group_by(Appeal.status)
        return {str(s): int(n) for s, n in db.session.execute(stmt).all()}
    counts: dict[str, int] = {}
    if filters.verval != VERVAL_REQUESTED and filters.verval != VERVAL_RECEIVED:
        # all the cases; under "none", less those with a field check (below)
        _add_counts(counts, AppealCount, user, filters, 1)
    if filters.verval in VERVAL_STATES:
        _add_counts(
            counts, AppealVervalCount, user, filters, -1 if filters.verval == VERVAL_NONE else 1
        )
    return {s: n for s, n in counts.items() if n}


def _add_counts(
    counts: dict[str, int],
    table: type[AppealCount] | type[AppealVervalCount],
    user: StaffUser,
    filters: QueueFilter,
    sign: int,
) -> None:
    """Add SIGN times the cases per status of the maintained TABLE under FILTERS (its verval
    state when TABLE is AppealVervalCount and the filter names one with a field check)."""
    stmt = scoped_counts(select(table.status, func.sum(table.n)), user, table.kabupaten_code)
    if filters.reason:
        stmt = stmt.where(table.reason_code == filters.reason)
    if filters.kecamatan:
        stmt = stmt.where(table.kecamatan_code == filters.kecamatan)
    if table is AppealVervalCount and filters.verval != VERVAL_NONE:
        stmt = stmt.where(AppealVervalCount.verval == filters.verval)
    for status, n in db.session.execute(stmt.group_by(table.status)).all():
        counts[str(status)] = counts.get(str(status), 0) + sign * int(n or 0)


def overdue_count(user: StaffUser, now: datetime) -> int:
    """Open cases in scope past their due date."""
    return sum(overdue_by_area(user, now, None).values())


def overdue_by_area(
    user: StaffUser, now: datetime, area: str | None, today: dict[str, int] | None = None
) -> dict[str, int]:
    """Open cases past due in USER's scope, by AREA ('kecamatan', 'kabupaten', or None for
    one total under the key ''). Whole days before today come from the maintained
    appeal_open_due; today's part (due before NOW) and a desa scope from the index, or
    TODAY's part by AREA as the caller counted it (where the summaries are kept)."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    live_from = midnight if permissions.counts_kept_for(user) else None
    columns = {"kecamatan": Appeal.kecamatan_code, "kabupaten": Appeal.kabupaten_code}
    out: dict[str, int] = {}
    live = scoped(select(func.count()).select_from(Appeal), user).where(
        Appeal.status.in_([s.value for s in OPEN]), Appeal.due_at < now
    )
    if live_from is not None:
        live = live.where(Appeal.due_at >= live_from)
    if today is not None and live_from is not None and area:
        out = {str(code): n for code, n in today.items()}  # today's part, counted already
    elif area:
        live_by_area = live.add_columns(columns[area]).group_by(columns[area])
        for n, code in db.session.execute(live_by_area).all():
            out[str(code)] = out.get(str(code), 0) + int(n)
    else:
        out[""] = int(db.session.scalar(live) or 0)
    if live_from is None:
        return out
    kept_columns = {
        "kecamatan": AppealOpenDue.kecamatan_code,
        "kabupaten": AppealOpenDue.kabupaten_code,
    }
    kept = scoped_counts(
        select(func.sum(AppealOpenDue.n)), user, AppealOpenDue.kabupaten_code
    ).where(AppealOpenDue.due_on < midnight.date())
    if area:
        kept_by_area = kept.add_columns(kept_columns[area]).group_by(kept_columns[area])
        for n, code in db.session.execute(kept_by_area).all():
            out[str(code)] = out.get(str(code), 0) + int(n or 0)
    else:
        out[""] += int(db.session.scalar(kept) or 0)
    return out


def escalated_count(user: StaffUser) -> int:
    """Open cases escalated to the admin_dinsos, in USER's scope."""
    if not permissions.counts_kept_for(user):
        return int(
            db.session.scalar(
                scoped(select(func.count()).select_from(Appeal), user).where(
                    Appeal.escalated_at.is_not(None), Appeal.status.in_([s.value for s in OPEN])
                )
            )
            or 0
        )
    stmt = scoped_counts(
        select(func.sum(AppealOpenDue.n)), user, AppealOpenDue.kabupaten_code
    ).where(AppealOpenDue.escalated.is_(True))
    return int(db.session.scalar(stmt) or 0)


def get_case(user: StaffUser, appeal_id: int) -> Appeal | None:
    """The case if USER may see it; None otherwise (the view answers 404 either way)."""
    return db.session.scalar(scoped(select(Appeal), user).where(Appeal.id == appeal_id))


@dataclass
class HouseholdView:
    period: str
    desil: int
    kode_desa: str
    alamat: str
    no_kk: str
    members: list[Person]


@dataclass
class HouseholdHistory:
    shown: list[HouseholdView]  # periods whose household lives in the officer's scope
    elsewhere: bool  # the household is in DTSEN, but in another area: no data shown


def household_history(user: StaffUser, appeal: Appeal) -> HouseholdHistory:
    """The subject household in the current and the previous published snapshot, as far as
    USER may see it: only where DTSEN puts the household in USER's scope. A case in scope
    does not open a household elsewhere (an usulan could name any No. KK)."""
    history = HouseholdHistory([], elsewhere=False)
    if not appeal.subject_kk_hmac:
        return history
    for snap in snapshots.published_snapshots(2):
        household = snapshots.household(snap.id, appeal.subject_kk_hmac)
        if household is None:
            continue
        if not permissions.desa_in_scope(user, household.kode_desa):
            history.elsewhere = True
            continue
        history.shown.append(
            HouseholdView(
                snap.period,
                household.desil,
                household.kode_desa,
                household.alamat,
                household.no_kk,
                snapshots.members(snap.id, appeal.subject_kk_hmac),
            )
        )
    return history


def linked_cases(user: StaffUser, appeal: Appeal) -> list[Appeal]:
    """The cluster (same household and code), the contested case and contests, in scope."""
    root = appeal.cluster_of_id or appeal.id
    conditions = [Appeal.cluster_of_id == root, Appeal.id == root, Appeal.contests_id == appeal.id]
    if appeal.contests_id:
        conditions.append(Appeal.id == appeal.contests_id)
    if appeal.duplicate_of_id:
        conditions.append(Appeal.id == appeal.duplicate_of_id)
    stmt = (
        scoped(select(Appeal), user)
        .where(or_(*conditions), Appeal.id != appeal.id)
        .order_by(Appeal.id)
    )
    return list(db.session.scalars(stmt))


def field_checks_of(appeal: Appeal) -> list[FieldCheck]:
    return list(
        db.session.scalars(
            select(FieldCheck).where(FieldCheck.appeal_id == appeal.id).order_by(FieldCheck.id)
        )
    )


def photo_of(appeal: Appeal, photo_id: int) -> AppealPhoto | None:
    return db.session.scalar(
        select(AppealPhoto).where(AppealPhoto.id == photo_id, AppealPhoto.appeal_id == appeal.id)
    )


def by_ticket(user: StaffUser, ticket: str) -> Appeal | None:
    return db.session.scalar(scoped(select(Appeal), user).where(Appeal.ticket == ticket))


@dataclass(frozen=True)
class QueueRow:
    """One case as the queue and the search list it: names, not codes."""

    appeal: Appeal
    head: str | None  # the household head's name (masked for a desa operator), or None
    head_in_dtsen: bool  # the name is DTSEN's (else the name the filer gave, or none)
    desa: str  # the desa's name ('' when the case has no desa)
    kecamatan: str
    reason: object  # the reason's title (a lazy string)
    holder: str | None  # the officer who holds the case
    verval: str  # one of VERVAL_STATES


@dataclass
class Rows:
    rows: list[QueueRow]
    households: list[str]  # No. KK HMACs whose DTSEN data (the head's name) the rows show
    period: str | None  # of the snapshot the names come from


def rows_for(user: StaffUser, cases: list[Appeal]) -> Rows:
    """The rows of CASES (already in USER's scope), each with names instead of codes. A
    fixed number of queries whatever the page size: the head of each household (current
    snapshot, only a household DTSEN puts in USER's scope, as on the case page), the region
    names, the holders, the field checks. A desa operator sees names masked."""
    if not cases:
        return Rows([], [], None)
    heads, period = _heads(user, {a.subject_kk_hmac for a in cases if a.subject_kk_hmac})
    places = wilayah.names(
        {code for a in cases for code in (a.kode_desa, a.kecamatan_code) if code}
    )
    holders = staff_names({a.assigned_to_id for a in cases if a.assigned_to_id})
    masked = user.role_enum is Role.OPERATOR_DESA
    rows = []
    for a in cases:
        dtsen = heads.get(a.subject_kk_hmac or "")
        name = dtsen or (None if a.subject_is_filer_household else a.subject_name)
        reason = REASONS.get(a.reason_code)
        rows.append(
            QueueRow(
                appeal=a,
                head=(mask_name(name) if masked else name) if name else None,
                head_in_dtsen=dtsen is not None,
                desa=places.get(a.kode_desa or "", ""),
                kecamatan=places.get(a.kecamatan_code, a.kecamatan_code),
                reason=reason.title if reason else a.reason_code,
                holder=holders.get(a.assigned_to_id) if a.assigned_to_id else None,
                verval=a.verval,
            )
        )
    shown = sorted({a.subject_kk_hmac for a in cases if a.subject_kk_hmac in heads})
    return Rows(rows, [k for k in shown if k], period)


def _heads(user: StaffUser, kk_hmacs: set[str]) -> tuple[dict[str, str], str | None]:
    """The head's name (or the first member's) of each household in the current snapshot
    that lives in USER's scope: two indexed queries for the whole page."""
    snapshot = snapshots.current_snapshot()
    if snapshot is None or not kk_hmacs:
        return {}, None
    visible = [
        kk
        for kk, desa in db.session.execute(
            select(Household.kk_hmac, Household.kode_desa).where(
                Household.snapshot_id == snapshot.id, Household.kk_hmac.in_(kk_hmacs)
            )
        ).all()
        if permissions.desa_in_scope(user, desa)
    ]
    if not visible:
        return {}, snapshot.period
    heads: dict[str, str] = {}
    first: dict[str, str] = {}
    for kk, nama, hubungan in db.session.execute(
        select(Person.kk_hmac, Person.nama, Person.hubungan)
        .where(Person.snapshot_id == snapshot.id, Person.kk_hmac.in_(visible))
        .order_by(Person.kk_hmac, Person.position)
    ).all():
        first.setdefault(kk, nama)
        if hubungan == "KEPALA KELUARGA":
            heads.setdefault(kk, nama)
    return {kk: heads.get(kk) or first[kk] for kk in first}, snapshot.period


def desa_names(codes: Iterable[str | None]) -> dict[str, str]:
    """'Desa, Kecamatan, Kabupaten/Kota' of each desa code, as the case page's area names a
    place, from the per-process region cache: a page pays one query for the codes it has
    not seen yet and none after, however many rows it shows."""
    return dict(wilayah.describe(sorted({c for c in codes if c})))


def staff_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        db.session.execute(select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(ids))).all()
    )
