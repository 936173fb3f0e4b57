"""portal.core.nik: normalise, parse_nik, parse_kk, hmac_number, mask_nik and scrub.

NIKs are built by hand: ``PPKKCC`` + ``DDMMYY`` (+40 on the day for women) + serial.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from portal.core.nik import (
    InvalidNIK,
    NIKError,
    hmac_number,
    mask_nik,
    normalise,
    parse_kk,
    parse_nik,
    scrub,
)

TODAY = date(2026, 7, 1)
KNOWN_KECAMATAN = {"32.16.01", "32.16.02", "31.71.01"}


def known(code: str) -> bool:
    return code in KNOWN_KECAMATAN


def parse(raw: str | None, today: date = TODAY):
    return parse_nik(raw, region_exists=known, today=today)


def refused(raw: str | None, today: date = TODAY) -> NIKError:
    with pytest.raises(InvalidNIK) as excinfo:
        parse(raw, today)
    return excinfo.value.reason


# --- normalise ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3216014506880002", "3216014506880002"),
        ("3216 0145 0688 0002", "3216014506880002"),
        ("3216.0145.0688.0002", "3216014506880002"),
        ("3216-0145-0688-0002", "3216014506880002"),
        ("32.16.01 - 450688 - 0002", "3216014506880002"),
        ("  3216014506880002\n", "3216014506880002"),
        ("3216\t0145\u00a00688 0002", "3216014506880002"),
        ("", ""),
        (None, ""),
        (" .- ", ""),
    ],
)
def test_normalise_drops_spaces_dots_and_dashes(raw: str | None, expected: str) -> None:
    assert normalise(raw) == expected


def test_normalise_keeps_other_characters_for_validation_to_refuse() -> None:
    assert normalise("3216/0145") == "3216/0145"


# --- parse_nik: valid numbers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "born", "female"),
    [
        ("3216010506880002", date(1988, 6, 5), False),
        ("3216014506880002", date(1988, 6, 5), True),
        ("3216013112990001", date(1999, 12, 31), False),
        ("3216017112990001", date(1999, 12, 31), True),
        ("3216014101000001", date(2000, 1, 1), True),
        ("3216011404250001", date(2025, 4, 14), False),
    ],
)
def test_parse_nik_reads_birth_date_and_sex_with_the_plus_40_rule(
    raw: str, born: date, female: bool
) -> None:
    number, info = parse(raw)
    assert number == raw
    assert info.birth_date == born
    assert info.female is female
    assert info.kecamatan_code == "32.16.01"


def test_parse_nik_returns_serial_and_dotted_kecamatan() -> None:
    number, info = parse("3216 02 450688 9999")
    assert number == "3216024506889999"
    assert info.kecamatan_code == "32.16.02"
    assert info.serial == 9999


@pytest.mark.parametrize(
    ("ddmmyy", "today", "born"),
    [
        ("010130", TODAY, date(1930, 1, 1)),  # 2030 would be in the future
        ("010126", TODAY, date(2026, 1, 1)),  # this year, already past
        ("010726", TODAY, date(2026, 7, 1)),  # born today
        ("010826", TODAY, date(1926, 8, 1)),  # later this year: last century
        ("311299", TODAY, date(1999, 12, 31)),
        ("010100", TODAY, date(2000, 1, 1)),
        ("010100", date(1999, 6, 1), date(1900, 1, 1)),
    ],
)
def test_parse_nik_picks_the_century_that_puts_the_birth_date_in_the_past(
    ddmmyy: str, today: date, born: date
) -> None:
    _, info = parse(f"321601{ddmmyy}0001", today)
    assert info.birth_date == born
    assert info.birth_date <= today


@pytest.mark.parametrize(
    ("ddmmyy", "born"),
    [
        ("290200", date(2000, 2, 29)),
        ("290224", date(2024, 2, 29)),
        ("290288", date(1988, 2, 29)),
        ("290228", date(1928, 2, 29)),  # 2028 is in the future, 1928 was a leap year
        ("690296", date(1996, 2, 29)),  # a woman
    ],
)
def test_parse_nik_accepts_29_february_in_a_leap_year(ddmmyy: str, born: date) -> None:
    _, info = parse(f"321601{ddmmyy}0001")
    assert info.birth_date == born


@pytest.mark.parametrize(
    ("ddmmyy", "today"),
    [
        ("290201", TODAY),
        ("290223", TODAY),
        ("690225", TODAY),
        ("290226", date(2026, 1, 1)),  # neither 2026 nor 1926 had 29 February
        ("290200", date(2000, 1, 15)),  # 2000 is ahead, 1900 had no 29 February
    ],
)
def test_parse_nik_refuses_29_february_in_a_non_leap_year(ddmmyy: str, today: date) -> None:
    assert refused(f"321601{ddmmyy}0001", today) is NIKError.DATE


@pytest.mark.parametrize(
    "ddmmyy",
    [
        "320188",  # day 32
        "000188",  # day 0
        "400188",  # day 40: neither a man's day nor a woman's
        "721288",  # woman, day 32
        "011388",  # month 13
        "010088",  # month 0
        "310488",  # 31 April
        "710488",  # woman, 31 April
        "990988",
    ],
)
def test_parse_nik_refuses_impossible_dates(ddmmyy: str) -> None:
    assert refused(f"321601{ddmmyy}0001") is NIKError.DATE


def test_parse_nik_refuses_serial_0000() -> None:
    assert refused("3216014506880000") is NIKError.SERIAL


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", NIKError.EMPTY),
        (None, NIKError.EMPTY),
        ("   ", NIKError.EMPTY),
        ("321601450688000", NIKError.LENGTH),  # 15 digits
        ("32160145068800021", NIKError.LENGTH),  # 17 digits
        ("3216", NIKError.LENGTH),
        ("321601450688000O", NIKError.NOT_DIGITS),  # letter O
        ("3216014506880002x", NIKError.NOT_DIGITS),
        ("+3216014506880002", NIKError.NOT_DIGITS),
        ("321601450688000\u0663", NIKError.NOT_DIGITS),  # Arabic-Indic three
        ("\u0663\u0662\u0661\u0666014506880002", NIKError.NOT_DIGITS),
        ("３２１６０１４５０６８８０００２", NIKError.NOT_DIGITS),  # full-width digits
        ("321601450688000²", NIKError.NOT_DIGITS),  # superscript two is isdigit()
        ("9999014506880002", NIKError.REGION),
        ("3216994506880002", NIKError.REGION),
    ],
)
def test_parse_nik_refuses_malformed_numbers_with_a_reason(
    raw: str | None, reason: NIKError
) -> None:
    assert refused(raw) is reason


def test_parse_nik_asks_region_exists_for_the_dotted_kecamatan_code() -> None:
    asked: list[str] = []

    def region_exists(code: str) -> bool:
        asked.append(code)
        return False

    with pytest.raises(InvalidNIK) as excinfo:
        parse_nik("3171014506880002", region_exists=region_exists, today=TODAY)
    assert excinfo.value.reason is NIKError.REGION
    assert asked == ["31.71.01"]


def test_invalid_nik_message_is_the_reason_not_the_number() -> None:
    with pytest.raises(InvalidNIK) as excinfo:
        parse("3216017206880002")
    assert str(excinfo.value) == "date"
    assert "3216017206880002" not in repr(excinfo.value)
    assert isinstance(excinfo.value, ValueError)


# --- parse_kk -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3216011203150004", "3216011203150004"),
        ("3216 0112 0315 0004", "3216011203150004"),
        ("3216.01.120315.0004", "3216011203150004"),
        ("3216019999990000", "3216019999990000"),  # the issue date and serial are not read
    ],
)
def test_parse_kk_checks_shape_and_region_only(raw: str, expected: str) -> None:
    assert parse_kk(raw, region_exists=known) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", NIKError.EMPTY),
        (None, NIKError.EMPTY),
        ("321601120315000", NIKError.LENGTH),
        ("32160112031500041", NIKError.LENGTH),
        ("32160112031500O4", NIKError.NOT_DIGITS),
        ("321601120315000\u0664", NIKError.NOT_DIGITS),
        ("9999011203150004", NIKError.REGION),
    ],
)
def test_parse_kk_refuses_bad_numbers(raw: str | None, reason: NIKError) -> None:
    with pytest.raises(InvalidNIK) as excinfo:
        parse_kk(raw, region_exists=known)
    assert excinfo.value.reason is reason


# --- hmac_number --------------------------------------------------------------------------

KEY = b"k" * 32
NIK = "3216014506880002"


def test_hmac_number_is_stable_for_the_same_key_and_number() -> None:
    assert hmac_number(NIK, KEY) == hmac_number(NIK, KEY)
    assert re.fullmatch(r"[0-9a-f]{32}", hmac_number(NIK, KEY))


def test_hmac_number_depends_on_the_key() -> None:
    assert hmac_number(NIK, KEY) != hmac_number(NIK, b"j" * 32)


def test_hmac_number_depends_on_the_number() -> None:
    assert hmac_number(NIK, KEY) != hmac_number("3216014506880003", KEY)


def test_hmac_number_separates_purposes() -> None:
    digests = {hmac_number(NIK, KEY, purpose=p) for p in ("nik", "kk", "ratelimit")}
    assert len(digests) == 3
    assert hmac_number(NIK, KEY) == hmac_number(NIK, KEY, purpose="nik")


@pytest.mark.parametrize("number", [NIK, "0000000000000000", "1234567890123456"])
def test_hmac_number_never_contains_the_number(number: str) -> None:
    for purpose in ("nik", "kk"):
        digest = hmac_number(number, KEY, purpose=purpose)
        assert number not in digest
        assert number[:8] not in digest
        assert not re.search(r"\d{16}", digest)


# --- mask_nik -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("3216014506880002", "321601********02"),
        ("3171010101000199", "317101********99"),
        ("321601450688000", "*" * 15),
        ("32160145068800021", "*" * 17),
        ("", ""),
    ],
)
def test_mask_nik_keeps_region_and_last_two_digits_only(number: str, masked: str) -> None:
    assert mask_nik(number) == masked


def test_mask_nik_hides_the_birth_date() -> None:
    assert "450688" not in mask_nik("3216014506880002")


# --- scrub --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3216014506880002", "[NIK]"),
        ("NIK saya 3216014506880002 mohon dicek", "NIK saya [NIK] mohon dicek"),
        ("nik=3216014506880002&no_kk=3216011203150004", "nik=[NIK]&no_kk=[NIK]"),
        ("3216 0145 0688 0002", "[NIK]"),
        ("3216.0145.0688.0002.", "[NIK]."),
        ("3216-0145-0688-0002", "[NIK]"),
        ("32.16.01.450688.0002", "[NIK]"),
        ("a 3216014506880002, b 3216011203150004", "a [NIK], b [NIK]"),
        ("(3216014506880002)", "([NIK])"),
        # URL-encoded, as a query string or a form body quotes what was typed
        ("nik=3216+0145+0688+0002&x=1", "nik=[NIK]&x=1"),
        ("nik=3216%200145%200688%200002", "nik=[NIK]"),
        ("q=3216%2D0145%2d0688%2E0002", "q=[NIK]"),
    ],
)
def test_scrub_masks_16_digit_runs_with_or_without_separators(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "321601450688000",  # 15 digits
        "32160145068800021",  # 17 digits
        "order 123456789012345678901 shipped",
        "tel 0812-3456-7890, 2026-07-01 12.30",
        "desil 3, periode 2026Q3",
        "",
    ],
)
def test_scrub_leaves_other_digit_runs_alone(text: str) -> None:
    assert scrub(text) == text
