"""Generate a DTSEN snapshot CSV of Kabupaten Bekasi for the benchmarks (DOMAIN.md format).

Deterministic (seeded): about 4.0 persons a household, desil and programs as in the demo data,
NIKs whose region, birth date and sex agree. ``DataSet`` keeps the households (the look-up
benchmark picks NIK + No. KK pairs from them); ``write_snapshot`` streams them to a file in
constant memory, for the import benchmark's millions of rows.

    .venv/bin/python bench/gen_snapshot.py --persons 3600000 --out bench/out/snap.csv
"""

from __future__ import annotations

import argparse
import csv
import random
import sqlite3
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

try:
    from portal.dataimport.demo import (
        FEMALE,
        KAMPUNG,
        MALE,
        PERUMAHAN,
        SECOND,
        House,
        Member,
        Numbers,
    )
    from portal.dataimport.reader import COLUMNS
except ModuleNotFoundError as exc:
    raise SystemExit(f"run with the project's venv: .venv/bin/python bench/... ({exc})") from None

SEED = 3216
MISS_SHARE = 0.10
SIZES = (1, 2, 3, 4, 5, 6, 7)
SIZE_WEIGHTS = (5, 12, 20, 28, 18, 10, 7)  # mean 4.0 persons a household
DESIL_WEIGHTS = (6, 7, 8, 9, 9, 10, 11, 12, 14, 14)  # as in the demo data
KABUPATEN = "32.16"  # Kabupaten Bekasi


class DataSet:
    """The generated snapshot: houses for write_csv and the pairs the wrk script posts."""

    def __init__(self, persons: int, today: date, desas: list[str], keep: bool = True) -> None:
        self.rng = random.Random(SEED)
        self.nums = Numbers(self.rng)
        self.today = today
        self.desas = sorted(desas)
        self.kecamatans = sorted({d.rsplit(".", 1)[0] for d in self.desas})
        self.persons = persons
        self.houses: list[House] = list(self.stream()) if keep else []

    def stream(self) -> Iterator[House]:
        """The households one by one (nothing kept: for files larger than memory)."""
        count = 0
        while count < self.persons:
            house = self._house(self.persons - count)
            count += len(house.members)
            yield house

    def _born(self, age_from: int, age_to: int) -> date:
        """A real birth date (29 February included), never after today."""
        oldest = self.today - timedelta(days=round((age_to + 1) * 365.25) - 1)
        youngest = self.today - timedelta(days=round(age_from * 365.25))
        return oldest + timedelta(days=self.rng.randint(0, (youngest - oldest).days))

    def _name(self, sex: str) -> str:
        first = self.rng.choice(MALE if sex == "L" else FEMALE)
        return f"{first} {self.rng.choice(SECOND)}"

    def _address(self, desil: int) -> str:
        rng = self.rng
        if desil >= 7:
            block = f"{rng.choice('ABCDE')}{rng.randint(1, 12)}"
            return f"{rng.choice(PERUMAHAN)} BLOK {block} NO. {rng.randint(1, 40)}"
        kampung = rng.choice(KAMPUNG)
        return f"KP. {kampung} RT {rng.randint(1, 15):03d}/RW {rng.randint(1, 12):03d}"

    def _house(self, room: int) -> House:
        rng = self.rng
        desa = rng.choice(self.desas)
        kec = desa.rsplit(".", 1)[0]
        size = min(room, rng.choices(SIZES, SIZE_WEIGHTS)[0])
        head_sex = "L" if rng.random() < 0.85 else "P"
        head_age = rng.randint(20 if size == 1 else 24, 78)
        people = [(head_sex, self._born(head_age, head_age), "KEPALA KELUARGA")]
        if size >= 2 and head_sex == "L" and rng.random() < 0.92:
            age = max(18, head_age - rng.randint(-2, 10))
            people.append(("P", self._born(age, age), "ISTRI"))
        elif size >= 2 and head_sex == "P" and rng.random() < 0.3:
            age = max(18, head_age + rng.randint(-2, 8))
            people.append(("L", self._born(age, age), "SUAMI"))
        youngest_parent = min(self.today.year - born.year for _, born, _ in people)
        while len(people) < size:
            if len(people) >= 3 and head_age <= 55 and rng.random() < 0.12:
                people.append(("P" if rng.random() < 0.7 else "L", self._born(65, 90), "ORANG TUA"))
                continue
            sex = rng.choice("LP")
            people.append((sex, self._born(0, max(0, min(30, youngest_parent - 18))), "ANAK"))
        # a NIK carries the kecamatan of first registration: mostly the household's own
        members = [
            Member(
                self.nums.nik(kec if rng.random() < 0.9 else rng.choice(self.kecamatans), b, s),
                self._name(s),
                s,
                b,
                hub,
            )
            for s, b, hub in people
        ]
        desil = rng.choices(range(1, 11), weights=DESIL_WEIGHTS)[0]
        issued = self._born(0, 15)  # the family card's issue date, within 15 years
        house = House(self.nums.kk(kec, issued), desa, self._address(desil), desil, members)
        self._programs(house)
        return house

    def _programs(self, house: House) -> None:
        """Programs plausible for the desil, as in the demo data."""
        rng, desil = self.rng, house.desil
        common = []
        if desil <= 4 and rng.random() < 0.55:
            common.append("PKH")
        if desil <= 5 and rng.random() < 0.65:
            common.append("BPNT")
        pbi = desil <= 5 and rng.random() < 0.8
        for m in house.members:
            m.programs = list(common) + (["PBI-JK"] if pbi else [])
            age = (self.today - m.born).days // 365
            if m.hubungan == "ANAK" and 6 <= age <= 18 and desil <= 4 and rng.random() < 0.6:
                m.programs.append("PIP")

    def pairs(self, count: int) -> list[tuple[str, str, str]]:
        """COUNT (nik, no_kk, expected) rows: hits, and MISS_SHARE valid pairs that match nothing
        (half wholly unknown numbers, half a known NIK with another family's No. KK)."""
        rng = self.rng
        rows = []
        for __ in range(count):
            house = rng.choice(self.houses)
            if rng.random() >= MISS_SHARE:
                rows.append((rng.choice(house.members).nik, house.no_kk, "hit"))
            elif rng.random() < 0.5:
                kec = rng.choice(self.kecamatans)
                sex = rng.choice("LP")
                nik = self.nums.nik(kec, self._born(0, 80), sex)
                rows.append((nik, self.nums.kk(kec, self._born(0, 15)), "miss"))
            else:
                other = rng.choice(self.houses)
                while other is house:
                    other = rng.choice(self.houses)
                rows.append((rng.choice(house.members).nik, other.no_kk, "miss"))
        return rows


