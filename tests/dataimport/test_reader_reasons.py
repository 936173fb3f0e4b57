"""What the operator reads when a snapshot row is refused: the exact reason on the exact line,
the limits at their edges, and a bad row that never stops the rows after it from being read.

Written against the mutants of portal/dataimport/reader.py that survived the older tests
(docs/mutation.md): a reason only matched as a substring, a limit tested only beyond it, a
file-reading step that stopped at the first odd row.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from portal.dataimport.reader import RowError, SnapshotFormatError, SnapshotRow, read_snapshot
from tests.dataimport.test_import_cli import (
    assert_clean_failure,
    dtsen_import,
    set_cell,
    snapshots,
)
from tests.dataimport.test_reader import (
    CHILD,
    GOOD,
    HEADER,
    HUSBAND,
    TODAY,
    line,
    only_error,
    read,
)

TOO_LARGE = "X" * (csv.field_size_limit() + 1)  # a cell the csv module refuses to read
HUBUNGAN_LIST = (
    "ANAK, CUCU, FAMILI LAIN, ISTRI, KEPALA KELUARGA, LAINNYA, MENANTU, MERTUA, ORANG TUA, SUAMI"
)

EXACT = [
    ({**GOOD, "nama": "  "}, "nama is empty"),
    ({**GOOD, "nama": "SITI\x00AMINAH"}, "nama has a control character"),
    ({**GOOD, "nama": "SITI \x7f AMINAH"}, "nama has a control character"),
    ({**GOOD, "nama": "A" * 101}, "nama is longer than 100 characters"),
    ({**GOOD, "jenis_kelamin": "W"}, "jenis_kelamin must be L or P"),
    ({**GOOD, "tanggal_lahir": "05/06/1988"}, "tanggal_lahir is not a date (YYYY-MM-DD)"),
    ({**GOOD, "tanggal_lahir": "1988-06-06"},
     "tanggal_lahir disagrees with the birth date in the NIK"),
    ({**GOOD, "hubungan": "PACAR"}, f"hubungan 'PACAR' is not one of: {HUBUNGAN_LIST}"),
    ({**GOOD, "alamat": "   "}, "alamat is empty"),
    ({**GOOD, "alamat": "KP. SAGARA\x1b[2J"}, "alamat has a control character"),
    ({**GOOD, "alamat": "X" * 201}, "alamat is longer than 200 characters"),
    ({**GOOD, "desil": "x"}, "desil must be a whole number 1-10"),
    ({**GOOD, "desil": "11"}, "desil must be between 1 and 10"),
]  # fmt: skip


@pytest.mark.parametrize(("bad", "reason"), EXACT, ids=[reason for _, reason in EXACT])
def test_a_refused_row_says_exactly_why(bad: dict[str, str], reason: str) -> None:
    error = only_error(HUSBAND, bad, CHILD)
    assert (error.line, error.reason) == (3, reason)


def test_a_name_of_exactly_100_and_an_address_of_exactly_200_characters_are_read() -> None:
    [row] = read({**GOOD, "nama": "A" * 100, "alamat": "X" * 200})
    assert isinstance(row, SnapshotRow)
    assert (len(row.nama), len(row.alamat)) == (100, 200)


def test_a_birth_date_after_the_day_of_the_import_is_refused_saying_so() -> None:
    # 020726: 2 July 26, the day after the import (TODAY): 1926 by the NIK's rule
    baby = {**CHILD, "nik": "3216010207260001", "tanggal_lahir": "2026-07-02"}
    error = only_error(HUSBAND, baby)
    assert (error.line, error.reason) == (3, "tanggal_lahir is in the future")


def test_a_baby_born_on_the_day_of_the_import_is_read() -> None:
    # 010726: 1 July 26, the day of the import (TODAY)
    baby = {**CHILD, "nik": "3216010107260001", "tanggal_lahir": TODAY.isoformat()}
    rows = read(HUSBAND, baby)
    assert isinstance(rows[0], SnapshotRow)
    assert isinstance(rows[1], SnapshotRow)
    assert rows[1].tanggal_lahir == TODAY


def test_an_unreadable_row_is_named_and_the_rows_after_it_are_still_read() -> None:
    rows = read(HUSBAND, line({**GOOD, "alamat": TOO_LARGE}), CHILD)
    assert isinstance(rows[0], SnapshotRow)
    assert rows[1] == RowError(
        3, f"unreadable CSV (field larger than field limit ({csv.field_size_limit()}))"
    )
    assert isinstance(rows[2], SnapshotRow)
    assert rows[2].line == 4


def test_a_row_of_another_period_is_refused_and_the_rows_after_it_are_still_read() -> None:
    rows = read(HUSBAND, {**GOOD, "periode": "2026Q2"}, CHILD, {**CHILD, "desil": "0"})
    assert rows[1] == RowError(3, "periode 2026Q2 differs from the file's 2026Q3")
    assert isinstance(rows[2], SnapshotRow)
    assert rows[2].line == 4
    assert rows[3] == RowError(5, "desil must be between 1 and 10")


def test_a_line_holding_only_an_empty_quoted_cell_is_blank() -> None:
    rows = read(HUSBAND, '""\n', CHILD)
    assert [(type(r), r.line) for r in rows] == [(SnapshotRow, 2), (SnapshotRow, 4)]


# --- the file as a whole ------------------------------------------------------------------

EXPECTED = "the header must be exactly: " + HEADER
HEADER_PROBLEMS = [
    (
        "periode,no_kk,nik,nama,jenis_kelamin,tanggal_lahir,hubungan,kode_desa,alamat",
        "line 1: missing column(s): desil, program (another format or version of the "
        "snapshot file?); " + EXPECTED,
    ),
    (
        HEADER + ",catatan,rt",
        "line 1: unexpected column(s): 'catatan', 'rt' (another format or version of the "
        "snapshot file?); " + EXPECTED,
    ),
    (
        "no_kk,periode" + HEADER.removeprefix("periode,no_kk"),
        "line 1: the columns are in another order (another format or version of the "
        "snapshot file?); " + EXPECTED,
    ),
]


@pytest.mark.parametrize(("header", "message"), HEADER_PROBLEMS, ids=["missing", "extra", "order"])
def test_a_wrong_header_is_refused_saying_exactly_what_is_wrong(header: str, message: str) -> None:
    with pytest.raises(SnapshotFormatError) as excinfo:
        read(GOOD, header=header)
    assert str(excinfo.value) == message


def test_an_empty_file_is_refused_saying_so() -> None:
    with pytest.raises(SnapshotFormatError) as excinfo:
        list(read_snapshot([], kecamatan_exists=bool, desa_exists=bool, today=TODAY))
    assert str(excinfo.value) == "the file is empty (a header line is required)"


def test_an_unreadable_header_is_refused_on_line_1() -> None:
    with pytest.raises(SnapshotFormatError) as excinfo:
        read(GOOD, header=TOO_LARGE)
    assert str(excinfo.value) == (
        f"line 1: field larger than field limit ({csv.field_size_limit()})"
    )


# --- through the import command -----------------------------------------------------------


def test_import_names_each_bad_line_exactly_and_reads_on_after_an_odd_row(
    app: Flask, runner: FlaskCliRunner, factory, tmp_path: Path
) -> None:
    path = factory.write("2026Q3", [factory.household(size=3), factory.household(size=3)])
    set_cell(path, 3, "nama", "SITI\x00AMINAH")
    set_cell(path, 5, "periode", "2026Q2")
    set_cell(path, 7, "jenis_kelamin", "W")
    set_cell(path, 4, "alamat", TOO_LARGE)  # last: the csv module cannot read the file back

    result = dtsen_import(runner, path)

    assert_clean_failure(result)
    reported = re.findall(r"line \d+: .*", result.output)
    assert reported == [
        "line 3: nama has a control character",
        f"line 4: unreadable CSV (field larger than field limit ({csv.field_size_limit()}))",
        "line 5: periode 2026Q2 differs from the file's 2026Q3",
        "line 7: jenis_kelamin must be L or P",
    ]
    assert "4 bad row(s)" in result.output
    assert snapshots(app) == []
