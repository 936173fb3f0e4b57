"""Maintained summaries of the cases, so the staff queue and dashboard never count a million
rows:

- ``appeal_counts``: cases per kabupaten, kecamatan, reason code, status and decided or not;
- ``appeal_open_due``: open cases per kabupaten, kecamatan, due date (UTC day) and escalated
  or not; overdue = the days before today here + today's part from the index;
- ``appeal_decision_hours``: decided cases per kabupaten and whole hours to decision;
- ``appeal_filed_months`` and ``appeal_decided_months``: cases per kabupaten filed, and
  decided (per officer), in each month (UTC, YYYY-MM): the dashboard's last twelve months
  and each officer's decisions this month (migration 0024);
- ``appeal_open_desa`` and ``appeal_open_officer``: open cases per kabupaten and desa, and
  per officer holding them, by due date (UTC day): the admin_dinsos dashboard's tables;
- ``appeal_verval_counts``: the cases with a field check, per kabupaten, kecamatan, reason
  code, status and where their verval stands (requested or received): the queue's counts
  under a verval filter (those with none are ``appeal_counts`` less these; migration 0025).

``appeals.verval`` (none, requested, received) is itself kept by triggers on
``field_checks`` (``create_verval_triggers``), so a field check asked or answered moves its
case between those counts through the triggers on ``appeals``.

Database triggers on ``appeals`` keep them right on every insert, update and delete, whatever
code path writes (the filing, ``transition()``'s conditional UPDATE, a contest, the export,
a test factory, a manual fix in psql): counting in the database is the only place no write
can bypass. A decrement only updates an existing row, so emptying a summary before the cases
(a test's clean-up) leaves no negative rows behind. ``rebuild()`` recomputes them from the
cases, after a bulk load that bypassed the triggers (bench/seed_cases.py) or to repair.
Migration 0013 installs the triggers (``create_triggers``: row-level on SQLite, statement-level
over transition tables on PostgreSQL) and fills the tables; a migration that adds a summary
installs them again over every table it knows (``TABLES_0013`` and the like say which).

The areas stop at the kecamatan: a desa operator's scope, and a desa filter, are a few
thousand cases at most, counted from the cases through the (kode_desa, status, due_at, id)
index, which keeps these tables a few thousand rows per kabupaten.
"""

# ruff: noqa: S608 (every statement is built from the constant SQL fragments here, no input)
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

OPEN_SQL = "('diterima', 'verifikasi')"  # appeals.states.OPEN (a test keeps them equal)

_HOURS = {
    "postgresql": "round(extract(epoch from ({r}.decided_at - {r}.created_at)) / 3600)::int",
    "sqlite": "CAST(round((julianday({r}.decided_at) - julianday({r}.created_at)) * 24)"
    " AS INTEGER)",
}
_DAY = {
    "postgresql": "CAST(({r}.due_at AT TIME ZONE 'UTC') AS date)",
    "sqlite": "date({r}.due_at)",
}
# YYYY-MM of a timestamp, UTC: as dashboard.month_of writes it
_MONTH = {
    "postgresql": "to_char({r}.{column} AT TIME ZONE 'UTC', 'YYYY-MM')",
    "sqlite": "strftime('%Y-%m', {r}.{column})",
}


def _month(dialect: str, column: str) -> str:
    return _MONTH[dialect].replace("{column}", column)


@dataclass(frozen=True)
class Summary:
    table: str
    key: dict[str, str]  # column -> SQL expression over the row {r}
    where: str  # which rows are counted, over {r}


