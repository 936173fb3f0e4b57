"""Cases (sanggahan and usulan), their history, photos, drafts and the notification outbox.

The filer's and the subject's NIK are found by keyed HMAC; the full numbers are kept because
staff verify them and the Pusdatin export carries them. Nothing here is ever shown on a
public page except through the filer's own tracking (ticket + the filer's NIK).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.auth.models import StaffUser


# The officer holding a case, 0 for nobody yet: an index expression (review/dashboard.py's
# ASSIGNEE writes the same, so that PostgreSQL matches its queries to the index).
ASSIGNEE_SQL = "coalesce(assigned_to_id, 0)"
# A case with a field check: the predicate of a partial index (ix_appeals_checked_...)
CHECKED_SQL = "verval <> 'none'"


class Appeal(Base):
    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket: Mapped[str] = mapped_column(String(8), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # sanggahan | usulan
    reason_code: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))

    # who filed: verified against DTSEN (NIK + No. KK), or not (EXC-TIDAK-TERDATA only)
    filer_nik_hmac: Mapped[str] = mapped_column(String(32), index=True)
    filer_nik: Mapped[str] = mapped_column(String(16))
    filer_kk_hmac: Mapped[str] = mapped_column(String(32))
    filer_verified: Mapped[bool] = mapped_column(Boolean)
    filer_locale: Mapped[str] = mapped_column(String(5), default="id")

    # what it is about: a person/household in DTSEN, or a proposed household
    subject_is_filer_household: Mapped[bool] = mapped_column(Boolean)
    subject_nik_hmac: Mapped[str | None] = mapped_column(String(32), index=True)
    subject_nik: Mapped[str | None] = mapped_column(String(16))
    subject_kk_hmac: Mapped[str | None] = mapped_column(String(32), index=True)
    subject_found: Mapped[bool] = mapped_column(Boolean)  # in the current snapshot when filed
    # another household as the filer described it (a neighbour rarely knows a NIK): name,
    # address with RT/RW and desa. Staff link it to DTSEN (subject_kk_hmac) by name.
    subject_name: Mapped[str | None] = mapped_column(String(100))
    subject_alamat: Mapped[str | None] = mapped_column(String(200))
    subject_rt: Mapped[str | None] = mapped_column(String(3))
    subject_rw: Mapped[str | None] = mapped_column(String(3))
    subject_kode_desa: Mapped[str | None] = mapped_column(ForeignKey("wilayah.code"))
    subject_linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    subject_linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # where it belongs: which Dinsos (kabupaten/kota) and desa handle it
    kabupaten_code: Mapped[str] = mapped_column(String(5))  # indexed by the queue's, below
    kecamatan_code: Mapped[str] = mapped_column(String(8))
    kode_desa: Mapped[str | None] = mapped_column(ForeignKey("wilayah.code"))

    note: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # usulan answers
    declared: Mapped[bool] = mapped_column(Boolean)
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(254))

    period: Mapped[str | None] = mapped_column(String(6))  # DTSEN period when filed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(String(40))
    decision_note: Mapped[str | None] = mapped_column(Text)
    # a decision taken against the evidence (portal/review/decision_rules.py): what it went
    # against ("+"-joined conflict codes) and the officer's confirming note; None otherwise
    decision_conflicts: Mapped[str | None] = mapped_column(String(200))
    decision_override_note: Mapped[str | None] = mapped_column(Text)

    # staff work (review capability): who holds it, who decided, escalation and export
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    export_id: Mapped[int | None] = mapped_column(ForeignKey("exports.id"), index=True)

    cluster_of_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id"))
    contests_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id"), unique=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id"))
    # the draft it was submitted from: a retried or double-clicked submit finds this case
    draft_token: Mapped[str] = mapped_column(String(64), unique=True)
    # how it was filed: web (the citizen on the public site) | assisted (a desa operator
    # filed it for a citizen at the desa office: its AppealAssist row says who, when, where)
    channel: Mapped[str] = mapped_column(String(10), default="web", server_default="web")
    # where its field verification stands (review.queries.VERVAL_STATES: none | requested |
    # received), kept from its field checks by triggers on field_checks (migration 0025,
    # portal/review/summary.py): never written by the application
    verval: Mapped[str] = mapped_column(String(10), default="none", server_default="none")

    # loaded when read (the case page, the filer's timeline), not with every case: a queue
    # page, a move or an export of many cases reads neither; a new event joins through its
    # own ``appeal`` (appeals.service._event), which does not load the list either
    events: Mapped[list[AppealEvent]] = relationship(
        back_populates="appeal", order_by="AppealEvent.id", lazy="select"
    )
    photos: Mapped[list[AppealPhoto]] = relationship(
        back_populates="appeal", order_by="AppealPhoto.id", lazy="select"
    )
    # filed by a desa operator for a citizen (channel "assisted"): who, where, the consent
    assist: Mapped[AppealAssist | None] = relationship(lazy="select", viewonly=True)

    # Each staff query's filter and order (queue: scope [+ status] + due_at, id; overdue,
    # escalated and per-area counts; linked cases), so no page reads or sorts a whole scope.
    # The kecamatan/kabupaten INCLUDEd on PostgreSQL make the per-area overdue counts
    # index-only. Migration 0013; see bench/README.md "Staff pages".
    __table_args__ = (
        Index(
            "ix_appeals_kabupaten_code_status_due_at_id",
            "kabupaten_code",
            "status",
            "due_at",
            "id",
            # + the desa and the officer: today's part of the dashboard's overdue per desa
            # and per officer, index-only (migration 0024)
            postgresql_include=["kecamatan_code", "kode_desa", "assigned_to_id"],
        ),
        Index("ix_appeals_kabupaten_code_due_at_id", "kabupaten_code", "due_at", "id"),
        Index(
            "ix_appeals_kabupaten_code_status_escalated_at",
            "kabupaten_code",
            "status",
            "escalated_at",
        ),
        Index("ix_appeals_kode_desa_status_due_at_id", "kode_desa", "status", "due_at", "id"),
        Index("ix_appeals_kode_desa_due_at_id", "kode_desa", "due_at", "id"),
        Index(
            "ix_appeals_status_due_at_id",
            "status",
            "due_at",
            "id",
            postgresql_include=["kabupaten_code"],
        ),
        Index("ix_appeals_due_at_id", "due_at", "id"),
        # the oldest open case of a desa, of an officer (or of nobody) in a kabupaten: the
        # admin_dinsos dashboard, one probe per status (migration 0024)
        Index("ix_appeals_kode_desa_status_created_at", "kode_desa", "status", "created_at"),
        # (the officer as coalesce(assigned_to_id, 0): "nobody yet" is a value its order
        # follows, where PostgreSQL does not order by created_at after an IS NULL)
        Index(
            "ix_appeals_kabupaten_code_status_assignee_created_at",
            "kabupaten_code",
            "status",
            text(ASSIGNEE_SQL),
            "created_at",
        ),
        Index("ix_appeals_cluster_of_id", "cluster_of_id"),
        Index("ix_appeals_duplicate_of_id", "duplicate_of_id"),
        # the queue under a verval filter other than "none": the cases with a field check, in
        # due order, without walking the others (migration 0025; queries.verval_condition
        # repeats the predicate, which both engines need to see to use a partial index)
        Index(
            "ix_appeals_checked_kabupaten_code_due_at_id",
            "kabupaten_code",
            "due_at",
            "id",
            postgresql_where=text(CHECKED_SQL),
            sqlite_where=text(CHECKED_SQL),
        ),
    )

    @property
    def contacts(self) -> dict[str, str]:
        """What the filer gave on the contact step, by notification channel (portal/notify):
        where the case's news goes on each channel given (appeals.service._notify)."""
        given = {"sms": self.contact_phone, "email": self.contact_email}
        return {channel: recipient for channel, recipient in given.items() if recipient}


