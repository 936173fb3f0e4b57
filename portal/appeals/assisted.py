"""Assisted filing: a desa operator files a sanggahan or usulan for a citizen who came to the
desa office without a phone (issue 14). The operator walks the public journey itself (same
pages, same checks, same questions: portal/appeals/views.py), after starting it from
/staf/bantu-ajukan (assisted_views.py), which confirms the consent statement and puts an
"assisted" context in the citizen session of the operator's browser. The journey then:

- refuses a filer whose household (DTSEN's desa of the proven NIK + No. KK) is not in one of
  the operator's desa (a sanggahan), or a proposed household whose address desa is not
  theirs (an usulan): an operator files for the households of their own desa only;
- records the filer's proven numbers in the household's access record as a filing through
  the assisted channel, read by an operator_desa of the desa office;
- on sending, stores the assistance with the case (AppealAssist: who, when, which desa
  office, the consent), marks the case ``channel = "assisted"``, writes the audit row, and
  counts the case against the operator's ASSISTED_FILING_LIMIT;
- then leads to the operator's receipt page (print, or the ticket by SMS).

The context lives in the session (signed, HttpOnly) for CONTEXT_LIFETIME and names the
operator; every use re-reads the account (still active, still an operator of that desa), so
a closed account or a changed desa ends it. The staff cookie is limited to /staf, so the
public pages cannot read the staff session itself. Each function that writes commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, session
from flask_babel import lazy_gettext as _l
from limits import parse as parse_limit
from sqlalchemy import func, select

from portal import db
from portal.appeals.errors import FilingLimitReached, OutsideOperatorDesa
from portal.appeals.filers import FilerCheck
from portal.appeals.models import Appeal, AppealAssist, OutboxMessage
from portal.appeals.reasons import Kind, Reason
from portal.audit import service as audit
from portal.auth.models import Role, StaffUser
from portal.dataimport import queries as snapshots

KEY = "assist"
CHANNEL = "assisted"
CONTEXT_LIFETIME = timedelta(minutes=45)
SMS_PER_CASE = 3
CONSENT_VERSION = "2026-12"
# What the operator reads to the citizen, and confirms they did (kept with the case as
# CONSENT_VERSION: a changed text gets a new version).
CONSENT_STATEMENT = _l(
    'I read this to the citizen: "A desa officer will file this case in your name with your '
    "NIK and No. KK. The Dinas Sosial will check it and may visit your home. The officer will "
    "not tell anyone that you filed it. You can follow the case with its ticket number and "
    'your NIK, and withdraw it." The citizen agreed that I file it for them.'
)


@dataclass(frozen=True)
class Context:
    """An operator filing for a citizen, from the session: valid for this request."""

    staff: StaffUser
    kode_desa: str  # the desa office
    consent_at: datetime
    kind: Kind

    @property
    def desa_codes(self) -> list[str]:
        return self.staff.desa_codes

    def check_filer(self, reason: Reason, found: FilerCheck) -> None:
        """A sanggahan: the filer's household (where NIK + No. KK were found) must be in the
        operator's desa. An usulan is checked by its address desa instead (check_desa): its
        filer may be anyone the public journey accepts, also a household missing from DTSEN
        (EXC-TIDAK-TERDATA, the filer unverified)."""
        if reason.kind is Kind.USULAN:
            return
        if found.membership is None or found.membership.household.kode_desa not in (
            self.desa_codes
        ):
            raise OutsideOperatorDesa

    def check_desa(self, kode_desa: str | None) -> None:
        """An usulan: the household's address desa must be one of the operator's."""
        if kode_desa not in self.desa_codes:
            raise OutsideOperatorDesa

    def check_case(self, reason: Reason, found: FilerCheck, answers: dict[str, Any]) -> None:
        """Everything again when the case is sent (the numbers or the snapshot may have
        changed since the question pages), and the operator's limit."""
        self.check_filer(reason, found)
        if reason.kind is Kind.USULAN:
            self.check_desa((answers.get("desa") or {}).get("desa"))
            # a No. KK already in DTSEN goes to the desa DTSEN has it in (service.submit):
            # that desa must be the operator's too
            no_kk = (answers.get("rumah-tangga") or {}).get("no_kk")
            current = snapshots.current_snapshot()
            if no_kk and current is not None:
                home = snapshots.household(current.id, snapshots.pseudonym(no_kk, "kk"))
                if home is not None:
                    self.check_desa(home.kode_desa)
        amount, window = _limit()
        done = db.session.scalar(
            select(func.count())
            .select_from(AppealAssist)
            .where(
                AppealAssist.staff_id == self.staff.id,
                AppealAssist.assisted_at > db.utcnow() - window,
            )
        )
        if (done or 0) >= amount:
            raise FilingLimitReached

    def record(self, appeal: Appeal) -> None:
        """Store the assistance with APPEAL and audit it, in the filing's transaction."""
        appeal.channel = CHANNEL
        db.session.add(
            AppealAssist(
                appeal_id=appeal.id,
                staff_id=self.staff.id,
                kode_desa=self.kode_desa,
                consent_version=CONSENT_VERSION,
                consent_at=self.consent_at,
                assisted_at=db.utcnow(),
            )
        )
        audit.record(
            "appeal.assisted_filing",
            staff=self.staff,
            target_type="appeal",
            target_id=appeal.id,
            after={
                "kind": appeal.kind,
                "reason": appeal.reason_code,
                "desa_office": self.kode_desa,
                "consent_version": CONSENT_VERSION,
            },
        )


