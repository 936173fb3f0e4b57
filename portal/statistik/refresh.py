"""Fill a published snapshot's statistics (``stat_cells``) in the publishing transaction.

``refresh_snapshot(conn, snapshot_id)`` is the one call the import makes (loader._publish):

1. One set-based pass over the snapshot's households and persons (INSERT ... SELECT ...
   GROUP BY, both engines) counts per desa and desil band: households, persons, and for each
   program the households with a member receiving it and the persons receiving it. The pass
   groups per household first (a household receives a program when a member does), then
   per desa, into a small scratch table.
2. The desa rows, then the kecamatan and kabupaten/kota rows summed from them (a few
   thousand rows for Kabupaten Bekasi).
3. Suppression (suppression.py) over each kabupaten/kota's tables in Python; the marks of
   the hidden cells are written back (hidden zeros get a row of their own).

A pruned snapshot's rows go with it (foreign key, cascade; on PostgreSQL the snapshot row's
delete cascades too). ``refresh_all`` recomputes every published snapshot (after the
migration, or to repair: ``flask --app portal statistik refresh``).
"""

# ruff: noqa: S608 (statements are built from the constants here and an int, never input)
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, text

from portal.core.programs import PROGRAMS
from portal.statistik.suppression import Key, Mark, Table, protect

BANDS = ("1", "2", "3", "4", "5", "6-10")  # DOMAIN.md: 1-5 one by one, 6-10 "mampu"
TOTAL = "total"
VIRTUAL = "(sum)"  # the unpublished total of overlapping programs
PROGRAM_CODES = tuple(PROGRAMS)
BAND_MEASURES = ("households", "persons")
PROGRAM_MEASURES = ("program_households", "program_persons")

_BAND_SQL = (
    "CASE WHEN {d} <= 5 THEN "
    + "CASE {d} "
    + " ".join(f"WHEN {i} THEN '{i}'" for i in range(1, 6))
    + " END ELSE '6-10' END"
)


def _has(code: str) -> str:
    return f"(';' || p.programs || ';') LIKE '%;{code};%'"


def member_aggregates(postgres: bool, programs: str = "programs") -> str:
    """Per household, over its members' rows (PROGRAMS: their ``;``-separated codes): ``hI``
    1 when a member receives program I, ``pI`` the members receiving it. The import adds
    these to the per-household aggregate its checks compute anyway (loader.py), so that
    publishing does not go over the persons again (``refresh_snapshot(..., households=)``)."""
    find = "strpos" if postgres else "instr"
    out = []
    for i, code in enumerate(PROGRAM_CODES):
        flag = f"CASE WHEN {find}(';' || {programs} || ';', ';{code};') > 0 THEN 1 ELSE 0 END"
        out.append(f"MAX({flag}) AS h{i}, SUM({flag}) AS p{i}")
    return ", ".join(out)


def _work_from_households_sql(table: str) -> str:
    per_desa = ", ".join(f"SUM(h{i}) AS h{i}, SUM(p{i}) AS p{i}" for i in range(len(PROGRAM_CODES)))
    return (
        f"CREATE TEMP TABLE stat_work AS SELECT kode_desa, {_BAND_SQL.format(d='desil')} AS band, "
        f"COUNT(*) AS households, SUM(members) AS persons, {per_desa} FROM {table} "
        "GROUP BY kode_desa, band"
    )


def _work_sql(sid: int) -> str:
    per_house = ", ".join(
        f"MAX(CASE WHEN {_has(code)} THEN 1 ELSE 0 END) AS h{i}, "
        f"SUM(CASE WHEN {_has(code)} THEN 1 ELSE 0 END) AS p{i}"
        for i, code in enumerate(PROGRAM_CODES)
    )
    per_desa = ", ".join(f"SUM(h{i}) AS h{i}, SUM(p{i}) AS p{i}" for i in range(len(PROGRAM_CODES)))
    band = _BAND_SQL.format(d="h.desil")
    return (
        f"CREATE TEMP TABLE stat_work AS SELECT kode_desa, band, COUNT(*) AS households, "
        f"SUM(n) AS persons, {per_desa} FROM ("
        f"SELECT h.kode_desa AS kode_desa, {band} AS band, COUNT(*) AS n, {per_house} "
        "FROM households h JOIN persons p "
        "ON p.snapshot_id = h.snapshot_id AND p.kk_hmac = h.kk_hmac "
        f"WHERE h.snapshot_id = {sid} AND p.snapshot_id = {sid} "
        "GROUP BY h.kk_hmac, h.kode_desa, h.desil) x GROUP BY kode_desa, band"
    )


WORK_MEM = "256MB"
_SAVE = "SELECT current_setting('work_mem') AS work_mem, current_setting('jit') AS jit"
_SET = "SELECT set_config('work_mem', :work_mem, true), set_config('jit', :jit, true)"

_INSERT = (
    "INSERT INTO stat_cells (snapshot_id, region_code, measure, category, value, mark, "
    "parent_code) "
)


def _desa_sql(sid: int) -> str:
    """The desa rows of every measure and category, as one INSERT of a UNION ALL: one
    statement over the small scratch table instead of one a measure and program (a round
    trip and a plan each, most of a small snapshot's refresh)."""
    parent = "substr(kode_desa, 1, 8)"
    selects = [
        f"SELECT {sid}, kode_desa, '{m}', band, SUM({m}), 0, {parent} "
        "FROM stat_work GROUP BY kode_desa, band"
        for m in BAND_MEASURES
    ]
    selects += [
        f"SELECT {sid}, kode_desa, '{m}', '{TOTAL}', SUM({m}), 0, {parent} "
        "FROM stat_work GROUP BY kode_desa"
        for m in BAND_MEASURES
    ]
    for i, code in enumerate(PROGRAM_CODES):
        for measure, column in (("program_households", f"h{i}"), ("program_persons", f"p{i}")):
            selects.append(
                f"SELECT {sid}, kode_desa, '{measure}', '{code}', SUM({column}), 0, "
                f"{parent} FROM stat_work GROUP BY kode_desa HAVING SUM({column}) > 0"
            )
    return _INSERT + " UNION ALL ".join(selects)


