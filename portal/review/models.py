"""Field checks (verval) asked of desa operators, and exports to Pusdatin."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
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
    # the answers to the reason's field checklist (portal/appeals/checklist.py): item key ->
    # yes | no | unknown; an item left unanswered is absent
    checklist: Mapped[dict[str, str] | None] = mapped_column(JSON)


class FieldCheckDraft(Base):
    """What an operator has written for a field check so far ("Simpan draf"), kept on the
    server so that a dropped connection loses nothing. One per field check: the operator of
    the desa who saved last owns it. Photos uploaded with it are AppealPhoto rows with the
    field check and no case yet (``appeal_id`` NULL), attached to the case on sending."""

    __tablename__ = "field_check_drafts"

    field_check_id: Mapped[int] = mapped_column(
        ForeignKey("field_checks.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DecisionExplanation(Base):
    """A kabupaten/kota's own standard explanation for one decision reason, written by its
    admin_dinsos (portal/review/decisions.py has the defaults used where there is none)."""

    __tablename__ = "decision_explanations"

    kabupaten_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    decision_reason: Mapped[str] = mapped_column(String(40), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExportStatus(StrEnum):
    PENDING = "pending"  # queued for the job worker, or being made
    READY = "ready"  # the file is complete and its cases are diteruskan
    EMPTY = "empty"  # another export took every waiting case before this one ran
    HELD = "held"  # in its undo window: its cases are set aside, not yet sent (final_at)
    CANCELLED = "cancelled"  # cancelled in its undo window: its cases wait again


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
    # the end of its undo window (EXPORT_UNDO_MINUTES): until then a held export can be
    # cancelled; None when it had none
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ExportChunk(Base):
    """A piece of an export's CSV, in order (SEQ from 0); the file is their concatenation."""

    __tablename__ = "export_chunks"

    export_id: Mapped[int] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[str] = mapped_column(Text)


class AppealCount(Base):
    """How many cases there are per kecamatan, reason code, status and decided or not: the
    queue's and the dashboard's counts without reading the cases. Kept by database triggers
    on ``appeals`` (migration 0013, ``summary.py``), so every write is counted, whichever
    code path makes it; ``summary.rebuild()`` recomputes it after a bulk load."""

    __tablename__ = "appeal_counts"

    kabupaten_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    kecamatan_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    reason_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), primary_key=True)
    decided: Mapped[bool] = mapped_column(Boolean, primary_key=True)  # decided_at is set
    n: Mapped[int] = mapped_column(Integer)


class AppealVervalCount(Base):
    """How many cases with a field check there are per kecamatan, reason code, status and
    verval state (requested, received): the queue's counts under a verval filter, those with
    none being AppealCount's less these. Kept by the same triggers (migration 0025)."""

    __tablename__ = "appeal_verval_counts"

    kabupaten_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    kecamatan_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    reason_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), primary_key=True)
    verval: Mapped[str] = mapped_column(String(10), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class AppealOpenDue(Base):
    """How many open cases fall due on each day (UTC), per kecamatan, escalated or not: the
    overdue count is the days before today plus today's part (read through the index), and
    no longer grows with the backlog. Kept by the same triggers as AppealCount."""

    __tablename__ = "appeal_open_due"

    kabupaten_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    kecamatan_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    escalated: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class DecisionHours(Base):
    """How many decided cases of a kabupaten/kota took each whole number of hours from
    filing to decision (rounded): the dashboard's median without sorting every case.
    Kept by the same triggers as AppealCount."""

    __tablename__ = "appeal_decision_hours"

    kabupaten_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    hours: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class FiledMonth(Base):
    """How many cases of a kabupaten/kota were filed in each month (UTC, YYYY-MM): the
    dashboard's months without reading the cases. Kept by the same triggers as AppealCount."""

    __tablename__ = "appeal_filed_months"

    kabupaten_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class DecidedMonth(Base):
    """How many cases of a kabupaten/kota each officer decided in each month (UTC, YYYY-MM;
    the decision stays through diteruskan and selesai; decided_by 0: no officer recorded).
    Kept by the same triggers as AppealCount."""

    __tablename__ = "appeal_decided_months"

    kabupaten_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    decided_by: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class OpenDesaDue(Base):
    """How many open cases of each desa fall due on each day (UTC; kode_desa '': none
    named): the admin_dinsos dashboard's desa table. Kept by the same triggers."""

    __tablename__ = "appeal_open_desa"

    kabupaten_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    kode_desa: Mapped[str] = mapped_column(String(13), primary_key=True)
    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class OpenOfficerDue(Base):
    """How many open cases each officer holds that fall due on each day (UTC; assigned_to 0:
    nobody yet): the admin_dinsos dashboard's officer table. Kept by the same triggers."""

    __tablename__ = "appeal_open_officer"

    kabupaten_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    assigned_to: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
