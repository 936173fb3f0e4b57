"""Maintained counts of cases (``appeal_counts``) and of decision times
(``appeal_decision_hours``), so the staff queue and dashboard never count a million rows.

Database triggers on ``appeals`` keep both tables right on every insert, update and delete,
whatever code path writes (the filing, ``transition()``'s conditional UPDATE, a contest, the
export, a test factory, a manual fix in psql): counting in the database is the only place no
write can bypass. A decrement only updates an existing row, so emptying the summary before
the cases (a test's clean-up) leaves no negative rows behind. ``rebuild()`` recomputes both
from the cases, after a bulk load that bypassed the triggers (bench/seed_cases.py) or to
repair; ``CREATE_TRIGGERS``/``DROP_TRIGGERS`` are used by migration 0013.

What is not here: anything that depends on the clock (overdue) or on one officer (mine,
escalated): those are counted from the cases through indexes (migration 0013).
"""

# ruff: noqa: S608 (every statement is built from the constant column names above, no input)
from __future__ import annotations

from typing import Any

from sqlalchemy import text

# the key of a case in appeal_counts, and its decision time in whole hours (rounded)
_HOURS = {
    "postgresql": "round(extract(epoch from ({r}.decided_at - {r}.created_at)) / 3600)::int",
    "sqlite": "CAST(round((julianday({r}.decided_at) - julianday({r}.created_at)) * 24)"
    " AS INTEGER)",
}


def _key(r: str) -> dict[str, str]:
    return {
        "kabupaten_code": f"{r}.kabupaten_code",
        "kecamatan_code": f"{r}.kecamatan_code",
        "kode_desa": f"coalesce({r}.kode_desa, '')",
        "reason_code": f"{r}.reason_code",
        "status": f"{r}.status",
        "decided": f"({r}.decided_at IS NOT NULL)",
    }


def _match(r: str) -> str:
    return " AND ".join(f"{column} = ({value})" for column, value in _key(r).items())


def _add(dialect: str, r: str) -> list[str]:
    values = ", ".join(_key(r).values())
    hours = _HOURS[dialect].format(r=r)
    return [
        f"INSERT INTO appeal_counts (kabupaten_code, kecamatan_code, kode_desa, reason_code,"
        f" status, decided, n) VALUES ({values}, 0) ON CONFLICT DO NOTHING",
        f"UPDATE appeal_counts SET n = n + 1 WHERE {_match(r)}",
        f"INSERT INTO appeal_decision_hours (kabupaten_code, hours, n)"
        f" SELECT {r}.kabupaten_code, {hours}, 0 WHERE {r}.decided_at IS NOT NULL"
        f" ON CONFLICT DO NOTHING",
        f"UPDATE appeal_decision_hours SET n = n + 1 WHERE {r}.decided_at IS NOT NULL"
        f" AND kabupaten_code = {r}.kabupaten_code AND hours = {hours}",
    ]


def _remove(dialect: str, r: str) -> list[str]:
    hours = _HOURS[dialect].format(r=r)
    return [
        f"UPDATE appeal_counts SET n = n - 1 WHERE {_match(r)}",
        f"UPDATE appeal_decision_hours SET n = n - 1 WHERE {r}.decided_at IS NOT NULL"
        f" AND kabupaten_code = {r}.kabupaten_code AND hours = {hours}",
    ]


# an update that changes none of these leaves the counts alone
WATCHED = ("kabupaten_code", "kecamatan_code", "kode_desa", "reason_code", "status")
WATCHED_TIMES = ("decided_at", "created_at")


def _changed(dialect: str) -> str:
    """OLD and NEW differ in a counted column (NULL-safe)."""
    differ = (
        "NOT (OLD.{c} IS NEW.{c})" if dialect == "sqlite" else "OLD.{c} IS DISTINCT FROM NEW.{c}"
    )
    return " OR ".join(differ.format(c=c) for c in WATCHED + WATCHED_TIMES)


def create_triggers(dialect: str) -> list[str]:
    """DDL that installs the triggers on DIALECT (sqlite or postgresql)."""
    if dialect == "sqlite":
        columns = ", ".join(WATCHED + WATCHED_TIMES)
        body = {
            "insert": _add("sqlite", "NEW"),
            "delete": _remove("sqlite", "OLD"),
            "update": _remove("sqlite", "OLD") + _add("sqlite", "NEW"),
        }
        return [
            "CREATE TRIGGER appeal_counts_insert AFTER INSERT ON appeals BEGIN "
            + "; ".join(body["insert"])
            + "; END",
            "CREATE TRIGGER appeal_counts_delete AFTER DELETE ON appeals BEGIN "
            + "; ".join(body["delete"])
            + "; END",
            f"CREATE TRIGGER appeal_counts_update AFTER UPDATE OF {columns} ON appeals"
            f" WHEN {_changed('sqlite')} BEGIN " + "; ".join(body["update"]) + "; END",
        ]
    changed = _changed("postgresql")
    add = "; ".join(_add("postgresql", "NEW"))
    remove = "; ".join(_remove("postgresql", "OLD"))
    return [
        f"""CREATE FUNCTION appeal_counts_maintain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND ({changed})) THEN {remove}; END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND ({changed})) THEN {add}; END IF;
  RETURN NULL;
END $$""",
        "CREATE TRIGGER appeal_counts_maintain AFTER INSERT OR UPDATE OR DELETE ON appeals"
        " FOR EACH ROW EXECUTE FUNCTION appeal_counts_maintain()",
    ]


def drop_triggers(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS appeal_counts_{op}" for op in ("insert", "delete", "update")
        ]
    return [
        "DROP TRIGGER IF EXISTS appeal_counts_maintain ON appeals",
        "DROP FUNCTION IF EXISTS appeal_counts_maintain()",
    ]


def rebuild_statements(dialect: str) -> list[str]:
    key = _key("a")
    hours = _HOURS[dialect].format(r="a")
    return [
        "DELETE FROM appeal_counts",
        "DELETE FROM appeal_decision_hours",
        "INSERT INTO appeal_counts (kabupaten_code, kecamatan_code, kode_desa, reason_code,"
        f" status, decided, n) SELECT {', '.join(key.values())}, count(*) FROM appeals a"
        f" GROUP BY {', '.join(key.values())}",
        f"INSERT INTO appeal_decision_hours (kabupaten_code, hours, n)"
        f" SELECT a.kabupaten_code, {hours}, count(*) FROM appeals a"
        f" WHERE a.decided_at IS NOT NULL GROUP BY a.kabupaten_code, {hours}",
    ]


def rebuild(connection: Any) -> None:
    """Recompute both summaries from the cases, in CONNECTION's transaction."""
    for statement in rebuild_statements(connection.dialect.name):
        connection.execute(text(statement))
