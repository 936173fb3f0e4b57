"""What a /statistik page shows, read from the pre-aggregated tables (a few hundred rows).

Snapshot counts come with their suppression marks (stored at publication). Case counts are
suppressed here, over the whole kabupaten/kota of the page at once (so every level's page
hides the same cells), and kept per process for CACHE_SECONDS: a decision shows on the
page within that time.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select, text

from portal import db
from portal.appeals.reasons import REASONS
from portal.dataimport.models import Snapshot, SnapshotStatus
from portal.statistik import refresh
from portal.statistik.cases import OUTCOMES
from portal.statistik.models import StatCell
from portal.statistik.suppression import THRESHOLD, Key, Mark, Table, display, protect
from portal.wilayah import queries as wilayah

CACHE_SECONDS = 60.0
REGION_CODE = re.compile(r"\d{2}\.\d{2}(\.\d{2}(\.\d{4})?)?")
PERIOD = re.compile(r"\d{4}Q[1-4]")
NO_DESA = "-"  # the children row of a kecamatan's cases that name no desa
LEVEL_BY_LENGTH = {5: 2, 8: 3, 13: 4}


@dataclass(frozen=True)
class Cell:
    value: int
    mark: Mark = Mark.SHOWN

    @property
    def text(self) -> str:
        return display(self.value, self.mark)

    @property
    def shown(self) -> bool:
        return self.mark is Mark.SHOWN


ZERO = Cell(0)


@dataclass(frozen=True)
class Change:
    value: int | None  # None: not published (a count hidden in one period, or no earlier)

    @property
    def text(self) -> str:
        if self.value is None:
            return "*"
        return f"{self.value:+d}" if self.value else "0"


@dataclass
class Row:
    key: str  # band, program code, reason code, outcome
    households: Cell = ZERO
    persons: Cell = ZERO
    change: Change | None = None  # households, against the previous period


@dataclass
class Child:
    code: str
    name: str
    households: Cell
    persons: Cell
    cases: Cell
    link: bool = True


@dataclass
class Page:
    code: str
    name: str
    level: int  # wilayah Level: 2 kabupaten/kota, 3 kecamatan, 4 desa
    lineage: list[tuple[str, str]]  # (code, name) from the kabupaten/kota down to this one
    period: str
    periods: list[str]
    previous: str | None
    bands: list[Row] = field(default_factory=list)
    total: Row = field(default_factory=lambda: Row("total"))
    programs: list[Row] = field(default_factory=list)
    reasons: list[tuple[str, Cell]] = field(default_factory=list)
    outcomes: list[tuple[str, Cell]] = field(default_factory=list)
    cases: Cell = ZERO
    median_days: float | None = None
    on_time_share: float | None = None
    children: list[Child] = field(default_factory=list)


def published_periods() -> dict[str, int]:
    """Published period -> its snapshot id, newest first."""
    rows = db.session.execute(
        select(Snapshot.period, Snapshot.id)
        .where(Snapshot.status == SnapshotStatus.PUBLISHED)
        .order_by(Snapshot.period.desc())
    ).all()
    return {p: int(i) for p, i in rows}


def kabupaten_list(snapshot_id: int) -> list[tuple[str, str]]:
    """(code, name) of the kabupaten/kota with statistics in the snapshot, by name."""
    codes = set(
        db.session.scalars(
            select(StatCell.region_code).where(
                StatCell.snapshot_id == snapshot_id,
                StatCell.measure == "households",
                StatCell.category == refresh.TOTAL,
                StatCell.parent_code.in_(_provinces(snapshot_id)),
            )
        )
    )
    known = wilayah.names(codes)
    return sorted(((c, known.get(c, c)) for c in codes), key=lambda cn: (cn[1], cn[0]))


def _provinces(snapshot_id: int) -> list[str]:
    return [
        str(p)
        for p in db.session.execute(
            text(
                "SELECT DISTINCT parent_code FROM stat_cells WHERE snapshot_id = :sid "
                "AND length(parent_code) = 2"
            ),
            {"sid": snapshot_id},
        ).scalars()
    ]


_COLUMNS = (
    StatCell.region_code,
    StatCell.measure,
    StatCell.category,
    StatCell.value,
    StatCell.mark,
)


def _own(snapshot_id: int, code: str) -> dict[tuple[str, str], Cell]:
    """The region's cells by (measure, category): its primary key's range."""
    stmt = select(*_COLUMNS[1:]).where(
        StatCell.snapshot_id == snapshot_id, StatCell.region_code == code
    )
    return {(m, c): Cell(v, Mark(k)) for m, c, v, k in db.session.execute(stmt).all()}


def _children_totals(snapshot_id: int, code: str) -> dict[str, dict[str, Cell]]:
    """Households and persons of each child region: (snapshot, parent) index."""
    stmt = select(StatCell.region_code, StatCell.measure, StatCell.value, StatCell.mark).where(
        StatCell.snapshot_id == snapshot_id,
        StatCell.parent_code == code,
        StatCell.category == refresh.TOTAL,
    )
    out: dict[str, dict[str, Cell]] = defaultdict(dict)
    for region, measure, value, mark in db.session.execute(stmt).all():
        out[region][measure] = Cell(value, Mark(mark))
    return out


def page(code: str, period: str | None) -> Page | None:
    """The statistics of region CODE in PERIOD (None: the newest); None when either is
    unknown or the region has no statistics in that period."""
    if not REGION_CODE.fullmatch(code) or (period is not None and not PERIOD.fullmatch(period)):
        return None
    periods = published_periods()
    if not periods:
        return None
    period = period or next(iter(periods))
    sid = periods.get(period)
    if sid is None:
        return None
    own = _own(sid, code)
    if ("households", refresh.TOTAL) not in own:
        return None
    older = [p for p in periods if p < period]
    previous = older[0] if older else None
    before: dict[tuple[str, str], Cell] = {}
    if previous is not None:
        before = _own(periods[previous], code)
    lineage = [(w.code, w.name) for w in wilayah.lineage(code)[1:]]
    name = lineage[-1][1] if lineage else code
    result = Page(code, name, LEVEL_BY_LENGTH[len(code)], lineage, period, list(periods), previous)

    def row(key: str, measures: tuple[str, str], with_change: bool) -> Row:
        households = own.get((measures[0], key), ZERO)
        persons = own.get((measures[1], key), ZERO)
        change = None
        if with_change and before:
            earlier = before.get((measures[0], key), ZERO)
            both = households.shown and earlier.shown
            change = Change(households.value - earlier.value if both else None)
        return Row(key, households, persons, change)

    result.bands = [row(b, refresh.BAND_MEASURES, True) for b in refresh.BANDS]
    result.total = row(refresh.TOTAL, refresh.BAND_MEASURES, True)
    result.programs = [row(p, refresh.PROGRAM_MEASURES, False) for p in refresh.PROGRAM_CODES]
    children = _children_totals(sid, code)
    _add_cases(result, period, children)
    names = wilayah.names(set(children) - {_no_desa(code)})
    result.children = sorted(
        (
            Child(
                child,
                names.get(child, child),
                cells.get("households", ZERO),
                cells.get("persons", ZERO),
                cells.get("cases", ZERO),
                link=child != _no_desa(code),
            )
            for child, cells in children.items()
        ),
        key=lambda ch: (not ch.link, ch.name, ch.code),
    )
    return result


def _no_desa(kecamatan: str) -> str:
    return f"{kecamatan}.{NO_DESA}"


# --- cases ----------------------------------------------------------------------------------

_case_cache: dict[tuple[int, str, str], tuple[float, CaseStats]] = {}


def clear_cache() -> None:
    _case_cache.clear()


@dataclass
class CaseStats:
    marks: dict[Key, Mark]
    values: dict[Key, int]
    days: dict[str, list[tuple[int, bool, int]]]  # region -> (days, on time, n)


def case_stats(kabupaten: str, period: str) -> CaseStats:
    key = (id(current_app.extensions["db_engine"]), kabupaten, period)
    now = time.monotonic()
    cached = _case_cache.get(key)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    stats = _compute_case_stats(kabupaten, period)
    if len(_case_cache) > 1000:
        _case_cache.clear()
    _case_cache[key] = (now, stats)
    return stats


def _compute_case_stats(kabupaten: str, period: str) -> CaseStats:
    rows = db.session.execute(
        text(
            "SELECT kecamatan_code, kode_desa, reason_code, outcome, SUM(n) FROM stat_case_counts "
            "WHERE period = :p AND kabupaten_code = :k AND n > 0 "
            "GROUP BY kecamatan_code, kode_desa, reason_code, outcome"
        ),
        {"p": period, "k": kabupaten},
    ).all()
    values: dict[Key, int] = defaultdict(int)
    parents: dict[str, str] = {kabupaten: ""}
    for kec, desa, reason, outcome, n in rows:
        desa = desa or _no_desa(kec)
        parents[kec] = kabupaten
        parents[desa] = kec
        for region in (desa, kec, kabupaten):
            values[(region, "reason", reason)] += int(n)
            values[(region, "outcome", outcome)] += int(n)
            values[(region, "cases", refresh.TOTAL)] += int(n)
    reasons = sorted({k[2] for k in values if k[1] == "reason"} | set(REASONS))
    outcomes = [*OUTCOMES, "other"]
    children: dict[str, list[str]] = defaultdict(list)
    for region, parent in parents.items():
        if parent:
            children[parent].append(region)
    tables: list[Table] = []
    for parent, kids in children.items():
        table_rows = [*sorted(kids), parent]
        for measure, cols in (("reason", reasons), ("outcome", outcomes)):
            cells: dict[tuple[str, str], Key] = {}
            for r in table_rows:
                for c in cols:
                    cells[(r, c)] = (r, measure, c)
                cells[(r, refresh.TOTAL)] = (r, "cases", refresh.TOTAL)
            tables.append(Table(table_rows, [*cols, refresh.TOTAL], cells))
    marks = protect(tables, values)
    days: dict[str, list[tuple[int, bool, int]]] = defaultdict(list)
    for kec, desa, d, on_time, n in db.session.execute(
        text(
            "SELECT kecamatan_code, kode_desa, days, on_time, SUM(n) FROM stat_case_days "
            "WHERE period = :p AND kabupaten_code = :k AND n > 0 "
            "GROUP BY kecamatan_code, kode_desa, days, on_time"
        ),
        {"p": period, "k": kabupaten},
    ).all():
        for region in (desa or _no_desa(kec), kec, kabupaten):
            days[region].append((int(d), bool(on_time), int(n)))
    return CaseStats(marks, dict(values), dict(days))


def _add_cases(result: Page, period: str, children: dict[str, dict[str, Cell]]) -> None:
    stats = case_stats(result.code[:5], period)

    def cell(key: Key) -> Cell:
        return Cell(stats.values.get(key, 0), stats.marks.get(key, Mark.SHOWN))

    code = result.code
    result.cases = cell((code, "cases", refresh.TOTAL))
    shown_reasons = list(REASONS) + sorted(
        {k[2] for k in stats.values if k[0] == code and k[1] == "reason"} - set(REASONS)
    )
    result.reasons = [(r, cell((code, "reason", r))) for r in shown_reasons]
    result.outcomes = [
        (o, cell((code, "outcome", o)))
        for o in [*OUTCOMES, "other"]
        if o != "other" or stats.values.get((code, "outcome", o))
    ]
    for (region, measure, _category), _n in stats.values.items():
        if measure == "cases" and region != code and region.rsplit(".", 1)[0] == code:
            children.setdefault(region, {})
    for region in children:
        children[region]["cases"] = cell((region, "cases", refresh.TOTAL))
    result.median_days, result.on_time_share = decision_times(stats.days.get(code, []))


def decision_times(histogram: list[tuple[int, bool, int]]) -> tuple[float | None, float | None]:
    """Median whole days to decision and the share decided by the promised date, over the
    decided cases of a region: None when fewer than THRESHOLD were decided (a median of one
    or two cases is theirs), and the share None when the late or the on-time cases number
    1 .. THRESHOLD - 1."""
    by_day: dict[int, int] = defaultdict(int)
    on_time = late = 0
    for days, in_time, n in histogram:
        by_day[days] += n
        if in_time:
            on_time += n
        else:
            late += n
    decided = on_time + late
    if decided < THRESHOLD:
        return None, None
    ordered = sorted(by_day.items())

    def value_at(rank: int) -> int:
        seen = 0
        for value, n in ordered:
            seen += n
            if rank < seen:
                return value
        raise ValueError(rank)

    median = (value_at((decided - 1) // 2) + value_at(decided // 2)) / 2
    small = any(0 < n < THRESHOLD for n in (on_time, late))
    return median, None if small else on_time / decided
