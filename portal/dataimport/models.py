"""Snapshots keyed by period. Households and persons belong to one snapshot.

NIK and No. KK are found by their keyed HMAC (indexed); the full numbers are kept, unindexed,
because staff verification and the Pusdatin export need them.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, utcnow

# A keyed hash of a NIK or No. KK (32 hex digits). PostgreSQL compares it bytewise (COLLATE
# "C": for hex digits the same order and equality as the database's locale), so its sorts
# use abbreviated keys and skip strcoll: the import builds the keys that lead with it at a
# fraction of the cost (3.6 M persons: 9.2 -> 4.4 s for the two indexes, migration 0023).
Hmac = String(32).with_variant(String(32, collation="C"), "postgresql")


class SnapshotStatus(StrEnum):
    LOADING = "loading"  # being imported (never served); a killed run's is cleaned up
    PUBLISHED = "published"
    REPLACED = "replaced"  # a later file for the same period took its place


class Snapshot(Base):
    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(6))  # 2026Q3
    status: Mapped[str] = mapped_column(String(12))
    sha256: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(255))
    row_count: Mapped[int] = mapped_column(Integer)
    household_count: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_snapshots_status_period", "status", "period"),
        Index("ix_snapshots_sha256", "sha256"),
    )


class Household(Base):
    __tablename__ = "households"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"))
    kk_hmac: Mapped[str] = mapped_column(Hmac)
    no_kk: Mapped[str] = mapped_column(String(16))
    kode_desa: Mapped[str] = mapped_column(ForeignKey("wilayah.code"))
    alamat: Mapped[str] = mapped_column(String(200))
    desil: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (
        # the hash first: a bytewise key of its own, not a constant snapshot_id to compare
        # before it (on PostgreSQL every partition holds one snapshot)
        PrimaryKeyConstraint("kk_hmac", "snapshot_id"),
        CheckConstraint("desil BETWEEN 1 AND 10", name="desil_range"),
        Index("ix_households_snapshot_id_kode_desa", "snapshot_id", "kode_desa"),
        # PostgreSQL: one partition per snapshot (retention.py, loader.py)
        {"postgresql_partition_by": "LIST (snapshot_id)"},
    )


class Person(Base):
    __tablename__ = "persons"

    snapshot_id: Mapped[int] = mapped_column(Integer)
    nik_hmac: Mapped[str] = mapped_column(Hmac)
    kk_hmac: Mapped[str] = mapped_column(Hmac)
    position: Mapped[int] = mapped_column(Integer)  # order within the file: the KK's order
    nik: Mapped[str] = mapped_column(String(16))
    nama: Mapped[str] = mapped_column(String(100))
    jenis_kelamin: Mapped[str] = mapped_column(String(1))
    tanggal_lahir: Mapped[date] = mapped_column(Date)
    hubungan: Mapped[str] = mapped_column(String(20))
    programs: Mapped[str] = mapped_column(String(100), default="")  # "PKH;BPNT;PBI-JK"

    __table_args__ = (
        PrimaryKeyConstraint("nik_hmac", "snapshot_id"),  # as the households'
        # Deferred: within a snapshot's load, members and households are written in
        # either order (see loader.py).
        ForeignKeyConstraint(
            ["snapshot_id", "kk_hmac"],
            ["households.snapshot_id", "households.kk_hmac"],
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
        Index("ix_persons_snapshot_id_kk_hmac", "snapshot_id", "kk_hmac"),
        {"postgresql_partition_by": "LIST (snapshot_id)"},
    )

    @property
    def program_codes(self) -> list[str]:
        return [p for p in self.programs.split(";") if p]


class HouseholdChangeKind(StrEnum):
    ADDED = "added"  # in this period, not in the previous one
    REMOVED = "removed"  # in the previous period, not in this one
    DESIL = "desil"  # desil_from -> desil_to
    MOVED = "moved"  # another desa or address


class PersonChangeKind(StrEnum):
    ADDED = "added"  # a NIK new in DTSEN (kk_hmac: its household now)
    REMOVED = "removed"  # a NIK gone from DTSEN (kk_hmac: its household before)
    JOINED = "joined"  # now on this family card, was on another (kk_hmac: the new one)
    LEFT = "left"  # no longer on this family card, now on another (kk_hmac: the old one)
    PROGRAM_GAINED = "program_gained"  # receives `programs` now, did not before
    PROGRAM_LOST = "program_lost"  # received `programs` before, does not now
    DATA = "data"  # name, sex, birth date or relation corrected


class HouseholdChange(Base):
    """What changed for one household between two consecutive published periods
    (portal/dataimport/history.py). Deleting the period's snapshot deletes them; the
    snapshot compared with is kept as a plain column (a second foreign key cost a check per
    row at publication, and the rows stay true when an older period is pruned)."""

    __tablename__ = "household_changes"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    kk_hmac: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    previous_snapshot_id: Mapped[int] = mapped_column(Integer)
    desil_from: Mapped[int | None] = mapped_column(SmallInteger)
    desil_to: Mapped[int | None] = mapped_column(SmallInteger)

    # the primary key serves the look-up (snapshot + No. KK); auto-selesai asks by No. KK
    __table_args__ = (Index("ix_household_changes_kk_hmac", "kk_hmac"),)


class PersonChange(Base):
    """What changed for one person between two consecutive published periods; ``programs``
    holds the codes gained or lost ("PKH;BPNT") for those kinds and "" otherwise."""

    __tablename__ = "person_changes"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    nik_hmac: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    programs: Mapped[str] = mapped_column(String(40), default="")
    previous_snapshot_id: Mapped[int] = mapped_column(Integer)
    kk_hmac: Mapped[str] = mapped_column(String(32))

    # Only the indexes a reader uses (each one costs at publication): the look-up's
    # snapshot + No. KK, and the primary key (deleting a snapshot's rows).
    __table_args__ = (Index("ix_person_changes_snapshot_id_kk_hmac", "snapshot_id", "kk_hmac"),)
