"""Properties of the ticket code (portal/appeals/tickets.py): the check symbol catches every
single-symbol typo and every swap of neighbouring symbols, a code survives how people write
it down (lower case, spaces, dashes), and symbols that tickets never contain are refused.

Hypothesis draws the codes; for each code every substitution and every swap is tried, so a
run checks some 25,000 typos. The algebra behind it is also checked exhaustively over the
field (a few fixed values pin the scheme, so that tickets already given out stay valid).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from portal.appeals import tickets
from portal.appeals.tickets import (
    ALPHABET,
    BODY,
    TicketCheckError,
    TicketFormatError,
    check_symbol,
    display,
    near_misses,
    new_ticket,
    normalise,
)

# Repeatable: the same examples on every run and no example database on disk.
PROPERTY = settings(max_examples=100, deadline=None, derandomize=True, database=None)

bodies = st.text(alphabet=ALPHABET, min_size=BODY, max_size=BODY)
codes = bodies.map(lambda body: body + check_symbol(body))
REFUSED = sorted(set("01OI") | set("!#/+*@"))  # look-alikes that tickets avoid, and others
SEPARATORS = [" ", "-", "_", ".", "  ", " - ", "\t", "\n"]


def substitutions(code: str) -> list[str]:
    return [
        code[:pos] + char + code[pos + 1 :]
        for pos in range(len(code))
        for char in ALPHABET
        if char != code[pos]
    ]


def neighbour_swaps(code: str) -> list[str]:
    swapped = (code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :] for pos in range(BODY))
    return [s for s in swapped if s != code]


def check_fails(code: str) -> bool:
    try:
        normalise(code)
    except TicketCheckError:
        return True
    return False


# --- what a valid code is ------------------------------------------------------------------


def test_the_alphabet_has_32_symbols_without_0_o_1_and_i() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set(ALPHABET) & set("01OI")
    assert set(ALPHABET) <= set("23456789ABCDEFGHJKLMNPQRSTUVWXYZ")


@pytest.mark.parametrize(
    ("body", "check"),
    [("2222222", "2"), ("K7QM4TX", "E"), ("ZZZZZZZ", "E"), ("ABCDEFG", "7"), ("2345678", "A")],
)
def test_the_check_symbol_of_known_bodies_never_changes(body: str, check: str) -> None:
    """Tickets already handed out must stay valid: the scheme is fixed, not only 'a good one'."""
    assert check_symbol(body) == check


@PROPERTY
@given(codes)
@example("2222222" + check_symbol("2222222"))
@example("ZZZZZZZ" + check_symbol("ZZZZZZZ"))
def test_a_valid_code_normalises_to_itself(code: str) -> None:
    assert normalise(code) == code


def test_new_tickets_are_valid_and_not_repeated() -> None:
    made = [new_ticket() for _ in range(500)]
    assert all(normalise(code) == code for code in made)
    assert len(set(made)) == len(made)
    assert len({code[0] for code in made}) > 16  # drawn from the whole alphabet


# --- typos are caught ----------------------------------------------------------------------


@PROPERTY
@given(codes)
def test_every_single_symbol_substitution_is_detected(code: str) -> None:
    typos = substitutions(code)
    assert len(typos) == (BODY + 1) * (len(ALPHABET) - 1)
    assert [t for t in typos if not check_fails(t)] == []


@PROPERTY
@given(codes)
@example("ABABABA" + check_symbol("ABABABA"))
def test_every_swap_of_neighbouring_symbols_is_detected(code: str) -> None:
    assert [s for s in neighbour_swaps(code) if not check_fails(s)] == []


@PROPERTY
@given(codes, st.data())
def test_a_typo_is_caught_however_the_code_is_written(code: str, data: st.DataObject) -> None:
    typo = data.draw(st.sampled_from(substitutions(code) + neighbour_swaps(code)))
    written = data.draw(st.sampled_from([typo, typo.lower(), display(typo), display(typo).lower()]))
    with pytest.raises(TicketCheckError):
        normalise(written)


def test_the_scheme_detects_substitutions_and_swaps_for_every_interim_value() -> None:
    """Exhaustively over GF(32): a step x -> 2x + y is one-to-one in y (substitutions change
    the interim) and in x (later steps keep it changed), and 2(2x + a) + b differs from
    2(2x + b) + a whenever a != b (swaps change it)."""
    step = tickets._times_two
    field = range(32)
    for x in field:
        assert len({step(x) ^ y for y in field}) == 32
    assert len({step(x) for x in field}) == 32
    for x in field:
        for a in field:
            for b in field:
                if a != b:
                    assert step(step(x) ^ a) ^ b != step(step(x) ^ b) ^ a, (x, a, b)


# --- how people write codes ----------------------------------------------------------------


@PROPERTY
@given(codes)
def test_display_groups_four_and_four_and_normalises_back(code: str) -> None:
    shown = display(code)
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", shown)
    assert shown.replace("-", "") == code
    assert normalise(shown) == code


@settings(PROPERTY, max_examples=40)
@given(codes, st.data())
def test_lower_case_and_separators_anywhere_are_accepted(code: str, data: st.DataObject) -> None:
    written = ""
    for char in code:
        written += data.draw(st.sampled_from(["", *SEPARATORS]))
        written += data.draw(st.sampled_from([char, char.lower()]))
    written += data.draw(st.sampled_from(["", *SEPARATORS]))
    assert normalise(written) == code


# --- what is refused and why ---------------------------------------------------------------


@PROPERTY
@given(codes, st.integers(0, BODY), st.sampled_from(REFUSED))
def test_a_symbol_tickets_never_contain_is_a_format_error(code: str, pos: int, char: str) -> None:
    with pytest.raises(TicketFormatError):
        normalise(code[:pos] + char + code[pos + 1 :])


@PROPERTY
@given(st.text(alphabet=ALPHABET, max_size=20).filter(lambda s: len(s) != BODY + 1))
@example("")
@example("2" * BODY)
@example("2" * (BODY + 2))
def test_a_code_of_another_length_is_a_format_error(raw: str) -> None:
    with pytest.raises(TicketFormatError):
        normalise(raw)


@pytest.mark.parametrize("raw", [None, "", "   ", "----", "K7QM-4TX"])
def test_nothing_or_too_little_is_a_format_error_not_a_crash(raw: str | None) -> None:
    with pytest.raises(TicketFormatError):
        normalise(raw)  # type: ignore[arg-type]


def test_format_and_check_errors_are_value_errors_of_different_kinds() -> None:
    assert issubclass(TicketFormatError, ValueError)
    assert issubclass(TicketCheckError, ValueError)
    assert not issubclass(TicketCheckError, TicketFormatError)
    assert not issubclass(TicketFormatError, TicketCheckError)


# --- "did you mean" ------------------------------------------------------------------------


@PROPERTY
@given(codes)
def test_a_valid_code_has_no_valid_neighbour(code: str) -> None:
    assert near_misses(code) == []


@PROPERTY
@given(codes, st.data())
def test_near_misses_of_a_typo_are_valid_codes_one_step_away_including_the_original(
    code: str, data: st.DataObject
) -> None:
    typo = data.draw(st.sampled_from(substitutions(code) + neighbour_swaps(code)))
    found = near_misses(typo)
    assert code in found
    assert found == sorted(set(found))
    one_step = set(substitutions(typo)) | set(neighbour_swaps(typo))
    for candidate in found:
        assert normalise(candidate) == candidate
        assert candidate in one_step
