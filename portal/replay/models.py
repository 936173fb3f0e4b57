"""Short-lived rows that let a GET show again what a POST found: a failed form's answers
and messages, and a look-up's result. Each is found by the hash of a random token kept in
the browser's session and belongs to that browser (``owner``: see portal/replay)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime


class FormReplay(Base):
    """A form whose POST failed: the answers that passed (to fill the form again) and the
    messages (as msgids, translated when shown). Deleted when the form succeeds."""

    __tablename__ = "form_replays"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    page: Mapped[str] = mapped_column(String(80))
    answers: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    errors: Mapped[dict[str, list[Any]]] = mapped_column(JSON, default=dict)
    notes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LookupReference(Base):
    """A look-up this browser made: the pair it proved (or tried), to show the result again
    and to carry the filer into a sanggahan or usulan. Never in a URL or a cookie."""

    __tablename__ = "lookup_references"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    nik: Mapped[str] = mapped_column(String(16))
    no_kk: Mapped[str] = mapped_column(String(16))
    snapshot_id: Mapped[int] = mapped_column(Integer)  # the data the result was found in
    matched: Mapped[bool] = mapped_column(Boolean)  # NIK + No. KK found together
    # what the result page shows (portal.lookup.service.stored: names masked, no HMAC), so
    # that the GET does not ask the snapshot again; None: find it again from the numbers
    found: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