def _limit() -> tuple[int, timedelta]:
    item = parse_limit(str(current_app.config["ASSISTED_FILING_LIMIT"]))
    return item.amount, timedelta(seconds=item.get_expiry())


def may_assist(staff: StaffUser | None) -> bool:
    return (
        staff is not None
        and staff.active
        and staff.enrolled_at is not None
        and staff.role_enum is Role.OPERATOR_DESA
        and bool(staff.desa_codes)
    )


def begin(staff: StaffUser, kode_desa: str, kind: Kind) -> None:
    """Start filing for a citizen: the consent was confirmed now. Any draft or receipt of
    this browser is dropped (the previous citizen's answers must never reach the next one).
    Audited; commits."""
    if not may_assist(staff) or kode_desa not in staff.desa_codes:
        raise OutsideOperatorDesa
    now = db.utcnow()
    session.pop("drafts", None)
    session.pop("receipt", None)
    session[KEY] = {
        "staff": staff.id,
        "desa": kode_desa,
        "kind": kind.value,
        "consent_at": now.isoformat(),
        "until": (now + CONTEXT_LIFETIME).isoformat(),
    }
    audit.record(
        "appeal.assist_started",
        staff=staff,
        after={"kind": kind.value, "desa_office": kode_desa, "consent_version": CONSENT_VERSION},
    )
    db.session.commit()


def current(kind: Kind | None = None) -> Context | None:
    """This browser's assisted context (for KIND, when given), if it is still valid. One that
    ended stays in the session until ``end()``: the journey (views._assisted) must see that a
    filing was begun for a citizen, and send the operator back rather than go on."""
    data = session.get(KEY)
    if not isinstance(data, dict):
        return None
    try:
        until = datetime.fromisoformat(data["until"])
        consent_at = datetime.fromisoformat(data["consent_at"])
        of_kind = Kind(data["kind"])
        staff = db.session.get(StaffUser, int(data["staff"]))
        desa = str(data["desa"])
    except (KeyError, TypeError, ValueError):
        return None
    if (
        staff is None
        or until < db.utcnow()
        or not may_assist(staff)
        or desa not in (staff.desa_codes)
    ):
        return None
    if kind is not None and kind is not of_kind:
        return None
    return Context(staff, desa, consent_at, of_kind)


def end() -> None:
    """Leave assisted filing: the context and the draft's token leave the session."""
    session.pop(KEY, None)
    session.pop("drafts", None)
    session.pop("receipt", None)


def assisted_case(staff: StaffUser, appeal_id: int) -> tuple[Appeal, AppealAssist] | None:
    """A case STAFF filed for a citizen (the only cases this module shows them)."""
    row = db.session.execute(
        select(Appeal, AppealAssist)
        .join(AppealAssist, AppealAssist.appeal_id == Appeal.id)
        .where(Appeal.id == appeal_id, AppealAssist.staff_id == staff.id)
    ).first()
    return (row[0], row[1]) if row else None


def assistance_of(appeal_id: int) -> AppealAssist | None:
    return db.session.get(AppealAssist, appeal_id)


def send_ticket(staff: StaffUser, appeal: Appeal, assist: AppealAssist, phone: str) -> bool:
    """Queue the ticket by SMS to PHONE (normalised E.164) for the notification worker.
    False when the case's SMS allowance is used up. Audited (never the number); commits."""
    if assist.sms_sent >= SMS_PER_CASE:
        return False
    assist.sms_sent += 1
    db.session.add(
        OutboxMessage(
            appeal_id=appeal.id,
            channel="sms",
            recipient=phone,
            template="status_changed",
            payload={"ticket": appeal.ticket, "status": "diterima"},
            locale=appeal.filer_locale,
        )
    )
    audit.record(
        "appeal.assisted_ticket_sms",
        staff=staff,
        target_type="appeal",
        target_id=appeal.id,
        after={"sms": assist.sms_sent},
    )
    db.session.commit()
    return True
