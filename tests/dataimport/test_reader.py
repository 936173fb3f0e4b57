"""read_snapshot: the CSV contract of DOMAIN.md, one rule at a time, on in-memory lines.

The rules across rows that need earlier rows (one row per NIK, one desil and desa per KK)
are checked in SQL by the loader: tests/dataimport/test_streaming.py.

Line numbers are spreadsheet lines: the header is line 1, the first data row line 2.
NIKs are built by hand: ``PPKKCC`` + ``DDMMYY`` (+40 on the day for women) + serial.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from portal.dataimport.reader import (
    COLUMNS,
    RowError,
    SnapshotFormatError,
    SnapshotRow,
    read_snapshot,
)

TODAY = date(2026, 7, 1)
KECAMATAN = {"32.16.01", "32.16.02"}
DESA = {"32.16.01.2001", "32.16.02.2002"}
HEADER = ",".join(COLUMNS)

KK = "3216011203150004"
SITI = "3216014506880002"  # woman, born 1988-06-05, serial 0002
BUDI = "3216011501850003"  # man, born 1985-01-15
RIZKI = "3216011409120004"  # boy, born 2012-09-14
KK2 = "3216021203150005"
AHMAD = "3216022002900001"  # man, born 1990-02-20, kecamatan 32.16.02

GOOD = {
    "periode": "2026Q3",
    "no_kk": KK,
    "nik": SITI,
    "nama": "SITI AMINAH",
    "jenis_kelamin": "P",
    "tanggal_lahir": "1988-06-05",
    "hubungan": "ISTRI",
    "kode_desa": "32.16.01.2001",
    "alamat": "KP. SAGARA RT 002/RW 005",
    "desil": "3",
    "program": "PKH;BPNT;PBI-JK",
}
HUSBAND = {**GOOD, "nik": BUDI, "nama": "BUDI SANTOSO", "jenis_kelamin": "L",
           "tanggal_lahir": "1985-01-15", "hubungan": "KEPALA KELUARGA"}  # fmt: skip
CHILD = {**GOOD, "nik": RIZKI, "nama": "MUHAMMAD RIZKI", "jenis_kelamin": "L",
         "tanggal_lahir": "2012-09-14", "hubungan": "ANAK"}  # fmt: skip
OTHER = {**GOOD, "no_kk": KK2, "nik": AHMAD, "nama": "AHMAD FAUZI", "jenis_kelamin": "L",
         "tanggal_lahir": "1990-02-20", "hubungan": "KEPALA KELUARGA",
         "kode_desa": "32.16.02.2002", "desil": "7", "program": ""}  # fmt: skip


def line(row: dict[str, str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([row[c] for c in COLUMNS])
    return out.getvalue()


def read(*rows: dict[str, str] | str, header: str = HEADER) -> list[SnapshotRow | RowError]:
    lines = [header + "\n"] + [r if isinstance(r, str) else line(r) for r in rows]
    return list(
        read_snapshot(
            lines,
            kecamatan_exists=lambda code: code in KECAMATAN,
            desa_exists=lambda code: code in DESA,
            today=TODAY,
        )
    )


def only_error(*rows: dict[str, str] | str) -> RowError:
    errors = [item for item in read(*rows) if isinstance(item, RowError)]
    assert len(errors) == 1, errors
    return errors[0]


# --- good rows ----------------------------------------------------------------------------


def test_good_row_is_read_into_a_snapshot_row() -> None:
    [row] = read(GOOD)
    assert row == SnapshotRow(
        line=2,
        period="2026Q3",
        no_kk=KK,
        nik=SITI,
        nama="SITI AMINAH",
        jenis_kelamin="P",
        tanggal_lahir=date(1988, 6, 5),
        hubungan="ISTRI",
        kode_desa="32.16.01.2001",
        alamat="KP. SAGARA RT 002/RW 005",
        desil=3,
        programs=("PKH", "BPNT", "PBI-JK"),
    )


def test_a_household_of_several_rows_keeps_file_order_and_line_numbers() -> None:
    rows = read(HUSBAND, GOOD, CHILD, OTHER)
    assert all(isinstance(r, SnapshotRow) for r in rows)
    assert [(r.line, r.nik) for r in rows] == [(2, BUDI), (3, SITI), (4, RIZKI), (5, AHMAD)]
    assert rows[3].programs == ()


def test_fields_are_tidied_numbers_normalised_and_text_upper_cased() -> None:
    messy = {
        **GOOD,
        "no_kk": "3216 0112 0315 0004",
        "nik": "3216.0145.0688.0002",
        "nama": "  siti   aminah ",
        "jenis_kelamin": "p",
        "hubungan": "istri",
        "alamat": "  KP.  SAGARA   RT 002 ",
        "desil": " 3 ",
    }
    [row] = read(messy)
    assert isinstance(row, SnapshotRow)
    assert (row.no_kk, row.nik) == (KK, SITI)
    assert (row.nama, row.jenis_kelamin, row.hubungan) == ("SITI AMINAH", "P", "ISTRI")
    assert (row.alamat, row.desil) == ("KP. SAGARA RT 002", 3)


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        ("SEMBAKO", ("BPNT",)),
        ("sembako;pbi;pkh", ("BPNT", "PBI-JK", "PKH")),
        ("BPNT/SEMBAKO;PBIJK", ("BPNT", "PBI-JK")),
        ("BPNT;SEMBAKO", ("BPNT",)),
        (" PKH ; ; PIP ;", ("PKH", "PIP")),
        ("", ()),
    ],
)
def test_program_aliases_are_canonicalised(program: str, expected: tuple[str, ...]) -> None:
    [row] = read({**GOOD, "program": program})
    assert isinstance(row, SnapshotRow)
    assert row.programs == expected


@pytest.mark.parametrize(
    "header", ["\ufeff" + HEADER, HEADER.upper(), " , ".join(COLUMNS), "\ufeff" + HEADER + "\r"]
)
def test_header_with_bom_case_or_spaces_is_tolerated(header: str) -> None:
    [row] = read(GOOD, header=header)
    assert isinstance(row, SnapshotRow)


def test_blank_lines_are_skipped_but_still_counted() -> None:
    rows = read(HUSBAND, "\n", {**GOOD, "desil": "0"})
    assert isinstance(rows[0], SnapshotRow)
    assert isinstance(rows[1], RowError)
    assert rows[1].line == 4


def test_row_with_a_line_break_in_a_quoted_cell_is_numbered_where_it_starts() -> None:
    # Read as the loader reads a file: physical lines. Row 3 spans lines 3-4 of the file;
    # the spreadsheet shows it as row 3, a text editor shows it starting on line 3.
    wrapped = {**GOOD, "alamat": "KP. SAGARA\nRT 002/RW 005", "desil": "0"}
    text = HEADER + "\n" + line(HUSBAND) + line(wrapped)
    [good, error] = read_snapshot(
        io.StringIO(text, newline=""),
        kecamatan_exists=lambda code: code in KECAMATAN,
        desa_exists=lambda code: code in DESA,
        today=TODAY,
    )
    assert isinstance(good, SnapshotRow)
    assert good.line == 2
    assert isinstance(error, RowError)
    assert error.line == 3


def test_line_break_in_a_quoted_alamat_becomes_a_space() -> None:
    [row] = read({**GOOD, "alamat": "KP. SAGARA\nRT 002/RW 005"})
    assert isinstance(row, SnapshotRow)
    assert row.alamat == "KP. SAGARA RT 002/RW 005"


# --- the file as a whole ------------------------------------------------------------------


def test_empty_file_is_refused() -> None:
    with pytest.raises(SnapshotFormatError, match="empty"):
        list(read_snapshot([], kecamatan_exists=bool, desa_exists=bool, today=TODAY))


@pytest.mark.parametrize(
    "header",
    [
        "periode,no_kk,nik,nama,jenis_kelamin,tanggal_lahir,hubungan,kode_desa,alamat,desil",
        HEADER + ",catatan",
        "no_kk,periode,nik,nama,jenis_kelamin,tanggal_lahir,hubungan,kode_desa,alamat,desil,program",
        "period,no_kk,nik,name,sex,birth_date,relation,village,address,decile,program",
        line(GOOD).strip(),
    ],
)
def test_wrong_header_is_refused_naming_line_1_and_the_columns(header: str) -> None:
    with pytest.raises(SnapshotFormatError) as excinfo:
        read(GOOD, header=header)
    assert "line 1" in str(excinfo.value)
    assert HEADER in str(excinfo.value)


def test_row_error_reads_as_line_and_reason() -> None:
    assert str(RowError(7, "desil must be between 1 and 10")) == (
        "line 7: desil must be between 1 and 10"
    )


# --- one rule per row ---------------------------------------------------------------------


def _fields(count: int) -> str:
    return ",".join(line(GOOD).strip().split(",")[:count]) + "\n"


BAD_ROWS = [
    (_fields(10), "expected 11 columns, found 10"),
    (line(GOOD).strip() + ",EXTRA\n", "expected 11 columns, found 12"),
    ({**GOOD, "periode": "2026Q5"}, "periode '2026Q5' is not of the form YYYYQn"),
    ({**GOOD, "periode": "Q3-2026"}, "periode"),
    ({**GOOD, "periode": ""}, "periode"),
    ({**GOOD, "no_kk": "321601120315000"}, "no_kk is not 16 digits"),
    ({**GOOD, "no_kk": "9999011203150004"}, "no_kk has an unknown kecamatan prefix"),
    ({**GOOD, "nik": ""}, "nik is empty"),
    ({**GOOD, "nik": "321601450688000"}, "nik is not 16 digits"),
    ({**GOOD, "nik": "32160145068800021"}, "nik is not 16 digits"),
    ({**GOOD, "nik": "321601450688000O"}, "nik has characters other than digits"),
    ({**GOOD, "nik": "321601450688000\u0663"}, "nik has characters other than digits"),
    ({**GOOD, "nik": "3216994506880002"}, "nik has an unknown kecamatan prefix"),
    ({**GOOD, "nik": "3216017206880002"}, "nik does not encode a real birth date"),
    ({**GOOD, "nik": "3216014513880002"}, "nik does not encode a real birth date"),
    ({**GOOD, "nik": "3216014506880000"}, "nik has serial 0000"),
    ({**GOOD, "nama": "  "}, "nama is empty"),
    ({**GOOD, "nama": "A" * 101}, "nama is longer than 100"),
    ({**GOOD, "jenis_kelamin": "W"}, "jenis_kelamin must be L or P"),
    ({**GOOD, "jenis_kelamin": "L"}, "jenis_kelamin L disagrees with the NIK"),
    ({**HUSBAND, "jenis_kelamin": "P"}, "jenis_kelamin P disagrees with the NIK"),
    ({**GOOD, "tanggal_lahir": "05/06/1988"}, "tanggal_lahir is not a date"),
    ({**GOOD, "tanggal_lahir": "1988-06-06"}, "tanggal_lahir disagrees"),
    ({**GOOD, "tanggal_lahir": "1988-05-06"}, "tanggal_lahir disagrees"),
    ({**GOOD, "tanggal_lahir": "1989-06-05"}, "tanggal_lahir disagrees"),
    ({**GOOD, "tanggal_lahir": "1988-06-45"}, "tanggal_lahir is not a date"),
    ({**GOOD, "hubungan": "PACAR"}, "hubungan 'PACAR' is not one of"),
    ({**GOOD, "hubungan": ""}, "hubungan '' is not one of"),
    ({**GOOD, "kode_desa": "32.16.01.9999"}, "kode_desa '32.16.01.9999' is not a desa"),
    ({**GOOD, "kode_desa": "32.16.01"}, "kode_desa '32.16.01' is not a desa"),
    ({**GOOD, "alamat": ""}, "alamat is empty"),
    ({**GOOD, "alamat": "   "}, "alamat is empty"),
    ({**GOOD, "alamat": "X" * 201}, "alamat is longer than 200"),
    ({**GOOD, "desil": "0"}, "desil must be between 1 and 10"),
    ({**GOOD, "desil": "11"}, "desil must be between 1 and 10"),
    ({**GOOD, "desil": "-1"}, "desil must be between 1 and 10"),
    ({**GOOD, "desil": "x"}, "desil must be a whole number"),
    ({**GOOD, "desil": "3.0"}, "desil must be a whole number"),
    ({**GOOD, "desil": ""}, "desil must be a whole number"),
    ({**GOOD, "program": "PKH;KIP"}, "unknown program code 'KIP'"),
    ({**GOOD, "program": "PKH,BPNT"}, "unknown program code 'PKH,BPNT'"),
]


@pytest.mark.parametrize(("bad", "reason"), BAD_ROWS, ids=[reason for _, reason in BAD_ROWS])
def test_bad_row_is_reported_with_its_line_and_reason(
    bad: dict[str, str] | str, reason: str
) -> None:
    rows = read(HUSBAND, bad, CHILD)
    assert [r.line for r in rows if isinstance(r, SnapshotRow)] == [2, 4]
    error = only_error(HUSBAND, bad, CHILD)
    assert error.line == 3
    assert reason in error.reason


def test_nik_region_is_checked_but_kode_desa_may_be_elsewhere() -> None:
    moved = {**GOOD, "kode_desa": "32.16.02.2002"}  # NIK from 32.16.01, living in 32.16.02
    [row] = read(moved)
    assert isinstance(row, SnapshotRow)
    assert row.kode_desa == "32.16.02.2002"


def test_birth_date_later_this_year_in_the_nik_cannot_be_a_future_tanggal_lahir() -> None:
    # 010826: 1 August 26. On 1 July 2026 that is 1926: a tanggal_lahir in 2026 is the future.
    baby = {**CHILD, "nik": "3216010108260001", "tanggal_lahir": "2026-08-01"}
    error = only_error(HUSBAND, baby)
    assert error.line == 3
    assert "tanggal_lahir is in the future" in error.reason


def test_born_earlier_this_year_is_accepted() -> None:
    baby = {**CHILD, "nik": "3216010101260001", "tanggal_lahir": "2026-01-01"}
    rows = read(HUSBAND, baby)
    assert all(isinstance(r, SnapshotRow) for r in rows)


def test_periode_differing_from_the_first_row_is_refused() -> None:
    error = only_error(HUSBAND, {**GOOD, "periode": "2026Q2"}, CHILD)
    assert error.line == 3
    assert "2026Q2" in error.reason
    assert "2026Q3" in error.reason


def test_every_bad_row_is_reported_not_only_the_first() -> None:
    rows = read(
        {**HUSBAND, "desil": "0"},
        GOOD,
        {**CHILD, "hubungan": "X"},
        OTHER,
        {**OTHER, "nik": "3216020102900001", "tanggal_lahir": "1990-02-01", "program": "NOPE"},
    )
    errors = [r for r in rows if isinstance(r, RowError)]
    assert [e.line for e in errors] == [2, 4, 6]
    assert [r.line for r in rows if isinstance(r, SnapshotRow)] == [3, 5]


def test_row_errors_never_contain_the_nik() -> None:
    bad = [
        {**GOOD, "jenis_kelamin": "L"},
        {**GOOD, "tanggal_lahir": "1988-06-06"},
        {**GOOD, "nik": "3216017206880002"},
        {**GOOD, "nik": "3216994506880002"},
    ]
    for row in bad:
        error = only_error(row)
        assert row["nik"] not in error.reason
        assert KK not in error.reason
