"""The PostgreSQL COPY path (pgload.PostgresLoad) against the reader: a bad file gets the same
messages whichever path reads it, and a good file written unusually (lower case, aliases,
spaces, quotes, separators in numbers) is stored exactly as the reader reads it. The rows that
SQL cannot vouch for go through the reader's own rules; files COPY cannot take as they are
(a bare carriage return, NUL, a quoted cell across lines) go through the reader whole.

On SQLite both runs take the reader's path: the tests pass there trivially and keep the
outputs honest on both engines.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from portal import db
from portal.dataimport import loader, pgload
from portal.dataimport.models import Household, Person, Snapshot, SnapshotStatus
from portal.dataimport.reader import COLUMNS, SnapshotRow, read_snapshot
from portal.wilayah import queries as wilayah
from tests.dataimport.test_import_cli import dtsen_import

POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))


def rows_of(factory, period: str = "2026Q3", houses: int = 2) -> list[list[str]]:
    out = []
    for h in [factory.household(size=3) for _ in range(houses)]:
        for m in h.members:
            out.append([period, h.no_kk, m.nik, m.nama, m.sex, m.born.isoformat(), m.hubungan,
                        h.kode_desa, h.alamat, str(h.desil), ";".join(m.programs)])  # fmt: skip
    return out


def set_household(rows: list[list[str]], member: list[str], column: str, value: str) -> None:
    """Set COLUMN to VALUE on every row of MEMBER's household (its No. KK): a household's
    address, desil and desa are one, or the file is refused."""
    kk = COLUMNS.index("no_kk")
    for row in rows:
        if row[kk] == member[kk]:
            row[COLUMNS.index(column)] = value


def write(path: Path, rows: list[list[str]], *, end: str = "\n", raw: str = "") -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=end)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    path.write_bytes((out.getvalue() + raw).encode())
    return path


def both_paths(runner: FlaskCliRunner, path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    outputs = []
    for fast in (True, False):
        monkeypatch.setattr(pgload, "FAST_COPY", fast)
        result = dtsen_import(runner, path)
        assert result.exit_code == 1, result.output
        outputs.append(result.output)
    return outputs


def bad_files(factory, tmp_path: Path) -> dict[str, Path]:
    """Files with bad rows that SQL's rules and the reader must judge alike."""
    files: dict[str, list[list[str]]] = {}

    def variant(name: str, changes: dict[tuple[int, int], str]) -> None:
        rows = rows_of(factory)
        for (row, col), value in changes.items():
            rows[row][col] = value
        files[name] = rows

    col = COLUMNS.index
    variant("sex", {(0, col("jenis_kelamin")): "P"})  # disagrees with the NIK
    variant("birth", {(1, col("tanggal_lahir")): "2005-03-11"})
    variant("future", {(2, col("tanggal_lahir")): (date.today().replace(day=1)).isoformat()})
    variant("not_a_date", {(1, col("tanggal_lahir")): "2005-02-30"})
    variant("nik_date", {(0, col("nik")): "3216013213800001"})
    variant("serial", {(0, col("nik")): "3216010101800000"})
    variant("region", {(0, col("no_kk")): "9999011203150004"})
    variant("nik_short", {(0, col("nik")): "321601010180001"})
    variant("desa", {(0, col("kode_desa")): "32.16.01.9999"})
    variant("desil", {(0, col("desil")): "11", (1, col("desil")): "x"})
    variant("program", {(0, col("program")): "PKH;XYZ"})
    variant("hubungan", {(0, col("hubungan")): "TETANGGA"})
    variant("nama", {(0, col("nama")): "", (1, col("nama")): "A" * 101})
    variant("alamat", {(0, col("alamat")): "KP.\x01SAGARA"})
    variant("periode", {(2, col("periode")): "2026Q4", (3, col("periode")): "2026-3"})
    variant("kk_desil", {(1, col("desil")): "4"})  # one desil per No. KK
    variant("nik_twice", {(4, col("nik")): "@0"})
    files["nik_twice"][4][col("nik")] = files["nik_twice"][0][col("nik")]
    variant("nik_region", {})  # the No. KK's kecamatan exists, the NIK's does not
    files["nik_region"][0][col("nik")] = "999901" + files["nik_region"][0][col("nik")][6:]
    # a quoted line (Python parses it before COPY) with a desa that does not exist
    variant(
        "quoted_desa",
        {(1, col("alamat")): "KP. SAGARA, RT 01", (1, col("kode_desa")): "32.16.01.9999"},
    )
    variant("lower_and_bad", {(0, col("nama")): "budi santoso", (1, col("desil")): "0"})
    variant("first_row_bad_period", {(0, col("periode")): "2026Q9"})
    paths = {name: write(tmp_path / f"{name}.csv", rows) for name, rows in files.items()}
    short = rows_of(factory)
    short[1] = short[1][:9]
    paths["columns"] = write(tmp_path / "columns.csv", short, raw="\n\n" + ",".join(short[0]))
    paths["columns"].write_bytes(paths["columns"].read_bytes() + b"\n")
    paths["nul"] = write(tmp_path / "nul.csv", rows_of(factory), raw="2026Q3,1\x00,2\n")
    bad = rows_of(factory)
    bad[2][col("desil")] = "12"
    paths["bare_cr"] = write(tmp_path / "cr.csv", bad, end="\r")
    return paths


