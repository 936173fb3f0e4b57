"""Reads of the published snapshots, shared by the look-up and the filing of cases."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import and_, bindparam, case, select

from portal import db, policy
from portal.core.nik import hmac_number
from portal.dataimport.models import Household, Person, Snapshot, SnapshotStatus


@dataclass(frozen=True)
class SnapshotRef:
    """What a request needs to know of a published snapshot (safe to share across requests)."""

    id: int
    period: str
    published_at: datetime | None


# Per process: (engine id, monotonic time read) -> the newest published snapshots. A look-up
# asks for them on every request; they change once a quarter. The importing process clears
# this at once; other processes see a new period within SNAPSHOT_CACHE_SECONDS.
_published_cache: dict[int, tuple[float, list[SnapshotRef]]] = {}


def clear_snapshot_cache() -> None:
    _published_cache.clear()


def published_snapshots(limit: int = 2) -> list[SnapshotRef]:
    """The newest published snapshots (at most 2, newest period first)."""
    ttl = float(current_app.config["SNAPSHOT_CACHE_SECONDS"])
    key = id(current_app.extensions["db_engine"])
    cached = _published_cache.get(key)
    now = time.monotonic()
    if cached is None or now - cached[0] > ttl:
        stmt = (
            select(Snapshot.id, Snapshot.period, Snapshot.published_at)
            .where(Snapshot.status == SnapshotStatus.PUBLISHED)
            .order_by(Snapshot.period.desc())
            .limit(2)
        )
        refs = [SnapshotRef(i, p, at) for i, p, at in db.session.execute(stmt).all()]
        if ttl > 0:
            _published_cache[key] = (now, refs)
        cached = (now, refs)
    return cached[1][:limit]


def current_snapshot() -> SnapshotRef | None:
    snapshots = published_snapshots(1)
    return snapshots[0] if snapshots else None


def members(snapshot_id: int, kk_hmac: str) -> list[Person]:
    """Members of one household in file order. An explicit query on both key columns: the
    composite-key selectinload became a tuple IN that SQLite could not use the index for."""
    stmt = (
        select(Person)
        .where(Person.snapshot_id == snapshot_id, Person.kk_hmac == kk_hmac)
        .order_by(Person.position)
    )
    return list(db.session.scalars(stmt))


def pseudonym(number: str, purpose: str) -> str:
    """The keyed HMAC by which a NIK (purpose "nik") or No. KK ("kk") is stored."""
    return hmac_number(number, str(current_app.config["NIK_HMAC_KEY"]).encode(), purpose=purpose)


def matching_snapshots(nik_hmac: str, kk_hmac: str, snapshot_ids: list[int]) -> set[int]:
    """Which of these snapshots list NIK as a member of KK. One indexed query, whatever
    the answer, so a miss costs the same as a mismatch (no timing oracle).

    The look-up's hot path runs Core statements on the session's connection: no identity
    map, no unit of work, the same transaction.

    This is the question a stranger would like answered: only after portal.policy.admit."""
    policy.require_admission()
    values: dict[str, Any] = {f"id{i}": sid for i, sid in enumerate(snapshot_ids)}
    values.update(nik=nik_hmac, kk=kk_hmac)
    found = db.session.connection().execute(_matching(len(snapshot_ids)), values)
    return set(found.scalars())


_MATCHING: dict[int, Any] = {}


def _matching(count: int) -> Any:
    """matching_snapshots' statement for COUNT snapshots, built once a process: one bound
    value a snapshot (``IN (?, ?)``) rather than an expanding IN, which SQLAlchemy renders
    anew on every execution."""
    stmt = _MATCHING.get(count)
    if stmt is None:
        ids: list[Any] = [bindparam(f"id{i}") for i in range(count)]
        stmt = _MATCHING[count] = select(Person.snapshot_id).where(
            Person.snapshot_id.in_(ids),
            Person.nik_hmac == bindparam("nik"),
            Person.kk_hmac == bindparam("kk"),
        )
    return stmt


@dataclass(frozen=True)
class HouseholdRow:
    desil: int
    kode_desa: str


@dataclass(frozen=True)
class MemberRow:
    nama: str
    hubungan: str
    programs: tuple[str, ...]
    tanggal_lahir: date  # the NIK's birth date with its century (the reader checks they agree)
    nik_hmac: str = ""  # to find the member's change rows (portal/lookup/service.history)


def matched_household(
    nik_hmac: str, kk_hmac: str, snapshot_ids: list[int]
) -> tuple[int, HouseholdRow, list[MemberRow]] | None:
    """The first of SNAPSHOT_IDS (newest first) that lists NIK as a member of KK, with that
    household's desil, desa and members in file order; None if none does. One query whatever
    the answer: the match as a subquery, the household joined to its members (the look-up's
    hot path: on PostgreSQL one round trip where matching_snapshots and a summary made two).

    Only after portal.policy.admit, as matching_snapshots."""
    policy.require_admission()
    values: dict[str, Any] = {f"id{i}": sid for i, sid in enumerate(snapshot_ids)}
    values.update(nik=nik_hmac, kk=kk_hmac)
    rows = db.session.connection().execute(_matched_household(len(snapshot_ids)), values).all()
    if not rows:
        return None
    members = [
        MemberRow(
            p.nama,
            p.hubungan,
            tuple(x for x in p.programs.split(";") if x),
            p.tanggal_lahir,
            p.nik_hmac,
        )
        for p in rows
        if p.nik_hmac is not None
    ]
    first = rows[0]
    return first.snapshot_id, HouseholdRow(first.desil, first.kode_desa), members


_MATCHED_HOUSEHOLD: dict[int, Any] = {}


def _matched_household(count: int) -> Any:
    """matched_household's statement for COUNT snapshots, built once a process."""
    stmt = _MATCHED_HOUSEHOLD.get(count)
    if stmt is None:
        ids: list[Any] = [bindparam(f"id{i}") for i in range(count)]
        member = Person.__table__.alias("m")
        match = select(member.c.snapshot_id).where(
            member.c.snapshot_id.in_(ids),
            member.c.nik_hmac == bindparam("nik"),
            member.c.kk_hmac == bindparam("kk"),
        )
        if count > 1:  # the newest snapshot listed that has the pair
            match = match.order_by(case((member.c.snapshot_id == ids[0], 0), else_=1))
        chosen = match.limit(1).scalar_subquery()
        stmt = _MATCHED_HOUSEHOLD[count] = (
            select(
                Household.snapshot_id,
                Household.desil,
                Household.kode_desa,
                Person.nama,
                Person.hubungan,
                Person.programs,
                Person.tanggal_lahir,
                Person.nik_hmac,
            )
            .outerjoin(
                Person,
                and_(
                    Person.snapshot_id == Household.snapshot_id,
                    Person.kk_hmac == Household.kk_hmac,
                ),
            )
            .where(Household.snapshot_id == chosen, Household.kk_hmac == bindparam("kk"))
            .order_by(Person.position)
        )
    return stmt


