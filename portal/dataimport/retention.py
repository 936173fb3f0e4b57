"""Which snapshots are kept, and the removal of the others.

SNAPSHOT_KEEP_PERIODS published periods are kept (at least two: the look-up compares a
household with the previous period). Older published snapshots and every replaced one are
pruned after each successful publication and by ``flask dtsen prune``. On PostgreSQL a
snapshot is two partitions (persons_N, households_N in schema snapshot_parts): pruning drops
them, which costs the same whatever their size. A run that was killed leaves a LOADING
snapshot, a staging table or tables not yet attached: ``clean_abandoned`` removes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import Connection, delete, select, text

from portal import db
from portal.dataimport.models import Household, Person, Snapshot, SnapshotStatus

MIN_KEEP = 2
SCHEMA = "snapshot_parts"
IMPORT_LOCK = 0x44545345  # pg_advisory_lock key: one import or prune at a time ("DTSE")


@contextmanager
def import_lock() -> Iterator[None]:
    """Serialise imports and prunes on PostgreSQL (an advisory lock held on a connection of
    its own, so that it outlasts the load's commits). SQLite serialises writers itself."""
    if not _is_postgres():
        yield
        return
    with db.session.get_bind().engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": IMPORT_LOCK})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": IMPORT_LOCK})
            conn.commit()


def keep_periods() -> int:
    return max(MIN_KEEP, int(current_app.config["SNAPSHOT_KEEP_PERIODS"]))


def to_prune(keep: int) -> list[int]:
    """Ids of the snapshots beyond retention: published ones older than the KEEP newest
    periods, and every replaced one."""
    periods = list(
        db.session.scalars(
            select(Snapshot.period)
            .where(Snapshot.status == SnapshotStatus.PUBLISHED)
            .distinct()
            .order_by(Snapshot.period.desc())
        )
    )
    kept = set(periods[:keep])
    rows = db.session.execute(
        select(Snapshot.id, Snapshot.period, Snapshot.status).where(
            Snapshot.status.in_([SnapshotStatus.PUBLISHED, SnapshotStatus.REPLACED])
        )
    ).all()
    return sorted(
        sid
        for sid, period, status in rows
        if status == SnapshotStatus.REPLACED or period not in kept
    )


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def prune(keep: int | None = None) -> list[int]:
    """Remove the snapshots beyond retention; return their ids. Commits."""
    ids = to_prune(keep_periods() if keep is None else max(MIN_KEEP, keep))
    if not ids:
        return []
    if _is_postgres():
        conn = db.session.connection()
        conn.execute(text("SET LOCAL lock_timeout = '60s'"))
        for sid in ids:
            # DROP of a partition is instant whatever its size (no row-by-row delete)
            _drop_partitions(conn, int(sid))
    else:
        db.session.execute(delete(Person).where(Person.snapshot_id.in_(ids)))
        db.session.execute(delete(Household).where(Household.snapshot_id.in_(ids)))
    db.session.execute(delete(Snapshot).where(Snapshot.id.in_(ids)))
    db.session.commit()
    return ids


def add_empty_partitions(conn: Connection, sid: int) -> None:
    """Empty partitions for snapshot SID on PostgreSQL (a no-op on SQLite): for code that
    writes a snapshot's rows itself instead of through the import (tests, seeders)."""
    if conn.dialect.name != "postgresql":
        return
    for table in ("households", "persons"):  # persons' foreign key names households
        conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{table}_{sid} "
                f"PARTITION OF public.{table} FOR VALUES IN ({int(sid)})"
            )
        )


def _drop_partitions(conn: Connection, sid: int) -> None:
    """Drop one snapshot's partitions: persons first (its foreign key refers to the
    households partition), households detached first (the parent's foreign key names it)."""
    conn.execute(text(f"DROP TABLE IF EXISTS {SCHEMA}.persons_{sid}"))
    attached = conn.execute(
        text(
            "SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relname = :name"
        ),
        {"schema": SCHEMA, "name": f"households_{sid}"},
    ).first()
    if attached:
        conn.execute(text(f"ALTER TABLE households DETACH PARTITION {SCHEMA}.households_{sid}"))
    conn.execute(text(f"DROP TABLE IF EXISTS {SCHEMA}.households_{sid}"))


def clean_abandoned() -> list[str]:
    """Remove what a killed or failed import left: LOADING snapshots, staging tables and
    per-snapshot tables that are not a partition of a snapshot that still exists. Call it
    only while holding the import lock (loader.IMPORT_LOCK) on PostgreSQL. Commits."""
    removed: list[str] = []
    db.session.rollback()
    loading = list(
        db.session.scalars(select(Snapshot.id).where(Snapshot.status == SnapshotStatus.LOADING))
    )
    if not _is_postgres():
        if loading:
            db.session.execute(delete(Person).where(Person.snapshot_id.in_(loading)))
            db.session.execute(delete(Household).where(Household.snapshot_id.in_(loading)))
            db.session.execute(delete(Snapshot).where(Snapshot.id.in_(loading)))
            removed += [f"snapshot {sid}" for sid in loading]
        db.session.commit()
        return removed
    conn = db.session.connection()
    live = set(
        db.session.scalars(
            select(Snapshot.id).where(
                Snapshot.status.in_([SnapshotStatus.PUBLISHED, SnapshotStatus.REPLACED])
            )
        )
    )
    tables = conn.execute(
        text(
            "SELECT c.relname, i.inhparent IS NOT NULL FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_inherits i ON i.inhrelid = c.oid "
            "WHERE n.nspname = :schema AND c.relkind = 'r'"
        ),
        {"schema": SCHEMA},
    ).all()
    # persons first: their foreign key refers to the households partitions
    for name, attached in sorted(tables, key=lambda t: not t[0].startswith("persons")):
        kind, _, number = name.rpartition("_")
        sid = int(number) if number.isdigit() else None
        if kind == "staging" or not attached or sid not in live:
            if attached and kind == "households":
                conn.execute(text(f'ALTER TABLE households DETACH PARTITION {SCHEMA}."{name}"'))
            conn.execute(text(f'DROP TABLE IF EXISTS {SCHEMA}."{name}"'))
            removed.append(name)
    if loading:
        db.session.execute(delete(Snapshot).where(Snapshot.id.in_(loading)))
        removed += [f"snapshot {sid}" for sid in loading]
    db.session.commit()
    return removed
