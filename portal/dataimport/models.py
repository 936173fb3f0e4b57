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
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, utcnow


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

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    kk_hmac: Mapped[str] = mapped_column(String(32), primary_key=True)
    no_kk: Mapped[str] = mapped_column(String(16))
    kode_desa: Mapped[str] = mapped_column(ForeignKey("wilayah.code"))
    alamat: Mapped[str] = mapped_column(String(200))
    desil: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (
        CheckConstraint("desil BETWEEN 1 AND 10", name="desil_range"),
        Index("ix_households_snapshot_id_kode_desa", "snapshot_id", "kode_desa"),
        # PostgreSQL: one partition per snapshot (retention.py, loader.py)
        {"postgresql_partition_by": "LIST (snapshot_id)"},
    )


class Person(Base):
    __tablename__ = "persons"

    snapshot_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nik_hmac: Mapped[str] = mapped_column(String(32), primary_key=True)
    kk_hmac: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)  # order within the file: the KK's order
    nik: Mapped[str] = mapped_column(String(16))
    nama: Mapped[str] = mapped_column(String(100))
    jenis_kelamin: Mapped[str] = mapped_column(String(1))
    tanggal_lahir: Mapped[date] = mapped_column(Date)
    hubungan: Mapped[str] = mapped_column(String(20))
    programs: Mapped[str] = mapped_column(String(100), default="")  # "PKH;BPNT;PBI-JK"

    __table_args__ = (
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
