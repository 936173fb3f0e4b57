"""Staff accounts, their desa scope, and server-side sessions (database store)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, utcnow


class Role(StrEnum):
    OPERATOR_DESA = "operator_desa"  # one or more desa: sees cases there, records field checks
    VERIFIKATOR = "verifikator"  # a kabupaten/kota: claims, asks for verval, decides
    ADMIN_DINSOS = "admin_dinsos"  # a kabupaten/kota: verifikator + export, dashboard, staff
    PUSAT = "pusat"  # national: reads everything, statistics; decides nothing


ROLE_TITLES = {
    Role.OPERATOR_DESA: _l("Desa operator"),
    Role.VERIFIKATOR: _l("Verifier"),
    Role.ADMIN_DINSOS: _l("Dinsos administrator"),
    Role.PUSAT: _l("Central (Kemensos)"),
}


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    # the office: a kabupaten/kota code (32.16) for Dinsos staff and desa operators, "" for pusat
    office_code: Mapped[str] = mapped_column(String(5))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)  # replay protection
    enrol_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrol_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The browser that opened the enrolment link first (hash of its cookie): only it sees the
    # authenticator key. A later opener elsewhere is recorded, and the officer warned.
    enrol_browser_hash: Mapped[str | None] = mapped_column(String(64))
    enrol_reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    desa: Mapped[list[StaffDesa]] = relationship(lazy="selectin", cascade="all, delete-orphan")

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def desa_codes(self) -> list[str]:
        return [d.kode_desa for d in self.desa]


class StaffDesa(Base):
    """The desa an operator_desa works in."""

    __tablename__ = "staff_desa"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    )
    kode_desa: Mapped[str] = mapped_column(ForeignKey("wilayah.code"), primary_key=True)


class StaffSession(Base):
    """A staff session in the database store. Only the token's hash is kept."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip_prefix: Mapped[str | None] = mapped_column(String(49))
    user_agent: Mapped[str | None] = mapped_column(String(120))
