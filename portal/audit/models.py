"""Audit events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(Integer)  # None: the system or the CLI
    role: Mapped[str | None] = mapped_column(String(20))
    office_code: Mapped[str | None] = mapped_column(String(5))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str | None] = mapped_column(String(20))
    target_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    ip_prefix: Mapped[str | None] = mapped_column(String(49))

    __table_args__ = (
        Index("ix_audit_events_target_type_target_id", "target_type", "target_id"),
        Index("ix_audit_events_staff_id_at", "staff_id", "at"),
    )


class AuditSeal(Base):
    """The place of one audit row in the hash chain (portal.audit.chain). Append-only, like
    the rows it seals; written in the same transaction, just before it commits."""

    __tablename__ = "audit_seals"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class AuditChain(Base):
    """One row: the last seal (its seq and hash). Locked while a transaction seals its rows,
    so the chain has exactly one next link at a time."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    head: Mapped[str] = mapped_column(String(64))


# SQLite has no roles or settings: while a row is here, the append-only triggers let
# UPDATE and DELETE through (a retention purge, the test suite). On PostgreSQL the same is
# `SET LOCAL portal.audit_maintenance = 'on'`, and this table stays empty.
audit_maintenance = Table(
    "audit_maintenance", Base.metadata, Column("reason", String(200), nullable=True)
)
