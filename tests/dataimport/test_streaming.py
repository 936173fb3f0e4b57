"""The streaming import on both engines: rules across rows checked in SQL, bad input, a
database failure and a SIGKILL half-way (the previous period still served, nothing partial),
the refusal of a second file for a published period, progress output and retention.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from portal import db
from portal.dataimport import loader, pgload
from portal.dataimport.models import Household, Person, Snapshot
from tests.dataimport.test_import_cli import (
    assert_clean_failure,
    dtsen_import,
    look_up,
    not_found,
    person_count,
    set_cell,
    snapshots,
)
from tests.helpers import Client

ROOT = Path(__file__).resolve().parents[2]


def household_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Household)) or 0


def rows_outside_published(app: Flask) -> int:
    """Persons or households of a snapshot that is not published: partial rows."""
    with app.app_context():
        published = select(Snapshot.id).where(Snapshot.status == "published")
        persons = db.session.scalar(
            select(func.count()).select_from(Person).where(Person.snapshot_id.not_in(published))
        )
        households = db.session.scalar(
            select(func.count())
            .select_from(Household)
            .where(Household.snapshot_id.not_in(published))
        )
        return (persons or 0) + (households or 0)


def leftover_tables(app: Flask) -> list[str]:
    """PostgreSQL: tables of schema snapshot_parts that are not attached partitions."""
    with app.app_context():
        if db.session.get_bind().dialect.name != "postgresql":
            return []
        return list(
            db.session.scalars(
                text(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                    "c.relnamespace LEFT JOIN pg_inherits i ON i.inhrelid = c.oid "
                    "WHERE n.nspname = 'snapshot_parts' AND c.relkind = 'r' "
                    "AND i.inhrelid IS NULL"
                )
            )
        )


# --- rules across rows, in SQL ----------------------------------------------------------------


def test_a_nik_twice_names_the_line_of_its_first_appearance(
    app: Flask, runner: FlaskCliRunner, factory
) -> None:
    first, second = factory.household(size=2), factory.household(size=2)
    path = factory.write("2026Q3", [first, second])
    twice = first.members[1]  # listed again in another household, written with a space
    set_cell(path, 5, "nik", f"{twice.nik[:8]} {twice.nik[8:]}")
    set_cell(path, 5, "jenis_kelamin", twice.sex)
    set_cell(path, 5, "tanggal_lahir", twice.born.isoformat())

    result = dtsen_import(runner, path)

    assert_clean_failure(result)
    assert "line 5: the same NIK already appears on line 3" in result.output
    assert "1 bad row(s)" in result.output
    assert snapshots(app) == []


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("desil", "9", "desil 9 differs from 3 for the same No. KK on line 2"),
        ("kode_desa", "32.16.02.2002", "kode_desa 32.16.02.2002 differs from 32.16.01.2001"),
    ],
)
def test_a_household_attribute_differing_within_one_no_kk_names_the_first_line(
    app: Flask, runner: FlaskCliRunner, factory, column: str, value: str, reason: str
) -> None:
    path = factory.write("2026Q3", [factory.household(size=3, desil=3), factory.household()])
    set_cell(path, 4, column, value)

    result = dtsen_import(runner, path)

    assert_clean_failure(result)
    assert f"line 4: {reason}" in result.output
    assert "line 3:" not in result.output
    assert snapshots(app) == []


def test_members_may_write_the_address_differently_the_household_keeps_the_first_line(
    app: Flask, runner: FlaskCliRunner, factory
) -> None:
    house = factory.household(size=3)
    path = factory.write("2026Q3", [house, factory.household()])
    with path.open(encoding="utf-8", newline="") as fh:
        first = next(csv.DictReader(fh))["alamat"]
    set_cell(path, 3, "alamat", "AAA LAIN RT 009/RW 009")  # sorts before the first line's
    set_cell(path, 4, "alamat", "ZZZ LAIN RT 001/RW 001")

    result = dtsen_import(runner, path)

    assert result.exit_code == 0, result.output
    with app.app_context():
        kept = db.session.scalar(select(Household.alamat).where(Household.no_kk == house.no_kk))
    assert kept == first


def test_row_errors_and_rules_across_rows_are_reported_together_in_line_order(
    app: Flask, runner: FlaskCliRunner, factory
) -> None:
    path = factory.write("2026Q3", [factory.household(size=3), factory.household(size=3)])
    set_cell(path, 6, "desil", "8")  # across rows: differs from line 5
    set_cell(path, 3, "hubungan", "PACAR")  # a row on its own

    result = dtsen_import(runner, path)

    assert_clean_failure(result)
    out = result.output
    assert out.index("line 3: hubungan") < out.index("line 6: desil 8 differs")
    assert "2 bad row(s)" in out


def test_at_most_max_reported_errors_are_listed_then_a_count(
    app: Flask, runner: FlaskCliRunner, factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "MAX_REPORTED_ERRORS", 2)
    path = factory.write("2026Q3", [factory.household(size=5)])
    for line in (3, 4, 5, 6):
        set_cell(path, line, "desil", "9")

    result = dtsen_import(runner, path)

    assert_clean_failure(result)
    assert "line 3:" in result.output
    assert "line 4:" in result.output
    assert "line 5:" not in result.output
    assert "... and 2 more bad rows." in result.output
    assert "4 bad row(s)" in result.output


def test_period_differing_within_the_file_is_refused(
    app: Flask, runner: FlaskCliRunner, factory
) -> None:
    path = factory.write("2026Q3", [factory.household(size=3)])
    set_cell(path, 3, "periode", "2026Q2")

    result = dtsen_import(runner, path)

    assert_clean_failure(result)
    assert "line 3: periode 2026Q2 differs from the file's 2026Q3" in result.output


# --- a second file for a published period ------------------------------------------------------


def test_a_different_file_for_a_published_period_is_refused_without_replace(
    app: Flask, runner: FlaskCliRunner, factory, client: Client
) -> None:
    kept = factory.household()
    assert dtsen_import(runner, factory.write("2026Q3", [kept], name="a.csv")).exit_code == 0
    newcomer = factory.household()

    result = dtsen_import(runner, factory.write("2026Q3", [kept, newcomer], name="b.csv"))

    assert_clean_failure(result)
    assert "period 2026Q3 is already published from another file (a.csv)" in result.output
    assert "--replace" in result.output
    assert snapshots(app) == [("2026Q3", "published", 2)]
    assert look_up(client, newcomer) == not_found(client, factory)


# --- bad input: the previous period is still served, nothing partial ---------------------------


@pytest.fixture
def served(app: Flask, runner: FlaskCliRunner, factory, client: Client):
    """Period 2026Q2 published with one household; returns (house, its look-up answer)."""
    house = factory.household(desil=2)
    assert dtsen_import(runner, factory.write("2026Q2", [house], name="q2.csv")).exit_code == 0
    answer = look_up(client, house)
    assert answer != not_found(client, factory)
    return house, answer


def assert_previous_period_served(app: Flask, client: Client, factory, served) -> None:
    house, answer = served
    assert look_up(client, house) == answer
    assert [s for s in snapshots(app) if s[1] == "published"] == [("2026Q2", "published", 2)]
    assert person_count(app) == 2
    assert household_count(app) == 1
    assert rows_outside_published(app) == 0
    assert leftover_tables(app) == []


def test_a_truncated_file_is_refused_clearly(
    app: Flask, runner: FlaskCliRunner, factory, client: Client, served
) -> None:
    path = factory.write("2026Q3", [factory.household(size=3)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 12])  # the copy stopped inside the last row

    result = dtsen_import(runner, path)

    assert_clean_failure(result)
    assert "does not end with a line break: it looks truncated" in result.output
    assert_previous_period_served(app, client, factory, served)


def test_another_periods_format_is_refused_clearly(
    app: Flask, runner: FlaskCliRunner, factory, client: Client, served
) -> None:
    path = factory.write("2026Q3", [factory.household(size=3)])
    lines = path.read_text(encoding="utf-8").splitlines()
    old = lines[0].replace(",alamat,", ",rt,rw,").replace(",program", "")
    path.write_text("\n".join([old, *lines[1:]]) + "\n", encoding="utf-8")

    result = dtsen_import(runner, path)

    assert_clean_failure(result)
    assert "missing column(s): alamat, program; unexpected column(s): 'rt', 'rw'" in result.output
    assert_previous_period_served(app, client, factory, served)


def test_a_database_failure_mid_load_publishes_nothing_and_says_so(
    app: Flask,
    runner: FlaskCliRunner,
    factory,
    client: Client,
    served,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loader, "CHUNK", 2)
    calls = []
    engine_load = pgload.PostgresLoad if os.environ.get("TEST_DATABASE_URL") else loader._SqliteLoad
    write = engine_load.write_batch

    def failing(self, batch):  # type: ignore[no-untyped-def]
        calls.append(len(batch))
        if len(calls) == 3:
            raise OperationalError("COPY", {}, Exception("could not extend file: No space left"))
        write(self, batch)

    monkeypatch.setattr(engine_load, "write_batch", failing)
    path = factory.write("2026Q3", [factory.household(size=4), factory.household(size=4)])

    result = dtsen_import(runner, path)

    assert_clean_failure(result)
    assert "the database failed during the import" in result.output
    assert "No space left" in result.output
    assert "previous period is still served" in result.output
    assert_previous_period_served(app, client, factory, served)
    monkeypatch.undo()
    assert dtsen_import(runner, path).exit_code == 0  # once the cause is fixed


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="SQLite's own limit")
def test_a_full_disk_on_sqlite_publishes_nothing(
    app: Flask, runner: FlaskCliRunner, factory, client: Client, served
) -> None:
    path = factory.write("2026Q3", [factory.household(size=6) for _ in range(400)])
    with app.app_context():
        pages = db.session.execute(text("PRAGMA page_count")).scalar_one()
    from sqlalchemy import event

    engine = app.extensions["db_engine"]

    def small_disk(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages + 8}")

    event.listen(engine, "connect", small_disk)
    engine.dispose()
    try:
        result = dtsen_import(runner, path)
    finally:
        event.remove(engine, "connect", small_disk)
        engine.dispose()

    assert_clean_failure(result)
    assert "database or disk is full" in result.output
    assert_previous_period_served(app, client, factory, served)


# --- SIGKILL half-way -----------------------------------------------------------------------

KILLABLE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from portal import create_app
    from portal.dataimport import loader, pgload

    url, key, path = sys.argv[1:4]
    loader.CHUNK = 5
    for cls in (loader._SqliteLoad, pgload.PostgresLoad):
        def make(write):
            calls = []
            def paused(self, batch):
                write(self, batch)
                calls.append(1)
                if len(calls) == 2:  # rows are being loaded: tell the test, then wait
                    print("LOADING", flush=True)
                    time.sleep(300)
            return paused
        cls.write_batch = make(cls.write_batch)
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url, "NIK_HMAC_KEY": key})
    with app.app_context():
        loader.import_snapshot(Path(path))
    print("FINISHED", flush=True)
    """
)


