"""Rows that expire: look-up references and kept forms (portal/replay), tracking grants and
case-list grants (portal/appeals), and drafts untouched for a day (portal/appeals/drafts).
Each is read only while it is valid (its reader checks ``expires_at``); an expired row is
deleted by :func:`sweep` (drafts: :func:`due`), called by the writes that add rows to its
table, and by ``flask appeals purge-drafts`` (hourly) for what a quiet site leaves.

A table's expired rows are swept **at most once every EXPIRED_SWEEP_SECONDS per process**,
not on every write. Deleting them on every write made each write scan every row deleted
since the table was last vacuumed: on PostgreSQL the index on ``expires_at`` keeps a deleted
row's entry until VACUUM, and the bitmap scan such a DELETE uses never marks one dead. At a
steady rate that is tens of thousands of entries a write by the time autovacuum comes: after
30 minutes of look-ups (the references' lifetime) each look-up's DELETE took 8 ms and the
look-up ran at a third of its speed (bench/README.md, "Expired rows"). A write still deletes
its own browser's previous row, by its key. And a sweep after a process's first reads only
the rows that expired since its last one, so even the sweeps do not walk the dead rows.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Table, and_, delete

from portal import db


def due(name: str) -> bool:
    """Whether this process should sweep NAME now: True at most once every
    EXPIRED_SWEEP_SECONDS (0: always), counting this call as the sweep."""
    swept: dict[str, float] = current_app.extensions.setdefault("expiry_sweeps", {})
    clock = time.monotonic()
    last = swept.get(name)
    if last is not None and clock - last < float(current_app.config["EXPIRED_SWEEP_SECONDS"]):
        return False
    swept[name] = clock
    return True


# How far before its last sweep a process's next sweep looks: the rows it needs are those
# that expired since (each was written 30 or 15 minutes before it expires, so a row that
# expired earlier was there for the last sweep, by any clock within minutes of this one).
OVERLAP = timedelta(seconds=5)


def sweep(table: Table | Any, now: datetime) -> int | None:
    """Delete TABLE's rows that expired before NOW, in the session's transaction, if
    :func:`due`. TABLE is a Table or a mapped class. Returns how many rows went, or None
    when it did not sweep.

    After a process's first sweep, the next ones read only the rows that expired since its
    last one (and OVERLAP before): the index range of a few seconds of traffic, not every
    row that any sweep deleted since the table was last vacuumed. (A sweep rolled back with
    its transaction leaves its rows to ``flask appeals purge-drafts``.)"""
    table = getattr(table, "__table__", table)
    if not due(table.name):
        return None
    since: dict[str, datetime] = current_app.extensions.setdefault("expiry_swept_until", {})
    expired = table.c.expires_at < now
    if table.name in since:
        expired = and_(table.c.expires_at >= since[table.name] - OVERLAP, expired)
    count = db.rowcount(db.session.execute(delete(table).where(expired)))
    since[table.name] = now
    return count
