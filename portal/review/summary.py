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

Database triggers on ``appeals`` (built by portal/counted.py) keep them right on every
insert, update and delete, whatever code path writes (the filing, ``transition()``'s
conditional UPDATE, a contest, the export, a test factory, a manual fix in psql): counting
in the database is the only place no write can bypass. A decrement only updates an existing
row, so emptying a summary before the cases (a test's clean-up) leaves no negative rows
behind. ``rebuild()`` recomputes them from the cases, after a bulk load that bypassed the
triggers (bench/seed_cases.py) or to repair.
Migration 0013 installs the triggers (``create_triggers``: row-level on SQLite, statement-level
over transition tables on PostgreSQL) and fills the tables; a migration that adds a summary
installs them again over every table it knows (``TABLES_0013`` and the like say which).

The areas stop at the kecamatan: a desa operator's scope, and a desa filter, are a few
thousand cases at most, counted from the cases through the (kode_desa, status, due_at, id)
index, which keeps these tables a few thousand rows per kabupaten.
"""

# ruff: noqa: S608 (every statement is built from the constant SQL fragments here, no input)
from __future__ import annotations

from typing import Any

from sqlalchemy import text

from portal import counted
from portal.appeals.models import CHECKED_SQL
from portal.counted import Summary

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
            "{r}." + CHECKED_SQL,
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


def create_triggers(dialect: str, tables: tuple[str, ...] | None = None) -> list[str]:
    """DDL that installs the triggers on DIALECT (sqlite or postgresql), keeping TABLES (all
    of today's summaries when None)."""
    return counted.create_triggers(
        "appeal_summaries", "appeals", _known(dialect, tables), _watched(tables), dialect
    )


def drop_triggers(dialect: str) -> list[str]:
    return counted.drop_triggers("appeal_summaries", "appeals", dialect)


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
    "appeals.id IN (SELECT appeal_id FROM field_checks) OR appeals." + CHECKED_SQL
)

# the triggers on field_checks: statement-level on PostgreSQL over the same transition tables
# as those on appeals (counted.PG_EVENTS; PostgreSQL takes no column list beside them),
# row-level on SQLite


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
    for op, (event, referencing, sources) in counted.PG_EVENTS.items():
        ids = " UNION ".join(f"SELECT appeal_id FROM {t}" for t, _sign in sources)
        out += [
            f"CREATE FUNCTION field_checks_verval_{op}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n  {set_verval(f'appeals.id IN ({ids})')};\n  RETURN NULL;\nEND $$",
            f"CREATE TRIGGER field_checks_verval_{op} AFTER {event} ON field_checks {referencing}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION field_checks_verval_{op}()",
        ]
    return out


def drop_verval_triggers(dialect: str) -> list[str]:
    return counted.drop_triggers("field_checks_verval", "field_checks", dialect)


def rebuild_statements(dialect: str, tables: tuple[str, ...] | None = None) -> list[str]:
    return counted.rebuild_statements(_known(dialect, tables), "appeals")


def rebuild(connection: Any) -> None:
    """Recompute each case's verval from its field checks, then every summary from the
    cases, in CONNECTION's transaction."""
    connection.execute(text(VERVAL_REPAIR))
    for statement in rebuild_statements(connection.dialect.name):
        connection.execute(text(statement))
