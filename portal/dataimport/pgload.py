"""The PostgreSQL load of a snapshot file (loader.py's first three steps on PostgreSQL).

The COPY path: Python touches each line once (a split, one HMAC (the No. KK's once per
household) and three look-ups of its region codes in sets) and sends ``line,nik_hmac,kk_hmac,
regions,<the line as written>`` to ``COPY ... (FORMAT csv)`` into an UNLOGGED table, while the
server parses it on the other core. The rules per row of reader.py then run in SQL
(``_rules_select``), the rows split among WRITERS connections that fill the staging table side
by side; rows SQL cannot vouch for go through the reader's own rules (``reader_rules``) in
Python. The checks across rows are loader.py's (``_Load.cross_row_errors``), here on bytewise
(COLLATE "C") text, a unique index standing for the grouping of the NIKs. The new snapshot's
tables are filled and indexed, then attached as partitions in the publishing transaction. A
file that COPY cannot take as it is goes through the reader row by row (``_Load.run``), with
the same messages.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any, BinaryIO

import psycopg
import sqlalchemy.exc
from sqlalchemy import Connection, text

from portal import db
from portal.core.programs import DESIL_RANGE, PROGRAMS
from portal.dataimport import loader, retention
from portal.dataimport.loader import (
    ImportFailed,
    ImportResult,
    Progress,
    SnapshotRejected,
    _Load,
    _merge_errors,
    _publish,
    item_tuple,
)
from portal.dataimport.models import Household, Person, Snapshot, SnapshotStatus
from portal.dataimport.reader import (
    COLUMNS,
    HUBUNGAN,
    MAX_ADDRESS,
    MAX_NAME,
    RowError,
    header_fields,
    reader_rules,
)
from portal.wilayah import queries as wilayah
from portal.wilayah.models import Level

FAST_COPY = True  # PostgreSQL: the COPY path (tests turn it off to compare with the reader's)
READ_BLOCK = 1 << 22  # bytes read at a time on the COPY path
MAX_LINE = 65_536  # a longer line goes through the reader (its csv field limit is 131,072)
SUSPECT_PAGE = 5_000  # rows SQL could not vouch for, judged by the reader a page at a time
WORK_MEM = "256MB"  # for the rules per row and the checks across rows (PostgreSQL)
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


_PERIOD = re.compile(rb"20\d\dQ[1-4]|2100Q[1-4]")  # as str(Period) writes it
# Programs in the order of PROGRAMS, each at most once: ";PKH;PBI-JK" matches. Another order
# (or an alias, lower case, spaces) is left to the reader, which gives the same row or reason.
_PROGRAMS_IN_ORDER = "^" + "".join(f"(;{code})?" for code in PROGRAMS) + "$"


def _days_in_month(year: str, month: str) -> str:
    return (
        f"CASE WHEN {month} IN (4, 6, 9, 11) THEN 30 WHEN {month} = 2 THEN CASE WHEN "
        f"{year} % 4 = 0 AND ({year} % 100 <> 0 OR {year} % 400 = 0) THEN 29 ELSE 28 END "
        "ELSE 31 END"
    )


def _digits(cell: str, length: int) -> str:
    return f"(octet_length({cell}) = {length} AND {cell} !~ '[^0-9]')"


def _rules_select(raw: str, today: date, period: str) -> str:
    """SELECT: every row of RAW with ``ok`` when it passes the reader's rules per
    row and is already in the reader's normal form (upper case, single spaces, printable
    ASCII, canonical program codes, the file's PERIOD as written...), its values typed;
    otherwise ``cells``, its raw cells, for the reader. ``ok`` is true only where
    reader_rules returns the same values: when in doubt a row goes to the reader. Every cast
    runs under a CASE that checked its digits first. PERIOD and the codes are checked
    constants (no value of the file is put into the SQL).

    The region codes were checked by Python as it streamed the line (``regions``, see
    _Regions): three hash joins with the wilayah table cost this pass 40 % of its time
    (1 M rows: 10.9 s with them, 6.8 s without), three set look-ups a line in Python about
    0.3 s."""
    hubungan = ", ".join(f"'{h}'" for h in sorted(HUBUNGAN))
    desils = ", ".join(f"'{n}'" for n in DESIL_RANGE)
    y, m, d = today.year, today.month, today.day
    ok = f"""
        periode = '{period}'
        AND nik_ok AND kk_ok AND t_ok AND regions
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
        AND translate(r.tanggal_lahir, '-', '') !~ '[^0-9]' AS t_ok
    FROM {raw} r
    OFFSET 0) a OFFSET 0) b OFFSET 0) c OFFSET 0) s"""


def _tune(conn: Connection) -> None:
    """For the transaction: hashes and sorts in memory, parallel workers for the scans,
    aggregates and index builds (on a 2-core machine: both cores). One round trip: an
    import tunes its transactions eight times, and a small file's import is mostly round
    trips."""
    conn.execute(
        text(
            f"SELECT set_config('work_mem', '{WORK_MEM}', true), "
            f"set_config('maintenance_work_mem', '{MAINTENANCE_WORK_MEM}', true), "
            "set_config('max_parallel_workers_per_gather', '2', true), "
            "set_config('max_parallel_maintenance_workers', '2', true)"
        )
    )


class _Regions:
    """The region rules of reader_rules for a line as written, on bytes: the kecamatan of the
    No. KK and of the NIK (their first six characters, nik.kecamatan_of without its dots) and
    the desa, each a code of its level in the wilayah table. A cell the reader would first
    normalise (spaces around it) is not found here: that row goes to the reader, as every
    row SQL does not vouch for."""

    def __init__(self, kecamatans: frozenset[str], desas: frozenset[str]) -> None:
        # a kecamatan code is NN.NN.NN; one of another form could only be found for a number
        # that is not 16 digits, which the rules refuse anyway
        self.kecamatans = frozenset(
            c.replace(".", "").encode() for c in kecamatans if _KECAMATAN.fullmatch(c)
        )
        self.desas = frozenset(c.encode() for c in desas)

    @classmethod
    def current(cls) -> _Regions:
        """Built from the region codes the process holds (wilayah.codes, cached per database);
        kept while those same sets are current: building it re-encodes 84,000 desa codes,
        about 35 ms, which a kabupaten's import does not notice and a small one does."""
        return _regions(wilayah.codes(Level.KECAMATAN), wilayah.codes(Level.DESA))

    def known(self, kk: bytes, nik: bytes, desa: bytes) -> bytes:
        """``t`` when all three are known regions (COPY's csv boolean), else ``f``."""
        found = kk[:6] in self.kecamatans and nik[:6] in self.kecamatans and desa in self.desas
        return b"t" if found else b"f"


