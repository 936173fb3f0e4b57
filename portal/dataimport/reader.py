"""Pure reader for the snapshot CSV contract (DOMAIN.md): validated rows or errors with lines.

No database, no Flask: the caller passes the region code sets. It holds nothing per row, so
memory stays flat whatever the file's size: the rules across rows that need to remember
earlier rows (one row per NIK; one desil, desa and alamat per KK) are checked set-based in
SQL by the loader (loader.py), on a staging table that carries each row's line. The one
period per file is a single remembered value and is checked here.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from portal.core import nik as niklib
from portal.core.periods import Period
from portal.core.programs import DESIL_RANGE, canonical

COLUMNS = (
    "periode",
    "no_kk",
    "nik",
    "nama",
    "jenis_kelamin",
    "tanggal_lahir",
    "hubungan",
    "kode_desa",
    "alamat",
    "desil",
    "program",
)
HUBUNGAN = frozenset(
    {
        "KEPALA KELUARGA",
        "ISTRI",
        "SUAMI",
        "ANAK",
        "MENANTU",
        "CUCU",
        "ORANG TUA",
        "MERTUA",
        "FAMILI LAIN",
        "LAINNYA",
    }
)
MAX_NAME = 100
MAX_ADDRESS = 200

_NIK_REASONS = {
    niklib.NIKError.EMPTY: "is empty",
    niklib.NIKError.NOT_DIGITS: "has characters other than digits",
    niklib.NIKError.LENGTH: "is not 16 digits",
    niklib.NIKError.REGION: "has an unknown kecamatan prefix",
    niklib.NIKError.DATE: "does not encode a real birth date",
    niklib.NIKError.SERIAL: "has serial 0000",
}


class SnapshotFormatError(ValueError):
    """The file as a whole cannot be read (encoding, header)."""


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    line: int
    period: str
    no_kk: str
    nik: str
    nama: str
    jenis_kelamin: str
    tanggal_lahir: date
    hubungan: str
    kode_desa: str
    alamat: str
    desil: int
    programs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def read_snapshot(
    lines: Iterable[str],
    *,
    kecamatan_exists: Callable[[str], bool],
    desa_exists: Callable[[str], bool],
    today: date,
) -> Iterator[SnapshotRow | RowError]:
    """Yield each data row as a SnapshotRow, or a RowError naming its line and reason.

    A row's line is the line of the file where it starts (the header is line 1), as a text
    editor shows it; without line breaks inside quoted cells that is also the spreadsheet row.
    """
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise SnapshotFormatError("the file is empty (a header line is required)") from None
    except csv.Error as exc:
        raise SnapshotFormatError(f"line 1: {exc}") from None
    header = _normal_header(header)
    if tuple(header) != COLUMNS:
        raise SnapshotFormatError(_header_problem(header))

    period: str | None = None
    while True:
        line = reader.line_num + 1  # where the next row starts (a quoted cell may span lines)
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RowError(line, f"unreadable CSV ({exc})")
            continue
        if not fields or fields == [""]:
            continue
        if len(fields) != len(COLUMNS):
            yield RowError(line, f"expected {len(COLUMNS)} columns, found {len(fields)}")
            continue
        parsed = _parse_row(line, [f.strip() for f in fields], kecamatan_exists, desa_exists, today)
        if isinstance(parsed, RowError):
            yield parsed
            continue
        if period is None:
            period = parsed.period
        elif parsed.period != period:
            yield RowError(line, f"periode {parsed.period} differs from the file's {period}")
            continue
        yield parsed


def _normal_header(cells: list[str]) -> list[str]:
    return [h.strip().lower().lstrip("\ufeff") for h in cells]


def header_fields(line: str) -> list[str] | None:
    """The column names of a header LINE (no line break) as read_snapshot compares them,
    or None if it is not one line of CSV."""
    reader = csv.reader(iter((line + "\n", "-\n")))
    try:
        cells = next(reader)
    except (csv.Error, StopIteration):
        return None
    return _normal_header(cells) if reader.line_num == 1 else None


def _header_problem(header: list[str]) -> str:
    """Say what is wrong with a header: which columns are missing, which are not ours, or
    (the same names) that the order differs. A file of another period's format lands here."""
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    parts = []
    if missing:
        parts.append("missing column(s): " + ", ".join(missing))
    if unknown:
        parts.append("unexpected column(s): " + ", ".join(repr(c) for c in unknown))
    if not parts:
        parts.append("the columns are in another order")
    return (
        f"line 1: {'; '.join(parts)} (another format or version of the snapshot file?); "
        "the header must be exactly: " + ",".join(COLUMNS)
    )


# Unicode category Cc is exactly these two ranges (one regex search, not a call per character)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _has_control(text: str) -> bool:
    """A control character (NUL, escape, DEL...) left in a cell once its whitespace is
    collapsed: none belongs in a name or an address, and PostgreSQL refuses NUL in text."""
    return _CONTROL.search(text) is not None