class AppealAssist(Base):
    """A case a desa operator filed for a citizen at the desa office (portal/appeals/assisted):
    who assisted, from which desa office, when, and when they confirmed that the consent
    statement (CONSENT_VERSION of it) was read to the citizen. Shown to the case's deciders and
    to the assisting operator only: the operator knows the filer, other operators must not."""

    __tablename__ = "appeal_assists"

    appeal_id: Mapped[int] = mapped_column(
        ForeignKey("appeals.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    kode_desa: Mapped[str] = mapped_column(String(13))  # the desa office
    consent_version: Mapped[str] = mapped_column(String(10))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assisted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # tickets sent by SMS from the receipt page (a few per case at most)
    sms_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    staff: Mapped[StaffUser] = relationship(lazy="select", viewonly=True)

    __table_args__ = (Index("ix_appeal_assists_staff_id_assisted_at", "staff_id", "assisted_at"),)


class AppealEvent(Base):
    """One move of a case: who, when, from which state to which, and why."""

    __tablename__ = "appeal_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(10))  # filer | staff | system
    actor_staff_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)  # shown to the filer for decisions

    appeal: Mapped[Appeal] = relationship(back_populates="events")


class AppealPhoto(Base):
    """An evidence photo, re-encoded without metadata, stored outside static/."""

    __tablename__ = "appeal_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int | None] = mapped_column(
        ForeignKey("appeals.id", ondelete="CASCADE"), index=True
    )
    draft_token: Mapped[str | None] = mapped_column(String(64), index=True)
    field_check_id: Mapped[int | None] = mapped_column(ForeignKey("field_checks.id"), index=True)
    storage_key: Mapped[str] = mapped_column(String(40), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by: Mapped[str] = mapped_column(String(10), default="filer")  # filer | staff

    appeal: Mapped[Appeal | None] = relationship(back_populates="photos")


class AppealDraft(Base):
    """Answers of a filing in progress, keyed by an opaque token kept in the session.

    Server-side so that answers survive a reload and the NIK never sits in a cookie.
    Expired drafts are deleted by a later filing (at most once every EXPIRED_SWEEP_SECONDS
    a process) and by `flask appeals purge-drafts` (see drafts.purge_drafts).
    """

    __tablename__ = "appeal_drafts"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class OutboxMessage(Base):
    """A notification to send (SMS or e-mail). Written in the same transaction as the state
    change, sent by the notification worker later (portal/notify, docs/notifications.md), so
    nothing is lost when sending fails.

    status: queued (due at next_attempt_at; NULL: now) -> claimed (a worker took it,
    claimed_at/claimed_by) -> sending (the worker is talking to the SMTP server or the SMS
    gateway) -> sent, or back to queued after a failed attempt, or failed (no attempt left,
    refused for good, or an e-mail whose worker stopped while sending: last_error says)."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # sms | email
    recipient: Mapped[str] = mapped_column(String(254))
    template: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    locale: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # a server default: appeals.service writes rows with INSERT ... SELECT too
    status: Mapped[str] = mapped_column(String(10), default="queued", server_default="queued")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))  # host:pid

    __table_args__ = (Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),)


class TrackingGrant(Base):
    """A browser that proved ticket + NIK may see that case for a while. Kept on the server
    (the cookie holds a random token, stored here only as its hash), so "stop showing this
    case on this device" ends it for every copy of the cookie too."""

    __tablename__ = "tracking_grants"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class CaseListGrant(Base):
    """A browser that proved NIK + No. KK may list the cases filed with that NIK for a while
    ("find my cases"). Kept on the server like a tracking grant: the session holds a random
    token, stored here only as its hash, and the numbers only as their keyed HMACs."""

    __tablename__ = "case_list_grants"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    filer_nik_hmac: Mapped[str] = mapped_column(String(32))
    filer_kk_hmac: Mapped[str] = mapped_column(String(32))
    # NIK + No. KK are in DTSEN (now or in the last update): the NIK's verified cases are
    # listed too, not only those filed with this very No. KK
    in_dtsen: Mapped[bool] = mapped_column(Boolean)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