def test_a_bad_file_gets_the_same_report_on_either_path(
    app: Flask, runner: FlaskCliRunner, factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, path in bad_files(factory, tmp_path).items():
        fast, reader = both_paths(runner, path, monkeypatch)
        assert fast == reader, name
        assert "line " in fast, (name, fast)
    with app.app_context():
        assert db.session.scalar(select(Snapshot.id)) is None  # nothing published


def stored(app: Flask) -> list[tuple[object, ...]]:
    with app.app_context():
        published = select(Snapshot.id).where(Snapshot.status == SnapshotStatus.PUBLISHED)
        people = db.session.execute(
            select(Person.position, Person.nik_hmac, Person.kk_hmac, Person.nik, Person.nama,
                   Person.jenis_kelamin, Person.tanggal_lahir, Person.hubungan, Person.programs)
            .where(Person.snapshot_id.in_(published)).order_by(Person.position)
        ).all()  # fmt: skip
        houses = db.session.execute(
            select(Household.kk_hmac, Household.no_kk, Household.kode_desa, Household.alamat,
                   Household.desil)
            .where(Household.snapshot_id.in_(published)).order_by(Household.kk_hmac)
        ).all()  # fmt: skip
        return [tuple(p) for p in people] + [tuple(h) for h in houses]


def expected(app: Flask, path: Path) -> list[tuple[object, ...]]:
    """What the reader makes of PATH, as the tables would hold it."""
    with app.app_context(), path.open(encoding="utf-8", newline="") as fh:
        rows = [
            r
            for r in read_snapshot(
                fh,
                kecamatan_exists=wilayah.kecamatan_exists,
                desa_exists=wilayah.desa_exists,
                today=date.today(),
            )
            if isinstance(r, SnapshotRow)
        ]
        macs = loader.Pseudonyms(loader._hmac_key())
    people = [(r.line, macs.nik(r.nik), macs.kk(r.no_kk), r.nik, r.nama, r.jenis_kelamin,
               r.tanggal_lahir, r.hubungan, ";".join(r.programs)) for r in rows]  # fmt: skip
    houses: dict[str, tuple[object, ...]] = {}
    for r in rows:
        houses.setdefault(
            macs.kk(r.no_kk), (macs.kk(r.no_kk), r.no_kk, r.kode_desa, r.alamat, r.desil)
        )
    return people + sorted(houses.values())


def test_a_good_file_written_unusually_is_stored_as_the_reader_reads_it(
    app: Flask, runner: FlaskCliRunner, factory, tmp_path: Path
) -> None:
    rows = rows_of(factory, houses=3)
    col = COLUMNS.index
    rows[0][col("nama")] = "  budi   santoso "
    rows[1][col("nama")] = "SITI ÄMINAH"
    rows[2][col("program")] = "pbi;sembako;PKH;PKH;"
    rows[3][col("program")] = "PBI-JK;PKH"  # another order than the canonical one
    rows[3][col("jenis_kelamin")] = rows[3][col("jenis_kelamin")].lower()
    rows[4][col("hubungan")] = "anak"
    nik = rows[4][col("nik")]
    rows[4][col("nik")] = f"{nik[:6]}.{nik[6:12]}.{nik[12:]}"  # separators the reader drops
    rows[5][col("desil")] = " 3 "
    for row in rows[6:9]:
        row[col("alamat")] = 'JL. MERDEKA, NO. 5 "A"'
    path = write(tmp_path / "unusual.csv", rows, end="\r\n")

    result = dtsen_import(runner, path)

    assert result.exit_code == 0, result.output
    assert stored(app) == expected(app, path)


def test_names_and_addresses_off_by_one_character_are_stored_as_the_reader_reads_them(
    app: Flask, runner: FlaskCliRunner, factory, tmp_path: Path
) -> None:
    """Each cell differs from the reader's normal form in one way only, so that the COPY
    path's rules (pgload._rules_select: nama and alamat) must notice that very thing."""
    rows = rows_of(factory, houses=4)  # 3 persons each: the names of the 2nd and 3rd
    col = COLUMNS.index
    rows[3][col("nama")] = rows[3][col("nama")].lower()
    rows[4][col("nama")] = rows[4][col("nama")].replace(" ", "  ", 1) + "  X"
    rows[5][col("nama")] += " "
    rows[6][col("nama")] = " " + rows[6][col("nama")]
    set_household(rows, rows[0], "alamat", "JL.  MERDEKA NO. 5")  # the 1st household
    set_household(rows, rows[-1], "alamat", "JL. MERDEKA NO. 5 ")  # the 4th
    path = write(tmp_path / "off-by-one.csv", rows)

    result = dtsen_import(runner, path)

    assert result.exit_code == 0, result.output
    assert stored(app) == expected(app, path)


def test_a_good_file_that_copy_cannot_take_is_published_through_the_reader(
    app: Flask, runner: FlaskCliRunner, factory, tmp_path: Path
) -> None:
    """A quoted address across two lines: COPY cannot take the file as it is, so the whole
    file goes through the reader, and its rows are stored all the same (on PostgreSQL, the
    new tables are then filled without the line count the COPY path keeps)."""
    rows = rows_of(factory, houses=3)
    set_household(rows, rows[0], "alamat", "JL. MERDEKA\nNO. 5")
    path = write(tmp_path / "across-lines.csv", rows)

    result = dtsen_import(runner, path)

    assert result.exit_code == 0, result.output
    assert stored(app) == expected(app, path)
    assert len(stored(app)) == len(rows) + 3  # every person and household


def test_an_ordinary_file_is_stored_as_the_reader_reads_it(
    app: Flask, runner: FlaskCliRunner, factory, tmp_path: Path
) -> None:
    path = write(tmp_path / "ordinary.csv", rows_of(factory, houses=4))
    result = dtsen_import(runner, path)
    assert result.exit_code == 0, result.output
    assert stored(app) == expected(app, path)


@pytest.mark.skipif(not POSTGRES, reason="the COPY path is PostgreSQL's")
def test_an_ordinary_file_takes_the_copy_path_not_the_reader(
    app: Flask, runner: FlaskCliRunner, factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_reader(*args: object, **kwargs: object) -> None:
        raise AssertionError("the row-by-row reader ran")

    monkeypatch.setattr(loader._Load, "run", no_reader)
    monkeypatch.setattr(pgload, "reader_rules", no_reader)  # every row vouched for by SQL
    path = write(tmp_path / "ordinary.csv", rows_of(factory, houses=4))
    result = dtsen_import(runner, path)
    assert result.exit_code == 0, result.output


@pytest.mark.skipif(not POSTGRES, reason="the COPY path is PostgreSQL's")
def test_a_file_written_by_both_writers_is_stored_as_the_reader_reads_it(
    app: Flask, runner: FlaskCliRunner, factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large file's rules and persons are written by WRITERS connections side by side, each
    a range of lines; a small file by one. Here a small file takes the large file's way: each
    row stored once, the lines at the cut included."""
    monkeypatch.setattr(pgload, "SIDE_BY_SIDE_LINES", 2)
    ranges: list[str] = []
    original = pgload._insert_side_by_side

    def recording(table: str, select, last_line: int) -> None:  # type: ignore[no-untyped-def]
        original(table, lambda where: ranges.append(where) or select(where), last_line)

    monkeypatch.setattr(pgload, "_insert_side_by_side", recording)
    path = write(tmp_path / "two-writers.csv", rows_of(factory, houses=5))  # lines 2-16

    result = dtsen_import(runner, path)

    assert result.exit_code == 0, result.output
    assert stored(app) == expected(app, path)
    assert sorted(ranges) == ["line < 9"] * 2 + ["line >= 9"] * 2  # the rules, the persons
