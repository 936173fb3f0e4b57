"""Field checks (verval) asked of desa operators, and exports to Pusdatin."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, utcnow


class FieldCheck(Base):
    """A request for field verification in one desa, and what the operator found."""

    __tablename__ = "field_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    kode_desa: Mapped[str] = mapped_column(ForeignKey("wilayah.code"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    instructions: Mapped[str] = mapped_column(Text)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))  # confirmed | not_confirmed | unclear
    finding: Mapped[str | None] = mapped_column(Text)


class Export(Base):
    """One export of approved cases of a kabupaten/kota to Pusdatin; the CSV is kept."""

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kabupaten_code: Mapped[str] = mapped_column(String(5), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    case_count: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
