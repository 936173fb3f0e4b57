"""Triwulan periods, written ``2026Q3``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_PERIOD = re.compile(r"(\d{4})Q([1-4])")


@dataclass(frozen=True, order=True, slots=True)
class Period:
    year: int
    quarter: int

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD.fullmatch(text.strip())
        if not match:
            raise ValueError(f"not a period (YYYYQn): {text!r}")
        year = int(match.group(1))
        if not 2000 <= year <= 2100:
            raise ValueError(f"period year out of range: {year}")
        return cls(year, int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def roman(self) -> str:
        return ("I", "II", "III", "IV")[self.quarter - 1]

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.quarter - 2, 1)

    @property
    def previous(self) -> Period:
        if self.quarter == 1:
            return Period(self.year - 1, 4)
        return Period(self.year, self.quarter - 1)
