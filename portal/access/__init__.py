"""The household's access log, written through this module only, as the audit trail is
(portal.audit.service.record): :func:`record`, or for the look-up's hot path :func:`entry`
with :func:`write` or, on PostgreSQL, :func:`insert_cte` (the row written by the caller's own
statement, portal.replay.remember_lookup).

Every read of a household's data writes one row per household into ``access_events``
(portal/lookup/models.py), keyed by the No. KK's HMAC, with a :class:`Purpose` from the
vocabulary below, who read it as a kind (citizen, staff role and office, export) and never
as a person, and only a coarse network prefix. The household reads its rows back on
"Riwayat pengecekan" (portal/access/history.py, /hasil/riwayat). Which pages read a
household's data, and so must call :func:`record`, is declared in portal/access/paths.py;
tests/access/test_every_path.py walks the app's routes against that list.

Flask-light: the only Flask it touches is the app's config (the look-up's commit setting).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from flask import current_app
from sqlalchemy import (
    CTE,
    Select,
    String,
    Table,
    bindparam,
    func,
    insert,
    literal,
    null,
    select,
    true,
)

from portal import db
from portal.lookup.models import AccessEvent, Actor
from portal.security import ip_prefix


class Purpose(StrEnum):
    """Why a household's data was read: what the household is told (portal/access/history)."""

    LOOKUP = "lookup"  # a NIK + No. KK of its card found it on this website
    FILING = "filing"  # a filer proved a NIK + No. KK of its card to file a case
    CASE = "case"  # Dinsos staff opened a case (sanggahan/usulan) about it
    FIELD_CHECK = "field_check"  # the desa operator opened the field check (verval) of a case
    SEARCH = "search"  # a staff search showed it (a candidate for a reported household, or a
    # case about it found by ticket, NIK, No. KK or name)
    QUEUE = "queue"  # the staff queue listed a case about it with the name of its head
    EXPORT = "export"  # a decided case about it was written into an export for Pusdatin
    DOWNLOAD = "download"  # an export file holding it was downloaded by staff


# through which channel, and as which kind of reader, each purpose reads
CHANNEL = {
    Purpose.LOOKUP: "web",
    Purpose.FILING: "web",
    Purpose.CASE: "staff",
    Purpose.FIELD_CHECK: "staff",
    Purpose.SEARCH: "staff",
    Purpose.QUEUE: "staff",
    Purpose.EXPORT: "export",
    Purpose.DOWNLOAD: "export",
}
ACTOR = {
    Purpose.LOOKUP: Actor.CITIZEN,
    Purpose.FILING: Actor.CITIZEN,
    Purpose.CASE: Actor.STAFF,
    Purpose.FIELD_CHECK: Actor.STAFF,
    Purpose.SEARCH: Actor.STAFF,
    Purpose.QUEUE: Actor.STAFF,
    Purpose.EXPORT: Actor.EXPORT,
    Purpose.DOWNLOAD: Actor.EXPORT,  # the export's data, in an officer's hands
}


@dataclass(frozen=True)
class Reader:
    """Who reads, as the log keeps it: a role and an office, never a person."""

    role: str | None = None
    office: str | None = None  # region code: kabupaten/kota of Dinsos, desa of a field check
    ip_prefix: str | None = None

    @classmethod
    def staff(
        cls, user: Any, remote_addr: str | None = None, *, office: str | None = None
    ) -> Reader:
        """An officer (a StaffUser): role, office (OFFICE overrides it) and network."""
        return cls(user.role, office or user.office_code or None, ip_prefix(remote_addr) or None)


Households = str | Iterable[str] | Select[Any, Any]  # (kk_hmac, period) rows
COLUMNS = (
    "kk_hmac",
    "at",
    "channel",
    "actor",
    "actor_role",
    "actor_office",
    "period",
    "ip_prefix",
    "purpose",
)


# A Core INSERT of the table (not of the ORM entity: no unit-of-work's bulk path), its
# values bound at execution, so a look-up neither builds nor keys a statement.
_TABLE = cast(Table, AccessEvent.__table__)
_INSERT_ONE = insert(_TABLE)
# The same on PostgreSQL with ``SET LOCAL synchronous_commit = off`` folded in (one round
# trip instead of two): set_config(..., true) is SET LOCAL, run by the SELECT the row comes
# from, so it holds for this transaction's commit whatever runs after it.
_ASYNC = select(func.set_config("synchronous_commit", "off", true()).label("done")).cte("async")
_INSERT_ONE_ASYNC = insert(_TABLE).from_select(
    list(COLUMNS),
    select(*(bindparam(name, type_=_TABLE.c[name].type) for name in COLUMNS)).select_from(_ASYNC),
)