def summaries(dialect: str) -> list[Summary]:
    return [
        Summary(
            "appeal_counts",
            {
                "kabupaten_code": "{r}.kabupaten_code",
                "kecamatan_code": "{r}.kecamatan_code",
                "reason_code": "{r}.reason_code",
                "status": "{r}.status",
                "decided": "({r}.decided_at IS NOT NULL)",
            },
            "1 = 1",
        ),
        Summary(
            "appeal_open_due",
            {
                "kabupaten_code": "{r}.kabupaten_code",
                "kecamatan_code": "{r}.kecamatan_code",
                "due_on": _DAY[dialect],
                "escalated": "({r}.escalated_at IS NOT NULL)",
            },
            "{r}.status IN " + OPEN_SQL,
        ),
        Summary(
            "appeal_decision_hours",
            {"kabupaten_code": "{r}.kabupaten_code", "hours": _HOURS[dialect]},
            "{r}.decided_at IS NOT NULL",
        ),
        Summary(
            "appeal_filed_months",
            {"kabupaten_code": "{r}.kabupaten_code", "month": _month(dialect, "created_at")},
            "1 = 1",
        ),
        Summary(
            "appeal_decided_months",
            {
                "kabupaten_code": "{r}.kabupaten_code",
                "month": _month(dialect, "decided_at"),
                "decided_by": "COALESCE({r}.decided_by_id, 0)",
            },
            "{r}.decided_at IS NOT NULL",
        ),
        Summary(
            "appeal_open_desa",
            {
                "kabupaten_code": "{r}.kabupaten_code",
                "kode_desa": "COALESCE({r}.kode_desa, '')",
                "due_on": _DAY[dialect],
            },
            "{r}.status IN " + OPEN_SQL,
        ),
        Summary(
            "appeal_open_officer",
            {
                "kabupaten_code": "{r}.kabupaten_code",
                "assigned_to": "COALESCE({r}.assigned_to_id, 0)",
                "due_on": _DAY[dialect],
            },
            "{r}.status IN " + OPEN_SQL,
        ),
        Summary(
            "appeal_verval_counts",
            {
                "kabupaten_code": "{r}.kabupaten_code",
                "kecamatan_code": "{r}.kecamatan_code",
                "reason_code": "{r}.reason_code",
                "status": "{r}.status",
                "verval": "{r}.verval",
            },
            "{r}.verval <> 'none'",
        ),
    ]


# The summaries each migration knew: one that installs the triggers again passes its own list,
# so that it builds the same triggers whatever summaries came later (None: all of today's).
TABLES_0013 = ("appeal_counts", "appeal_open_due", "appeal_decision_hours")
TABLES_0024 = (
    *TABLES_0013,
    "appeal_filed_months",
    "appeal_decided_months",
    "appeal_open_desa",
    "appeal_open_officer",
)
TABLES_0025 = (*TABLES_0024, "appeal_verval_counts")


def _known(dialect: str, tables: tuple[str, ...] | None) -> list[Summary]:
    return [s for s in summaries(dialect) if tables is None or s.table in tables]


# an update that changes none of these leaves the summaries alone (0013's, then 0024's)
WATCHED_0013 = (
    "kabupaten_code",
    "kecamatan_code",
    "reason_code",
    "status",
    "decided_at",
    "created_at",
    "due_at",
    "escalated_at",
)
WATCHED_0024 = (*WATCHED_0013, "kode_desa", "assigned_to_id", "decided_by_id")
WATCHED = (*WATCHED_0024, "verval")


def _watched(tables: tuple[str, ...] | None) -> tuple[str, ...]:
    return {TABLES_0013: WATCHED_0013, TABLES_0024: WATCHED_0024}.get(tables or (), WATCHED)


def _values(s: Summary, r: str) -> list[str]:
    return [v.format(r=r) for v in s.key.values()]


def _match(s: Summary, r: str) -> str:
    return " AND ".join(f"{c} = ({v})" for c, v in zip(s.key, _values(s, r), strict=True))


def _add(dialect: str, r: str, tables: tuple[str, ...] | None) -> list[str]:
    out = []
    for s in _known(dialect, tables):
        where = s.where.format(r=r)
        out += [
            f"INSERT INTO {s.table} ({', '.join(s.key)}, n) SELECT {', '.join(_values(s, r))}, 0"
            f" WHERE {where} ON CONFLICT DO NOTHING",
            f"UPDATE {s.table} SET n = n + 1 WHERE ({where}) AND {_match(s, r)}",
        ]
    return out


def _remove(dialect: str, r: str, tables: tuple[str, ...] | None) -> list[str]:
    return [
        f"UPDATE {s.table} SET n = n - 1 WHERE ({s.where.format(r=r)}) AND {_match(s, r)}"
        for s in _known(dialect, tables)
    ]


def _changed(dialect: str, tables: tuple[str, ...] | None) -> str:
    """OLD and NEW differ in a watched column (NULL-safe)."""
    differ = (
        "NOT (OLD.{c} IS NEW.{c})" if dialect == "sqlite" else "OLD.{c} IS DISTINCT FROM NEW.{c}"
    )
    return " OR ".join(differ.format(c=c) for c in _watched(tables))


