"""portal.core.names, portal.core.periods and portal.core.programs."""

from __future__ import annotations

from datetime import date

import pytest

from portal.core.names import mask_name
from portal.core.periods import Period
from portal.core.programs import PROGRAMS, canonical, in_scope, is_bansos_desil

# --- names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("SITI AMINAH", "S*** A*****"),
        ("MUHAMMAD RIZKI", "M******* R****"),
        ("BUDI", "B***"),
        ("ANI", "A***"),
        ("AN", "A***"),
        ("A", "A***"),
        ("ANISA", "A****"),
        ("siti aminah", "S*** A*****"),
        ("  SITI   AMINAH  ", "S*** A*****"),
        ("M. RIZKI", "M*** R****"),
        ("NURUL HASANAH BINTI AHMAD", "N**** H****** B**** A****"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_mask_name_keeps_first_letters_and_stars_the_rest(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize("name", ["A", "AN", "ANI", "ANIS"])
def test_mask_name_hides_the_length_of_short_names(name: str) -> None:
    assert mask_name(name) == "A***"


@pytest.mark.parametrize("name", ["SITI AMINAH", "BUDI SANTOSO", "ANI"])
def test_mask_name_shows_no_letter_beyond_the_initials(name: str) -> None:
    masked = mask_name(name)
    assert [c for c in masked if c not in "* "] == [word[0] for word in name.split()]


# --- periods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "year", "quarter"),
    [
        ("2026Q3", 2026, 3),
        ("2026Q1", 2026, 1),
        ("2025Q4", 2025, 4),
        (" 2026Q2\n", 2026, 2),
        ("2000Q1", 2000, 1),
        ("2100Q4", 2100, 4),
    ],
)
def test_period_parse_reads_year_and_quarter(text: str, year: int, quarter: int) -> None:
    period = Period.parse(text)
    assert (period.year, period.quarter) == (year, quarter)
    assert str(period) == text.strip()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026",
        "2026Q0",
        "2026Q5",
        "2026-Q3",
        "2026 Q3",
        "26Q3",
        "Q3 2026",
        "2026Q3x",
        "2026Q33",
        "1999Q4",
        "2101Q1",
        "III 2026",
    ],
)
def test_period_parse_refuses_anything_but_yyyyqn(text: str) -> None:
    with pytest.raises(ValueError, match="period"):
        Period.parse(text)


def test_periods_order_by_year_then_quarter() -> None:
    texts = ["2026Q3", "2025Q4", "2026Q1", "2024Q2", "2026Q2"]
    ordered = sorted(Period.parse(t) for t in texts)
    assert [str(p) for p in ordered] == ["2024Q2", "2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    assert Period.parse("2025Q4") < Period.parse("2026Q1")
    assert Period.parse("2026Q3") == Period(2026, 3)
    assert max(Period.parse(t) for t in texts) == Period(2026, 3)


@pytest.mark.parametrize(
    ("text", "previous"),
    [
        ("2026Q3", "2026Q2"),
        ("2026Q2", "2026Q1"),
        ("2026Q1", "2025Q4"),
        ("2025Q4", "2025Q3"),
        ("2000Q1", "1999Q4"),
    ],
)
def test_period_previous_crosses_year_boundaries(text: str, previous: str) -> None:
    assert str(Period.parse(text).previous) == previous


@pytest.mark.parametrize(
    ("text", "roman", "first_day"),
    [
        ("2026Q1", "I", date(2026, 1, 1)),
        ("2026Q2", "II", date(2026, 4, 1)),
        ("2026Q3", "III", date(2026, 7, 1)),
        ("2026Q4", "IV", date(2026, 10, 1)),
    ],
)
def test_period_roman_numeral_and_first_day(text: str, roman: str, first_day: date) -> None:
    period = Period.parse(text)
    assert period.roman == roman
    assert period.first_day == first_day


def test_period_is_hashable_and_immutable() -> None:
    period = Period.parse("2026Q3")
    assert {period, Period(2026, 3)} == {period}
    with pytest.raises(AttributeError):
        period.year = 2027  # type: ignore[misc]


# --- programs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("PKH", "PKH"),
        ("pkh", "PKH"),
        (" PKH ", "PKH"),
        ("BPNT", "BPNT"),
        ("SEMBAKO", "BPNT"),
        ("Sembako", "BPNT"),
        ("BPNT/SEMBAKO", "BPNT"),
        ("PBI", "PBI-JK"),
        ("PBIJK", "PBI-JK"),
        ("pbi-jk", "PBI-JK"),
        ("PIP", "PIP"),
        ("ATENSI", "ATENSI"),
        ("BLT", "BLT"),
    ],
)
def test_canonical_maps_aliases_to_program_codes(code: str, expected: str) -> None:
    assert canonical(code) == expected


@pytest.mark.parametrize("code", ["", " ", "KIP", "PKH2", "BPNT;PKH", "SEMBAKO/BPNT", "PBI JK"])
def test_canonical_returns_none_for_unknown_codes(code: str) -> None:
    assert canonical(code) is None


@pytest.mark.parametrize(
    ("desil", "expected"),
    [
        (1, ["PKH", "BPNT", "PBI-JK", "PIP", "ATENSI"]),
        (2, ["PKH", "BPNT", "PBI-JK", "PIP", "ATENSI"]),
        (3, ["PKH", "BPNT", "PBI-JK", "PIP", "ATENSI"]),
        (4, ["PKH", "BPNT", "PBI-JK", "PIP", "ATENSI"]),
        (5, ["BPNT", "PBI-JK", "ATENSI"]),
        (6, []),
        (7, []),
        (8, []),
        (9, []),
        (10, []),
    ],
)
def test_in_scope_follows_the_2026_desil_ranges(desil: int, expected: list[str]) -> None:
    assert in_scope(desil) == expected


@pytest.mark.parametrize("desil", range(1, 11))
def test_blt_is_never_in_scope_by_desil(desil: int) -> None:
    assert "BLT" not in in_scope(desil)


def test_in_scope_uses_the_deployment_limits_when_given() -> None:
    limits = {code: p.max_desil for code, p in PROGRAMS.items()}
    limits.update({"PKH": 3, "PIP": 6})
    assert in_scope(3, limits) == ["PKH", "BPNT", "PBI-JK", "PIP", "ATENSI"]
    assert in_scope(4, limits) == ["BPNT", "PBI-JK", "PIP", "ATENSI"]
    assert in_scope(6, limits) == ["PIP"]
    assert in_scope(7, limits) == []


def test_in_scope_override_can_untie_a_program_from_desil() -> None:
    limits = {code: p.max_desil for code, p in PROGRAMS.items()}
    limits["PKH"] = None
    assert "PKH" not in in_scope(1, limits)


def test_in_scope_without_limits_uses_the_defaults() -> None:
    assert in_scope(4, None) == in_scope(4)


@pytest.mark.parametrize(
    ("desil", "bansos"), [(1, True), (4, True), (5, True), (6, False), (10, False)]
)
def test_desil_1_to_5_is_the_bansos_range(desil: int, bansos: bool) -> None:
    assert is_bansos_desil(desil) is bansos
