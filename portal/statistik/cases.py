"""Case aggregates for the public statistics, kept by database triggers on ``appeals`` (the
same design as portal/review/summary.py: every write is counted whatever code path makes it,
the filing, a decision, the export, a contest or a fix in psql; row-level triggers on SQLite,
statement-level over transition tables on PostgreSQL). Migration 0016 installs them and
fills the tables from the cases; ``rebuild()`` recomputes them after a bulk load.

Grain: DTSEN period when filed x desa ('' when the case names none) x reason code x outcome,
and for decided cases whole days to decision x decided by the promised date. A kabupaten's
rows are a few thousand at most whatever the number of cases; the page sums them per level.
"""

# ruff: noqa: S608 (every statement is built from the constant SQL fragments here, no input)
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from portal.review.summary import apply_delta

# outcome -> the case states it groups (appeals.states.AppealStatus)
OUTCOMES: dict[str, tuple[str, ...]] = {
    "open": ("diterima", "verifikasi"),
    "approved": ("disetujui", "diteruskan", "selesai"),
    "rejected": ("ditolak",),
    "duplicate": ("duplikat",),
    "withdrawn": ("dibatalkan",),
}


def _outcome(r: str) -> str:
    whens = " ".join(
        f"WHEN {r}.status IN ({', '.join(repr(s) for s in states)}) THEN '{name}'"
        for name, states in OUTCOMES.items()
    )
    return f"CASE {whens} ELSE 'other' END"


_DAYS = {
    "postgresql": "CAST(floor(extract(epoch from ({r}.decided_at - {r}.created_at)) / 86400)"
    " AS integer)",
    "sqlite": "CAST(julianday({r}.decided_at) - julianday({r}.created_at) AS INTEGER)",
}


@dataclass(frozen=True)
class Summary:
    table: str
    key: dict[str, str]  # column -> SQL expression over the row {r}
    where: str


def summaries(dialect: str) -> list[Summary]:
    place = {
        "period": "{r}.period",
        "kabupaten_code": "{r}.kabupaten_code",
        "kecamatan_code": "{r}.kecamatan_code",
        "kode_desa": "COALESCE({r}.kode_desa, '')",
    }
    return [
        Summary(
            "stat_case_counts",
            {**place, "reason_code": "{r}.reason_code", "outcome": _outcome("{r}")},
            "{r}.period IS NOT NULL",
        ),
        Summary(
            "stat_case_days",
            {**place, "days": _DAYS[dialect], "on_time": "({r}.decided_at <= {r}.due_at)"},
            "{r}.period IS NOT NULL AND {r}.decided_at IS NOT NULL",
        ),
    ]


WATCHED = (
    "period",
    "kabupaten_code",
    "kecamatan_code",
    "kode_desa",
    "reason_code",
    "status",
    "decided_at",
    "created_at",
    "due_at",
)


def _values(s: Summary, r: str) -> list[str]:
    return [v.replace("{r}", r) for v in s.key.values()]


def _where(s: Summary, r: str) -> str:
    return s.where.replace("{r}", r)


def _match(s: Summary, r: str) -> str:
    return " AND ".join(f"{c} = ({v})" for c, v in zip(s.key, _values(s, r), strict=True))


def _add(dialect: str, r: str) -> list[str]:
    out = []
    for s in summaries(dialect):
        out += [
            f"INSERT INTO {s.table} ({', '.join(s.key)}, n) SELECT {', '.join(_values(s, r))}, 0"
            f" WHERE {_where(s, r)} ON CONFLICT DO NOTHING",
            f"UPDATE {s.table} SET n = n + 1 WHERE ({_where(s, r)}) AND {_match(s, r)}",
        ]
    return out


def _remove(dialect: str, r: str) -> list[str]:
    return [
        f"UPDATE {s.table} SET n = n - 1 WHERE ({_where(s, r)}) AND {_match(s, r)}"
        for s in summaries(dialect)
    ]


def _delta(s: Summary, sources: list[tuple[str, int]]) -> str:
    keys = ", ".join(s.key)
    columns = ", ".join(f"{v} AS {c}" for c, v in zip(s.key, _values(s, "r"), strict=True))
    parts = [
        f"SELECT {columns}, {sign} AS d FROM {table} r WHERE {_where(s, 'r')}"
        for table, sign in sources
    ]
    return (
        f"SELECT {keys}, CAST(sum(d) AS integer) AS d FROM ({' UNION ALL '.join(parts)}) x"
        f" GROUP BY {keys} HAVING sum(d) <> 0"
    )


def _apply(s: Summary, sources: list[tuple[str, int]]) -> list[str]:
    return [apply_delta(s.table, list(s.key), _delta(s, sources))]


_PG_EVENTS = {
    "insert": ("INSERT", "REFERENCING NEW TABLE AS new_rows", [("new_rows", 1)]),
    "update": (
        "UPDATE",
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        [("new_rows", 1), ("old_rows", -1)],
    ),
    "delete": ("DELETE", "REFERENCING OLD TABLE AS old_rows", [("old_rows", -1)]),
}


def _changed(dialect: str) -> str:
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
            f"CREATE TRIGGER statistik_cases_insert AFTER INSERT ON appeals BEGIN {insert}; END",
            f"CREATE TRIGGER statistik_cases_delete AFTER DELETE ON appeals BEGIN {delete}; END",
            f"CREATE TRIGGER statistik_cases_update AFTER UPDATE OF {', '.join(WATCHED)}"
            f" ON appeals WHEN {_changed('sqlite')} BEGIN {update}; END",
        ]
    out = []
    for op, (event, referencing, sources) in _PG_EVENTS.items():
        body = "; ".join(st for s in summaries("postgresql") for st in _apply(s, sources))
        out += [
            f"CREATE FUNCTION statistik_cases_{op}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n  {body};\n  RETURN NULL;\nEND $$",
            f"CREATE TRIGGER statistik_cases_{op} AFTER {event} ON appeals {referencing}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION statistik_cases_{op}()",
        ]
    return out


def drop_triggers(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS statistik_cases_{op}" for op in ("insert", "delete", "update")
        ]
    return [
        statement
        for op in _PG_EVENTS
        for statement in (
            f"DROP TRIGGER IF EXISTS statistik_cases_{op} ON appeals",
            f"DROP FUNCTION IF EXISTS statistik_cases_{op}()",
        )
    ]


def rebuild_statements(dialect: str) -> list[str]:
    out = []
    for s in summaries(dialect):
        values = ", ".join(_values(s, "a"))
        out += [
            f"DELETE FROM {s.table}",
            f"INSERT INTO {s.table} ({', '.join(s.key)}, n) SELECT {values}, count(*)"
            f" FROM appeals a WHERE {_where(s, 'a')} GROUP BY {values}",
        ]
    return out


def rebuild(connection: Any) -> None:
    """Recompute the case aggregates from the cases, in CONNECTION's transaction."""
    for statement in rebuild_statements(connection.dialect.name):
        connection.execute(text(statement))
