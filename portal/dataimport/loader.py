"""Load a snapshot file in constant memory and publish it atomically as its period.

Three steps, the same on both engines:

1. **Stream.** Every row is validated and written, with its line number and the keyed HMACs
   of its NIK and No. KK (computed here: the key never goes to the database), to a staging
   table in large batches. Nothing per row is kept in Python, so memory is flat whatever the
   size of the file.

   - PostgreSQL (the COPY path, ``_PostgresLoad``): Python touches each line once (a split
     and one HMAC; the No. KK's once per household) and sends ``line,nik_hmac,kk_hmac,<the
     line as written>`` to ``COPY ... (FORMAT csv)`` into an UNLOGGED table, while the
     server parses it on the other core. The rules per row of reader.py then run in SQL, in
     one parallel ``CREATE TABLE AS`` (``_rules_sql``): a row SQL vouches for is already in
     the reader's normal form; the few others (lower case, aliases, stray spaces, other
     scripts, bad values...) go through the reader's own rules (``reader_rules``) in Python,
     which accepts them normalised or reports them with the reader's reason. A file that COPY
     cannot take as it is (a quoted cell across lines, a bare carriage return, NUL, bytes
     that are not UTF-8, a header to report) goes through the reader row by row
     (``_Load.run``), with the same messages.
   - SQLite: the reader (reader.py) validates each row in Python and good rows go to a TEMP
     table by chunked ``executemany``.
2. **Check across rows, set-based in SQL** on the staging table: one row per NIK, one desil
   and one desa per No. KK (members' addresses may be written differently: the household
   keeps its first line's, as before), one period per file. Bad lines from both steps are
   reported together, in line order (at most MAX_REPORTED_ERRORS of them, plus the count);
   nothing is published.
3. **Publish** (``_publish``): in one short transaction the new snapshot's rows become the
   period's, the earlier file of the same period (``--replace``) is marked replaced, and the
   per-household change history is recorded. Readers keep seeing the previous snapshot until
   that commit.

PostgreSQL: ``persons`` and ``households`` are partitioned by snapshot (LIST on
snapshot_id). A new snapshot is written into two plain tables of schema ``snapshot_parts``
(indexed and checked once filled) that ``_publish`` attaches as partitions; pruning a snapshot
drops them (retention.py). A run that was killed leaves a LOADING snapshot, a staging table or
unattached tables behind: the next run (or ``dtsen prune``) removes them under the same
advisory lock that serialises imports.

SQLite: plain tables. Staging goes to a TEMP table (the connection's own temporary database, so
the main database is not locked and look-ups keep logging); the final INSERT ... SELECT and the
publication are one write transaction (WAL readers keep reading the last commit). A killed run
leaves nothing: the TEMP table dies with its connection and the transaction never committed.

The change history (history.record_period_changes) runs in ``_publish``, inside the
publishing transaction once the new rows are in place; forwarded cases that the new period
reflects move to selesai right after the commit (appeals/reflected.py).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import hmac
import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import psycopg
import sqlalchemy.exc
from flask import current_app
from sqlalchemy import Connection, select, text, update

from portal import db
from portal.appeals import reflected
from portal.core.programs import DESIL_RANGE, PROGRAMS
from portal.dataimport import history, retention
from portal.dataimport import queries as snapshot_queries
from portal.dataimport.models import Snapshot, SnapshotStatus
from portal.dataimport.reader import (
    COLUMNS,
    HUBUNGAN,
    MAX_ADDRESS,
    MAX_NAME,
    RowError,
    SnapshotFormatError,
    SnapshotRow,
    header_fields,
    read_snapshot,
    reader_rules,
)
from portal.statistik import refresh as statistik
from portal.wilayah import queries as wilayah
from portal.wilayah.models import Level

CHUNK = 20_000
MAX_REPORTED_ERRORS = 200
FAST_COPY = True  # PostgreSQL: the COPY path (tests turn it off to compare with the reader's)
READ_BLOCK = 1 << 22  # bytes read at a time on the COPY path
MAX_LINE = 65_536  # a longer line goes through the reader (its csv field limit is 131,072)
SUSPECT_PAGE = 5_000  # rows SQL could not vouch for, judged by the reader a page at a time
WORK_MEM = "64MB"  # for the rules per row and the checks across rows (PostgreSQL)
MAINTENANCE_WORK_MEM = "256MB"  # for the index builds of a new snapshot's tables

# Staging columns, in COPY / executemany order.
STAGING_COLUMNS = (
    "line",
    "nik_hmac",
    "kk_hmac",
    "nik",
    "no_kk",
    "nama",
    "jenis_kelamin",
    "tanggal_lahir",
    "hubungan",
    "kode_desa",
    "alamat",
    "desil",
    "programs",
)

Progress = Callable[[int, int, int], None]  # rows, bytes read, bytes in the file


class SnapshotRejected(Exception):
    """The file has bad rows; nothing was published."""

    def __init__(self, errors: list[RowError], total: int) -> None:
        super().__init__(f"{total} bad row(s)")
        self.errors = errors
        self.total = total


class PeriodAlreadyPublished(Exception):
    """Another file is already the published snapshot of this period (no ``replace``)."""

    def __init__(self, period: str, source_name: str) -> None:
        super().__init__(period)
        self.period = period
        self.source_name = source_name


class ImportFailed(Exception):
    """The database failed during the load (disk full, connection lost...); nothing was
    published and the previous snapshot is still served."""


@dataclass
class ImportResult:
    period: str
    rows: int
    households: int
    seconds: float
    snapshot_id: int
    already_published: bool = False
    replaced: list[int] = field(default_factory=list)
    closed_cases: int = 0  # forwarded cases the new period reflects, moved to selesai
    pruned: list[int] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)  # seconds per step (PostgreSQL)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _hmac_key() -> bytes:
    return str(current_app.config["NIK_HMAC_KEY"]).encode()


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def import_snapshot(
    path: Path,
    *,
    today: date | None = None,
    replace: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate PATH and publish it. Raises SnapshotRejected, SnapshotFormatError,
    PeriodAlreadyPublished (a different file for a published period without REPLACE) or
    ImportFailed. Whatever it raises, the previous snapshot is still the one served."""
    started = time.perf_counter()
    sha = file_sha256(path)
    published = db.session.scalar(
        select(Snapshot).where(Snapshot.sha256 == sha, Snapshot.status == SnapshotStatus.PUBLISHED)
    )
    if published is not None:
        return ImportResult(
            published.period,
            published.row_count,
            published.household_count,
            time.perf_counter() - started,
            published.id,
            already_published=True,
        )
    _check_ends_with_line_break(path)
    db.session.rollback()  # start the load from a clean transaction
    with retention.import_lock():
        loader = _PostgresLoad() if _is_postgres() else _SqliteLoad()
        result = _run(loader, path, sha, today or date.today(), replace, progress)
        snapshot_queries.clear_snapshot_cache()
        result.pruned = retention.prune()
        loader.stages.done("prune")
    # right after the publication, in a transaction of its own (see portal/appeals/reflected.py)
    result.closed_cases = len(reflected.close_reflected())
    loader.stages.done("selesai")
    result.stages = loader.stages.seconds
    result.seconds = time.perf_counter() - started
    return result