def household(snapshot_id: int, kk_hmac: str) -> Household | None:
    return db.session.get(Household, {"snapshot_id": snapshot_id, "kk_hmac": kk_hmac})


def person(snapshot_id: int, nik_hmac: str) -> Person | None:
    return db.session.get(Person, {"snapshot_id": snapshot_id, "nik_hmac": nik_hmac})


@dataclass(frozen=True)
class Membership:
    """A NIK proven to belong to a No. KK in a published snapshot (the current one, unless
    asked for the previous one too)."""

    snapshot: SnapshotRef
    nik_hmac: str
    kk_hmac: str
    household: Household


def is_member(nik: str, no_kk: str) -> bool:
    """Whether NIK is on family card No. KK in the current snapshot: one query, whatever the
    answer (verify_member reads the household too when it is)."""
    snapshot = current_snapshot()
    if snapshot is None:
        return False
    ids = [snapshot.id]
    return bool(matching_snapshots(pseudonym(nik, "nik"), pseudonym(no_kk, "kk"), ids))


def verify_member(
    nik: str, no_kk: str, *, or_previous: bool = False
) -> tuple[Membership | None, str, str]:
    """Check NIK + No. KK against the current snapshot (OR_PREVIOUS: or the one before it,
    the look-up's "removed in the last update"); returns (membership or None, hmacs). The
    membership is in the newest snapshot that has the pair.

    A "no" is one query whatever number is unknown; which snapshots are asked depends only on
    the caller (the reason chosen), never on the data."""
    nik_hmac, kk_hmac = pseudonym(nik, "nik"), pseudonym(no_kk, "kk")
    snapshots = published_snapshots(2 if or_previous else 1)
    if not snapshots:
        return None, nik_hmac, kk_hmac
    matched = matching_snapshots(nik_hmac, kk_hmac, [s.id for s in snapshots])
    snapshot = next((s for s in snapshots if s.id in matched), None)
    if snapshot is None:
        return None, nik_hmac, kk_hmac
    found = household(snapshot.id, kk_hmac)
    if found is None:  # cannot happen with the FK, but never trust a join blindly
        return None, nik_hmac, kk_hmac
    return Membership(snapshot, nik_hmac, kk_hmac, found), nik_hmac, kk_hmac
