"""NIK and No. KK: normalise, validate, pseudonymise (keyed HMAC) and mask.

A NIK is ``PPKKCC DDMMYY SSSS``: the kecamatan code of first registration, the birth date
(women have 40 added to the day) and a serial 0001-9999. There is no check digit.
A No. KK shares the 16-digit shape and the region prefix; the rest is an issue date and a
serial that we do not interpret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

_SEPARATORS = re.compile(r"[\s.\-]+")
SIXTEEN_DIGITS = re.compile(r"\d{16}")


class NIKError(StrEnum):
    """Why a number was refused. Views translate these; they never carry the number."""

    EMPTY = "empty"
    NOT_DIGITS = "not_digits"
    LENGTH = "length"
    REGION = "region"
    DATE = "date"
    SERIAL = "serial"


class InvalidNIK(ValueError):
    def __init__(self, reason: NIKError) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class NIKInfo:
    kecamatan_code: str  # dotted, e.g. "32.16.01"
    birth_date: date
    female: bool
    serial: int


def normalise(raw: str | None) -> str:
    """Drop spaces, dots and dashes that people type or paste between digit groups."""
    if raw and raw.isdigit():  # nothing to drop: a snapshot's millions of cells, most forms
        return raw
    return _SEPARATORS.sub("", raw or "")


def kecamatan_of(number: str) -> str:
    """Dotted kecamatan code of a 16-digit NIK or No. KK: 3216014506880002 -> 32.16.01."""
    return f"{number[0:2]}.{number[2:4]}.{number[4:6]}"


def _check_shape(number: str) -> None:
    if not number:
        raise InvalidNIK(NIKError.EMPTY)
    if not number.isascii() or not number.isdigit():
        raise InvalidNIK(NIKError.NOT_DIGITS)
    if len(number) != 16:
        raise InvalidNIK(NIKError.LENGTH)


def birth_date(number: str, *, today: date) -> tuple[date, bool]:
    """Birth date and sex encoded in a NIK; raises InvalidNIK(DATE) if it is no real date.

    The century is the one that puts the date in the past (a 2-digit year of 30 read in 2026
    is 1930, not 2030).
    """
    day, month, yy = int(number[6:8]), int(number[8:10]), int(number[10:12])
    female = day > 40
    if female:
        day -= 40
    year = 2000 + yy
    if year > today.year:
        year -= 100
    try:
        born = date(year, month, day)
    except ValueError:
        raise InvalidNIK(NIKError.DATE) from None
    if born > today:
        try:
            born = date(year - 100, month, day)
        except ValueError:  # 29 February of a century that had none
            raise InvalidNIK(NIKError.DATE) from None
    return born, female


def parse_nik(
    raw: str | None, *, region_exists: Callable[[str], bool], today: date
) -> tuple[str, NIKInfo]:
    """Normalise and validate a NIK; return it with what it encodes. Raises InvalidNIK."""
    number = normalise(raw)
    _check_shape(number)
    kec = kecamatan_of(number)
    if not region_exists(kec):
        raise InvalidNIK(NIKError.REGION)
    born, female = birth_date(number, today=today)
    serial = int(number[12:16])
    if serial == 0:
        raise InvalidNIK(NIKError.SERIAL)
    return number, NIKInfo(kec, born, female, serial)


def parse_kk(raw: str | None, *, region_exists: Callable[[str], bool]) -> str:
    """Normalise and validate a No. KK (16 digits, known region prefix). Raises InvalidNIK."""
    number = normalise(raw)
    _check_shape(number)
    if not region_exists(kecamatan_of(number)):
        raise InvalidNIK(NIKError.REGION)
    return number


def hmac_number(number: str, key: bytes, *, purpose: str = "nik") -> str:
    """Keyed, domain-separated pseudonym of a NIK or No. KK (128 bits, hex).

    The key (NIK_HMAC_KEY) is separate from SECRET_KEY: without it the 16-digit space can be
    brute-forced in minutes, so a plain hash would not protect anything.
    """
    mac = hmac.new(key, f"{purpose}:{number}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def mask_nik(number: str) -> str:
    """Keep the region prefix and the last two digits: 321601**********02."""
    if len(number) != 16:
        return "*" * len(number)
    return number[:6] + "*" * 8 + number[-2:]


def scrub(text: str) -> str:
    """Replace every run of 16 digits (with or without separators) in free text by a mask."""
    return _SIXTEEN_IN_TEXT.sub("[NIK]", text)


# a separator people type (space, dot, dash), also URL-encoded (+, %20, %2D, %2E)
_SIXTEEN_IN_TEXT = re.compile(r"(?<!\d)(?:\d(?:[\s.\-+]|%2[0dDeE])?){15}\d(?!\d)")
