"""Field checks (verval) asked of desa operators, and exports to Pusdatin."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

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


class ExportStatus(StrEnum):
    PENDING = "pending"  # queued for the job worker, or being made
    READY = "ready"  # the file is complete and its cases are diteruskan
    EMPTY = "empty"  # another export took every waiting case before this one ran


class Export(Base):
    """One export of approved cases of a kabupaten/kota to Pusdatin. The CSV is kept in
    ``export_chunks`` (pieces of about 1 MB), written while the rows stream out."""

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kabupaten_code: Mapped[str] = mapped_column(String(5), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default=ExportStatus.PENDING.value)
    # the background job making it (a large export); None when made in the request
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    case_count: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)


class ExportChunk(Base):
    """A piece of an export's CSV, in order (SEQ from 0); the file is their concatenation."""

    __tablename__ = "export_chunks"

    export_id: Mapped[int] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[str] = mapped_column(Text)