def test_an_import_killed_half_way_leaves_the_previous_period_served_and_nothing_partial(
    app: Flask, runner: FlaskCliRunner, factory, client: Client, served
) -> None:
    houses = [factory.household(size=3) for _ in range(10)]
    path = factory.write("2026Q3", houses)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PORTAL_ENV", None)
    proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", KILLABLE, app.config["DATABASE_URL"],
         str(app.config["NIK_HMAC_KEY"]), str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "LOADING", proc.stderr.read()  # type: ignore[union-attr]

        # during the load, look-ups are answered from the previous period
        house, answer = served
        assert look_up(client, house) == answer
        assert look_up(client, houses[0]) == not_found(client, factory)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)  # reaps it and closes the pipes
    assert proc.returncode == -signal.SIGKILL

    assert look_up(client, house) == answer
    assert look_up(client, houses[0]) == not_found(client, factory)
    assert rows_outside_published(app) == 0
    assert person_count(app) == 2

    # the next run cleans up what the killed one left and publishes
    result = dtsen_import(runner, path)
    assert result.exit_code == 0, result.output
    assert snapshots(app) == [("2026Q2", "published", 2), ("2026Q3", "published", 30)]
    assert leftover_tables(app) == []
    assert look_up(client, houses[0]) != not_found(client, factory)