_KECAMATAN = re.compile(r"\d\d\.\d\d\.\d\d")


@functools.lru_cache(maxsize=1)  # the same sets again: a frozenset keeps its hash
def _regions(kecamatans: frozenset[str], desas: frozenset[str]) -> _Regions:
    return _Regions(kecamatans, desas)


WRITERS = 2  # connections that write a large table side by side (a core each)
# Below this many lines one connection writes the table, in the caller's thread. Measured on
# a 2-core machine, the rules' pass: 5,000 lines about 30 ms either way; 20,000 lines 115-121
# ms with one writer, 65-97 ms with two. A test's import (a few lines) saves two threads and
# two connections' set-up.
SIDE_BY_SIDE_LINES = 10_000


def _insert_side_by_side(table: str, select: Callable[[str], str], last_line: int) -> None:
    """INSERT INTO TABLE the rows of SELECT(condition), the condition splitting them into
    WRITERS ranges of lines (2 to LAST_LINE, any line outside them in the first or last), one
    a connection, each in its own transaction, at once. PostgreSQL inserts the rows of a
    query in one process, whatever its parallel workers read: a 1 M-row pass of the rules
    spent most of its time in that one process. Ranges, not every other line: a household's
    rows are adjacent lines, so they stay together in the table (one page for the look-up of
    its members, one group per worker in the households' aggregate). TABLE is a committed
    scratch table: if a writer fails, the import is abandoned and the table dropped with it.
    A file of fewer than SIDE_BY_SIDE_LINES lines is written by one connection, in this
    thread."""
    engine = db.get_engine()
    writers = WRITERS if last_line >= SIDE_BY_SIDE_LINES else 1
    cuts = [2 + (last_line - 1) * k // writers for k in range(1, writers)]
    lows, highs = [None, *cuts], [*cuts, None]

    def write(low: int | None, high: int | None) -> None:
        where = " AND ".join(
            [f"line >= {low}"] * (low is not None) + [f"line < {high}"] * (high is not None)
        )
        with engine.begin() as conn:
            _tune(conn)
            conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
            conn.execute(text(f"INSERT INTO {table} {select(where or 'true')}"))

    if writers == 1:
        write(None, None)
        return
    with ThreadPoolExecutor(writers) as pool:
        for done in [pool.submit(write, lo, hi) for lo, hi in zip(lows, highs, strict=True)]:
            done.result()


def _key(model: type[Household] | type[Person]) -> str:
    """The parent table's primary key columns, in order (a partition's key must match)."""
    return ", ".join(c.name for c in model.__mapper__.primary_key)


class _NotForCopy(Exception):
    """The file needs the row-by-row reader (a quoted cell across lines, a bare carriage
    return, a very long line, bytes that COPY refuses such as NUL or invalid UTF-8, or a
    header to report): the PostgreSQL load starts again on the reader's path."""


class PostgresLoad(_Load):
    """The file's lines streamed into COPY with their line numbers and pseudonyms, the rules
    per row checked in SQL (rows SQL cannot vouch for are judged by the reader's own code),
    checks across rows, two new tables filled and indexed, then attached as partitions in
    the publishing transaction. A file that COPY cannot take as it is goes through the reader
    row by row (``_Load.run``), with the same messages."""

    scratch = "UNLOGGED"
    _last_line: int | None = None  # the file's last line, once the COPY path has read it

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
        self._last_line = None  # fill_tables asks the staged rows
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
        self._periods: list[tuple[Any, ...]] | None = None  # (period, first line, rows)
        self._copy_sql = (
            f"COPY {self.raw_name} (line, nik_hmac, kk_hmac, regions, {', '.join(COLUMNS)}) "
            "FROM STDIN WITH (FORMAT csv)"
        )
        conn = self.conn
        conn.execute(
            text(
                f"CREATE UNLOGGED TABLE {self.raw_name} (line integer, nik_hmac {C_TEXT}, "
                f"kk_hmac {C_TEXT}, regions boolean, "
                f"{', '.join(f'{c} {C_TEXT}' for c in COLUMNS)})"
            )
        )
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
        if len(self._errors) > 4 * loader.MAX_REPORTED_ERRORS:
            self._errors = sorted(self._errors, key=lambda e: e.line)[: loader.MAX_REPORTED_ERRORS]

    def _stream(self, raw: BinaryIO, size: int, progress: Progress | None) -> int:
        """Send every data line to COPY as ``line,nik_hmac,kk_hmac,regions,<the line>``;
        return how many. Python touches each line once (a split, a keyed hash, the region
        codes looked up); lines with a wrong column count are reported here, as the reader
        does."""
        nik_base, kk_base = self.macs.nik_base, self.macs.kk_base
        regions = _Regions.current()
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
                    line, kk, nik, desa = requoted
                elif not line:
                    continue  # a blank line, skipped as the reader does
                elif line.count(b",") != 10:
                    self._wrong_columns(line, line_no, line.count(b",") + 1)
                    continue
                else:
                    cell, kk, nik, _, _, _, _, desa, _ = line.split(b",", 8)
                    if self._period_hint is None and _PERIOD.fullmatch(cell):
                        self._period_hint = cell.decode()
                mac = nik_base.copy()
                mac.update(nik)
                if kk != last_kk:
                    last_kk = kk
                    kk_mac = kk_base.copy()
                    kk_mac.update(kk)
                    kk_hex = kk_mac.hexdigest()[:32].encode()
                known = regions.known(kk, nik, desa)
                batch.append(
                    b"%d,%b,%b,%b,%b\n"
                    % (line_no, mac.hexdigest()[:32].encode(), kk_hex, known, line)
                )
                if len(batch) >= loader.CHUNK:
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
        self._last_line = line_no
        return sent

    def _wrong_columns(self, line: bytes, line_no: int, found: int) -> None:
        try:
            line.decode()
        except UnicodeDecodeError:
            raise _NotForCopy("not UTF-8") from None
        if b"\x00" in line:
            raise _NotForCopy("NUL")
        self._error(line_no, f"expected {len(COLUMNS)} columns, found {found}")

    def _requote(self, line: bytes, line_no: int) -> tuple[bytes, bytes, bytes, bytes] | None:
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
        return out.getvalue().encode(), fields[1].encode(), fields[2].encode(), fields[7].encode()

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
                f"{r[7]}\t{r[8]}\t{r[9]}\t{_escape(r[10])}\t{r[11]}\t{r[12]}\n"
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
        """The rules per row in SQL, WRITERS connections side by side: the staging table gets
        every row with ``ok`` when SQL vouches for it (values already in the reader's normal
        form), or its raw cells otherwise. Those few go through the reader's own rules here: a
        good one is written back normalised, a bad one reported with the reader's reason."""
        conn, staging = self.conn, self.staging_name
        period = self._period_hint or "none"  # none: no row is vouched for, the reader judges
        raw_name = self.raw_name

        def rules(where: str) -> str:
            return _rules_select(f"(SELECT * FROM {raw_name} WHERE {where})", today, period)

        conn.execute(text(f"CREATE UNLOGGED TABLE {staging} AS {rules('true')} WITH NO DATA"))
        db.session.commit()
        _insert_side_by_side(staging, rules, self._last_line or 1)
        conn = self.conn
        conn.execute(text(f"DROP TABLE {raw_name}"))
        db.session.commit()
        conn = self.conn
        # one scan for both questions: rows to judge in Python, and the file's periods (the
        # answer _file_period uses when no row had to be judged)
        counts = conn.execute(
            text(f"SELECT ok, period, MIN(line), COUNT(*) FROM {staging} GROUP BY ok, period")
        ).all()
        if all(ok for ok, *_ in counts):
            self._periods = sorted(((p, first, n) for _, p, first, n in counts), key=lambda r: r[1])
            return
        kecamatans, desas = wilayah.codes(Level.KECAMATAN), wilayah.codes(Level.DESA)
        raw: Any = self.conn.connection.driver_connection  # psycopg's connection
        fixed_sql = f"COPY {staging} ({', '.join(STAGING_COLUMNS)}, ok, period) FROM STDIN"
        with raw.cursor(name="suspects") as cur:
            cur.execute(f"SELECT line, cells FROM {staging} WHERE NOT ok ORDER BY line")
            while page := cur.fetchmany(SUSPECT_PAGE):
                good = []
                for line, cells in page:
                    parsed = reader_rules(
                        line,
                        [(c or "").strip() for c in cells],
                        kecamatans.__contains__,
                        desas.__contains__,
                        today,
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
        periods = self._periods
        if periods is None:
            periods = [
                tuple(r)
                for r in conn.execute(
                    text(
                        f"SELECT period, MIN(line), COUNT(*) FROM {staging} GROUP BY period "
                        "ORDER BY 2"
                    )
                )
            ]
        if not periods:
            return None, 0
        period, _, rows = periods[0]
        if len(periods) > 1:
            others = conn.execute(
                text(
                    f"SELECT line, period FROM {staging} WHERE period <> :p ORDER BY line "
                    f"LIMIT {loader.MAX_REPORTED_ERRORS}"
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

    def _duplicate_niks(self) -> None:
        """A unique index on the staged NIKs proves that there is no duplicate at the cost of
        one parallel sort of bytewise keys, much less than grouping millions of distinct
        NIKs; only a file that has duplicates pays for the grouping too (to report them)."""
        conn = self.conn
        try:
            with conn.begin_nested():
                conn.execute(text(f"CREATE UNIQUE INDEX ON {self.staging_name} (nik_hmac)"))
        except sqlalchemy.exc.IntegrityError:
            super()._duplicate_niks()
            return
        conn.execute(text('CREATE TEMP TABLE bad_nik (nik_hmac text COLLATE "C", first integer)'))

    def fill_tables(self) -> int:
        conn, sid = self.conn, self.snapshot_id
        _tune(conn)
        if self._last_line is None:  # the reader's path: ask the rows
            self._last_line = int(
                conn.execute(
                    text(f"SELECT coalesce(max(line), 1) FROM {self.staging_name}")
                ).scalar_one()
            )
        persons, households = f"{SCHEMA}.persons_{sid}", f"{SCHEMA}.households_{sid}"
        conn.execute(
            text(
                f"CREATE TABLE {households} (LIKE public.households INCLUDING DEFAULTS "
                f"INCLUDING CONSTRAINTS, CONSTRAINT snapshot_is_{sid} CHECK (snapshot_id = {sid}))"
            )
        )
        count = conn.execute(
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
        db.session.commit()  # both tables, for the writers (not partitions: nothing shows them)
        staging = self.staging_name
        _insert_side_by_side(
            persons,
            lambda where: (
                "(snapshot_id, nik_hmac, kk_hmac, position, nik, nama, jenis_kelamin, "
                f"tanggal_lahir, hubungan, programs) SELECT {sid}, nik_hmac, kk_hmac, line, nik, "
                f"nama, jenis_kelamin, tanggal_lahir, hubungan, programs FROM {staging} "
                f"WHERE {where}"
            ),
            self._last_line,
        )
        conn = self.conn
        _tune(conn)
        # the parents' indexes, built once on the filled tables; ATTACH adopts them
        conn.execute(text(f"ALTER TABLE {households} ADD PRIMARY KEY ({_key(Household)})"))
        conn.execute(text(f"CREATE INDEX ON {households} (snapshot_id, kode_desa)"))
        conn.execute(text(f"ALTER TABLE {persons} ADD PRIMARY KEY ({_key(Person)})"))
        conn.execute(text(f"CREATE INDEX ON {persons} (snapshot_id, kk_hmac)"))
        conn.execute(text(f"DROP TABLE {self.staging_name}"))
        db.session.commit()
        # VACUUM, not only ANALYZE: it marks the new pages all-visible, so ATTACH's check of
        # the persons' foreign key (a merge anti-join of two index-only scans) reads no heap
        # page (3.6 M rows: 4.0 -> 0.7 s, for 0.5 s of VACUUM), and the first look-ups set
        # no hint bits. VACUUM runs outside a transaction.
        with db.get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as auto:
            auto.execute(text(f"VACUUM (ANALYZE) {households}, {persons}"))
        return int(count.rowcount)

    def publish(self, period: str, rows: int, households: int) -> list[int]:
        sid = self.snapshot_id
        snapshot = db.session.get(Snapshot, sid)
        if snapshot is None:  # removed by a concurrent prune: impossible under the lock
            raise ImportFailed("the loading snapshot disappeared")

        def attach() -> None:
            conn = self.conn
            conn.execute(text("SET LOCAL lock_timeout = '60s'"))
            # ATTACH of the persons validates their foreign key to the households (one
            # anti-join of the new persons with every households partition): in memory, with
            # the parallel workers, rather than in 4 MB batches on disk
            _tune(conn)
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