def _run(
    loader: _Load, path: Path, sha: str, today: date, replace: bool, progress: Progress | None
) -> ImportResult:
    with path.open("rb") as raw:
        text_fh = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        try:
            return loader.run(
                text_fh, raw, path.stat().st_size, path.name, sha, today, replace, progress
            )
        except UnicodeDecodeError as exc:
            loader.abandon()
            raise SnapshotFormatError(f"the file is not UTF-8 (byte {exc.start})") from None
        except (SnapshotRejected, SnapshotFormatError, PeriodAlreadyPublished):
            loader.abandon()
            raise
        except Exception as exc:
            loader.abandon()
            raise ImportFailed(_db_failure(exc)) from exc
        except BaseException:
            loader.abandon()
            raise


def _db_failure(exc: BaseException) -> str:
    """A one-line reason from a database error (no SQL, no parameters: they hold NIKs)."""
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return f"{type(orig).__name__}: {first}"


def _check_ends_with_line_break(path: Path) -> None:
    """A snapshot file ends with a line break; one that does not was cut short (a copy or a
    download that stopped), and its last row may look complete while it is not."""
    with path.open("rb") as fh:
        fh.seek(0, io.SEEK_END)
        if fh.tell() == 0:
            return  # the reader says "empty"
        fh.seek(-1, io.SEEK_END)
        if fh.read(1) not in (b"\n", b"\r"):
            raise SnapshotFormatError(
                "the file does not end with a line break: it looks truncated (a copy or "
                "download that stopped?); its last line may be incomplete"
            )


