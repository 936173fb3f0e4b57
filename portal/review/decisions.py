"""Deciding beside the evidence: what each decision does to the family, the standard
explanations, and decisions that contradict the evidence (portal/review/decision_rules.py)
taken only with a confirming note.

- ``effects(reason)``: the decision options worded by what happens (per reason code of
  portal/appeals/reasons.py: an inclusion-error sanggahan proposes removal, a desil
  sanggahan a correction, an usulan an inclusion...).
- ``explanations(kabupaten)``: the standard explanation sentence of each decision reason,
  the kabupaten/kota's own where its admin_dinsos wrote one, else the default below;
  ``save_explanations`` keeps an admin_dinsos's (audited).
- ``decide(...)``: a decision; one that contradicts the evidence raises NeedsConfirmation
  until the officer confirms those very conflicts with a note, then is saved with them
  (and the note), audited, and flagged in the Pusdatin export. A reason naming a field
  result while the case has none raises NoFieldResult, which no note overrides.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import db
from portal.appeals.models import Appeal
from portal.appeals.reasons import DECISION_REASONS, Kind, Reason
from portal.appeals.states import AppealStatus
from portal.audit.service import record
from portal.auth.models import Role, StaffUser
from portal.review import decision_rules, service
from portal.review.models import DecisionExplanation, FieldCheck
from portal.review.service import NOTE_MIN, NotAllowed, ReviewError

EXPLANATION_MAX = 2000

# reason code -> what approving does (the rejection keeps the data as it is)
_APPROVE_EFFECT: dict[str, object] = {
    "INC-ASN": _l("Approve: propose that the household leaves bansos"),
    "INC-MAMPU": _l("Approve: propose that the household leaves bansos"),
    "INC-MENINGGAL": _l("Approve: propose removing the deceased recipient"),
    "INC-PINDAH": _l("Approve: propose that the household leaves bansos here"),
    "INC-GANDA": _l("Approve: propose removing the duplicate record"),
    "INC-SELF": _l("Approve: propose that the household leaves bansos"),
    "EXC-DESIL-SALAH": _l("Approve: propose correcting the desil"),
    "EXC-DICORET": _l("Approve: propose restoring the household"),
    "ERR-DATA": _l("Approve: propose correcting the data"),
    "EXC-TIDAK-TERDATA": _l("Approve: propose adding the household to DTSEN"),
    "USUL-PROGRAM": _l("Approve: propose the household for the program"),
    "USUL-AHLI-WARIS": _l("Approve: propose the heir as the recipient"),
}
_REJECT_EFFECT: dict[Kind, object] = {
    Kind.SANGGAHAN: _l("Reject: the data stays as it is"),
    Kind.USULAN: _l("Reject: the household is not proposed"),
}
_DUPLICATE_EFFECT = _l("Duplicate: closed, handled under another ticket")

# decision reason -> the standard explanation the citizen reads (unless the office wrote its
# own, or the officer edits it)
DEFAULT_EXPLANATIONS: dict[str, object] = {
    "verified_in_field": _l(
        "An officer visited the household and confirmed what you reported. "
        "The change is proposed to the Ministry of Social Affairs."
    ),
    "documents_confirm": _l(
        "The documents confirm what you reported. "
        "The change is proposed to the Ministry of Social Affairs."
    ),
    "not_confirmed_in_field": _l(
        "An officer visited the household and could not confirm what you reported. "
        "The data stays as it is."
    ),
    "documents_insufficient": _l(
        "The documents do not show what you reported. The data stays as it is. "
        "You may file again with other documents."
    ),
    "already_corrected": _l("The data had already been corrected. Nothing more needs to change."),
    "outside_criteria": _l("The household does not meet the criteria of the program."),
    "duplicate_case": _l("This report is already handled under another ticket."),
    "other": _l("The decision was taken for another reason: "),
}


class NoFieldResult(ReviewError):
    """The decision reason names a field result, and no field check of the case has one."""


class NeedsConfirmation(ReviewError):
    """The decision contradicts the evidence: confirm these conflicts with a note."""

    def __init__(self, conflicts: tuple[str, ...]) -> None:
        super().__init__(conflicts)
        self.conflicts = conflicts


CONFLICT_TEXTS: dict[str, object] = {
    decision_rules.FIELD_CHECK_OPEN: _l("A field check of this case has no result yet."),
    decision_rules.REASON_AGAINST_DECISION: _l(
        "The reason you chose speaks for the other decision."
    ),
    decision_rules.FINDING_AGAINST_DECISION: _l(
        "The latest field check found the opposite of this decision."
    ),
    decision_rules.REASON_AGAINST_FINDING: _l(
        "The reason names a field result the latest field check did not find."
    ),
}


def effects(reason: Reason) -> dict[str, object]:
    """The decision options for a case of REASON, by status value, worded by effect."""
    return {
        AppealStatus.DISETUJUI.value: _APPROVE_EFFECT[reason.code],
        AppealStatus.DITOLAK.value: _REJECT_EFFECT[reason.kind],
        AppealStatus.DUPLIKAT.value: _DUPLICATE_EFFECT,
    }


def explanations(kabupaten_code: str | None) -> dict[str, str]:
    """The standard explanation of each decision reason for the office KABUPATEN_CODE."""
    texts = {code: str(text) for code, text in DEFAULT_EXPLANATIONS.items()}
    if kabupaten_code:
        rows = db.session.scalars(
            select(DecisionExplanation).where(DecisionExplanation.kabupaten_code == kabupaten_code)
        )
        texts.update({r.decision_reason: r.text for r in rows if r.decision_reason in texts})
    return texts


def may_edit_explanations(user: StaffUser) -> bool:
    return user.role_enum is Role.ADMIN_DINSOS and bool(user.office_code)


def save_explanations(user: StaffUser, texts: Mapping[str, str]) -> list[str]:
    """An admin_dinsos sets the standard explanations of their office: the reasons whose
    text changed (each audited with before and after)."""
    if not may_edit_explanations(user):
        raise NotAllowed
    office = str(user.office_code)
    current = explanations(office)
    changed = []
    for code in DECISION_REASONS:
        text = " ".join((texts.get(code) or "").split())
        if not text or text == " ".join(current[code].split()):
            continue
        if not NOTE_MIN <= len(text) <= EXPLANATION_MAX:
            raise ValueError(code)
        row = db.session.get(DecisionExplanation, (office, code))
        if row is None:
            row = DecisionExplanation(kabupaten_code=office, decision_reason=code)
            db.session.add(row)
        row.text, row.updated_by_id, row.updated_at = text, user.id, db.utcnow()
        record(
            "edit_explanation",
            staff=user,
            target_type="decision_explanation",
            before={"reason": code, "text": current[code]},
            after={"reason": code, "text": text, "kabupaten": office},
        )
        changed.append(code)
    db.session.commit()
    return changed


def checks_of(appeal: Appeal) -> list[decision_rules.Check]:
    rows = db.session.execute(
        select(FieldCheck.id, FieldCheck.done_at, FieldCheck.outcome).where(
            FieldCheck.appeal_id == appeal.id
        )
    )
    return [decision_rules.Check(done_at=r.done_at, outcome=r.outcome, id=r.id) for r in rows]


def decide(
    appeal: Appeal,
    user: StaffUser,
    status: AppealStatus,
    reason_code: str,
    note: str,
    duplicate_of: Appeal | None = None,
    *,
    confirmed: frozenset[str] = frozenset(),
    override_note: str = "",
) -> Appeal:
    """service.decide, weighed against the evidence first: a reason naming a field result
    needs a field check with a result (NoFieldResult, whatever is confirmed); a
    contradicting decision needs every conflict it has now among CONFIRMED, and an
    OVERRIDE_NOTE (10+ characters)."""
    checks = checks_of(appeal)
    if decision_rules.without_finding(reason_code, checks):
        raise NoFieldResult
    found = decision_rules.conflicts(status.value, reason_code, appeal.reason_code, checks)
    override = " ".join(override_note.split())
    if found and (not set(found) <= confirmed or len(override) < NOTE_MIN):
        raise NeedsConfirmation(found)
    return service.decide(
        appeal,
        user,
        status,
        reason_code,
        note,
        duplicate_of,
        conflicts=found,
        override_note=override if found else "",
    )