# --- the command line --------------------------------------------------------------------------


def test_quiet_prints_nothing_on_success_but_errors_still(
    app: Flask, runner: FlaskCliRunner, factory
) -> None:
    good = factory.write("2026Q3", [factory.household()])
    result = dtsen_import(runner, good, "--quiet")
    assert result.exit_code == 0
    assert result.output == ""

    bad = factory.write("2026Q4", [factory.household()])
    set_cell(bad, 2, "desil", "0")
    result = dtsen_import(runner, bad, "--quiet")
    assert_clean_failure(result)
    assert "line 2: desil must be between 1 and 10" in result.output


def test_not_on_a_terminal_one_summary_line_and_no_progress_bar(
    app: Flask, runner: FlaskCliRunner, factory
) -> None:
    result = dtsen_import(runner, factory.write("2026Q3", [factory.household(size=3)]))
    assert result.exit_code == 0
    assert len(result.output.strip().splitlines()) == 1
    assert "\r" not in result.output


def test_the_progress_line_shows_rows_rate_and_eta(capsys: pytest.CaptureFixture[str]) -> None:
    from portal.dataimport.cli import ProgressLine

    bar = ProgressLine("snapshot.csv")
    bar(120_000, 250, 1000)
    bar.close()
    err = capsys.readouterr().err
    assert err.startswith("\rsnapshot.csv [######------------------]  25%")
    assert "120,000 rows" in err
    assert "rows/s" in err
    assert "ETA " in err