class _Stages:
    """Wall seconds of each step of a run, for the CLI's summary and the benchmark."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._mark = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(self.seconds.get(name, 0.0) + now - self._mark, 2)
        self._mark = now


# --- the shared load ------------------------------------------------------------------------


class _Load:
    """One import run. Subclasses provide the engine's staging, checks SQL and publication."""

    snapshot_id: int

    def __init__(self) -> None:
        self.stages = _Stages()
        self.macs = Pseudonyms(_hmac_key())
        self._kk_cache = ["", ""]  # the last (no_kk, kk_hmac): a KK's rows are adjacent

    # engine-specific steps
    def begin(self, sha: str, source: str) -> None:
        raise NotImplementedError

    def write_batch(self, batch: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def end_staging(self) -> None:
        pass

    def fill_tables(self) -> int:
        """Move the staged rows into the snapshot's persons/households; return households."""
        raise NotImplementedError

    def abandon(self) -> None:
        raise NotImplementedError

    @property
    def conn(self) -> Connection:
        return db.session.connection()

    def check_period(self, period: str, replace: bool) -> None:
        if replace:
            return
        other = db.session.scalar(
            select(Snapshot).where(
                Snapshot.period == period, Snapshot.status == SnapshotStatus.PUBLISHED
            )
        )
        if other is not None:
            raise PeriodAlreadyPublished(period, other.source_name)

    def run(
        self,
        fh: io.TextIOBase,
        raw: BinaryIO,
        size: int,
        source: str,
        sha: str,
        today: date,
        replace: bool,
        progress: Progress | None,
    ) -> ImportResult:
        self.begin(sha, source)
        errors: list[RowError] = []
        error_total = 0
        rows = 0
        period: str | None = None
        batch: list[tuple[Any, ...]] = []
        for item in self._rows(fh, today):
            if isinstance(item, RowError):
                error_total += 1
                if len(errors) < MAX_REPORTED_ERRORS:
                    errors.append(item)
                continue
            if period is None:
                period = item.period
                self.check_period(period, replace)
            batch.append(item_tuple(item, self.macs, self._kk_cache))
            rows += 1
            if len(batch) >= CHUNK:
                self.write_batch(batch)
                batch = []
                if progress is not None:
                    progress(rows, raw.tell(), size)
        if batch:
            self.write_batch(batch)
        if progress is not None:
            progress(rows, size, size)
        if rows == 0 and error_total == 0:
            raise SnapshotRejected([RowError(2, "the file has a header but no rows")], 1)
        self.end_staging()
        cross_errors, cross_total = self.cross_row_errors()
        if error_total or cross_total:
            merged = _merge_errors(errors, cross_errors)
            raise SnapshotRejected(merged, error_total + cross_total)
        if period is None:  # every row was bad: reported above
            raise SnapshotRejected(errors, error_total)
        households = self.fill_tables()
        replaced = self.publish(period, rows, households)
        return ImportResult(period, rows, households, 0.0, self.snapshot_id, replaced=replaced)

    def _rows(self, fh: io.TextIOBase, today: date) -> Iterator[SnapshotRow | RowError]:
        # the code sets once, not through the app context on every row
        return read_snapshot(
            fh,
            kecamatan_exists=wilayah.codes(Level.KECAMATAN).__contains__,
            desa_exists=wilayah.codes(Level.DESA).__contains__,
            today=today,
        )

    def cross_row_errors(self) -> tuple[list[RowError], int]:
        """One row per NIK; one desil and kode_desa per No. KK. Set-based: the
        aggregates find the few offending NIKs and KKs, the detail query only visits them."""
        conn, staging, kk = self.conn, self.staging_name, self.kk_name
        # one pass over the staged rows per key: the households' aggregate serves both the
        # check (MIN <> MAX) and, once the file is good, the households' rows (fill_tables)
        conn.execute(text(
            f"CREATE {self.scratch} TABLE {kk} AS SELECT kk_hmac, MIN(line) AS first, "
            "MIN(no_kk) AS no_kk, MIN(desil) AS desil, MAX(desil) AS desil_max, "
            "MIN(kode_desa) AS kode_desa, MAX(kode_desa) AS kode_desa_max, "
            f"MIN(alamat) AS alamat, MAX(alamat) AS alamat_max, COUNT(*) AS members, "
            f"{statistik.member_aggregates(self.scratch != 'TEMP')} "
            f"FROM {staging} GROUP BY kk_hmac"
        ))  # fmt: skip
        # The contract (DOMAIN.md) fixes desil per No. KK, and a household lives in one desa;
        # members' addresses may be written differently: the household's is its first line's.
        conn.execute(text(
            f"UPDATE {kk} SET alamat = s.alamat FROM {staging} s "
            f"WHERE s.kk_hmac = {kk}.kk_hmac AND s.line = {kk}.first "
            f"AND {kk}.alamat <> {kk}.alamat_max"
        ))  # fmt: skip
        conn.execute(text(f"CREATE TEMP TABLE bad_nik AS SELECT nik_hmac, MIN(line) AS first "
                          f"FROM {staging} GROUP BY nik_hmac HAVING COUNT(*) > 1"))  # fmt: skip
        found = conn.execute(text(
            f"SELECT s.line, 'nik', b.first, 0, 0, '', '' FROM {staging} s "
            "JOIN bad_nik b ON b.nik_hmac = s.nik_hmac WHERE s.line > b.first "
            "UNION ALL "
            "SELECT s.line, 'kk', f.line, s.desil, f.desil, s.kode_desa, f.kode_desa "
            f"FROM {kk} b JOIN {staging} f ON f.kk_hmac = b.kk_hmac AND f.line = b.first "
            f"JOIN {staging} s ON s.kk_hmac = b.kk_hmac AND s.line > b.first "
            "WHERE (b.desil <> b.desil_max OR b.kode_desa <> b.kode_desa_max) "
            "AND (s.desil <> f.desil OR s.kode_desa <> f.kode_desa) "
            "ORDER BY 1"
        )).all()  # fmt: skip
        conn.execute(text("DROP TABLE bad_nik"))
        errors: dict[int, RowError] = {}
        for line, rule, first, desil, first_desil, desa, first_desa in found:
            if line in errors:
                continue
            if rule == "nik":
                reason = f"the same NIK already appears on line {first}"
            elif desil != first_desil:
                reason = (
                    f"desil {desil} differs from {first_desil} for the same No. KK on line {first}"
                )
            else:
                reason = (
                    f"kode_desa {desa} differs from {first_desa} "
                    f"for the same No. KK on line {first}"
                )
            errors[line] = RowError(line, reason)
        ordered = sorted(errors.values(), key=lambda e: e.line)
        return ordered[:MAX_REPORTED_ERRORS], len(ordered)

    scratch = ""  # how the scratch tables are created: TEMP (SQLite) or UNLOGGED

    @property
    def staging_name(self) -> str:
        raise NotImplementedError

    @property
    def kk_name(self) -> str:
        raise NotImplementedError

    def publish(self, period: str, rows: int, households: int) -> list[int]:
        raise NotImplementedError


class Pseudonyms:
    """hmac_number() for many numbers: the key is absorbed once per purpose and each number
    costs a copy and an update (same output as portal.core.nik.hmac_number)."""

    def __init__(self, key: bytes) -> None:
        self._nik = self.nik_base = hmac.new(key, b"nik:", hashlib.sha256)
        self._kk = self.kk_base = hmac.new(key, b"kk:", hashlib.sha256)

    def nik(self, number: str) -> str:
        mac = self._nik.copy()
        mac.update(number.encode())
        return mac.hexdigest()[:32]

    def kk(self, number: str) -> str:
        mac = self._kk.copy()
        mac.update(number.encode())
        return mac.hexdigest()[:32]


def item_tuple(row: SnapshotRow, macs: Pseudonyms, kk_cache: list[str]) -> tuple[Any, ...]:
    if kk_cache[0] != row.no_kk:
        kk_cache[0] = row.no_kk
        kk_cache[1] = macs.kk(row.no_kk)
    return (
        row.line,
        macs.nik(row.nik),
        kk_cache[1],
        row.nik,
        row.no_kk,
        row.nama,
        row.jenis_kelamin,
        row.tanggal_lahir,
        row.hubungan,
        row.kode_desa,
        row.alamat,
        row.desil,
        ";".join(row.programs),
    )


def _merge_errors(first: list[RowError], second: list[RowError]) -> list[RowError]:
    by_line: dict[int, RowError] = {}
    for error in sorted(first + second, key=lambda e: e.line):
        by_line.setdefault(error.line, error)
    return list(by_line.values())[:MAX_REPORTED_ERRORS]


def _publish(
    snapshot: Snapshot,
    period: str,
    rows: int,
    households: int,
    attach: Callable[[], None],
    stages: _Stages,
    per_household: str,
) -> list[int]:
    """The publication, inside the caller's transaction; the caller commits. The new
    snapshot's rows are in place once ATTACH has run (a no-op on SQLite)."""
    attach()
    replaced = list(
        db.session.scalars(
            select(Snapshot.id).where(
                Snapshot.period == period, Snapshot.status == SnapshotStatus.PUBLISHED
            )
        )
    )
    if replaced:
        db.session.execute(
            update(Snapshot).where(Snapshot.id.in_(replaced)).values(status=SnapshotStatus.REPLACED)
        )
    snapshot.period = period
    snapshot.row_count = rows
    snapshot.household_count = households
    snapshot.status = SnapshotStatus.PUBLISHED
    snapshot.published_at = db.utcnow()
    db.session.flush()
    stages.done("attach")
    history.record_period_changes(db.session, snapshot.id)  # before the commit
    stages.done("history")
    # /statistik's counts, from the households' aggregate of the checks (one row a household)
    statistik.refresh_snapshot(db.session.connection(), snapshot.id, households=per_household)
    stages.done("statistik")
    return replaced


# --- SQLite ---------------------------------------------------------------------------------


class _SqliteLoad(_Load):
    """Staging in a TEMP table (the connection's own temporary database: writing it does not
    take the main database's write lock, so look-ups keep logging), checks, then one write
    transaction: the snapshot row, INSERT ... SELECT into persons and households, publication.
    A killed run leaves nothing: the TEMP table dies with its connection, the write
    transaction never committed."""

    staging_name = "temp.import_staging"
    kk_name = "temp.import_kk"
    scratch = "TEMP"

    def begin(self, sha: str, source: str) -> None:
        self.sha, self.source = sha, source
        conn = self.conn
        raw: Any = conn.connection.driver_connection  # sqlite3's connection
        # bulk-load settings for this connection: a large page cache (the temp database's
        # too), temporary B-trees in a file rather than in memory (flat memory)
        raw.execute("PRAGMA cache_size = -65536")  # 64 MiB
        raw.execute("PRAGMA temp.cache_size = -65536")
        raw.execute("PRAGMA temp_store = FILE")
        conn.execute(text("DROP TABLE IF EXISTS temp.import_staging"))
        conn.execute(text("DROP TABLE IF EXISTS temp.import_kk"))
        conn.execute(
            text(
                "CREATE TEMP TABLE import_staging (line INTEGER, nik_hmac TEXT, kk_hmac TEXT, "
                "nik TEXT, no_kk TEXT, nama TEXT, jenis_kelamin TEXT, tanggal_lahir TEXT, "
                "hubungan TEXT, kode_desa TEXT, alamat TEXT, desil INTEGER, programs TEXT)"
            )
        )
        self._raw = raw

    def write_batch(self, batch: list[tuple[Any, ...]]) -> None:
        self._raw.executemany(
            "INSERT INTO temp.import_staging VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(*r[:7], r[7].isoformat(), *r[8:]) for r in batch],
        )

    def fill_tables(self) -> int:
        self.snapshot = Snapshot(
            period="",
            status=SnapshotStatus.LOADING,
            sha256=self.sha,
            source_name=self.source[:255],
            row_count=0,
            household_count=0,
        )
        db.session.add(self.snapshot)
        db.session.flush()  # the write transaction starts here
        self.snapshot_id = sid = self.snapshot.id
        conn = self.conn
        households = conn.execute(
            text(
                "INSERT INTO households (snapshot_id, kk_hmac, no_kk, kode_desa, alamat, desil) "
                "SELECT :sid, kk_hmac, no_kk, kode_desa, alamat, desil FROM temp.import_kk"
            ),
            {"sid": sid},
        ).rowcount
        conn.execute(  # in line order already: the staging table's rowid order
            text(
                "INSERT INTO persons (snapshot_id, nik_hmac, kk_hmac, position, nik, nama, "
                "jenis_kelamin, tanggal_lahir, hubungan, programs) SELECT :sid, nik_hmac, "
                "kk_hmac, line, nik, nama, jenis_kelamin, tanggal_lahir, hubungan, programs "
                "FROM temp.import_staging"
            ),
            {"sid": sid},
        )
        conn.execute(text("DROP TABLE temp.import_staging"))
        return int(households)

    def publish(self, period: str, rows: int, households: int) -> list[int]:
        replaced = _publish(
            self.snapshot, period, rows, households, lambda: None, self.stages, self.kk_name
        )
        db.session.execute(text("DROP TABLE temp.import_kk"))
        db.session.commit()  # the publication: all of it becomes visible at once, or none
        return replaced

    def abandon(self) -> None:
        db.session.rollback()
        try:
            db.session.connection().execute(text("DROP TABLE IF EXISTS temp.import_staging"))
            db.session.connection().execute(text("DROP TABLE IF EXISTS temp.import_kk"))
            db.session.commit()
        except Exception:  # best effort: a TEMP table dies with its connection
            db.session.rollback()


# --- PostgreSQL -----------------------------------------------------------------------------

SCHEMA = retention.SCHEMA  # staging and per-snapshot partitions (tables of their own)
# The scratch tables' text columns (and so every column derived from them by the rules pass
# and the checks) compare bytewise: sorts, MIN/MAX, regular expressions and hash joins skip
# the locale (the databases' C.UTF-8 is a libc locale: strcoll, no abbreviated sort keys).
C_TEXT = 'text COLLATE "C"'


def _escape(value: str) -> str:
    """COPY text format: the reader refused control characters and collapsed whitespace, so
    only the backslash needs escaping."""
    return value.replace("\\", "\\\\") if "\\" in value else value


def _copy_cell(value: object) -> str:
    return _escape(value) if isinstance(value, str) else str(value)


def _check_copy_header(first: bytes) -> None:
    """The COPY path takes a file whose header is right; any other goes to the reader, which
    says what is wrong with it."""
    try:
        line = first.decode().rstrip("\n").removesuffix("\r")
    except UnicodeDecodeError:
        raise _NotForCopy("header not UTF-8") from None
    if not first.endswith(b"\n") or "\r" in line or header_fields(line) != list(COLUMNS):
        raise _NotForCopy("header")


# Programs in the order of PROGRAMS, each at most once: ";PKH;PBI-JK" matches. Another order
# (or an alias, lower case, spaces) is left to the reader, which gives the same row or reason.
_KECAMATAN = re.compile(r"\d\d\.\d\d\.\d\d")
_PERIOD = re.compile(rb"20\d\dQ[1-4]|2100Q[1-4]")  # as str(Period) writes it
_PROGRAMS_IN_ORDER = "^" + "".join(f"(;{code})?" for code in PROGRAMS) + "$"


def _days_in_month(year: str, month: str) -> str:
    return (
        f"CASE WHEN {month} IN (4, 6, 9, 11) THEN 30 WHEN {month} = 2 THEN CASE WHEN "
        f"{year} % 4 = 0 AND ({year} % 100 <> 0 OR {year} % 400 = 0) THEN 29 ELSE 28 END "
        "ELSE 31 END"
    )


def _digits(cell: str, length: int) -> str:
    return f"(octet_length({cell}) = {length} AND {cell} !~ '[^0-9]')"


def _rules_sql(staging: str, raw: str, sid: int, today: date, period: str) -> str:
    """CREATE TABLE AS: every row of RAW with ``ok`` when it passes the reader's rules per
    row and is already in the reader's normal form (upper case, single spaces, printable
    ASCII, canonical program codes, the file's PERIOD as written...), its values typed;
    otherwise ``cells``, its raw cells, for the reader. ``ok`` is true only where
    reader_rules returns the same values: when in doubt a row goes to the reader. Every cast
    runs under a CASE that checked its digits first. PERIOD and the codes are checked
    constants (no value of the file is put into the SQL)."""
    kec, desa = f"{SCHEMA}.kecamatan_{sid}", f"{SCHEMA}.desa_{sid}"
    hubungan = ", ".join(f"'{h}'" for h in sorted(HUBUNGAN))
    desils = ", ".join(f"'{n}'" for n in DESIL_RANGE)
    y, m, d = today.year, today.month, today.day
    ok = f"""
        periode = '{period}'
        AND nik_ok AND kk_ok AND t_ok AND kk_kec AND nik_kec AND desa_ok
        AND substr(nik, 13, 4) <> '0000'
        AND nm BETWEEN 1 AND 12 AND day BETWEEN 1 AND {_days_in_month("year", "nm")}
        AND (year, nm, day) <= ({y}, {m}, {d})
        AND nama !~ '[^ !-`{{-~]|  |^ | $' AND octet_length(nama) <= {MAX_NAME}
        AND jenis_kelamin IN ('L', 'P') AND (jenis_kelamin = 'P') = (nd > 40)
        AND ty >= 1 AND tm = nm AND td = day AND ty % 100 = ny
        AND td <= {_days_in_month("ty", "tm")}
        AND (ty, tm, td) <= ({y}, {m}, {d})
        AND hubungan IN ({hubungan})
        AND alamat !~ '[^ !-~]|  |^ | $' AND octet_length(alamat) <= {MAX_ADDRESS}
        AND desil IN ({desils})
        AND (program IS NULL OR ';' || program ~ '{_PROGRAMS_IN_ORDER}')"""
    # one level per step, each computed once a row (OFFSET 0 keeps the planner from pasting
    # an expression into every place that uses it)
    cells = ", ".join(COLUMNS)
    return f"""
CREATE UNLOGGED TABLE {staging} AS
SELECT line, ok, nik_hmac, kk_hmac, periode AS period, nik, no_kk, nama, jenis_kelamin,
       CASE WHEN ok THEN make_date(ty, tm, td) END AS tanggal_lahir,
       hubungan, kode_desa, alamat,
       CASE WHEN ok THEN desil::smallint END AS desil,
       coalesce(program, '') AS programs,
       CASE WHEN NOT ok THEN ARRAY[{cells}] END AS cells
FROM (SELECT line, nik_hmac, kk_hmac, {cells}, ty, tm, td, coalesce({ok}, false) AS ok
FROM (SELECT *, nd - CASE WHEN nd > 40 THEN 40 ELSE 0 END AS day,
             2000 + ny - CASE WHEN 2000 + ny > {y} THEN 100 ELSE 0 END AS year
FROM (SELECT *,
        CASE WHEN nik_ok THEN substr(nik, 7, 2)::int END AS nd,
        CASE WHEN nik_ok THEN substr(nik, 9, 2)::int END AS nm,
        CASE WHEN nik_ok THEN substr(nik, 11, 2)::int END AS ny,
        CASE WHEN t_ok THEN substr(tanggal_lahir, 1, 4)::int END AS ty,
        CASE WHEN t_ok THEN substr(tanggal_lahir, 6, 2)::int END AS tm,
        CASE WHEN t_ok THEN substr(tanggal_lahir, 9, 2)::int END AS td
FROM (SELECT r.*, {_digits("r.nik", 16)} AS nik_ok, {_digits("r.no_kk", 16)} AS kk_ok,
        octet_length(r.tanggal_lahir) = 10 AND substr(r.tanggal_lahir, 5, 1) = '-'
        AND substr(r.tanggal_lahir, 8, 1) = '-'
        AND translate(r.tanggal_lahir, '-', '') !~ '[^0-9]' AS t_ok,
        kk_kec.code IS NOT NULL AS kk_kec, nik_kec.code IS NOT NULL AS nik_kec,
        desa.code IS NOT NULL AS desa_ok
    FROM {raw} r
    LEFT JOIN {kec} kk_kec ON kk_kec.code = left(r.no_kk, 6)
    LEFT JOIN {kec} nik_kec ON nik_kec.code = left(r.nik, 6)
    LEFT JOIN {desa} desa ON desa.code = r.kode_desa
    OFFSET 0) a OFFSET 0) b OFFSET 0) c OFFSET 0) s
"""


def _tune(conn: Connection) -> None:
    """For the transaction: hashes and sorts in memory, parallel workers for the scans,
    aggregates and index builds (on a 2-core machine: both cores)."""
    conn.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    conn.execute(text(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'"))
    conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 2"))
    conn.execute(text("SET LOCAL max_parallel_maintenance_workers = 2"))


class _NotForCopy(Exception):
    """The file needs the row-by-row reader (a quoted cell across lines, a bare carriage
    return, a very long line, bytes that COPY refuses such as NUL or invalid UTF-8, or a
    header to report): the PostgreSQL load starts again on the reader's path."""


class _PostgresLoad(_Load):
    """The file's lines streamed into COPY with their line numbers and pseudonyms, the rules
    per row checked in SQL (rows SQL cannot vouch for are judged by the reader's own code),
    checks across rows, two new tables filled and indexed, then attached as partitions in
    the publishing transaction. A file that COPY cannot take as it is goes through the reader
    row by row (``_Load.run``), with the same messages."""

    scratch = "UNLOGGED"

    @property
    def staging_name(self) -> str:
        return f"{SCHEMA}.staging_{self.snapshot_id}"

    @property
    def kk_name(self) -> str:
        return f"{SCHEMA}.staging_kk_{self.snapshot_id}"

    @property
    def raw_name(self) -> str:
        return f"{SCHEMA}.raw_{self.snapshot_id}"

    def run(
        self,
        fh: io.TextIOBase,
        raw: BinaryIO,
        size: int,
        source: str,
        sha: str,
        today: date,
        replace: bool,
        progress: Progress | None,
    ) -> ImportResult:
        if FAST_COPY:
            try:
                return self._run_copy(raw, size, source, sha, today, replace, progress)
            except _NotForCopy:
                self.abandon()  # the LOADING snapshot and its tables
            except (psycopg.errors.DataError, sqlalchemy.exc.DataError):
                self.abandon()  # bytes COPY refuses (NUL, not UTF-8): the reader says which
        raw.seek(0)  # the text wrapper has read nothing yet
        return super().run(fh, raw, size, source, sha, today, replace, progress)

    def _new_snapshot(self, sha: str, source: str) -> None:
        retention.clean_abandoned()  # what a killed run left (we hold the import lock)
        snapshot = Snapshot(
            period="",
            status=SnapshotStatus.LOADING,
            sha256=sha,
            source_name=source[:255],
            row_count=0,
            household_count=0,
        )
        db.session.add(snapshot)
        db.session.commit()  # a LOADING row: never served; removed if this run dies
        self.snapshot_id = snapshot.id
        self._copy_cm: Any = None
        self._copy_sql: str | None = None

    def begin(self, sha: str, source: str) -> None:
        self._new_snapshot(sha, source)
        self.conn.execute(
            text(
                f"CREATE UNLOGGED TABLE {self.staging_name} (line integer, nik_hmac {C_TEXT}, "
                f"kk_hmac {C_TEXT}, nik {C_TEXT}, no_kk {C_TEXT}, nama {C_TEXT}, "
                f"jenis_kelamin {C_TEXT}, tanggal_lahir date, hubungan {C_TEXT}, "
                f"kode_desa {C_TEXT}, alamat {C_TEXT}, desil smallint, programs {C_TEXT})"
            )
        )

    # -- the COPY path -------------------------------------------------------------------------

    def _run_copy(
        self,
        raw: BinaryIO,
        size: int,
        source: str,
        sha: str,
        today: date,
        replace: bool,
        progress: Progress | None,
    ) -> ImportResult:
        _check_copy_header(raw.readline())
        self._new_snapshot(sha, source)
        self._errors: list[RowError] = []
        self._error_total = 0
        self._period_hint: str | None = None  # the first row's period, when well written
        self._copy_sql = (
            f"COPY {self.raw_name} (line, nik_hmac, kk_hmac, {', '.join(COLUMNS)}) "
            "FROM STDIN WITH (FORMAT csv)"
        )
        conn = self.conn
        conn.execute(
            text(
                f"CREATE UNLOGGED TABLE {self.raw_name} (line integer, nik_hmac {C_TEXT}, "
                f"kk_hmac {C_TEXT}, {', '.join(f'{c} {C_TEXT}' for c in COLUMNS)})"
            )
        )
        self._load_codes()
        sent = self._stream(raw, size, progress)
        copied = self._end_copy()
        if copied != sent:  # COPY read the lines otherwise than we wrote them
            raise _NotForCopy(f"COPY took {copied} rows of {sent}")
        db.session.commit()
        self.stages.done("copy")
        self._check_rows(today)
        self.stages.done("rules")
        period, rows = self._file_period()
        if period is not None:
            self.check_period(period, replace)
        if rows == 0 and self._error_total == 0:
            raise SnapshotRejected([RowError(2, "the file has a header but no rows")], 1)
        cross_errors, cross_total = self.cross_row_errors()
        self.stages.done("checks")
        if self._error_total or cross_total:
            merged = _merge_errors(self._errors, cross_errors)
            raise SnapshotRejected(merged, self._error_total + cross_total)
        if period is None:  # no good row: the errors were reported above
            raise SnapshotRejected(self._errors, self._error_total)
        households = self.fill_tables()
        self.stages.done("fill")
        replaced = self.publish(period, rows, households)
        return ImportResult(period, rows, households, 0.0, self.snapshot_id, replaced=replaced)

    def _error(self, line: int, reason: str) -> None:
        """Count a bad row; keep the MAX_REPORTED_ERRORS first by line (the errors come from
        three passes, each in line order)."""
        self._error_total += 1
        self._errors.append(RowError(line, reason))
        if len(self._errors) > 4 * MAX_REPORTED_ERRORS:
            self._errors = sorted(self._errors, key=lambda e: e.line)[:MAX_REPORTED_ERRORS]

    def _load_codes(self) -> None:
        """The region codes the reader checks against, as two small tables the rules join."""
        raw: Any = self.conn.connection.driver_connection  # psycopg's connection
        sid = self.snapshot_id
        for name, level in (("kecamatan", Level.KECAMATAN), ("desa", Level.DESA)):
            # kecamatan codes as the NIK writes them (32.16.01 -> 321601); desa codes as they are
            codes = "".join(
                f"{_escape(c.replace('.', '') if level == Level.KECAMATAN else c)}\n"
                for c in wilayah.codes(level)
                if level != Level.KECAMATAN or _KECAMATAN.fullmatch(c)
            )
            with raw.cursor() as cur:
                cur.execute(f"CREATE UNLOGGED TABLE {SCHEMA}.{name}_{sid} (code {C_TEXT})")
                with cur.copy(f"COPY {SCHEMA}.{name}_{sid} FROM STDIN") as copy:
                    copy.write(codes)
                cur.execute(f"ANALYZE {SCHEMA}.{name}_{sid}")

    def _stream(self, raw: BinaryIO, size: int, progress: Progress | None) -> int:
        """Send every data line to COPY as ``line,nik_hmac,kk_hmac,<the line>``; return how
        many. Python touches each line once (a split and a keyed hash); lines with a wrong
        column count are reported here, as the reader does."""
        nik_base, kk_base = self.macs.nik_base, self.macs.kk_base
        line_no = 1  # the header
        pending = b""
        batch: list[bytes] = []
        sent = 0
        last_kk, kk_hex = b"", b""
        while block := raw.read(READ_BLOCK):
            cut = block.rfind(b"\n")
            if cut < 0:
                pending += block
                if len(pending) > MAX_LINE:
                    raise _NotForCopy("a line without a line feed")
                continue
            chunk, pending = pending + block[:cut], block[cut + 1 :]
            lines = chunk.split(b"\n")
            if b"\r" in chunk:  # CRLF line ends; a bare CR is a line break for the reader
                lines = [ln[:-1] if ln[-1:] == b"\r" else ln for ln in lines]
                if any(b"\r" in ln for ln in lines):
                    raise _NotForCopy("a carriage return inside a line")
            quoted = b'"' in chunk
            for line in lines:
                line_no += 1
                if len(line) > MAX_LINE:
                    raise _NotForCopy("a very long line")
                if quoted and b'"' in line:
                    requoted = self._requote(line, line_no)
                    if requoted is None:
                        continue
                    line, kk, nik = requoted
                elif not line:
                    continue  # a blank line, skipped as the reader does
                elif line.count(b",") != 10:
                    self._wrong_columns(line, line_no, line.count(b",") + 1)
                    continue
                else:
                    cell, kk, nik, _ = line.split(b",", 3)
                    if self._period_hint is None and _PERIOD.fullmatch(cell):
                        self._period_hint = cell.decode()
                mac = nik_base.copy()
                mac.update(nik)
                if kk != last_kk:
                    last_kk = kk
                    kk_mac = kk_base.copy()
                    kk_mac.update(kk)
                    kk_hex = kk_mac.hexdigest()[:32].encode()
                batch.append(
                    b"%d,%b,%b,%b\n" % (line_no, mac.hexdigest()[:32].encode(), kk_hex, line)
                )
                if len(batch) >= CHUNK:
                    self.write_batch(batch)
                    sent += len(batch)
                    batch = []
                    if progress is not None:
                        progress(sent, raw.tell(), size)
        if pending:
            raise _NotForCopy("the last line has no line feed")
        if batch:
            self.write_batch(batch)
            sent += len(batch)
        if progress is not None:
            progress(sent, size, size)
        return sent

    def _wrong_columns(self, line: bytes, line_no: int, found: int) -> None:
        try:
            line.decode()
        except UnicodeDecodeError:
            raise _NotForCopy("not UTF-8") from None
        if b"\x00" in line:
            raise _NotForCopy("NUL")
        self._error(line_no, f"expected {len(COLUMNS)} columns, found {found}")

    def _requote(self, line: bytes, line_no: int) -> tuple[bytes, bytes, bytes] | None:
        """A line with quotes, parsed by Python's csv as the reader would and written again
        the way COPY (FORMAT csv) reads it back unchanged; None for a blank or reported line."""
        try:
            decoded = line.decode()
        except UnicodeDecodeError:
            raise _NotForCopy("not UTF-8") from None
        if "\x00" in decoded:
            raise _NotForCopy("NUL")
        reader = csv.reader(iter((decoded + "\n", "-\n")))
        try:
            fields = next(reader)
        except (csv.Error, StopIteration):
            raise _NotForCopy("unreadable CSV") from None
        if reader.line_num != 1:
            raise _NotForCopy("a quoted cell across lines")
        if not fields or fields == [""]:
            return None
        if len(fields) != len(COLUMNS):
            self._error(line_no, f"expected {len(COLUMNS)} columns, found {len(fields)}")
            return None
        if self._period_hint is None and _PERIOD.fullmatch(fields[0].encode()):
            self._period_hint = fields[0]
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(fields)
        return out.getvalue().encode(), fields[1].encode(), fields[2].encode()

    def write_batch(self, batch: list[Any]) -> None:
        """COPY a batch: lines already formatted (the COPY path) or the reader's rows."""
        if self._copy_cm is None:
            self._start_copy()
        if batch and isinstance(batch[0], bytes):
            self._copy.write(b"".join(batch))
            return
        out = []
        for r in batch:
            out.append(
                f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}\t{r[4]}\t{_escape(r[5])}\t{r[6]}\t"
                f"{r[7].isoformat()}\t{r[8]}\t{r[9]}\t{_escape(r[10])}\t{r[11]}\t{r[12]}\n"
            )
        self._copy.write("".join(out).encode())

    def _start_copy(self) -> None:
        # the table and its COPY in one transaction, committed once the file is read; started
        # at the first batch (the connection is busy during COPY)
        raw: Any = self.conn.connection.driver_connection  # psycopg's connection
        self._cursor = raw.cursor()
        sql = self._copy_sql or f"COPY {self.staging_name} FROM STDIN"
        self._copy_cm = self._cursor.copy(sql)
        self._copy = self._copy_cm.__enter__()

    def _end_copy(self) -> int:
        if self._copy_cm is None:
            return 0
        self._copy_cm.__exit__(None, None, None)
        self._copy_cm = None
        return int(self._cursor.rowcount)

    def end_staging(self) -> None:
        self._end_copy()
        db.session.commit()  # (no ANALYZE: the checks are aggregates, whatever the plan)

    def _check_rows(self, today: date) -> None:
        """The rules per row in SQL, in one parallel pass: the staging table gets every row
        with ``ok`` when SQL vouches for it (values already in the reader's normal form), or
        its raw cells otherwise. Those few go through the reader's own rules here: a good one
        is written back normalised, a bad one reported with the reader's reason."""
        conn, staging = self.conn, self.staging_name
        conn.execute(text(f"ANALYZE {self.raw_name}"))  # its size: the plan uses two workers
        _tune(conn)
        period = self._period_hint or "none"  # none: no row is vouched for, the reader judges
        conn.execute(text(_rules_sql(staging, self.raw_name, self.snapshot_id, today, period)))
        sid = self.snapshot_id
        conn.execute(
            text(f"DROP TABLE {self.raw_name}, {SCHEMA}.kecamatan_{sid}, {SCHEMA}.desa_{sid}")
        )
        db.session.commit()
        conn = self.conn
        suspects = conn.execute(text(f"SELECT count(*) FROM {staging} WHERE NOT ok")).scalar_one()
        if not suspects:
            return
        kecamatans, desas = wilayah.codes(Level.KECAMATAN), wilayah.codes(Level.DESA)
        raw: Any = self.conn.connection.driver_connection  # psycopg's connection
        fixed_sql = f"COPY {staging} ({', '.join(STAGING_COLUMNS)}, ok, period) FROM STDIN"
        with raw.cursor(name="suspects") as cur:
            cur.execute(f"SELECT line, cells FROM {staging} WHERE NOT ok ORDER BY line")
            while page := cur.fetchmany(SUSPECT_PAGE):
                good = []
                for line, cells in page:
                    row = dict(zip(COLUMNS, ((c or "").strip() for c in cells), strict=True))
                    parsed = reader_rules(
                        line, row, kecamatans.__contains__, desas.__contains__, today
                    )
                    if isinstance(parsed, RowError):
                        self._error(parsed.line, parsed.reason)
                        continue
                    good.append(
                        "\t".join(
                            _copy_cell(v) for v in item_tuple(parsed, self.macs, self._kk_cache)
                        )
                        + f"\tt\t{parsed.period}\n"
                    )
                if good:
                    with raw.cursor().copy(fixed_sql) as copy:
                        copy.write("".join(good))
        conn.execute(text(f"DELETE FROM {staging} WHERE NOT ok"))
        db.session.commit()

    def _file_period(self) -> tuple[str | None, int]:
        """The file's period is its first good row's (as the reader has it); good rows of
        another period are reported and left out. Returns the period and its row count."""
        conn, staging = self.conn, self.staging_name
        periods = conn.execute(
            text(f"SELECT period, MIN(line), COUNT(*) FROM {staging} GROUP BY period ORDER BY 2")
        ).all()
        if not periods:
            return None, 0
        period, _, rows = periods[0]
        if len(periods) > 1:
            others = conn.execute(
                text(
                    f"SELECT line, period FROM {staging} WHERE period <> :p ORDER BY line "
                    f"LIMIT {MAX_REPORTED_ERRORS}"
                ),
                {"p": period},
            ).all()
            for line, other in others:
                self._error(line, f"periode {other} differs from the file's {period}")
            self._error_total += sum(n for *_, n in periods[1:]) - len(others)
            conn.execute(text(f"DELETE FROM {staging} WHERE period <> :p"), {"p": period})
            db.session.commit()
        return str(period), int(rows)

    def cross_row_errors(self) -> tuple[list[RowError], int]:
        _tune(self.conn)
        return super().cross_row_errors()

    def fill_tables(self) -> int:
        conn, sid = self.conn, self.snapshot_id
        _tune(conn)
        persons, households = f"{SCHEMA}.persons_{sid}", f"{SCHEMA}.households_{sid}"
        conn.execute(
            text(
                f"CREATE TABLE {households} (LIKE public.households INCLUDING DEFAULTS "
                f"INCLUDING CONSTRAINTS, CONSTRAINT snapshot_is_{sid} CHECK (snapshot_id = {sid}))"
            )
        )
        conn.execute(
            text(
                f"INSERT INTO {households} (snapshot_id, kk_hmac, no_kk, kode_desa, alamat, desil)"
                f" SELECT {sid}, kk_hmac, no_kk, kode_desa, alamat, desil FROM {self.kk_name}"
            )
        )
        conn.execute(
            text(
                f"CREATE TABLE {persons} (LIKE public.persons INCLUDING DEFAULTS "
                f"INCLUDING CONSTRAINTS, CONSTRAINT snapshot_is_{sid} CHECK (snapshot_id = {sid}))"
            )
        )
        conn.execute(
            text(
                f"INSERT INTO {persons} (snapshot_id, nik_hmac, kk_hmac, position, nik, nama, "
                "jenis_kelamin, tanggal_lahir, hubungan, programs) "
                f"SELECT {sid}, nik_hmac, kk_hmac, line, nik, nama, jenis_kelamin, "
                f"tanggal_lahir, hubungan, programs FROM {self.staging_name}"
            )
        )
        # the parents' indexes, built once on the filled tables; ATTACH adopts them
        conn.execute(text(f"ALTER TABLE {households} ADD PRIMARY KEY (snapshot_id, kk_hmac)"))
        conn.execute(text(f"CREATE INDEX ON {households} (snapshot_id, kode_desa)"))
        conn.execute(text(f"ALTER TABLE {persons} ADD PRIMARY KEY (snapshot_id, nik_hmac)"))
        conn.execute(text(f"CREATE INDEX ON {persons} (snapshot_id, kk_hmac)"))
        conn.execute(text(f"DROP TABLE {self.staging_name}"))
        count = conn.execute(text(f"SELECT COUNT(*) FROM {households}")).scalar_one()
        db.session.commit()
        conn = self.conn
        conn.execute(text(f"ANALYZE {households}"))
        conn.execute(text(f"ANALYZE {persons}"))
        db.session.commit()
        return int(count)

    def publish(self, period: str, rows: int, households: int) -> list[int]:
        sid = self.snapshot_id
        snapshot = db.session.get(Snapshot, sid)
        if snapshot is None:  # removed by a concurrent prune: impossible under the lock
            raise ImportFailed("the loading snapshot disappeared")

        def attach() -> None:
            conn = self.conn
            conn.execute(text("SET LOCAL lock_timeout = '60s'"))
            conn.execute(
                text(
                    f"ALTER TABLE public.households ATTACH PARTITION {SCHEMA}.households_{sid} "
                    f"FOR VALUES IN ({sid})"
                )
            )
            conn.execute(
                text(
                    f"ALTER TABLE public.persons ATTACH PARTITION {SCHEMA}.persons_{sid} "
                    f"FOR VALUES IN ({sid})"
                )
            )

        replaced = _publish(snapshot, period, rows, households, attach, self.stages, self.kk_name)
        db.session.execute(text(f"DROP TABLE {self.kk_name}"))
        db.session.commit()  # the publication: all of it becomes visible at once, or none
        return replaced

    def abandon(self) -> None:
        try:
            if getattr(self, "_copy_cm", None) is not None:
                with contextlib.suppress(Exception):  # the COPY is being thrown away
                    self._copy_cm.__exit__(RuntimeError, RuntimeError("abandoned"), None)
                self._copy_cm = None
            db.session.rollback()
            retention.clean_abandoned()
        except Exception:  # the next run cleans up what this one could not
            db.session.rollback()
