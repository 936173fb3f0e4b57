"""Deterministic demo snapshots for Kabupaten Bekasi (32.16), periods 2026Q2 and 2026Q3.

The data is generated from a fixed seed, written as ordinary snapshot CSV files and loaded
through the real import, so the demo exercises the same validation and publication path.
A handful of showcase households (SHOWCASE) give one NIK + No. KK pair per look-up outcome.
All names, numbers and addresses are invented.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select

from portal import db
from portal.config import INSTANCE
from portal.dataimport.loader import ImportResult, import_snapshot
from portal.dataimport.reader import COLUMNS
from portal.wilayah.models import Level, Wilayah

KABUPATEN = "32.16"
PERIODS = ("2026Q2", "2026Q3")
SEED = 3216
HOUSEHOLDS = 240


class RegionsMissing(RuntimeError):
    pass


MALE = [
    "AHMAD",
    "ASEP",
    "BUDI",
    "DEDI",
    "ENDANG",
    "HENDRA",
    "JAJANG",
    "UJANG",
    "RIZKI",
    "SUPRIADI",
    "WAHYU",
    "AGUS",
    "IWAN",
    "DADANG",
    "YAYAN",
    "ROHMAT",
    "SAEPUL",
    "MUHAMMAD",
    "FAJAR",
    "ILHAM",
    "NANANG",
    "KOSASIH",
    "MAMAN",
    "SUKARDI",
    "TATANG",
    "HERMAN",
    "ADE",
    "DENI",
    "RUDI",
    "ARIF",
    "YUSUF",
    "ENTIS",
    "OMAN",
]
FEMALE = [
    "SITI",
    "NURHAYATI",
    "AMINAH",
    "ENENG",
    "IIS",
    "YATI",
    "DEWI",
    "RINA",
    "SRI",
    "LILIS",
    "NENG",
    "EUIS",
    "IMAS",
    "SUMIATI",
    "KARTINI",
    "RATNA",
    "FITRI",
    "NURUL",
    "AISYAH",
    "ANISA",
    "TITIN",
    "ELIS",
    "KOKOM",
    "ROHAYATI",
    "YULIA",
    "WARSIH",
    "ENTIN",
]
SECOND = [
    "HIDAYAT",
    "SUPRIATNA",
    "SAPUTRA",
    "KURNIAWAN",
    "RAHMAWATI",
    "HASANAH",
    "SETIAWAN",
    "NURJANAH",
    "MULYADI",
    "SUHENDAR",
    "PERMANA",
    "FITRIANI",
    "LESTARI",
    "WIJAYA",
    "RAMDANI",
    "SOLIHIN",
    "MAULANA",
    "SARI",
    "HERMAWAN",
    "SUGANDA",
    "SUNARYA",
    "HASAN",
    "FAUZIAH",
    "ROSADI",
]
KAMPUNG = [
    "SAGARA", "CIKEDOKAN", "PULO", "RAWA BANGKE", "BABAKAN", "SUKAMAJU", "PONDOK UNGU",
    "GANDASARI", "KEBON KELAPA", "TANJUNG", "CABANG DUA", "BULAK", "JATI", "BOJONG", "LEBAK",
    "RAWA KALONG", "CIBENDA", "SIMPANG", "KALEN",
]  # fmt: skip
PERUMAHAN = ["PERUM GRIYA ASRI", "PERUM TAMAN KENARI", "PERUM VILLA MUTIARA", "CLUSTER BUNGA RAYA"]


@dataclass
class Member:
    nik: str
    nama: str
    sex: str
    born: date
    hubungan: str
    programs: list[str] = field(default_factory=list)


@dataclass
class House:
    no_kk: str
    kode_desa: str
    alamat: str
    desil: int
    members: list[Member]


@dataclass(frozen=True)
class Showcase:
    title: str
    nik: str
    no_kk: str


class Numbers:
    """Valid, unique NIK and No. KK numbers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def nik(self, kecamatan: str, born: date, sex: str) -> str:
        day = born.day + (40 if sex == "P" else 0)
        stem = kecamatan.replace(".", "") + f"{day:02d}{born.month:02d}{born.year % 100:02d}"
        while True:
            number = stem + f"{self.rng.randint(1, 9999):04d}"
            if number not in self.used:
                self.used.add(number)
                return number

    def kk(self, kecamatan: str, issued: date) -> str:
        stem = (
            kecamatan.replace(".", "")
            + f"{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}"
        )
        while True:
            number = stem + f"{self.rng.randint(1, 9999):04d}"
            if number not in self.used:
                self.used.add(number)
                return number


def _birth(rng: random.Random, age_from: int, age_to: int) -> date:
    # ages as at the end of 2025, so no demo birth date is ever in the future
    year = 2025 - rng.randint(age_from, age_to)
    return date(year, rng.randint(1, 12), rng.randint(1, 28))


