"""Case aggregates for the public statistics, kept by database triggers on ``appeals``
built by portal/counted.py, as the staff summaries of portal/review/summary.py are: every write
is counted whatever code path makes it, the filing, a decision, the export, a contest or a fix
in psql (row-level triggers on SQLite, statement-level over transition tables on PostgreSQL).
Migration 0016 installs them and fills the tables from the cases; ``rebuild()`` recomputes
them after a bulk load.

Grain: DTSEN period when filed x desa ('' when the case names none) x reason code x outcome,
and for decided cases whole days to decision x decided by the promised date. A kabupaten's
rows are a few thousand at most whatever the number of cases; the page sums them per level.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from portal import counted
from portal.counted import Summary

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


def create_triggers(dialect: str) -> list[str]:
    """DDL that installs the triggers on DIALECT (sqlite or postgresql)."""
    return counted.create_triggers(
        "statistik_cases", "appeals", summaries(dialect), WATCHED, dialect
    )


def drop_triggers(dialect: str) -> list[str]:
    return counted.drop_triggers("statistik_cases", "appeals", dialect)


def rebuild_statements(dialect: str) -> list[str]:
    return counted.rebuild_statements(summaries(dialect), "appeals")


def rebuild(connection: Any) -> None:
    """Recompute the case aggregates from the cases, in CONNECTION's transaction."""
    for statement in rebuild_statements(connection.dialect.name):
        connection.execute(text(statement))
