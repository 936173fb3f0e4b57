"""Load a validated snapshot and publish it atomically as its period.

One pass over the file inside one transaction: members are inserted in chunks (Core
``insert()``, not the ORM unit of work) as rows stream by, households at the end (the
members' foreign key is deferred to commit). If any row is bad, the transaction is rolled
back and nothing is published; readers keep seeing the previous snapshot throughout.
Re-importing a file that is already the published snapshot of its period is a no-op.
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import insert, select, update

from portal import db
from portal.appeals import reflected
from portal.core.nik import hmac_number
from portal.dataimport import history
from portal.dataimport import queries as snapshot_queries
from portal.dataimport.models import Household, Person, Snapshot, SnapshotStatus
from portal.dataimport.reader import RowError, SnapshotFormatError, SnapshotRow, read_snapshot
from portal.wilayah import queries as wilayah

CHUNK = 5000
MAX_REPORTED_ERRORS = 200


class SnapshotRejected(Exception):
    """The file has bad rows; nothing was published."""

    def __init__(self, errors: list[RowError], total: int) -> None:
        super().__init__(f"{total} bad row(s)")
        self.errors = errors
        self.total = total


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


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _hmac_key() -> bytes:
    return str(current_app.config["NIK_HMAC_KEY"]).encode()


def import_snapshot(path: Path, *, today: date | None = None) -> ImportResult:
    """Validate PATH and publish it. Raises SnapshotRejected or reader.SnapshotFormatError."""
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
    with path.open(encoding="utf-8", newline="") as fh:
        try:
            result = _load(fh, path.name, sha, today or date.today(), started)
        except UnicodeDecodeError as exc:
            db.session.rollback()
            raise SnapshotFormatError(f"the file is not UTF-8 (byte {exc.start})") from None
        except BaseException:
            db.session.rollback()
            raise
    # right after the publication, in a transaction of its own (see portal/appeals/reflected.py)
    result.closed_cases = len(reflected.close_reflected())
    return result


def _load(fh: io.TextIOBase, source: str, sha: str, today: date, started: float) -> ImportResult:
    key = _hmac_key()
    snapshot = Snapshot(
        period="",
        status=SnapshotStatus.LOADING,
        sha256=sha,
        source_name=source[:255],
        row_count=0,
        household_count=0,
    )
    db.session.add(snapshot)
    db.session.flush()
    households: dict[str, dict[str, object]] = {}
    batch: list[dict[str, object]] = []
    errors: list[RowError] = []
    error_total = 0
    rows = 0
    period = None
    for item in read_snapshot(
        fh, kecamatan_exists=wilayah.kecamatan_exists, desa_exists=wilayah.desa_exists, today=today
    ):
        if isinstance(item, RowError):
            error_total += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append(item)
            continue
        rows += 1
        period = item.period
        if error_total:
            continue  # keep validating to report every bad line, but write nothing more
        kk_hmac = _household(households, item, key)
        batch.append(_person(snapshot.id, kk_hmac, item, key, rows))
        if len(batch) >= CHUNK:
            db.session.execute(insert(Person), batch)
            batch = []
    if error_total:
        raise SnapshotRejected(errors, error_total)
    if rows == 0 or period is None:
        raise SnapshotRejected([RowError(2, "the file has a header but no rows")], 1)
    if batch:
        db.session.execute(insert(Person), batch)
    values = [{"snapshot_id": snapshot.id, **h} for h in households.values()]
    for start in range(0, len(values), CHUNK):
        db.session.execute(insert(Household), values[start : start + CHUNK])
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
    snapshot.household_count = len(households)
    snapshot.status = SnapshotStatus.PUBLISHED
    snapshot.published_at = db.utcnow()
    history.record_period_changes(db.session, snapshot.id)  # before the commit: all or nothing
    db.session.commit()  # the publication: all of it becomes visible at once, or none
    snapshot_queries.clear_snapshot_cache()
    return ImportResult(
        period, rows, len(households), time.perf_counter() - started, snapshot.id, replaced=replaced
    )


def _household(households: dict[str, dict[str, object]], row: SnapshotRow, key: bytes) -> str:
    existing = households.get(row.no_kk)
    if existing is not None:
        return str(existing["kk_hmac"])
    kk_hmac = hmac_number(row.no_kk, key, purpose="kk")
    households[row.no_kk] = {
        "kk_hmac": kk_hmac,
        "no_kk": row.no_kk,
        "kode_desa": row.kode_desa,
        "alamat": row.alamat,
        "desil": row.desil,
    }
    return kk_hmac


def _person(
    snapshot_id: int, kk_hmac: str, row: SnapshotRow, key: bytes, position: int
) -> dict[str, object]:
    return {
        "snapshot_id": snapshot_id,
        "nik_hmac": hmac_number(row.nik, key, purpose="nik"),
        "kk_hmac": kk_hmac,
        "position": position,
        "nik": row.nik,
        "nama": row.nama,
        "jenis_kelamin": row.jenis_kelamin,
        "tanggal_lahir": row.tanggal_lahir,
        "hubungan": row.hubungan,
        "programs": ";".join(row.programs),
    }