def _name(rng: random.Random, sex: str) -> str:
    first = rng.choice(MALE if sex == "L" else FEMALE)
    return f"{first} {rng.choice(SECOND)}"


def _address(rng: random.Random, desil: int) -> str:
    if desil >= 7:
        block = f"{rng.choice('ABCDE')}{rng.randint(1, 12)}"
        return f"{rng.choice(PERUMAHAN)} BLOK {block} NO. {rng.randint(1, 40)}"
    kampung = rng.choice(KAMPUNG)
    return f"KP. {kampung} RT {rng.randint(1, 9):03d}/RW {rng.randint(1, 12):03d}"


def _programs(rng: random.Random, house: House) -> None:
    """What the data says each member receives, plausible for the desil (with some noise)."""
    desil = house.desil
    hh: list[str] = []
    if desil <= 4 and rng.random() < 0.55:
        hh.append("PKH")
    if desil <= 5 and rng.random() < 0.65:
        hh.append("BPNT")
    pbi = desil <= 5 and rng.random() < 0.8
    for m in house.members:
        m.programs = list(hh)
        if pbi:
            m.programs.append("PBI-JK")
        age = 2026 - m.born.year
        if m.hubungan == "ANAK" and 6 <= age <= 18 and desil <= 4 and rng.random() < 0.6:
            m.programs.append("PIP")


def _house(rng: random.Random, nums: Numbers, desas: list[str], desil: int) -> House:
    desa = rng.choice(desas)
    kec = desa.rsplit(".", 1)[0]
    head_sex = "L" if rng.random() < 0.85 else "P"
    head_born = _birth(rng, 28, 70)
    members = [
        Member(
            nums.nik(kec, head_born, head_sex),
            _name(rng, head_sex),
            head_sex,
            head_born,
            "KEPALA KELUARGA",
        )
    ]
    if head_sex == "L" and rng.random() < 0.9:
        born = _birth(rng, max(20, 2026 - head_born.year - 8), 2026 - head_born.year)
        members.append(Member(nums.nik(kec, born, "P"), _name(rng, "P"), "P", born, "ISTRI"))
    youngest_parent = min(2026 - m.born.year for m in members)
    for __ in range(rng.randint(0, 4)):
        sex = rng.choice("LP")
        born = _birth(rng, 0, max(0, min(25, youngest_parent - 18)))
        members.append(Member(nums.nik(kec, born, sex), _name(rng, sex), sex, born, "ANAK"))
    if rng.random() < 0.12:
        born = _birth(rng, 70, 85)
        members.append(Member(nums.nik(kec, born, "P"), _name(rng, "P"), "P", born, "ORANG TUA"))
    issued = date(rng.randint(2012, 2024), rng.randint(1, 12), rng.randint(1, 28))
    house = House(nums.kk(kec, issued), desa, _address(rng, desil), desil, members)
    _programs(rng, house)
    return house


def _fixed(
    nums: Numbers,
    desa: str,
    alamat: str,
    desil: int,
    people: list[tuple[str, str, date, str, list[str]]],
) -> House:
    kec = desa.rsplit(".", 1)[0]
    members = [
        Member(nums.nik(kec, born, sex), nama, sex, born, hub, progs)
        for nama, sex, born, hub, progs in people
    ]
    return House(nums.kk(kec, date(2019, 3, 12)), desa, alamat, desil, members)


