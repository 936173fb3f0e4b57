"""The contact of each kabupaten/kota's Dinas Sosial: where a person can go, call or write.

One row per kabupaten/kota. Loaded by the deployer from a data file (``flask wilayah contacts
import``), edited afterwards by that kabupaten's admin_dinsos; both audited. The demo may add
a clearly fictional row (``is_demo``), which every page marks as such.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, utcnow


class DinsosContact(Base):
    __tablename__ = "dinsos_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kabupaten_code: Mapped[str] = mapped_column(
        String(5), ForeignKey("wilayah.code", ondelete="RESTRICT"), unique=True
    )
    office_name: Mapped[str | None] = mapped_column(String(150))  # None: "Dinas Sosial <name>"
    address: Mapped[str] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(30))
    whatsapp: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    hours: Mapped[str | None] = mapped_column(String(200))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def fields(self) -> dict[str, str | None]:
        """What the audit trail records before and after a change."""
        return {name: getattr(self, name) for name in FIELDS}


# the columns a data file or an officer sets (everything but keys and bookkeeping)
FIELDS = ("office_name", "address", "phone", "whatsapp", "email", "hours")
