"""Pre-aggregated statistics: the pages read these, never households or cases.

- ``stat_cells``: counts of one published snapshot per region (kabupaten/kota, kecamatan,
  desa), measure and category, with their suppression mark (suppression.Mark), filled at
  publication (refresh.refresh_snapshot) and gone with the snapshot (foreign key, cascade).
- ``stat_case_counts`` / ``stat_case_days``: cases per DTSEN period of filing, desa (or ''
  when the case has none), reason code and outcome; decided cases per whole days to decision
  and within the promise or not. Kept by triggers on ``appeals`` (cases.py), like the staff
  summaries (portal/review/summary.py); suppressed when read (queries.py).
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base


class StatCell(Base):
    __tablename__ = "stat_cells"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    region_code: Mapped[str] = mapped_column(String(13), primary_key=True)
    # households | persons (category: desil band or "total"), program_households |
    # program_persons (category: program code)
    measure: Mapped[str] = mapped_column(String(20), primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
    mark: Mapped[int] = mapped_column(SmallInteger, default=0)  # suppression.Mark
    parent_code: Mapped[str] = mapped_column(String(13))  # '' for a kabupaten/kota

    # a page reads its region's rows and its children's (by parent)
    __table_args__ = (Index("ix_stat_cells_snapshot_id_parent_code", "snapshot_id", "parent_code"),)


class StatCaseCount(Base):
    __tablename__ = "stat_case_counts"

    period: Mapped[str] = mapped_column(String(6), primary_key=True)
    kabupaten_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    kecamatan_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    kode_desa: Mapped[str] = mapped_column(String(13), primary_key=True)  # '' if none
    reason_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(12), primary_key=True)  # cases.OUTCOMES
    n: Mapped[int] = mapped_column(Integer)


class StatCaseDays(Base):
    __tablename__ = "stat_case_days"

    period: Mapped[str] = mapped_column(String(6), primary_key=True)
    kabupaten_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    kecamatan_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    kode_desa: Mapped[str] = mapped_column(String(13), primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)  # whole days to decision
    on_time: Mapped[bool] = mapped_column(Boolean, primary_key=True)  # decided by due_at
    n: Mapped[int] = mapped_column(Integer)