def write_snapshot(
    path: Path, persons: int, period: str, today: date, desas: list[str]
) -> tuple[int, int]:
    """Write a snapshot of PERSONS rows to PATH, streaming; return (persons, households)."""
    data = DataSet(persons, today, desas, keep=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    households = rows = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for h in data.stream():
            households += 1
            for m in h.members:
                rows += 1
                writer.writerow(
                    (period, h.no_kk, m.nik, m.nama, m.sex, m.born.isoformat(), m.hubungan,
                     h.kode_desa, h.alamat, h.desil, ";".join(m.programs))
                )  # fmt: skip
    return rows, households


def region_desas(db_path: Path, kabupaten: str = KABUPATEN) -> list[str]:
    """The desa codes of KABUPATEN in a portal SQLite database (after `wilayah import`)."""
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT code FROM wilayah WHERE level = 4 AND code LIKE ?", (f"{kabupaten}.%",)
        ).fetchall()
    return [r[0] for r in rows]


def vendored_desas(kabupaten: str = KABUPATEN) -> list[str]:
    """The desa codes of KABUPATEN from the vendored region file (no database needed)."""
    villages = Path(__file__).resolve().parent.parent / "portal/data/wilayah/villages.csv"
    with villages.open(encoding="utf-8", newline="") as fh:
        return [row["code"] for row in csv.DictReader(fh) if row["code"].startswith(kabupaten)]


def current_period(today: date) -> str:
    return f"{today.year}Q{(today.month - 1) // 3 + 1}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=240_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--period", default=None, help="default: this quarter")
    args = parser.parse_args()
    today = date.today()
    rows, households = write_snapshot(
        args.out, args.persons, args.period or current_period(today), today, vendored_desas()
    )
    print(f"{args.out}: {rows:,} persons, {households:,} households", file=sys.stderr)


if __name__ == "__main__":
    main()