# --- retention ---------------------------------------------------------------------------------


def test_periods_beyond_retention_are_pruned_after_an_import(
    app: Flask, runner: FlaskCliRunner, factory, client: Client
) -> None:
    app.config["SNAPSHOT_KEEP_PERIODS"] = 2
    house = factory.household()
    for period in ("2026Q1", "2026Q2"):
        assert dtsen_import(runner, factory.write(period, [house])).exit_code == 0

    result = dtsen_import(runner, factory.write("2026Q3", [house]))

    assert result.exit_code == 0, result.output
    assert "Pruned 1 old snapshot(s)" in result.output
    assert [s[0] for s in snapshots(app)] == ["2026Q2", "2026Q3"]
    assert rows_outside_published(app) == 0
    assert person_count(app) == 4
    assert leftover_tables(app) == []
    assert look_up(client, house) != not_found(client, factory)


def test_prune_command_keeps_at_least_two_periods(
    app: Flask, runner: FlaskCliRunner, factory
) -> None:
    house = factory.household()
    for period in ("2025Q4", "2026Q1", "2026Q2", "2026Q3"):
        assert dtsen_import(runner, factory.write(period, [house])).exit_code == 0

    assert runner.invoke(args=["dtsen", "prune", "--keep", "1"]).exit_code == 2

    result = runner.invoke(args=["dtsen", "prune", "--keep", "2"])

    assert result.exit_code == 0, result.output
    assert "pruned 2 snapshot(s); kept 2 newest period(s)" in result.output
    assert [s[0] for s in snapshots(app)] == ["2026Q2", "2026Q3"]
    assert person_count(app) == 4
    assert rows_outside_published(app) == 0


def test_the_loaders_pseudonyms_equal_the_look_ups() -> None:
    from portal.core.nik import hmac_number

    macs = loader.Pseudonyms(b"k" * 32)
    assert macs.nik("3216014506880002") == hmac_number("3216014506880002", b"k" * 32)
    assert macs.kk("3216011203150004") == hmac_number("3216011203150004", b"k" * 32, purpose="kk")
    assert macs.nik("3216011203150004") != macs.kk("3216011203150004")