def refresh_snapshot(conn: Connection, snapshot_id: int, households: str | None = None) -> int:
    """(Re)compute the statistics of SNAPSHOT_ID in CONN's transaction; the caller commits.
    Returns the number of cells written. HOUSEHOLDS: a table of the snapshot's households
    already aggregated over their members (kode_desa, desil, members and the columns of
    member_aggregates(), one row a household: the import's), read instead of joining the
    snapshot's persons to its households."""
    sid = int(snapshot_id)
    conn.execute(text(f"DELETE FROM stat_cells WHERE snapshot_id = {sid}"))
    conn.execute(text("DROP TABLE IF EXISTS stat_work"))
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        # for the one pass over the period only (set back below), as history.py does: the
        # per-household groups hashed in memory, no JIT (compiling costs more than it saves)
        saved = conn.execute(text(_SAVE)).one()
        conn.execute(text(_SET), {"work_mem": WORK_MEM, "jit": "off"})
    conn.execute(
        text(_work_sql(sid) if households is None else _work_from_households_sql(households))
    )
    if postgres:
        conn.execute(text(_SET), dict(saved._mapping))
    conn.execute(text(_desa_sql(sid)))
    conn.execute(text("DROP TABLE stat_work"))
    # kecamatan from desa (codes of 13 characters), then kabupaten/kota from kecamatan (8)
    conn.execute(
        text(
            f"{_INSERT}SELECT {sid}, parent_code, measure, category, SUM(value), 0, "
            f"substr(parent_code, 1, 5) FROM stat_cells WHERE snapshot_id = {sid} "
            "AND length(region_code) = 13 GROUP BY parent_code, measure, category"
        )
    )
    conn.execute(
        text(
            f"{_INSERT}SELECT {sid}, parent_code, measure, category, SUM(value), 0, "
            f"substr(parent_code, 1, 2) FROM stat_cells WHERE snapshot_id = {sid} "
            "AND length(region_code) = 8 GROUP BY parent_code, measure, category"
        )
    )
    return _suppress(conn, sid)


def _suppress(conn: Connection, sid: int) -> int:
    rows = conn.execute(
        text(
            "SELECT region_code, parent_code, measure, category, value FROM stat_cells "
            f"WHERE snapshot_id = {sid}"
        )
    ).all()
    values: dict[Key, int] = {}
    parents: dict[str, str] = {}
    for region, parent, measure, category, value in rows:
        values[(region, measure, category)] = int(value)
        parents[region] = parent
    marks = protect_hierarchy(parents, values)
    stored = set(values)
    hidden = [(k, m) for k, m in marks.items() if m is not Mark.SHOWN]
    updates = [
        {"sid": sid, "r": k[0], "me": k[1], "c": k[2], "m": int(m)}
        for k, m in hidden
        if k in stored
    ]
    inserts = [
        {"sid": sid, "r": k[0], "me": k[1], "c": k[2], "m": int(m), "p": parents[k[0]]}
        for k, m in hidden
        if k not in stored
    ]
    if updates:
        conn.execute(
            text(
                "UPDATE stat_cells SET mark = :m WHERE snapshot_id = :sid AND region_code = :r "
                "AND measure = :me AND category = :c"
            ),
            updates,
        )
    if inserts:
        conn.execute(
            text(f"{_INSERT}VALUES (:sid, :r, :me, :c, 0, :m, :p)"),
            inserts,
        )
    return len(rows) + len(inserts)


def protect_hierarchy(
    parents: dict[str, str],
    values: dict[Key, int],
    band_measures: tuple[str, ...] = BAND_MEASURES,
    bands: tuple[str, ...] = BANDS,
    program_measures: tuple[str, ...] = PROGRAM_MEASURES,
    programs: tuple[str, ...] = PROGRAM_CODES,
) -> dict[Key, Mark]:
    """Marks for every cell of every region in PARENTS (region -> its parent): one table
    per region that has children (children's rows, then its own) and measure, all protected
    together. Also used for the cases (queries.py) with other measures and categories."""
    children: dict[str, list[str]] = defaultdict(list)
    for region, parent in parents.items():
        if parent in parents:
            children[parent].append(region)
    tables: list[Table] = []
    virtual: set[Key] = set()
    for parent, kids in sorted(children.items()):
        rows = [*sorted(kids), parent]
        for measure in band_measures:
            cols = [*bands, TOTAL]
            tables.append(_table(rows, cols, measure))
        for measure in program_measures:
            cols = [*programs, VIRTUAL]
            tables.append(_table(rows, cols, measure))
            virtual |= {(r, measure, VIRTUAL) for r in rows}
    return protect(tables, values, virtual)


def _table(rows: list[str], cols: list[str], measure: str) -> Table:
    return Table(rows, cols, {(r, c): (r, measure, c) for r in rows for c in cols})


def refresh_all(conn: Connection) -> list[int]:
    """Recompute every published snapshot's statistics; the caller commits."""
    ids = [
        int(i)
        for i in conn.execute(text("SELECT id FROM snapshots WHERE status = 'published'")).scalars()
    ]
    for sid in ids:
        refresh_snapshot(conn, sid)
    return ids
