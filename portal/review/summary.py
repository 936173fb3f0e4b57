"""Maintained summaries of the cases, so the staff queue and dashboard never count a million
rows:

- ``appeal_counts``: cases per kabupaten, kecamatan, reason code, status and decided or not;
- ``appeal_open_due``: open cases per kabupaten, kecamatan, due date (UTC day) and escalated
  or not; overdue = the days before today here + today's part from the index;
- ``appeal_decision_hours``: decided cases per kabupaten and whole hours to decision.

Database triggers on ``appeals`` keep them right on every insert, update and delete, whatever
code path writes (the filing, ``transition()``'s conditional UPDATE, a contest, the export,
a test factory, a manual fix in psql): counting in the database is the only place no write
can bypass. A decrement only updates an existing row, so emptying a summary before the cases
(a test's clean-up) leaves no negative rows behind. ``rebuild()`` recomputes them from the
cases, after a bulk load that bypassed the triggers (bench/seed_cases.py) or to repair.
Migration 0013 installs the triggers (``create_triggers``) and fills the tables.

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
    ]


# an update that changes none of these leaves the summaries alone
WATCHED = (
    "kabupaten_code",
    "kecamatan_code",
    "reason_code",
    "status",
    "decided_at",
    "created_at",
    "due_at",
    "escalated_at",
)


def _values(s: Summary, r: str) -> list[str]:
    return [v.format(r=r) for v in s.key.values()]


def _match(s: Summary, r: str) -> str:
    return " AND ".join(f"{c} = ({v})" for c, v in zip(s.key, _values(s, r), strict=True))


def _add(dialect: str, r: str) -> list[str]:
    out = []
    for s in summaries(dialect):
        where = s.where.format(r=r)
        out += [
            f"INSERT INTO {s.table} ({', '.join(s.key)}, n) SELECT {', '.join(_values(s, r))}, 0"
            f" WHERE {where} ON CONFLICT DO NOTHING",
            f"UPDATE {s.table} SET n = n + 1 WHERE ({where}) AND {_match(s, r)}",
        ]
    return out


def _remove(dialect: str, r: str) -> list[str]:
    return [
        f"UPDATE {s.table} SET n = n - 1 WHERE ({s.where.format(r=r)}) AND {_match(s, r)}"
        for s in summaries(dialect)
    ]


def _changed(dialect: str) -> str:
    """OLD and NEW differ in a watched column (NULL-safe)."""
    differ = (
        "NOT (OLD.{c} IS NEW.{c})" if dialect == "sqlite" else "OLD.{c} IS DISTINCT FROM NEW.{c}"
    )
    return " OR ".join(differ.format(c=c) for c in WATCHED)


def create_triggers(dialect: str) -> list[str]:
    """DDL that installs the triggers on DIALECT (sqlite or postgresql)."""
    if dialect == "sqlite":
        insert = "; ".join(_add("sqlite", "NEW"))
        delete = "; ".join(_remove("sqlite", "OLD"))
        update = "; ".join(_remove("sqlite", "OLD") + _add("sqlite", "NEW"))
        return [
            f"CREATE TRIGGER appeal_summaries_insert AFTER INSERT ON appeals BEGIN {insert}; END",
            f"CREATE TRIGGER appeal_summaries_delete AFTER DELETE ON appeals BEGIN {delete}; END",
            f"CREATE TRIGGER appeal_summaries_update AFTER UPDATE OF {', '.join(WATCHED)}"
            f" ON appeals WHEN {_changed('sqlite')} BEGIN {update}; END",
        ]
    changed = _changed("postgresql")
    add = "; ".join(_add("postgresql", "NEW"))
    remove = "; ".join(_remove("postgresql", "OLD"))
    return [
        f"""CREATE FUNCTION appeal_summaries_maintain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND ({changed})) THEN {remove}; END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND ({changed})) THEN {add}; END IF;
  RETURN NULL;
END $$""",
        "CREATE TRIGGER appeal_summaries_maintain AFTER INSERT OR UPDATE OR DELETE ON appeals"
        " FOR EACH ROW EXECUTE FUNCTION appeal_summaries_maintain()",
    ]


def drop_triggers(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS appeal_summaries_{op}" for op in ("insert", "delete", "update")
        ]
    return [
        "DROP TRIGGER IF EXISTS appeal_summaries_maintain ON appeals",
        "DROP FUNCTION IF EXISTS appeal_summaries_maintain()",
    ]


def rebuild_statements(dialect: str) -> list[str]:
    out = []
    for s in summaries(dialect):
        values = ", ".join(_values(s, "a"))
        out += [
            f"DELETE FROM {s.table}",
            f"INSERT INTO {s.table} ({', '.join(s.key)}, n) SELECT {values}, count(*)"
            f" FROM appeals a WHERE {s.where.format(r='a')} GROUP BY {values}",
        ]
    return out


def rebuild(connection: Any) -> None:
    """Recompute every summary from the cases, in CONNECTION's transaction."""
    for statement in rebuild_statements(connection.dialect.name):
        connection.execute(text(statement))
