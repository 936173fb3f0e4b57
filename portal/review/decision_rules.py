"""When a decision contradicts the evidence of its case: pure rules, no database, no Flask.

A decision (disetujui, ditolak, duplikat) with its decision reason (reasons.DECISION_REASONS)
is weighed against the field checks (verval) of the case. It *contradicts the evidence*
when any of these holds (each a conflict code, kept with the decision and exported):

- ``field_check_open``: a field check asked for the case has no result yet;
- ``reason_against_decision``: the decision reason argues for the other decision (approve
  with "not confirmed by a field check" or "the documents do not show it"; reject with
  "confirmed by a field check" or "confirmed by the documents"; "does not meet the program
  criteria" argues for removal in an inclusion-error sanggahan (INC-*), else for a
  rejection; "already handled under another ticket" argues for a duplicate);
- ``finding_against_decision``: the latest field finding says the report is not right and
  the case is approved, or that it is right and the case is rejected;
- ``reason_against_finding``: the reason names a field result the latest finding does not
  say ("confirmed by a field check" while the finding is "not confirmed", or the reverse).

An "unclear" finding, or none, contradicts nothing. Such a decision is still possible, but
only confirmed with a note (portal/review/decisions.py).

A reason that names a field result ("confirmed by a field check", "not confirmed by a
field check") is refused outright while no field check of the case has a result
(``without_finding``): no note can confirm it, as the citizen and Pusdatin would read of a
visit that never reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

APPROVE = "disetujui"
REJECT = "ditolak"
DUPLICATE = "duplikat"

FIELD_CHECK_OPEN = "field_check_open"
REASON_AGAINST_DECISION = "reason_against_decision"
FINDING_AGAINST_DECISION = "finding_against_decision"
REASON_AGAINST_FINDING = "reason_against_finding"

CODES = (
    FIELD_CHECK_OPEN,
    REASON_AGAINST_DECISION,
    FINDING_AGAINST_DECISION,
    REASON_AGAINST_FINDING,
)

CONFIRMED = "confirmed"
NOT_CONFIRMED = "not_confirmed"

# decision reason -> the decision it argues for (absent: it argues for none)
_ARGUES_FOR = {
    "verified_in_field": APPROVE,
    "documents_confirm": APPROVE,
    "not_confirmed_in_field": REJECT,
    "documents_insufficient": REJECT,
    "duplicate_case": DUPLICATE,
}
# decision reason -> the field finding it claims
_CLAIMS_FINDING = {"verified_in_field": CONFIRMED, "not_confirmed_in_field": NOT_CONFIRMED}
# the decision reasons that name a field result
FIELD_REASONS = frozenset(_CLAIMS_FINDING)


@dataclass(frozen=True)
class Check:
    """A field check as the rules see it: done or not, and its outcome."""

    done_at: datetime | None
    outcome: str | None
    id: int = 0


def latest_finding(checks: Iterable[Check]) -> str | None:
    """The outcome of the field check done last (None: no check is done)."""
    done = [c for c in checks if c.done_at is not None]
    if not done:
        return None
    last = max(done, key=lambda c: (c.done_at, c.id))
    return last.outcome


def without_finding(decision_reason: str, checks: Iterable[Check]) -> bool:
    """DECISION_REASON names a field result and no field check of the case has one (none
    asked, or none done yet)."""
    return decision_reason in FIELD_REASONS and latest_finding(checks) is None


def argues_for(decision_reason: str, reason_code: str) -> str | None:
    """The decision DECISION_REASON argues for, in a case of REASON_CODE."""
    if decision_reason == "outside_criteria":
        # an inclusion error (INC-*) reports a household that should not receive: not
        # meeting the criteria is the report being right
        return APPROVE if reason_code.startswith("INC-") else REJECT
    return _ARGUES_FOR.get(decision_reason)


def conflicts(
    decision: str, decision_reason: str, reason_code: str, checks: Iterable[Check]
) -> tuple[str, ...]:
    """The ways DECISION with DECISION_REASON, in a case of REASON_CODE with CHECKS,
    contradicts the evidence (in the order of CODES; empty when it does not)."""
    checks = list(checks)
    found: set[str] = set()
    if any(c.done_at is None for c in checks):
        found.add(FIELD_CHECK_OPEN)
    if decision not in (APPROVE, REJECT):
        # a duplicate judges no report: only an open check speaks against closing it
        return tuple(code for code in CODES if code in found)
    argued = argues_for(decision_reason, reason_code)
    if argued is not None and argued != decision:
        found.add(REASON_AGAINST_DECISION)
    finding = latest_finding(checks)
    if (decision, finding) in ((APPROVE, NOT_CONFIRMED), (REJECT, CONFIRMED)):
        found.add(FINDING_AGAINST_DECISION)
    claimed = _CLAIMS_FINDING.get(decision_reason)
    if claimed is not None and finding in (CONFIRMED, NOT_CONFIRMED) and finding != claimed:
        found.add(REASON_AGAINST_FINDING)
    return tuple(code for code in CODES if code in found)


def parse(joined: str | None) -> frozenset[str]:
    """Conflict codes as a form or the database keeps them ("+"-joined); unknown ones
    are dropped."""
    return frozenset(c for c in (joined or "").split("+") if c in CODES)


def join(codes: Iterable[str]) -> str:
    wanted = set(codes)
    return "+".join(c for c in CODES if c in wanted)
