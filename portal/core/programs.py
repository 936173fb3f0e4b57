"""Bansos programs and what a desil puts in scope (DOMAIN.md, 2026 guidance defaults).

Being in scope is not receipt: quotas, priority for the lowest desil and field verval decide.
The deployment may override the desil ranges through config (PROGRAM_MAX_DESIL).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    HOUSEHOLD = "household"
    PERSON = "person"


@dataclass(frozen=True, slots=True)
class Program:
    code: str
    level: Level
    max_desil: int | None  # None: not tied to a desil range (ad-hoc programs such as BLT)


PROGRAMS: dict[str, Program] = {
    p.code: p
    for p in (
        Program("PKH", Level.HOUSEHOLD, 4),
        Program("BPNT", Level.HOUSEHOLD, 5),
        Program("PBI-JK", Level.PERSON, 5),
        Program("PIP", Level.PERSON, 4),
        Program("ATENSI", Level.HOUSEHOLD, 5),
        Program("BLT", Level.HOUSEHOLD, None),
    )
}

# Aliases found in source files, mapped to the canonical code.
ALIASES = {"SEMBAKO": "BPNT", "BPNT/SEMBAKO": "BPNT", "PBI": "PBI-JK", "PBIJK": "PBI-JK"}

BANSOS_MAX_DESIL = 5
DESIL_RANGE = range(1, 11)


def canonical(code: str) -> str | None:
    """Canonical program code, or None if unknown."""
    code = code.strip().upper()
    code = ALIASES.get(code, code)
    return code if code in PROGRAMS else None


def in_scope(desil: int, max_desil: dict[str, int | None] | None = None) -> list[str]:
    """Program codes whose desil range includes this desil, in table order."""
    limits = max_desil or {code: p.max_desil for code, p in PROGRAMS.items()}
    return [code for code, top in limits.items() if top is not None and desil <= top]


def is_bansos_desil(desil: int) -> bool:
    return desil <= BANSOS_MAX_DESIL
