"""Properties of NIK and No. KK parsing (portal/core/nik.py), over numbers hypothesis builds:
the separators people type are accepted anywhere, any other character is refused as "not
digits", each rule refuses with its own reason (length, region, date, serial, in that
order), the birth date and sex round-trip through the number (women: day + 40), and an
accepted birth date is never in the future.

tests/core/test_nik.py holds the hand-picked cases; this module the rules over many numbers.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from portal.core.nik import (
    InvalidNIK,
    NIKError,
    birth_date,
    kecamatan_of,
    mask_nik,
    normalise,
    parse_kk,
    parse_nik,
    scrub,
)

# Repeatable: the same examples on every run and no example database on disk.
PROPERTY = settings(max_examples=150, deadline=None, derandomize=True, database=None)

TODAY = date(2026, 7, 1)
KECAMATAN = ("32.16.01", "32.16.23", "31.71.01", "11.01.01", "92.71.04")
SEPARATORS = [" ", ".", "-", "  ", " - ", "\t", "\u00a0", "..", "\n"]

kecamatan = st.sampled_from(KECAMATAN)
serials = st.integers(1, 9999)
sexes = st.sampled_from(["L", "P"])
# any day in the hundred years up to TODAY: the century of a 2-digit year is then unambiguous
births = st.dates(TODAY - timedelta(days=36_400), TODAY)


def known(code: str) -> bool:
    return code in KECAMATAN


def make_nik(kec: str, born: date, sex: str, serial: int) -> str:
    day = born.day + (40 if sex == "P" else 0)
    return f"{kec.replace('.', '')}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


niks = st.builds(make_nik, kecamatan, births, sexes, serials)
kks = st.builds(
    lambda kec, tail: kec.replace(".", "") + tail,
    kecamatan,
    st.text(alphabet="0123456789", min_size=10, max_size=10),
)


def refused(raw: str, *, today: date = TODAY) -> NIKError:
    with pytest.raises(InvalidNIK) as excinfo:
        parse_nik(raw, region_exists=known, today=today)
    return excinfo.value.reason


def refused_kk(raw: str) -> NIKError:
    with pytest.raises(InvalidNIK) as excinfo:
        parse_kk(raw, region_exists=known)
    return excinfo.value.reason


def with_separators(number: str, data: st.DataObject) -> str:
    """NUMBER as a person might type or paste it: separators before, between and after."""
    pick = st.sampled_from(["", "", *SEPARATORS])
    return "".join(data.draw(pick) + digit for digit in number) + data.draw(pick)


def is_separator(char: str) -> bool:
    return re.fullmatch(r"[\s.\-]", char) is not None


# characters that are neither an ASCII digit nor a separator normalise() drops
foreign = st.characters(codec="utf-8").filter(lambda c: not ("0" <= c <= "9" or is_separator(c)))


# --- valid numbers round-trip --------------------------------------------------------------


@PROPERTY
@given(kecamatan, births, sexes, serials)
@example("32.16.01", date(2000, 2, 29), "P", 1)
@example("32.16.01", TODAY, "L", 9999)
@example("32.16.01", TODAY - timedelta(days=36_400), "P", 1)
def test_a_valid_nik_gives_back_its_region_birth_date_sex_and_serial(
    kec: str, born: date, sex: str, serial: int
) -> None:
    number = make_nik(kec, born, sex, serial)

    parsed, info = parse_nik(number, region_exists=known, today=TODAY)

    assert parsed == number
    assert (info.kecamatan_code, info.birth_date, info.female, info.serial) == (
        kec,
        born,
        sex == "P",
        serial,
    )
    # and the number can be written again from what it encodes
    assert make_nik(info.kecamatan_code, info.birth_date, sex, info.serial) == number


@PROPERTY
@given(niks, st.data())
def test_separators_anywhere_are_accepted(number: str, data: st.DataObject) -> None:
    written = with_separators(number, data)
    assert normalise(written) == number
    assert parse_nik(written, region_exists=known, today=TODAY)[0] == number


@PROPERTY
@given(kks, st.data())
def test_a_kk_with_a_known_region_and_any_ten_digits_is_accepted_with_separators(
    number: str, data: st.DataObject
) -> None:
    assert parse_kk(with_separators(number, data), region_exists=known) == number


@PROPERTY
@given(niks)
def test_the_kecamatan_of_a_number_is_its_first_six_digits_dotted(number: str) -> None:
    assert kecamatan_of(number) in KECAMATAN
    assert kecamatan_of(number).replace(".", "") == number[:6]


# --- each rule refuses with its own reason -------------------------------------------------


@PROPERTY
@given(niks, st.integers(0, 16), foreign, st.booleans())
@example("3216014506880002", 15, "O", True)
@example("3216014506880002", 0, "+", False)
@example("3216014506880002", 15, "\u0663", True)  # an Arabic-Indic three is isdigit()
def test_any_other_character_is_refused_as_not_digits(
    number: str, pos: int, char: str, replace: bool
) -> None:
    raw = number[:pos] + char + number[pos + int(replace) :]
    assert refused(raw) is NIKError.NOT_DIGITS
    assert refused_kk(raw) is NIKError.NOT_DIGITS


@PROPERTY
@given(st.text(alphabet="0123456789", min_size=1, max_size=40).filter(lambda s: len(s) != 16))
def test_a_digit_string_of_another_length_is_refused_as_length(raw: str) -> None:
    assert refused(raw) is NIKError.LENGTH
    assert refused_kk(raw) is NIKError.LENGTH


@PROPERTY
@given(st.text(alphabet=[" ", ".", "-", "\t", "\u00a0"], max_size=8))
def test_nothing_but_separators_is_refused_as_empty(raw: str) -> None:
    assert refused(raw) is NIKError.EMPTY
    assert refused_kk(raw) is NIKError.EMPTY


@PROPERTY
@given(st.text(alphabet="0123456789", min_size=6, max_size=6), niks)
def test_an_unknown_kecamatan_prefix_is_refused_as_region_before_any_other_rule(
    prefix: str, number: str
) -> None:
    assume(kecamatan_of(prefix + "0" * 10) not in KECAMATAN)
    # whatever the rest says (here a bad date and serial 0000 too), the region comes first
    assert refused(prefix + number[6:]) is NIKError.REGION
    assert refused(prefix + "990099" + "0000") is NIKError.REGION
    assert refused_kk(prefix + number[6:]) is NIKError.REGION


@PROPERTY
@given(niks)
def test_serial_0000_is_refused_as_serial(number: str) -> None:
    assert refused(number[:12] + "0000") is NIKError.SERIAL


IMPOSSIBLE_DAYS = [0, *range(32, 41), *range(72, 100)]  # neither a man's day nor a woman's


@PROPERTY
@given(niks, st.sampled_from(IMPOSSIBLE_DAYS))
def test_a_day_that_is_neither_a_mans_nor_a_womans_is_refused_as_date(
    number: str, day: int
) -> None:
    raw = number[:6] + f"{day:02d}" + number[8:]
    assert refused(raw) is NIKError.DATE
    assert refused(raw[:12] + "0000") is NIKError.DATE  # the date is checked before the serial


@PROPERTY
@given(niks, st.integers(0, 99).filter(lambda m: not 1 <= m <= 12))
def test_a_month_outside_1_to_12_is_refused_as_date(number: str, month: int) -> None:
    assert refused(number[:8] + f"{month:02d}" + number[10:]) is NIKError.DATE


def expected_birth_date(yy: int, month: int, day: int, today: date) -> date | None:
    """The rule, written independently: the newest century that puts day/month/yy on or
    before today; the date must be real in that century (else None)."""
    year = max(y for y in (1900 + yy, 2000 + yy) if (y, month, day) <= today.timetuple()[:3])
    try:
        return date(year, month, day)
    except ValueError:
        return None


@PROPERTY
@given(
    st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    st.integers(0, 99),
    st.integers(1, 12),
    st.integers(1, 31),
    sexes,
)
@example(date(2026, 7, 1), 26, 7, 1, "L")  # born today
@example(date(2026, 7, 1), 26, 7, 2, "P")  # tomorrow: a hundred years ago
@example(date(2026, 1, 1), 26, 2, 29, "L")  # neither 2026 nor 1926 had 29 February
@example(date(2026, 7, 1), 0, 2, 29, "P")  # 2000 had one
@example(date(2000, 1, 15), 0, 2, 29, "L")  # 2000 is ahead, 1900 had none
@example(date(2024, 1, 1), 24, 2, 29, "L")  # 2024 is ahead, 1924 had one
@example(date(2026, 7, 1), 27, 1, 1, "L")  # 2027 is ahead: 1927
def test_a_date_is_accepted_exactly_when_it_is_real_in_the_century_that_puts_it_in_the_past(
    today: date, yy: int, month: int, day: int, sex: str
) -> None:
    coded_day = day + (40 if sex == "P" else 0)
    raw = f"321601{coded_day:02d}{month:02d}{yy:02d}0001"
    expected = expected_birth_date(yy, month, day, today)

    if expected is None:
        assert refused(raw, today=today) is NIKError.DATE
        return
    _, info = parse_nik(raw, region_exists=known, today=today)
    assert (info.birth_date, info.female) == (expected, sex == "P")
    assert info.birth_date <= today
    # less than a hundred years ago: a 2-digit year never reads as a date older than that
    assert (info.birth_date.year + 100, month, day) > today.timetuple()[:3]


@PROPERTY
@given(births, sexes)
def test_a_woman_has_40_added_to_the_day_and_the_same_birth_date_as_a_man(
    born: date, sex: str
) -> None:
    man = make_nik("32.16.01", born, "L", 1)
    woman = make_nik("32.16.01", born, "P", 1)
    assert int(woman[6:8]) == int(man[6:8]) + 40
    assert birth_date(man, today=TODAY) == (born, False)
    assert birth_date(woman, today=TODAY) == (born, True)


# --- what never leaks ----------------------------------------------------------------------


@PROPERTY
@given(niks, st.data())
def test_scrub_hides_a_number_however_it_is_written_in_text(
    number: str, data: st.DataObject
) -> None:
    sep = data.draw(st.sampled_from(["", " ", ".", "-"]))
    written = sep.join(number[i : i + 4] for i in range(0, 16, 4))
    text = f"NIK saya {written}, mohon dicek"
    assert scrub(text) == "NIK saya [NIK], mohon dicek"


@PROPERTY
@given(niks)
def test_mask_nik_shows_only_the_region_and_the_last_two_digits(number: str) -> None:
    masked = mask_nik(number)
    assert masked == number[:6] + "*" * 8 + number[14:]
    assert number[6:14] not in masked
