"""Reads of the published snapshots, shared by the look-up and the filing of cases."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from portal import db
from portal.core.nik import hmac_number
from portal.dataimport.models import Household, Person, Snapshot, SnapshotStatus


def published_snapshots(limit: int = 2) -> list[Snapshot]:
    """The newest published snapshots, newest period first."""
    stmt = (
        select(Snapshot)
        .where(Snapshot.status == SnapshotStatus.PUBLISHED)
        .order_by(Snapshot.period.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def current_snapshot() -> Snapshot | None:
    snapshots = published_snapshots(1)
    return snapshots[0] if snapshots else None


def pseudonym(number: str, purpose: str) -> str:
    """The keyed HMAC by which a NIK (purpose "nik") or No. KK ("kk") is stored."""
    return hmac_number(number, str(current_app.config["NIK_HMAC_KEY"]).encode(), purpose=purpose)


def matching_snapshots(nik_hmac: str, kk_hmac: str, snapshot_ids: list[int]) -> set[int]:
    """Which of these snapshots list NIK as a member of KK. One indexed query, whatever
    the answer, so a miss costs the same as a mismatch (no timing oracle)."""
    return set(
        db.session.scalars(
            select(Person.snapshot_id).where(
                Person.snapshot_id.in_(snapshot_ids),
                Person.nik_hmac == nik_hmac,
                Person.kk_hmac == kk_hmac,
            )
        )
    )


def household(snapshot_id: int, kk_hmac: str) -> Household | None:
    return db.session.get(Household, (snapshot_id, kk_hmac))


def person(snapshot_id: int, nik_hmac: str) -> Person | None:
    return db.session.get(Person, (snapshot_id, nik_hmac))


@dataclass(frozen=True)
class Membership:
    """A NIK proven to belong to a No. KK in the current snapshot."""

    snapshot: Snapshot
    nik_hmac: str
    kk_hmac: str
    household: Household


def verify_member(nik: str, no_kk: str) -> tuple[Membership | None, str, str]:
    """Check NIK + No. KK against the current snapshot; returns (membership or None, hmacs)."""
    nik_hmac, kk_hmac = pseudonym(nik, "nik"), pseudonym(no_kk, "kk")
    snapshot = current_snapshot()
    if snapshot is None:
        return None, nik_hmac, kk_hmac
    if not matching_snapshots(nik_hmac, kk_hmac, [snapshot.id]):
        return None, nik_hmac, kk_hmac
    found = household(snapshot.id, kk_hmac)
    if found is None:  # cannot happen with the FK, but never trust a join blindly
        return None, nik_hmac, kk_hmac
    return Membership(snapshot, nik_hmac, kk_hmac, found), nik_hmac, kk_hmac
