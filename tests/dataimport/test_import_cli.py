"""The import commands end to end: ``flask dtsen import|periods``, ``wilayah import``, ``demo``.

What a published snapshot serves is checked through the look-up (NIK + No. KK) and in the
database; the CSV files are written by the ``factory`` fixture and corrupted cell by cell.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import delete, func, select, update

from portal import db
from portal.dataimport import loader
from portal.dataimport.demo import House
from portal.dataimport.models import Person, Snapshot, SnapshotStatus
from portal.dataimport.reader import COLUMNS
from tests.helpers import Client

PUBLISHED = re.compile(
    r"2026Q3: published (\d+) rows, (\d+) households in \d+\.\d\d s \([\d,]+ rows/s\)"
)


def dtsen_import(runner: FlaskCliRunner, path: Path, *options: str) -> Result:
    return runner.invoke(args=["dtsen", "import", *options, str(path)])


def set_cell(path: Path, line: int, column: str, value: str) -> None:
    """Change one cell of a CSV file; LINE counts the header as 1, like a spreadsheet."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[line - 1][COLUMNS.index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def snapshots(app: Flask) -> list[tuple[str, str, int]]:
    with app.app_context():
        rows = db.session.execute(
            select(Snapshot.period, Snapshot.status, Snapshot.row_count).order_by(Snapshot.id)
        )
        return [(period, str(status), count) for period, status, count in rows]


def person_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Person)) or 0


def look_up(client: Client, house: House) -> str:
    """The h1 of the look-up result for the head of HOUSE (in English)."""
    client.choose_language("en")
    page = client.post_form(
        "/", {"nik": house.members[0].nik, "no_kk": house.no_kk}, status=200, follow_redirects=True
    )
    return page.h1


def not_found(client: Client, factory) -> str:
    """The h1 of the not-found answer (once some snapshot is published)."""
    nik, no_kk = factory.unknown_pair()
    client.choose_language("en")
    page = client.post_form("/", {"nik": nik, "no_kk": no_kk}, status=200, follow_redirects=True)
    return page.h1


def assert_clean_failure(result: Result) -> None:
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert "Nothing was published" in result.output


# --- dtsen import -------------------------------------------------------------------------


def test_import_of_a_good_file_publishes_and_reports_rows_households_and_time(
    app: Flask, runner: FlaskCliRunner, factory, client: Client
) -> None:
    houses = [factory.household(size=3), factory.household(size=2, desil=7, programs=())]
    path = factory.write("2026Q3", houses)

    result = dtsen_import(runner, path)

    assert result.exit_code == 0, result.output
    match = PUBLISHED.search(result.output)
    assert match, result.output
    assert match.groups() == ("5", "2")
    assert snapshots(app) == [("2026Q3", "published", 5)]
    assert person_count(app) == 5
    data = {"nik": houses[0].members[1].nik, "no_kk": houses[0].no_kk}
    page = client.post_form("/", data, follow_redirects=True)
    assert page.status == 200
    assert "B*** S******" in page


def test_import_with_bad_rows_publishes_nothing_and_names_every_line(
    app: Flask, runner: FlaskCliRunner, factory
) -> None:
    path = factory.write("2026Q3", [factory.household(size=3), factory.household(size=2)])
    set_cell(path, 3, "desil", "0")
    set_cell(path, 5, "hubungan", "PACAR")
    set_cell(path, 6, "program", "KIP")

    result = dtsen_import(runner, path)

    assert_clean_failure(result)
    assert "line 3: desil must be between 1 and 10" in result.output
    assert "line 5: hubungan 'PACAR' is not one of" in result.output
    assert "line 6: unknown program code 'KIP'" in result.output
    assert not re.search(r"line [247]:", result.output)
    assert "3 bad row(s)" in result.output
    assert snapshots(app) == []
    assert person_count(app) == 0


