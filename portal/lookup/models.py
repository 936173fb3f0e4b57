"""The household's access log: every read of a household's data, by whom (kind, role,
office), for what (purpose) and through which channel. Keyed by the No. KK's HMAC so it
spans periods. Never the full IP: only a coarse network prefix. Rows are written only by
portal.access.record (the purposes are listed there); the household reads them back on
"Riwayat pengecekan" (portal/access/history.py).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, utcnow


class Actor(StrEnum):
    CITIZEN = "citizen"
    STAFF = "staff"
    EXPORT = "export"


class AccessEvent(Base):
    __tablename__ = "access_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kk_hmac: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))  # web, staff, export
    actor: Mapped[str] = mapped_column(String(16))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    # region code of the office: the kabupaten/kota of Dinsos staff, the desa of a field check
    actor_office: Mapped[str | None] = mapped_column(String(13))
    period: Mapped[str | None] = mapped_column(String(6))
    ip_prefix: Mapped[str | None] = mapped_column(String(49))
    # portal.access.Purpose; NULL on rows written before it was kept (read by actor and role)
    purpose: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_access_events_kk_hmac_at", "kk_hmac", "at"),)
