"""Ticket codes a person can read aloud over the phone.

Seven random symbols and one check symbol from a 32-symbol alphabet without 0/O and 1/I,
shown as ``K7QM-4TXE``. The check symbol follows Damm's scheme over the field GF(32) with
the totally anti-symmetric quasigroup x*y = 2x + y: it catches every single-symbol typo and
every swap of two neighbouring symbols (Luhn mod 32 would miss some swaps). Codes come
from ``secrets``: neither sequential nor guessable (32^7, about 34 billion, and following
a case also needs the filer's NIK).
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
N = len(ALPHABET)
BODY = 7
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_STRIP = re.compile(r"[\s\-_.]+")


class TicketFormatError(ValueError):
    """Not a ticket: wrong length or a symbol tickets never contain."""


class TicketCheckError(ValueError):
    """Right shape, but the check symbol does not fit: a typo somewhere."""


def _times_two(x: int) -> int:
    """Multiply by the generator in GF(32), modulus x^5 + x^2 + 1."""
    x <<= 1
    return x ^ 0b100101 if x & 0b100000 else x


def _interim(code: str) -> int:
    interim = 0
    for char in code:
        interim = _times_two(interim) ^ _INDEX[char]
    return interim


def check_symbol(body: str) -> str:
    """The symbol that brings the Damm interim of BODY + symbol to zero."""
    return ALPHABET[_times_two(_interim(body))]


def new_ticket() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY))
    return body + check_symbol(body)


def normalise(raw: str) -> str:
    """Upper-case and drop separators: ``k7qm 4txe`` -> ``K7QM4TXE``. Raises on bad shape."""
    code = _STRIP.sub("", raw or "").upper()
    if len(code) != BODY + 1:
        raise TicketFormatError(code)
    if any(c not in _INDEX for c in code):
        raise TicketFormatError(code)
    if check_symbol(code[:BODY]) != code[BODY]:
        raise TicketCheckError(code)
    return code


def display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def near_misses(code: str) -> list[str]:
    """Valid codes one symbol away from CODE (the candidates for "did you mean")."""
    found = []
    for pos in range(BODY + 1):
        for char in ALPHABET:
            if char == code[pos]:
                continue
            candidate = code[:pos] + char + code[pos + 1 :]
            if check_symbol(candidate[:BODY]) == candidate[BODY]:
                found.append(candidate)
    # neighbouring swaps too
    for pos in range(BODY):
        swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :]
        if swapped != code and check_symbol(swapped[:BODY]) == swapped[BODY]:
            found.append(swapped)
    return sorted(set(found))