def _delta(s: Summary, sources: list[tuple[str, int]]) -> str:
    """The net change per key of summary S from a statement's transition tables, e.g.
    [("new_rows", 1), ("old_rows", -1)]; keys whose rows came and went cancel out."""
    keys = ", ".join(s.key)
    columns = ", ".join(f"{v} AS {c}" for c, v in zip(s.key, _values(s, "r"), strict=True))
    parts = [
        f"SELECT {columns}, {sign} AS d FROM {table} r WHERE {s.where.format(r='r')}"
        for table, sign in sources
    ]
    return (
        f"SELECT {keys}, CAST(sum(d) AS integer) AS d FROM ({' UNION ALL '.join(parts)}) x"
        f" GROUP BY {keys} HAVING sum(d) <> 0"
    )


def apply_delta(table: str, key: list[str], delta: str) -> str:
    """One statement that adds the net changes DELTA (a query of KEY's columns and d, one row
    a key) to TABLE: upsert what grew; decrement what shrank, only where a row exists (so
    emptying a summary before the cases leaves no negative rows). The two parts touch other
    keys, so they share one reading of the transition tables: as two statements, each read
    them again (an export's UPDATE of 100 k cases read 200 k rows twice per summary)."""
    keys = ", ".join(key)
    same = " AND ".join(f"{table}.{c} = delta.{c}" for c in key)
    return (
        f"WITH delta AS ({delta}), grown AS (INSERT INTO {table} ({keys}, n)"
        f" SELECT {keys}, d FROM delta WHERE d > 0"
        f" ON CONFLICT ({keys}) DO UPDATE SET n = {table}.n + EXCLUDED.n)"
        f" UPDATE {table} SET n = {table}.n + delta.d FROM delta WHERE delta.d < 0 AND {same}"
    )


def _apply(s: Summary, sources: list[tuple[str, int]]) -> list[str]:
    return [apply_delta(s.table, list(s.key), _delta(s, sources))]


# PostgreSQL: one statement-level trigger per operation, over its transition tables, so a
# bulk UPDATE (the export moves thousands of cases at once) touches each summary row once per
# statement instead of once per case (a per-row trigger made 20,000 versions of one row in
# one transaction, each UPDATE walking the ones before: 88 s for a 20 k export).
_PG_EVENTS = {
    "insert": ("INSERT", "REFERENCING NEW TABLE AS new_rows", [("new_rows", 1)]),
    "update": (
        "UPDATE",
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        [("new_rows", 1), ("old_rows", -1)],
    ),
    "delete": ("DELETE", "REFERENCING OLD TABLE AS old_rows", [("old_rows", -1)]),
}


def create_triggers(dialect: str, tables: tuple[str, ...] | None = None) -> list[str]:
    """DDL that installs the triggers on DIALECT (sqlite or postgresql), keeping TABLES (all
    of today's summaries when None)."""
    if dialect == "sqlite":  # row-level: SQLite has no statement triggers (nor MVCC chains)
        insert = "; ".join(_add("sqlite", "NEW", tables))
        delete = "; ".join(_remove("sqlite", "OLD", tables))
        update = "; ".join(_remove("sqlite", "OLD", tables) + _add("sqlite", "NEW", tables))
        return [
            f"CREATE TRIGGER appeal_summaries_insert AFTER INSERT ON appeals BEGIN {insert}; END",
            f"CREATE TRIGGER appeal_summaries_delete AFTER DELETE ON appeals BEGIN {delete}; END",
            "CREATE TRIGGER appeal_summaries_update AFTER UPDATE OF "
            f"{', '.join(_watched(tables))} ON appeals WHEN {_changed('sqlite', tables)}"
            f" BEGIN {update}; END",
        ]
    out = []
    for op, (event, referencing, sources) in _PG_EVENTS.items():
        body = "; ".join(st for s in _known("postgresql", tables) for st in _apply(s, sources))
        out += [
            f"CREATE FUNCTION appeal_summaries_{op}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n  {body};\n  RETURN NULL;\nEND $$",
            f"CREATE TRIGGER appeal_summaries_{op} AFTER {event} ON appeals {referencing}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION appeal_summaries_{op}()",
        ]
    return out


