"""The rules that say when a decision contradicts the evidence (portal/review/decision_rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.appeals.reasons import DECISION_REASONS, REASONS
from portal.review import decision_rules as rules
from portal.review.decision_rules import Check

T0 = datetime(2026, 7, 1, tzinfo=UTC)
OPEN = Check(done_at=None, outcome=None, id=3)


def done(outcome: str, hours: int = 0, id: int = 1) -> Check:
    return Check(done_at=T0 + timedelta(hours=hours), outcome=outcome, id=id)


CONFIRMED, NOT_CONFIRMED, UNCLEAR = done("confirmed"), done("not_confirmed"), done("unclear")


@pytest.mark.parametrize(
    ("decision", "reason", "checks", "expected"),
    [
        # agreeing with the evidence: nothing to confirm
        ("disetujui", "verified_in_field", [CONFIRMED], ()),
        ("ditolak", "not_confirmed_in_field", [NOT_CONFIRMED], ()),
        ("disetujui", "documents_confirm", [], ()),
        ("ditolak", "documents_insufficient", [], ()),
        ("disetujui", "other", [UNCLEAR], ()),
        ("ditolak", "other", [], ()),
        ("duplikat", "duplicate_case", [CONFIRMED], ()),
        ("duplikat", "not_confirmed_in_field", [], ()),  # a duplicate judges no report
        # the case: approved with "not confirmed", the field check still open
        (
            "disetujui",
            "not_confirmed_in_field",
            [OPEN],
            ("field_check_open", "reason_against_decision"),
        ),
        ("disetujui", "documents_insufficient", [], ("reason_against_decision",)),
        ("ditolak", "verified_in_field", [], ("reason_against_decision",)),
        ("ditolak", "documents_confirm", [], ("reason_against_decision",)),
        ("disetujui", "duplicate_case", [], ("reason_against_decision",)),
        # approve while the field finding says not confirmed, reject while it confirms
        ("disetujui", "other", [NOT_CONFIRMED], ("finding_against_decision",)),
        ("ditolak", "other", [CONFIRMED], ("finding_against_decision",)),
        (
            "disetujui",
            "verified_in_field",
            [NOT_CONFIRMED],
            ("finding_against_decision", "reason_against_finding"),
        ),
        (
            "ditolak",
            "not_confirmed_in_field",
            [CONFIRMED],
            ("finding_against_decision", "reason_against_finding"),
        ),
        ("duplikat", "duplicate_case", [OPEN], ("field_check_open",)),
        ("ditolak", "other", [CONFIRMED, OPEN], ("field_check_open", "finding_against_decision")),
    ],
)
def test_a_decision_contradicts_the_evidence_exactly_when_a_rule_says_so(
    decision: str, reason: str, checks: list[Check], expected: tuple[str, ...]
) -> None:
    assert rules.conflicts(decision, reason, "INC-MAMPU", checks) == expected


def test_the_latest_field_finding_counts_not_an_earlier_one() -> None:
    earlier, later = done("not_confirmed", 0, id=1), done("confirmed", 5, id=2)
    assert rules.latest_finding([later, earlier]) == "confirmed"
    assert rules.conflicts("disetujui", "verified_in_field", "INC-ASN", [earlier, later]) == ()
    assert rules.conflicts("ditolak", "other", "INC-ASN", [earlier, later]) == (
        "finding_against_decision",
    )
    # done at the same moment: the later request (higher id) wins
    a, b = done("confirmed", 1, id=7), done("not_confirmed", 1, id=8)
    assert rules.latest_finding([b, a]) == "not_confirmed"
    assert rules.latest_finding([OPEN]) is None


def test_outside_the_criteria_argues_for_removal_in_an_inclusion_error_else_for_rejection() -> None:
    assert rules.conflicts("disetujui", "outside_criteria", "INC-MAMPU", []) == ()
    assert rules.conflicts("ditolak", "outside_criteria", "INC-MAMPU", []) == (
        "reason_against_decision",
    )
    for code in ("EXC-DESIL-SALAH", "EXC-TIDAK-TERDATA", "USUL-PROGRAM"):
        assert rules.conflicts("ditolak", "outside_criteria", code, []) == ()
        assert rules.conflicts("disetujui", "outside_criteria", code, []) == (
            "reason_against_decision",
        )


def test_every_decision_reason_and_case_reason_is_judged_without_error() -> None:
    for code in REASONS:
        for reason in DECISION_REASONS:
            for decision in ("disetujui", "ditolak", "duplikat"):
                found = rules.conflicts(decision, reason, code, [OPEN, CONFIRMED])
                assert set(found) <= set(rules.CODES)
                assert found[0] == "field_check_open"


def test_conflict_codes_survive_the_form_and_the_database_and_unknown_ones_do_not() -> None:
    codes = ("field_check_open", "finding_against_decision")
    assert rules.join(reversed(codes)) == "field_check_open+finding_against_decision"
    assert rules.parse(rules.join(codes)) == frozenset(codes)
    assert rules.parse("field_check_open+<script>+") == frozenset({"field_check_open"})
    assert rules.parse(None) == frozenset()


@pytest.mark.parametrize(
    ("reason", "checks", "refused"),
    [
        # the case: "confirmed by a field check", no field check ever asked
        ("verified_in_field", [], True),
        ("not_confirmed_in_field", [], True),
        # asked, but no result yet: still nothing found in the field
        ("verified_in_field", [OPEN], True),
        ("not_confirmed_in_field", [OPEN], True),
        # a result, whatever it says (a contrary one is a conflict, not this refusal)
        ("verified_in_field", [CONFIRMED], False),
        ("verified_in_field", [NOT_CONFIRMED], False),
        ("not_confirmed_in_field", [UNCLEAR, OPEN], False),
        # reasons that name no field result need none
        ("documents_confirm", [], False),
        ("documents_insufficient", [OPEN], False),
        ("other", [], False),
        ("duplicate_case", [], False),
    ],
)
def test_a_reason_naming_a_field_result_needs_a_field_check_with_a_result(
    reason: str, checks: list[Check], refused: bool
) -> None:
    assert rules.without_finding(reason, checks) is refused


def test_the_field_evidence_reasons_are_the_two_that_name_a_field_result() -> None:
    assert frozenset({"verified_in_field", "not_confirmed_in_field"}) == rules.FIELD_REASONS
    assert set(DECISION_REASONS) >= rules.FIELD_REASONS
