"""Bansos programs and what a desil puts in scope (DOMAIN.md, 2026 guidance defaults).

Being in scope is not receipt: quotas, priority for the lowest desil and field verval decide.
The deployment may override the desil ranges through config (PROGRAM_MAX_DESIL).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Level(StrEnum):
    HOUSEHOLD = "household"
    PERSON = "person"


# School age for PIP: 6 to 21 years. Permendikbud No. 10 Tahun 2020 tentang Program Indonesia
# Pintar aims PIP at "anak usia 6 (enam) tahun sampai dengan 21 (dua puluh satu) tahun".
# Neither DOMAIN.md nor the seeds give an age; a deployment may change it with the rule.
SCHOOL_AGE = range(6, 22)


@dataclass(frozen=True, slots=True)
class Program:
    code: str
    level: Level
    max_desil: int | None  # None: not tied to a desil range (ad-hoc programs such as BLT)
    ages: range | None = None  # only people of these ages can receive it (None: anyone)
    by_assessment: bool = False  # given after an assessment by social workers, not by usulan


PROGRAMS: dict[str, Program] = {
    p.code: p
    for p in (
        Program("PKH", Level.HOUSEHOLD, 4),
        Program("BPNT", Level.HOUSEHOLD, 5),
        Program("PBI-JK", Level.PERSON, 5),
        Program("PIP", Level.PERSON, 4, ages=SCHOOL_AGE),
        Program("ATENSI", Level.HOUSEHOLD, 5, by_assessment=True),
        Program("BLT", Level.HOUSEHOLD, None),
    )
}


class Standing(StrEnum):
    """Where a household stands with a program its desil puts in scope."""

    RECEIVED = "received"  # the data shows someone in the household receiving it
    NOT_RECEIVED = "not_received"  # it could apply and is not received: it can be proposed
    NO_ONE_ELIGIBLE = "no_one_eligible"  # nobody in the household fits it (PIP: no pupil age)
    BY_ASSESSMENT = "by_assessment"  # given after an assessment, not proposed by usulan


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


def age_on(born: date, day: date) -> int:
    """Age in whole years on DAY."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def standing(code: str, received: bool, ages: Iterable[int]) -> Standing:
    """How a program in scope stands for a household whose members have AGES."""
    if received:
        return Standing.RECEIVED
    program = PROGRAMS[code]
    if program.ages is not None and not any(age in program.ages for age in ages):
        return Standing.NO_ONE_ELIGIBLE
    if program.by_assessment:
        return Standing.BY_ASSESSMENT
    return Standing.NOT_RECEIVED