@lru_cache(maxsize=16)
def _period(raw: str) -> str | None:
    """The period of a cell, cached: every row of a file carries the same one."""
    try:
        return str(Period.parse(raw))
    except ValueError:
        return None


def reader_rules(
    line: int,
    cells: Sequence[str],
    kecamatan_exists: Callable[[str], bool],
    desa_exists: Callable[[str], bool],
    today: date,
) -> SnapshotRow | RowError:
    """The rules of one row (its cells stripped, in COLUMNS order), as read_snapshot applies
    them: for the loader's rows that SQL could not vouch for."""
    return _parse_row(line, cells, kecamatan_exists, desa_exists, today)


# the cells' positions (COLUMNS), for a row read as a list: a dict a row cost more than its rules
(
    _PERIODE,
    _NO_KK,
    _NIK,
    _NAMA,
    _JENIS_KELAMIN,
    _TANGGAL_LAHIR,
    _HUBUNGAN,
    _KODE_DESA,
    _ALAMAT,
    _DESIL,
    _PROGRAM,
) = range(len(COLUMNS))


@lru_cache(maxsize=1024)
def _programs(cell: str) -> tuple[str, ...] | str:
    """A program cell's canonical codes, each once in the order given, or the reason it is
    refused. Cached: a file holds a few dozen distinct cells (PKH;PBI-JK, ...)."""
    programs: list[str] = []
    for code in filter(None, (c.strip() for c in cell.split(";"))):
        known = canonical(code)
        if known is None:
            return f"unknown program code {code!r}"
        if known not in programs:
            programs.append(known)
    return tuple(programs)


def _parse_row(
    line: int,
    cells: Sequence[str],
    kecamatan_exists: Callable[[str], bool],
    desa_exists: Callable[[str], bool],
    today: date,
) -> SnapshotRow | RowError:
    period = _period(cells[_PERIODE])
    if period is None:
        return RowError(line, f"periode {cells[_PERIODE]!r} is not of the form YYYYQn")
    try:
        no_kk = niklib.parse_kk(cells[_NO_KK], region_exists=kecamatan_exists)
    except niklib.InvalidNIK as exc:
        return RowError(line, f"no_kk {_NIK_REASONS[exc.reason]}")
    try:
        nik, info = niklib.parse_nik(cells[_NIK], region_exists=kecamatan_exists, today=today)
    except niklib.InvalidNIK as exc:
        return RowError(line, f"nik {_NIK_REASONS[exc.reason]}")
    nama = " ".join(cells[_NAMA].split()).upper()
    if not nama:
        return RowError(line, "nama is empty")
    if _has_control(nama):
        return RowError(line, "nama has a control character")
    if len(nama) > MAX_NAME:
        return RowError(line, f"nama is longer than {MAX_NAME} characters")
    sex = cells[_JENIS_KELAMIN].upper()
    if sex not in ("L", "P"):
        return RowError(line, "jenis_kelamin must be L or P")
    if (sex == "P") != info.female:
        return RowError(
            line, f"jenis_kelamin {sex} disagrees with the NIK (women have 40 added to the day)"
        )
    try:
        born = date.fromisoformat(cells[_TANGGAL_LAHIR])
    except ValueError:
        return RowError(line, "tanggal_lahir is not a date (YYYY-MM-DD)")
    if (born.day, born.month, born.year % 100) != (
        info.birth_date.day,
        info.birth_date.month,
        info.birth_date.year % 100,
    ):
        return RowError(line, "tanggal_lahir disagrees with the birth date in the NIK")
    if born > today:
        return RowError(line, "tanggal_lahir is in the future")
    hubungan = " ".join(cells[_HUBUNGAN].upper().split())
    if hubungan not in HUBUNGAN:
        return RowError(
            line, f"hubungan {cells[_HUBUNGAN]!r} is not one of: {', '.join(sorted(HUBUNGAN))}"
        )
    kode_desa = cells[_KODE_DESA]
    if not desa_exists(kode_desa):
        return RowError(
            line, f"kode_desa {kode_desa!r} is not a desa/kelurahan in the region table"
        )
    alamat = " ".join(cells[_ALAMAT].split())
    if not alamat:
        return RowError(line, "alamat is empty")
    if _has_control(alamat):
        return RowError(line, "alamat has a control character")
    if len(alamat) > MAX_ADDRESS:
        return RowError(line, f"alamat is longer than {MAX_ADDRESS} characters")
    try:
        desil = int(cells[_DESIL])
    except ValueError:
        return RowError(line, "desil must be a whole number 1-10")
    if desil not in DESIL_RANGE:
        return RowError(line, "desil must be between 1 and 10")
    programs = _programs(cells[_PROGRAM])
    if isinstance(programs, str):
        return RowError(line, programs)
    return SnapshotRow(
        line,
        period,
        no_kk,
        nik,
        nama,
        sex,
        born,
        hubungan,
        kode_desa,
        alamat,
        desil,
        programs,
    )