def drop_triggers(dialect: str) -> list[str]:
    return _drop("appeal_summaries", "appeals", dialect)


def _drop(prefix: str, table: str, dialect: str) -> list[str]:
    """DDL that removes the triggers PREFIX_<op> on TABLE (and their functions on PostgreSQL)."""
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {prefix}_{op}" for op in ("insert", "delete", "update")]
    return [
        statement
        for op in _PG_EVENTS
        for statement in (
            f"DROP TRIGGER IF EXISTS {prefix}_{op} ON {table}",
            f"DROP FUNCTION IF EXISTS {prefix}_{op}()",
        )
    ]


# Where a case's verval stands, from its field checks (review.queries.VERVAL_STATES): one not
# answered yet makes it 'requested'; all of them answered, 'received'; none asked, 'none'.
VERVAL_SQL = (
    "CASE WHEN EXISTS (SELECT 1 FROM field_checks f WHERE f.appeal_id = appeals.id"
    " AND f.done_at IS NULL) THEN 'requested'"
    " WHEN EXISTS (SELECT 1 FROM field_checks f WHERE f.appeal_id = appeals.id)"
    " THEN 'received' ELSE 'none' END"
)


def set_verval(which: str) -> str:
    """An UPDATE that sets ``appeals.verval`` from the field checks, for the cases WHICH (a
    condition over ``appeals``) whose state it changes (the others are not written, so the
    summaries' triggers see no change for them)."""
    return (
        f"UPDATE appeals SET verval = {VERVAL_SQL}"
        f" WHERE ({which}) AND appeals.verval <> ({VERVAL_SQL})"
    )


# every case whose verval may be wrong: those with a field check, and those said to have one
VERVAL_REPAIR = set_verval(
    "appeals.id IN (SELECT appeal_id FROM field_checks) OR appeals.verval <> 'none'"
)

# the triggers on field_checks: statement-level on PostgreSQL over the same transition tables
# as those on appeals (_PG_EVENTS; PostgreSQL takes no column list beside them), row-level on
# SQLite


def create_verval_triggers(dialect: str) -> list[str]:
    """DDL of the triggers on field_checks that keep ``appeals.verval`` (migration 0025)."""
    if dialect == "sqlite":
        one = "appeals.id = {r}.appeal_id"
        return [
            "CREATE TRIGGER field_checks_verval_insert AFTER INSERT ON field_checks"
            f" BEGIN {set_verval(one.format(r='NEW'))}; END",
            "CREATE TRIGGER field_checks_verval_delete AFTER DELETE ON field_checks"
            f" BEGIN {set_verval(one.format(r='OLD'))}; END",
            "CREATE TRIGGER field_checks_verval_update AFTER UPDATE OF appeal_id, done_at"
            " ON field_checks"
            f" BEGIN {set_verval(one.format(r='OLD'))}; {set_verval(one.format(r='NEW'))}; END",
        ]
    out = []
    for op, (event, referencing, sources) in _PG_EVENTS.items():
        ids = " UNION ".join(f"SELECT appeal_id FROM {t}" for t, _sign in sources)
        out += [
            f"CREATE FUNCTION field_checks_verval_{op}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n  {set_verval(f'appeals.id IN ({ids})')};\n  RETURN NULL;\nEND $$",
            f"CREATE TRIGGER field_checks_verval_{op} AFTER {event} ON field_checks {referencing}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION field_checks_verval_{op}()",
        ]
    return out


def drop_verval_triggers(dialect: str) -> list[str]:
    return _drop("field_checks_verval", "field_checks", dialect)


def rebuild_statements(dialect: str, tables: tuple[str, ...] | None = None) -> list[str]:
    out = []
    for s in _known(dialect, tables):
        values = ", ".join(_values(s, "a"))
        out += [
            f"DELETE FROM {s.table}",
            f"INSERT INTO {s.table} ({', '.join(s.key)}, n) SELECT {values}, count(*)"
            f" FROM appeals a WHERE {s.where.format(r='a')} GROUP BY {values}",
        ]
    return out


def rebuild(connection: Any) -> None:
    """Recompute each case's verval from its field checks, then every summary from the
    cases, in CONNECTION's transaction."""
    connection.execute(text(VERVAL_REPAIR))
    for statement in rebuild_statements(connection.dialect.name):
        connection.execute(text(statement))
