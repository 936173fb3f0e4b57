"""Import the region table from idn-area-data CSV files. Idempotent: re-running changes
nothing unless the files changed (new codes are added, renamed regions are updated).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from portal import db
from portal.wilayah import queries
from portal.wilayah.models import Level, Wilayah

VENDORED = Path(__file__).resolve().parent.parent / "data" / "wilayah"

# file name, level, the column that names the parent
FILES = (
    ("provinces.csv", Level.PROVINSI, None),
    ("regencies.csv", Level.KABUPATEN, "province_code"),
    ("districts.csv", Level.KECAMATAN, "regency_code"),
    ("villages.csv", Level.DESA, "district_code"),
)
CHUNK = 5000


class WilayahFileError(ValueError):
    pass


@dataclass
class WilayahImportResult:
    added: dict[Level, int]
    updated: int

    @property
    def total_added(self) -> int:
        return sum(self.added.values())


def _read(path: Path, parent_column: str | None) -> Iterator[dict[str, str | None]]:
    if not path.exists():
        raise WilayahFileError(f"missing file: {path}")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        needed = {"code", "name"} | ({parent_column} if parent_column else set())
        if not reader.fieldnames or not needed <= set(reader.fieldnames):
            raise WilayahFileError(f"{path.name}: expected columns {sorted(needed)}")
        for line, row in enumerate(reader, start=2):
            code, name = (row.get("code") or "").strip(), (row.get("name") or "").strip()
            if not code or not name:
                raise WilayahFileError(f"{path.name} line {line}: empty code or name")
            parent = (row.get(parent_column) or "").strip() if parent_column else None
            yield {"code": code, "name": name, "parent_code": parent or None}


def _insert(rows: list[dict[str, object]]) -> None:
    """Add ROWS in the session's transaction: on PostgreSQL with COPY (a first import of
    91,599 rows: 0.3 s instead of 3.5 s of one-statement-a-row pipelining), elsewhere with
    one executemany."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        db.session.execute(insert(Wilayah), rows)
        return
    columns = ("code", "level", "parent_code", "name")
    raw: Any = connection.connection.driver_connection  # psycopg's connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY wilayah ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([row[c] for c in columns])


def import_dir(directory: Path = VENDORED) -> WilayahImportResult:
    """Add new regions and update renamed ones from DIRECTORY, in one transaction."""
    existing = {
        code: (name, parent)
        for code, name, parent in db.session.execute(
            select(Wilayah.code, Wilayah.name, Wilayah.parent_code)
        ).all()
    }
    added: dict[Level, int] = {}
    updated = 0
    try:
        for filename, level, parent_column in FILES:
            batch: list[dict[str, object]] = []
            added[level] = 0
            for row in _read(directory / filename, parent_column):
                code = str(row["code"])
                if code in existing:
                    if existing[code] != (row["name"], row["parent_code"]):
                        db.session.execute(
                            update(Wilayah)
                            .where(Wilayah.code == code)
                            .values(name=row["name"], parent_code=row["parent_code"])
                        )
                        updated += 1
                    continue
                batch.append({**row, "level": int(level)})
                existing[code] = (str(row["name"]), row["parent_code"])
                if len(batch) >= CHUNK:
                    _insert(batch)
                    added[level] += len(batch)
                    batch = []
            if batch:
                _insert(batch)
                added[level] += len(batch)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    queries.clear_cache()
    return WilayahImportResult(added, updated)