def build(desas: list[str]) -> tuple[dict[str, list[House]], list[Showcase]]:
    """Households per period, and the showcase pairs. Pure and deterministic for a desa list."""
    rng = random.Random(SEED)
    nums = Numbers(rng)
    desas = sorted(desas)
    sagara = next((d for d in desas if d == "32.16.01.2001"), desas[0])
    receiving = _fixed(
        nums,
        sagara,
        "KP. SAGARA RT 002/RW 005",
        1,
        [
            ("SITI AMINAH", "P", date(1988, 6, 5), "KEPALA KELUARGA", ["PKH", "BPNT", "PBI-JK"]),
            ("MUHAMMAD RIZKI", "L", date(2012, 9, 14), "ANAK", ["PKH", "BPNT", "PBI-JK", "PIP"]),
            ("NURUL HASANAH", "P", date(2016, 2, 21), "ANAK", ["PKH", "BPNT", "PBI-JK", "PIP"]),
        ],
    )
    not_receiving = _fixed(
        nums,
        desas[len(desas) // 3],
        "KP. BABAKAN RT 004/RW 002",
        4,
        [
            ("DEDI SUPRIATNA", "L", date(1979, 11, 2), "KEPALA KELUARGA", []),
            ("EUIS RAHMAWATI", "P", date(1983, 4, 17), "ISTRI", []),
            ("FAJAR SAPUTRA", "L", date(2008, 7, 30), "ANAK", []),
        ],
    )
    partial = _fixed(
        nums,
        desas[len(desas) // 2],
        "KP. PULO RT 001/RW 003",
        3,
        [
            ("JAJANG MULYADI", "L", date(1970, 1, 9), "KEPALA KELUARGA", ["PBI-JK"]),
            ("IMAS NURJANAH", "P", date(1974, 8, 25), "ISTRI", ["PBI-JK"]),
        ],
    )
    above = _fixed(
        nums,
        desas[2 * len(desas) // 3],
        "PERUM GRIYA ASRI BLOK C3 NO. 12",
        8,
        [
            ("HENDRA WIJAYA", "L", date(1985, 5, 19), "KEPALA KELUARGA", []),
            ("DEWI LESTARI", "P", date(1987, 12, 3), "ISTRI", []),
        ],
    )
    removed = _fixed(
        nums,
        desas[-1],
        "KP. BULAK RT 003/RW 001",
        5,
        [
            ("AGUS SETIAWAN", "L", date(1966, 3, 28), "KEPALA KELUARGA", ["BPNT", "PBI-JK"]),
            ("KARTINI SARI", "P", date(1969, 10, 11), "ISTRI", ["BPNT", "PBI-JK"]),
        ],
    )
    others = [
        _house(
            rng,
            nums,
            desas,
            rng.choices(range(1, 11), weights=[6, 7, 8, 9, 9, 10, 11, 12, 14, 14])[0],
        )
        for _ in range(HOUSEHOLDS)
    ]
    q2 = [receiving, not_receiving, partial, above, removed, *others]
    q3_others: list[House] = []
    for house in others:
        roll = rng.random()
        if roll < 0.04:
            continue  # left DTSEN in 2026Q3
        if roll < 0.16:
            moved = max(1, min(10, house.desil + rng.choice((-1, 1))))
            house = House(
                house.no_kk,
                house.kode_desa,
                house.alamat,
                moved,
                [Member(m.nik, m.nama, m.sex, m.born, m.hubungan) for m in house.members],
            )
            _programs(rng, house)
        q3_others.append(house)
    newcomers = [_house(rng, nums, desas, rng.randint(1, 10)) for _ in range(HOUSEHOLDS // 20)]
    q3 = [receiving, not_receiving, partial, above, *q3_others, *newcomers]

    unknown_kec = sagara.rsplit(".", 1)[0]
    unknown_nik = nums.nik(unknown_kec, date(1990, 4, 1), "L")
    unknown_kk = nums.kk(unknown_kec, date(2020, 1, 15))
    showcase = [
        Showcase("Receiving bansos (desil 1)", receiving.members[0].nik, receiving.no_kk),
        Showcase(
            "Receiving some, in scope for more (desil 3)", partial.members[0].nik, partial.no_kk
        ),
        Showcase(
            "In scope, not receiving (desil 4)", not_receiving.members[0].nik, not_receiving.no_kk
        ),
        Showcase("Above the programs' range (desil 8)", above.members[0].nik, above.no_kk),
        Showcase("Removed in the last update (was 2026Q2)", removed.members[0].nik, removed.no_kk),
        Showcase("Not in DTSEN", unknown_nik, unknown_kk),
        Showcase("NIK and No. KK do not match", receiving.members[0].nik, above.no_kk),
    ]
    return {"2026Q2": q2, "2026Q3": q3}, showcase


def write_csv(path: Path, period: str, houses: list[House]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for h in houses:
            for m in h.members:
                writer.writerow(
                    [
                        period,
                        h.no_kk,
                        m.nik,
                        m.nama,
                        m.sex,
                        m.born.isoformat(),
                        m.hubungan,
                        h.kode_desa,
                        h.alamat,
                        h.desil,
                        ";".join(m.programs),
                    ]
                )


def bekasi_desas() -> list[str]:
    return list(
        db.session.scalars(
            select(Wilayah.code).where(
                Wilayah.level == int(Level.DESA), Wilayah.code.like(f"{KABUPATEN}.%")
            )
        )
    )


def load(out: Path | None = None) -> tuple[list[ImportResult], list[Showcase]]:
    desas = bekasi_desas()
    if not desas:
        raise RegionsMissing(
            "Kabupaten Bekasi is not in the region table: "
            "run `flask --app portal wilayah import` first."
        )
    periods, showcase = build(desas)
    out = out or INSTANCE / "demo"
    results = []
    for period in PERIODS:
        path = out / f"dtsen-demo-{period}.csv"
        write_csv(path, period, periods[period])
        results.append(import_snapshot(path))
    from portal.help.loader import load_demo

    load_demo(KABUPATEN)  # a fictional Dinsos contact, marked as demo data on the pages
    return results, showcase
