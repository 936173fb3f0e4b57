"""Reads of the region table, cached per process: the table changes only on ``flask wilayah
import``, which clears the importing process's cache (``clear_cache()``); other processes
(gunicorn workers) drop theirs after CACHE_SECONDS, so a staff page never reads the
91,599 regions, nor even one, once its names are known."""

from __future__ import annotations

import time
from functools import lru_cache

from flask import current_app
from sqlalchemy import case, func, select

from portal import db
from portal.wilayah.models import Level, Wilayah


@lru_cache(maxsize=8)
def _codes(database: str, level: int) -> frozenset[str]:
    rows = db.session.scalars(select(Wilayah.code).where(Wilayah.level == level))
    return frozenset(rows)


def codes(level: Level) -> frozenset[str]:
    """All codes of one level. Cached per database; clear_cache() after an import."""
    result = _codes(_database(), int(level))
    if not result:  # never cache an empty table: the import may come later
        _codes.cache_clear()
    return result


CACHE_SECONDS = 300  # how long another process may show a region list from before an import


def _epoch() -> int:
    """Changes every CACHE_SECONDS: part of each cache key, so entries age out."""
    return int(time.monotonic() // CACHE_SECONDS)


def _database() -> str:
    """The cache key of the app's database: its URL (password masked), not the engine object,
    so that apps on one database (a test suite's, a CLI command beside the app) share the
    91,599 regions read once, and a new engine at a freed engine's address cannot inherit
    another database's entries."""
    return str(current_app.extensions["db_engine"].url)


def clear_cache() -> None:
    _codes.cache_clear()
    _place.cache_clear()
    _names.clear()
    _children.cache_clear()
    _desa_in_kabupaten.cache_clear()


@lru_cache(maxsize=4096)
def _place(database: str, code: str) -> str:
    return ", ".join(w.name for w in reversed(lineage(code)[1:]))


def place(code: str) -> str:
    """'Desa, Kecamatan, Kabupaten' (or 'Kecamatan, Kabupaten') for a region code, cached per
    process: the look-up shows it on every hit and the region table changes only on import."""
    return _place(_database(), code)


def kecamatan_exists(code: str) -> bool:
    return code in codes(Level.KECAMATAN)


def desa_exists(code: str) -> bool:
    return code in codes(Level.DESA)


def get(code: str) -> Wilayah | None:
    return db.session.get(Wilayah, code)


_names: dict[tuple[str, int, str], str | None] = {}


def names(codes_: set[str]) -> dict[str, str]:
    """Name of each known code (unknown codes are left out); cached per process."""
    if not codes_:
        return {}
    key = (_database(), _epoch())
    missing = {c for c in codes_ if (*key, c) not in _names}
    if missing:
        if len(_names) > 200_000:  # every region of Indonesia is 91,599: a stale epoch's
            _names.clear()
        found = dict(
            db.session.execute(
                select(Wilayah.code, Wilayah.name).where(Wilayah.code.in_(missing))
            ).all()
        )
        for code in missing:
            _names[(*key, code)] = found.get(code)
    out = {c: _names[(*key, c)] for c in codes_}
    return {c: n for c, n in out.items() if n is not None}


def lineage(code: str) -> list[Wilayah]:
    """The region and its ancestors, province first (a desa: provinsi .. desa)."""
    parts = code.split(".")
    wanted = [".".join(parts[: i + 1]) for i in range(len(parts))]
    rows = {w.code: w for w in db.session.scalars(select(Wilayah).where(Wilayah.code.in_(wanted)))}
    return [rows[c] for c in wanted if c in rows]


def count_by_level() -> dict[int, int]:
    rows = db.session.execute(select(Wilayah.level, func.count()).group_by(Wilayah.level))
    return dict(rows.all())


def desa_in_kecamatan(kecamatan: str) -> list[str]:
    stmt = (
        select(Wilayah.code)
        .where(Wilayah.parent_code == kecamatan, Wilayah.level == int(Level.DESA))
        .order_by(Wilayah.name)
    )
    return list(db.session.scalars(stmt))


def _name_pattern(query: str) -> str:
    """A LIKE pattern for names containing QUERY; LIKE's own wildcards are dropped."""
    return "%" + query.strip().replace("%", "").replace("_", "").replace("\\", "") + "%"


def search_desa(query: str, limit: int = 40, kabupaten: str | None = None) -> list[str]:
    """Desa/kelurahan whose name contains QUERY (case-insensitive), best match first: the
    exact name, then names starting with QUERY, then the rest, each by name.

    Within KABUPATEN (a kabupaten/kota code) the search walks the region tree by parent
    code (the index on parent_code): a few hundred rows at most, whatever the collation.
    Without it, every desa of Indonesia is read (about 84,000 names): only when asked."""
    cleaned = query.strip().lower()
    name = func.lower(Wilayah.name)
    rank = case((name == cleaned, 0), (name.like(_name_pattern(cleaned)[1:]), 1), else_=2)
    stmt = select(Wilayah.code).where(
        Wilayah.level == int(Level.DESA), Wilayah.name.ilike(_name_pattern(query))
    )
    if kabupaten is not None:
        kecamatan = select(Wilayah.code).where(
            Wilayah.parent_code == kabupaten, Wilayah.level == int(Level.KECAMATAN)
        )
        stmt = stmt.where(Wilayah.parent_code.in_(kecamatan))
    stmt = stmt.order_by(rank, Wilayah.name, Wilayah.code).limit(limit)
    return list(db.session.scalars(stmt))


def describe(codes: list[str]) -> list[tuple[str, str]]:
    """(code, "Desa, Kecamatan, Kabupaten/Kota") for each desa code, in the given order."""
    if not codes:
        return []
    parents = {c.rsplit(".", 1)[0] for c in codes} | {c.rsplit(".", 2)[0] for c in codes}
    known = names(set(codes) | parents)
    out = []
    for code in codes:
        kec = code.rsplit(".", 1)[0]
        kab = code.rsplit(".", 2)[0]
        out.append((code, f"{known.get(code, code)}, {known.get(kec, kec)}, {known.get(kab, kab)}"))
    return out


def children(code: str) -> list[Wilayah]:
    """The regions directly under CODE, by name (detached copies, cached per process)."""
    return [
        Wilayah(code=c, level=level, parent_code=parent, name=name)
        for c, level, parent, name in _children(_database(), _epoch(), code)
    ]


@lru_cache(maxsize=1024)
def _children(database: str, epoch: int, code: str) -> tuple[tuple[str, int, str, str], ...]:
    rows = db.session.execute(
        select(Wilayah.code, Wilayah.level, Wilayah.parent_code, Wilayah.name)
        .where(Wilayah.parent_code == code)
        .order_by(Wilayah.name)
    )
    return tuple((c, int(level), str(parent), name) for c, level, parent, name in rows)


def desa_in_kabupaten(kabupaten: str) -> list[str]:
    """Desa codes of a kabupaten/kota, by code; cached per process (the staff queue's
    filter lists them on every page)."""
    return list(_desa_in_kabupaten(_database(), _epoch(), kabupaten))


@lru_cache(maxsize=64)
def _desa_in_kabupaten(database: str, epoch: int, kabupaten: str) -> tuple[str, ...]:
    # walk the tree by parent code (indexed): a LIKE on the code reads every region on
    # PostgreSQL unless the collation is C
    kecamatan = select(Wilayah.code).where(
        Wilayah.parent_code == kabupaten, Wilayah.level == int(Level.KECAMATAN)
    )
    stmt = (
        select(Wilayah.code)
        .where(Wilayah.level == int(Level.DESA), Wilayah.parent_code.in_(kecamatan))
        .order_by(Wilayah.code)
    )
    return tuple(db.session.scalars(stmt))
