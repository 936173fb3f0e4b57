"""One table for the four levels of the region tree, keyed by the dotted Kemendagri code."""

from __future__ import annotations

from enum import IntEnum

from sqlalchemy import ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base


class Level(IntEnum):
    PROVINSI = 1
    KABUPATEN = 2  # kabupaten or kota
    KECAMATAN = 3
    DESA = 4  # desa or kelurahan


class Wilayah(Base):
    __tablename__ = "wilayah"

    code: Mapped[str] = mapped_column(String(13), primary_key=True)  # 32.16.01.2001
    level: Mapped[int] = mapped_column(SmallInteger)
    parent_code: Mapped[str | None] = mapped_column(
        String(13), ForeignKey("wilayah.code", ondelete="RESTRICT")
    )
    name: Mapped[str] = mapped_column(String(120))

    __table_args__ = (Index("ix_wilayah_parent_code_name", "parent_code", "name"),)

    def __repr__(self) -> str:
        return f"<Wilayah {self.code} {self.name}>"