@dataclass(frozen=True)
class Entry:
    """One household's access row, made by :func:`entry` and not written yet: :func:`write`
    writes it in the session's transaction; on PostgreSQL :func:`insert_cte` folds it into
    the caller's own statement (the look-up writes it with the result's reference,
    portal.replay.remember_lookup: one statement, one commit)."""

    values: dict[str, Any]  # bound by name: kk_hmac, period and the COLUMNS' others
    asynchronous: bool  # commit without waiting for the WAL flush (PostgreSQL)


def _fixed(purpose: Purpose, who: Reader, channel: str | None) -> dict[str, Any]:
    return {
        "at": db.utcnow(),
        "channel": channel or CHANNEL[purpose],
        "actor": ACTOR[purpose].value,
        "actor_role": who.role,
        "actor_office": who.office,
        "ip_prefix": who.ip_prefix,
        "purpose": purpose.value,
    }


def _asynchronous(purpose: Purpose, dialect: str) -> bool:
    """A citizen's look-up may skip waiting for the WAL flush on PostgreSQL
    (ACCESS_LOG_ASYNC_COMMIT, docs/lookup.md): its transaction holds no audit row."""
    return (
        purpose is Purpose.LOOKUP
        and dialect == "postgresql"
        and bool(current_app.config["ACCESS_LOG_ASYNC_COMMIT"])
    )


def entry(
    purpose: Purpose,
    kk_hmac: str,
    *,
    reader: Reader | None = None,
    period: str | None = None,
    channel: str | None = None,
) -> Entry:
    """The row :func:`record` would write for one household, to be written by the caller."""
    dialect = db.session.get_bind().dialect.name
    values = {"kk_hmac": kk_hmac, "period": period, **_fixed(purpose, reader or Reader(), channel)}
    return Entry(values, _asynchronous(purpose, dialect))


def write(one: Entry) -> None:
    """Write ONE in the session's transaction (the caller commits)."""
    statement = _INSERT_ONE_ASYNC if one.asynchronous else _INSERT_ONE
    db.session.connection().execute(statement, one.values)


def insert_cte(one: Entry) -> CTE:
    """ONE's INSERT as a data-modifying WITH (PostgreSQL), its values bound by name (pass
    ``one.values`` with the statement's own): it runs whatever the statement it is added to
    does, in that statement's transaction. Built once a process."""
    return _CTE_ASYNC if one.asynchronous else _CTE


_CTE = (
    insert(_TABLE)
    .values({name: bindparam(name, type_=_TABLE.c[name].type) for name in COLUMNS})
    .cte("access_row")
)
_CTE_ASYNC = _INSERT_ONE_ASYNC.cte("access_row")


def record(
    purpose: Purpose,
    households: Households,
    *,
    reader: Reader | None = None,
    period: str | None = None,
    channel: str | None = None,
) -> int | None:
    """Log that READER read the data of HOUSEHOLDS for PURPOSE, in the session's
    transaction (the caller commits, with the action's audit row if it has one).

    HOUSEHOLDS is one No. KK HMAC, several (each logged once), or a SELECT of
    ``(kk_hmac, period)`` rows for set-based callers (one INSERT ... SELECT; PERIOD is then
    ignored). Returns how many rows were written (None when the database does not say).

    A citizen's look-up may skip waiting for the WAL flush on PostgreSQL
    (ACCESS_LOG_ASYNC_COMMIT, docs/lookup.md): its transaction holds no audit row."""
    conn = db.session.connection()
    asynchronous = _asynchronous(purpose, conn.dialect.name)
    fixed = _fixed(purpose, reader or Reader(), channel)
    now = fixed["at"]
    if isinstance(households, Select):
        rows = households.subquery()
        key, of_period = rows.c[0], rows.c[1]
        values = {
            name: (literal(value, String) if value is not None else null())
            for name, value in fixed.items()
            if name != "at"
        }
        entries = select(
            key,
            literal(now, db.UTCDateTime()),
            values["channel"],
            values["actor"],
            values["actor_role"],
            values["actor_office"],
            of_period,
            values["ip_prefix"],
            values["purpose"],
        ).order_by(key)
        result = conn.execute(insert(AccessEvent).from_select(list(COLUMNS), entries))
        count = result.rowcount
        return int(count) if count is not None and count >= 0 else None
    keys = [households] if isinstance(households, str) else list(dict.fromkeys(households))
    keys = [k for k in keys if k]
    if not keys:
        return 0
    if len(keys) == 1:  # one INSERT built once a process (set_config folded in if async)
        write(Entry({"kk_hmac": keys[0], "period": period, **fixed}, asynchronous))
        return 1
    if asynchronous:
        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
    conn.execute(insert(AccessEvent), [{"kk_hmac": k, "period": period, **fixed} for k in keys])
    return len(keys)
