"""Load a snapshot file in constant memory and publish it atomically as its period.

Three steps, the same on both engines:

1. **Stream.** Every row is validated and written, with its line number and the keyed HMACs
   of its NIK and No. KK (computed here: the key never goes to the database), to a staging
   table in large batches. Nothing per row is kept in Python, so memory is flat whatever the
   size of the file.

   - PostgreSQL (the COPY path, ``pgload.PostgresLoad``): Python touches each line once (a
     split, one HMAC (the No. KK's once per household) and its region codes looked up in sets)
     and sends ``line,nik_hmac,kk_hmac,regions,<the line as written>`` to ``COPY ... (FORMAT
     csv)`` into an UNLOGGED table, while the server parses it on the other core. The rules per
     row of reader.py then run in SQL, on WRITERS connections side by side (``_rules_select``):
     a row SQL vouches for is already in the reader's normal form; the few others (lower case,
     aliases, stray spaces, other scripts, bad values...) go through the reader's own rules
     (``reader_rules``) in Python, which accepts them normalised or reports them with the
     reader's reason. A file that COPY cannot take as it is (a quoted cell across lines, a bare
     carriage return, NUL, bytes that are not UTF-8, a header to report) goes through the reader
     row by row (``_Load.run``), with the same messages.
   - SQLite: the reader (reader.py) validates each row in Python and good rows go to a TEMP
     table by chunked ``executemany``.
2. **Check across rows, set-based in SQL** on the staging table: one row per NIK, one desil
   and one desa per No. KK (members' addresses may be written differently: the household
   keeps its first line's, as before), one period per file. One ``GROUP BY kk_hmac`` gives
   the households' rows, their check (MIN <> MAX) and their members' counts for /statistik;
   duplicate NIKs are a ``GROUP BY nik_hmac`` (SQLite) or a unique index that only a file
   with duplicates follows with the grouping (PostgreSQL). The statements that find the bad
   lines run only when those found something. Bad lines from both steps are
   reported together, in line order (at most MAX_REPORTED_ERRORS of them, plus the count);
   nothing is published.
3. **Publish** (``_publish``): in one short transaction the new snapshot's rows become the
   period's, the earlier file of the same period (``--replace``) is marked replaced, the
   per-household change history is recorded and /statistik's counts are filled from the
   households' aggregate of step 2. Readers keep seeing the previous snapshot until that
   commit.

The CLI's summary line ends with the wall seconds of each step (``ImportResult.stages``).

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

import hashlib
import hmac
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy import Connection, select, text, update

from portal import db
from portal.appeals import reflected
from portal.dataimport import history, retention
from portal.dataimport import queries as snapshot_queries
from portal.dataimport.models import Snapshot, SnapshotStatus
from portal.dataimport.reader import (
    RowError,
    SnapshotFormatError,
    SnapshotRow,
    read_snapshot,
)
from portal.statistik import refresh as statistik
from portal.wilayah import queries as wilayah
from portal.wilayah.models import Level

CHUNK = 20_000
MAX_REPORTED_ERRORS = 200
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
        loader = _postgres_load() if _is_postgres() else _SqliteLoad()
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


def _postgres_load() -> _Load:
    from portal.dataimport.pgload import PostgresLoad  # (it builds on this module)

    return PostgresLoad()


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
        # which of the statements below have anything to do (the households' aggregate is a
        # quarter of the rows; the statements below each read the staged rows again)
        mixed_alamat, mixed_kk = conn.execute(text(
            "SELECT COALESCE(SUM(CASE WHEN alamat <> alamat_max THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN desil <> desil_max OR kode_desa <> kode_desa_max "
            f"THEN 1 ELSE 0 END), 0) FROM {kk}"
        )).one()  # fmt: skip
        # The contract (DOMAIN.md) fixes desil per No. KK, and a household lives in one desa;
        # members' addresses may be written differently: the household's is its first line's.
        if mixed_alamat:
            conn.execute(text(
                f"UPDATE {kk} SET alamat = s.alamat FROM {staging} s "
                f"WHERE s.kk_hmac = {kk}.kk_hmac AND s.line = {kk}.first "
                f"AND {kk}.alamat <> {kk}.alamat_max"
            ))  # fmt: skip
        self.stages.done("checks: households")
        self._duplicate_niks()
        self.stages.done("checks: NIKs")
        queries = []
        if conn.execute(text("SELECT 1 FROM bad_nik LIMIT 1")).first() is not None:
            queries.append(
                f"SELECT s.line, 'nik', b.first, 0, 0, '', '' FROM {staging} s "
                "JOIN bad_nik b ON b.nik_hmac = s.nik_hmac WHERE s.line > b.first"
            )
        if mixed_kk:
            queries.append(
                "SELECT s.line, 'kk', f.line, s.desil, f.desil, s.kode_desa, f.kode_desa "
                f"FROM {kk} b JOIN {staging} f ON f.kk_hmac = b.kk_hmac AND f.line = b.first "
                f"JOIN {staging} s ON s.kk_hmac = b.kk_hmac AND s.line > b.first "
                "WHERE (b.desil <> b.desil_max OR b.kode_desa <> b.kode_desa_max) "
                "AND (s.desil <> f.desil OR s.kode_desa <> f.kode_desa)"
            )
        found = (
            conn.execute(text(" UNION ALL ".join(queries) + " ORDER BY 1")).all() if queries else []
        )
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

    def _duplicate_niks(self) -> None:
        """TEMP table bad_nik: every NIK on more than one row, with its first line."""
        self.conn.execute(text(
            f"CREATE TEMP TABLE bad_nik AS SELECT nik_hmac, MIN(line) AS first "
            f"FROM {self.staging_name} GROUP BY nik_hmac HAVING COUNT(*) > 1"
        ))  # fmt: skip

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
    """A staged row: the columns of the staging tables, the birth date as YYYY-MM-DD (what
    SQLite stores and COPY reads)."""
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
        row.tanggal_lahir.isoformat(),
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
            "INSERT INTO temp.import_staging VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", batch
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