def test_bad_last_row_leaves_the_published_period_served_unchanged(
    app: Flask,
    runner: FlaskCliRunner,
    factory,
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = factory.household(desil=2)
    assert dtsen_import(runner, factory.write("2026Q3", [first], name="a.csv")).exit_code == 0
    served = look_up(client, first)
    assert served != not_found(client, factory)

    # write every row as it streams past, so the bad last row comes after real inserts
    monkeypatch.setattr(loader, "CHUNK", 1)
    newcomer = factory.household(desil=1)
    changed = House(first.no_kk, first.kode_desa, "KP. BARU RT 001/RW 001", 9, first.members)
    path = factory.write("2026Q3", [newcomer, changed, factory.household()], name="b.csv")
    set_cell(path, 7, "jenis_kelamin", "L")  # the last row is a daughter

    result = dtsen_import(runner, path, "--replace")

    assert_clean_failure(result)
    assert "line 7: jenis_kelamin L disagrees with the NIK" in result.output
    assert snapshots(app) == [("2026Q3", "published", 2)]
    assert person_count(app) == 2
    assert look_up(client, first) == served
    assert look_up(client, newcomer) == not_found(client, factory)


def test_importing_the_same_file_twice_changes_nothing(
    app: Flask, runner: FlaskCliRunner, factory
) -> None:
    path = factory.write("2026Q3", [factory.household(), factory.household()])
    assert dtsen_import(runner, path).exit_code == 0

    again = dtsen_import(runner, path)

    assert again.exit_code == 0, again.output
    assert "already the published snapshot" in again.output
    assert "Nothing changed" in again.output
    assert "published 4 rows" not in again.output
    assert snapshots(app) == [("2026Q3", "published", 4)]
    assert person_count(app) == 4


def test_a_corrected_file_for_the_same_period_replaces_the_old_one(
    app: Flask, runner: FlaskCliRunner, factory, client: Client
) -> None:
    dropped, kept = factory.household(), factory.household()
    assert dtsen_import(runner, factory.write("2026Q3", [dropped, kept])).exit_code == 0
    added = factory.household(desil=8, programs=())

    result = dtsen_import(runner, factory.write("2026Q3", [kept, added]), "--replace")

    assert result.exit_code == 0, result.output
    assert "replaces the earlier file" in result.output
    assert "Pruned 1 old snapshot(s)" in result.output  # the replaced file is not kept
    assert snapshots(app) == [("2026Q3", "published", 4)]
    missing = not_found(client, factory)
    assert look_up(client, dropped) == missing
    assert look_up(client, kept) != missing
    assert look_up(client, added) != missing


def test_a_new_period_keeps_the_previous_one_published(
    app: Flask, runner: FlaskCliRunner, factory
) -> None:
    house = factory.household()
    assert dtsen_import(runner, factory.write("2026Q2", [house])).exit_code == 0
    assert dtsen_import(runner, factory.write("2026Q3", [house])).exit_code == 0
    assert snapshots(app) == [("2026Q2", "published", 2), ("2026Q3", "published", 2)]


def test_excel_csv_with_bom_and_crlf_line_ends_imports(
    app: Flask, runner: FlaskCliRunner, factory
) -> None:
    path = factory.write("2026Q3", [factory.household(size=3)])
    text = path.read_text(encoding="utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))

    result = dtsen_import(runner, path)

    assert result.exit_code == 0, result.output
    assert snapshots(app) == [("2026Q3", "published", 3)]


def test_non_utf8_file_is_refused_clearly(app: Flask, runner: FlaskCliRunner, factory) -> None:
    path = factory.write("2026Q3", [factory.household()])
    set_cell(path, 2, "nama", "JOSÉ SANTOSO")
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))

    result = dtsen_import(runner, path)

    assert_clean_failure(result)
    assert "not UTF-8" in result.output
    assert path.name in result.output
    assert snapshots(app) == []


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (
            "periode;no_kk;nik;nama;jenis_kelamin;tanggal_lahir;hubungan;kode_desa;alamat;desil;"
            "program",
            "unexpected column(s): 'periode;no_kk;nik;",
        ),
        (
            "period,no_kk,nik,nama,jenis_kelamin,tanggal_lahir,hubungan,kode_desa,alamat,desil,"
            "program",
            "missing column(s): periode; unexpected column(s): 'period'",
        ),
        (
            "periode,no_kk,nik,nama,jenis_kelamin,tanggal_lahir,hubungan,kode_desa,alamat,desil",
            "missing column(s): program (another format",
        ),
        (  # an older format: rt_rw in place of alamat
            "periode,no_kk,nik,nama,jenis_kelamin,tanggal_lahir,hubungan,kode_desa,rt_rw,desil,"
            "program",
            "missing column(s): alamat; unexpected column(s): 'rt_rw'",
        ),
        (
            "no_kk,periode,nik,nama,jenis_kelamin,tanggal_lahir,hubungan,kode_desa,alamat,desil,"
            "program",
            "the columns are in another order",
        ),
    ],
    ids=["semicolons", "renamed", "missing", "older format", "order"],
)
def test_wrong_header_is_refused_clearly_naming_the_columns(
    app: Flask, runner: FlaskCliRunner, factory, header: str, detail: str
) -> None:
    path = factory.write("2026Q3", [factory.household()])
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([header, *lines[1:]]) + "\n", encoding="utf-8")

    result = dtsen_import(runner, path)

    assert_clean_failure(result)
    assert "line 1: " in result.output
    assert detail in result.output
    assert "the header must be exactly: " + ",".join(COLUMNS) in result.output
    assert snapshots(app) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        (",".join(COLUMNS) + "\n", "line 2: the file has a header but no rows"),
    ],
    ids=["empty", "header only"],
)
def test_file_without_rows_is_refused_clearly(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "snapshot.csv"
    path.write_text(content, encoding="utf-8")

    result = dtsen_import(runner, path)

    assert_clean_failure(result)
    assert message in result.output
    assert snapshots(app) == []


def test_import_of_a_missing_file_is_a_usage_error(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = dtsen_import(runner, tmp_path / "nope.csv")
    assert result.exit_code == 2
    assert "does not exist" in result.output


# --- dtsen periods ------------------------------------------------------------------------


def test_periods_lists_snapshots_newest_period_first(runner: FlaskCliRunner, factory) -> None:
    house = factory.household()
    assert dtsen_import(runner, factory.write("2026Q2", [house], name="q2.csv")).exit_code == 0
    assert dtsen_import(runner, factory.write("2026Q3", [house], name="q3a.csv")).exit_code == 0
    other = factory.household()
    q3b = factory.write("2026Q3", [other], name="q3b.csv")
    assert dtsen_import(runner, q3b, "--replace").exit_code == 0

    result = runner.invoke(args=["dtsen", "periods"])

    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split()[:2] for line in lines] == [  # the replaced q3a.csv was pruned
        ["2026Q3", "published"],
        ["2026Q2", "published"],
    ]
    assert lines[0].endswith("q3b.csv")
    assert "2 rows" in lines[0]
    assert "1 households" in lines[0]


def test_periods_with_nothing_imported_prints_nothing(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["dtsen", "periods"])
    assert result.exit_code == 0
    assert result.output == ""


# --- wilayah import and demo --------------------------------------------------------------


def test_wilayah_import_again_adds_nothing(runner: FlaskCliRunner) -> None:
    # the session already imported the vendored files (tests/fixtures/db.py)
    for __ in range(2):
        result = runner.invoke(args=["wilayah", "import"])
        assert result.exit_code == 0, result.output
        assert "wilayah: 0 added, 0 updated" in result.output
        assert "kabupaten/kota" in result.output


def test_wilayah_import_from_an_incomplete_directory_fails_clearly(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(args=["wilayah", "import", str(tmp_path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "missing file" in result.output


def test_wilayah_import_adds_new_codes_and_renames_in_place(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    """A newer idn-area-data release: a desa split off (a new code, with an apostrophe and a
    comma in its name) and a kabupaten renamed; the codes it does not list stay as they are.
    (The region table outlives a test: put back.)"""
    from portal.wilayah import queries as wilayah
    from portal.wilayah.models import Wilayah

    release = {
        "provinces.csv": "code,name\n32,Jawa Barat\n",
        "regencies.csv": "code,province_code,name\n32.16,32,Kabupaten Bekasi Raya\n",
        "districts.csv": "code,regency_code,name\n32.16.01,32.16,Tarumajaya\n",
        "villages.csv": (
            "code,district_code,name\n32.16.01.2001,32.16.01,Sagara Makmur\n"
            '32.16.01.2999,32.16.01,"Sagara Ma\'mur, Baru"\n'
        ),
    }
    for name, text in release.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Wilayah))
    try:
        result = runner.invoke(args=["wilayah", "import", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert "wilayah: 1 added, 1 updated" in result.output
        with app.app_context():
            added = db.session.get(Wilayah, "32.16.01.2999")
            assert added is not None
            assert (added.name, added.parent_code, added.level) == (
                "Sagara Ma'mur, Baru",
                "32.16.01",
                4,
            )
            renamed = db.session.get(Wilayah, "32.16")
            assert renamed is not None
            assert (renamed.name, renamed.parent_code) == ("Kabupaten Bekasi Raya", "32")
            assert db.session.scalar(select(func.count()).select_from(Wilayah)) == before + 1
    finally:
        with app.app_context():
            db.session.execute(delete(Wilayah).where(Wilayah.code == "32.16.01.2999"))
            db.session.execute(
                update(Wilayah).where(Wilayah.code == "32.16").values(name="Kabupaten Bekasi")
            )
            db.session.commit()
            wilayah.clear_cache()


SHOWCASE = re.compile(r"NIK (\d{16})  No\. KK (\d{16})")


def run_demo(app: Flask, runner: FlaskCliRunner, out: Path) -> Result:
    # `flask demo` is a plain click command: the `flask` executable (FlaskGroup) pushes the
    # app context for it, FlaskCliRunner does not, so the test pushes it the same way.
    with app.app_context():
        return runner.invoke(args=["demo", "--out", str(out)])


def test_demo_loads_two_periods_and_prints_seven_lookup_pairs(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, client: Client
) -> None:
    result = run_demo(app, runner, tmp_path)

    assert result.exit_code == 0, result.output
    assert "demo 2026Q2: published" in result.output
    assert "demo 2026Q3: published" in result.output
    pairs = SHOWCASE.findall(result.output)
    assert len(pairs) == 7
    assert sorted(p for p, _, _ in snapshots(app)) == ["2026Q2", "2026Q3"]
    assert {status for _, status, _ in snapshots(app)} == {"published"}
    nik, no_kk = pairs[0]
    page = client.post_form("/", {"nik": nik, "no_kk": no_kk}, status=200, follow_redirects=True)
    assert "S*** A*****" in page


def test_demo_run_twice_loads_nothing_new(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    first = run_demo(app, runner, tmp_path)
    assert first.exit_code == 0, first.output
    before = snapshots(app)

    second = run_demo(app, runner, tmp_path)

    assert second.exit_code == 0, second.output
    assert "demo 2026Q2: already loaded" in second.output
    assert "demo 2026Q3: already loaded" in second.output
    assert SHOWCASE.findall(second.output) == SHOWCASE.findall(first.output)
    assert snapshots(app) == before
    assert all(status == SnapshotStatus.PUBLISHED for _, status, _ in before)


@pytest.mark.parametrize("group", ["db", "wilayah", "dtsen", "demo"])
def test_command_help_works(runner: FlaskCliRunner, group: str) -> None:
    result = runner.invoke(args=[group, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage:")
    assert group in result.output.splitlines()[0]


def test_the_demo_is_refused_in_production_unless_said_to_be_a_test(
    db_url: str, tmp_path: Path
) -> None:
    """The demo households are invented: published in production they would be taken for
    real families."""
    from portal import create_app

    app = create_app(
        {
            "ENV_NAME": "production",
            "DATABASE_URL": db_url,
            "SECRET_KEY": "s" * 40,
            "NIK_HMAC_KEY": "h" * 40,
        }
    )
    try:
        runner = app.test_cli_runner()
        refused = runner.invoke(args=["demo", "--out", str(tmp_path / "a")])
        assert refused.exit_code == 1
        assert "refusing to publish invented households in production" in refused.output
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Snapshot)) == 0
        allowed = runner.invoke(args=["demo", "--not-real-data", "--out", str(tmp_path / "b")])
        assert allowed.exit_code == 0, allowed.output
    finally:
        from tests.fixtures.db import clean_tables

        clean_tables(app.extensions["db_engine"])
        app.extensions["db_engine"].dispose()
