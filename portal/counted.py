"""Counts kept by database triggers: summary tables of a table's rows (how many cases per
kabupaten and status, per desa and due date, ...), right after every insert, update and
delete whatever code path writes, so that a page reads a few thousand summary rows instead
of counting a million.

A ``Summary`` names its table, its key (each column with the SQL expression over a row
``{r}`` that fills it) and which rows it counts. ``create_triggers`` builds the DDL that keeps
a list of them over one table:

- on SQLite, row-level triggers: a row's key loses one and gains one;
- on PostgreSQL, statement-level triggers over the statement's transition tables (a bulk
  UPDATE, such as the export moving thousands of cases at once, changes each summary row
  once per statement, not once per row: a per-row trigger made 20,000 versions of one row in
  one transaction, each UPDATE walking the ones before, 88 s for a 20 k export).

A decrement only updates an existing row, so emptying a summary before the rows it counts
(a test's clean-up) leaves no negative rows behind. ``rebuild_statements`` recomputes the
summaries from the rows, after a bulk load that bypassed the triggers or to repair.

Users: portal/review/summary.py (the staff queue and dashboard) and portal/statistik/cases.py
(the public statistics). Their migrations install the triggers built here, so a change to
the SQL built here changes what a later migration installs, never what an earlier one did on
a database already migrated: compare the DDL before and after (tests/test_migrations.py
compares the schema, the triggers' effects are tested per summary).
"""

# ruff: noqa: S608 (every statement is built from the constant SQL fragments of the callers)
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# a statement's change, per operation: the event, its transition tables and the sign of each
PG_EVENTS: dict[str, tuple[str, str, list[tuple[str, int]]]] = {
    "insert": ("INSERT", "REFERENCING NEW TABLE AS new_rows", [("new_rows", 1)]),
    "update": (
        "UPDATE",
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        [("new_rows", 1), ("old_rows", -1)],
    ),
    "delete": ("DELETE", "REFERENCING OLD TABLE AS old_rows", [("old_rows", -1)]),
}
SQLITE_EVENTS = ("insert", "delete", "update")


@dataclass(frozen=True)
class Summary:
    table: str
    key: dict[str, str]  # column -> SQL expression over the row {r}
    where: str  # which rows are counted, over {r}

    def values(self, r: str) -> list[str]:
        return [v.replace("{r}", r) for v in self.key.values()]

    def counts(self, r: str) -> str:
        """Whether the row R is counted."""
        return self.where.replace("{r}", r)

    def matches(self, r: str) -> str:
        """The summary row of row R's key."""
        pairs = zip(self.key, self.values(r), strict=True)
        return " AND ".join(f"{c} = ({v})" for c, v in pairs)

    def add(self, r: str) -> list[str]:
        """SQLite: count row R (its summary row created at 0 first if missing)."""
        return [
            f"INSERT INTO {self.table} ({', '.join(self.key)}, n)"
            f" SELECT {', '.join(self.values(r))}, 0 WHERE {self.counts(r)} ON CONFLICT DO NOTHING",
            f"UPDATE {self.table} SET n = n + 1 WHERE ({self.counts(r)}) AND {self.matches(r)}",
        ]

    def remove(self, r: str) -> str:
        """SQLite: stop counting row R."""
        return f"UPDATE {self.table} SET n = n - 1 WHERE ({self.counts(r)}) AND {self.matches(r)}"

    def delta(self, sources: Sequence[tuple[str, int]]) -> str:
        """The net change per key from a statement's transition tables, e.g.
        [("new_rows", 1), ("old_rows", -1)]; keys whose rows came and went cancel out."""
        keys = ", ".join(self.key)
        pairs = zip(self.key, self.values("r"), strict=True)
        columns = ", ".join(f"{v} AS {c}" for c, v in pairs)
        parts = [
            f"SELECT {columns}, {sign} AS d FROM {table} r WHERE {self.counts('r')}"
            for table, sign in sources
        ]
        return (
            f"SELECT {keys}, CAST(sum(d) AS integer) AS d FROM ({' UNION ALL '.join(parts)}) x"
            f" GROUP BY {keys} HAVING sum(d) <> 0"
        )

    def rebuild(self, source: str) -> list[str]:
        """Recount the summary from every row of the table SOURCE."""
        values = ", ".join(self.values("a"))
        return [
            f"DELETE FROM {self.table}",
            f"INSERT INTO {self.table} ({', '.join(self.key)}, n) SELECT {values}, count(*)"
            f" FROM {source} a WHERE {self.counts('a')} GROUP BY {values}",
        ]


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


def changed(dialect: str, watched: Iterable[str]) -> str:
    """OLD and NEW differ in a watched column (NULL-safe)."""
    differ = (
        "NOT (OLD.{c} IS NEW.{c})" if dialect == "sqlite" else "OLD.{c} IS DISTINCT FROM NEW.{c}"
    )
    return " OR ".join(differ.format(c=c) for c in watched)


def create_triggers(
    prefix: str, table: str, summaries: list[Summary], watched: Sequence[str], dialect: str
) -> list[str]:
    """DDL of the triggers PREFIX_<op> on TABLE that keep SUMMARIES on DIALECT (sqlite or
    postgresql); an update that changes none of the WATCHED columns leaves them alone (on
    PostgreSQL it nets out to no change: a statement trigger takes no column list beside
    transition tables)."""
    if dialect == "sqlite":  # row-level: SQLite has no statement triggers (nor MVCC chains)
        add = [st for s in summaries for st in s.add("NEW")]
        remove = [s.remove("OLD") for s in summaries]
        return [
            f"CREATE TRIGGER {prefix}_insert AFTER INSERT ON {table} BEGIN {'; '.join(add)}; END",
            f"CREATE TRIGGER {prefix}_delete AFTER DELETE ON {table}"
            f" BEGIN {'; '.join(remove)}; END",
            f"CREATE TRIGGER {prefix}_update AFTER UPDATE OF {', '.join(watched)} ON {table}"
            f" WHEN {changed('sqlite', watched)} BEGIN {'; '.join(remove + add)}; END",
        ]
    out = []
    for op, (event, referencing, sources) in PG_EVENTS.items():
        body = "; ".join(apply_delta(s.table, list(s.key), s.delta(sources)) for s in summaries)
        out += [
            f"CREATE FUNCTION {prefix}_{op}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n  {body};\n  RETURN NULL;\nEND $$",
            f"CREATE TRIGGER {prefix}_{op} AFTER {event} ON {table} {referencing}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_{op}()",
        ]
    return out


def drop_triggers(prefix: str, table: str, dialect: str) -> list[str]:
    """DDL that removes the triggers PREFIX_<op> on TABLE (and their functions on PostgreSQL)."""
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {prefix}_{op}" for op in SQLITE_EVENTS]
    return [
        statement
        for op in PG_EVENTS
        for statement in (
            f"DROP TRIGGER IF EXISTS {prefix}_{op} ON {table}",
            f"DROP FUNCTION IF EXISTS {prefix}_{op}()",
        )
    ]


def rebuild_statements(summaries: list[Summary], source: str) -> list[str]:
    """Recount SUMMARIES from every row of SOURCE."""
    return [st for s in summaries for st in s.rebuild(source)]
