"""The import fills /statistik's counts from the per-household aggregate of its checks
(loader.py); they must be the counts a recomputation from the published tables gives."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from portal import db
from portal.dataimport import demo
from portal.dataimport.models import Snapshot, SnapshotStatus
from portal.statistik import refresh
from portal.statistik.models import StatCell


def cells(sid: int) -> set[tuple[str, str, str, int, int]]:
    rows = db.session.execute(
        select(
            StatCell.region_code,
            StatCell.measure,
            StatCell.category,
            StatCell.value,
            StatCell.mark,
        ).where(StatCell.snapshot_id == sid)
    ).all()
    return {(r, m, c, int(v), int(k)) for r, m, c, v, k in rows}


def test_the_imports_counts_are_those_of_the_published_tables(app: Flask, tmp_path) -> None:
    with app.app_context():
        demo.load(tmp_path)  # households of every size, programs per member, many desil
        sid = db.session.scalar(
            select(Snapshot.id).where(Snapshot.status == SnapshotStatus.PUBLISHED)
        )
        assert sid is not None
        imported = cells(sid)
        assert any(m == "program_persons" and v > 0 for _r, m, _c, v, _k in imported)
        refresh.refresh_snapshot(db.session.connection(), sid)  # from persons x households
        db.session.commit()
        assert cells(sid) == imported


def test_each_desa_counts_households_persons_and_programs_as_published(app: Flask, factory) -> None:
    """Exact counts for a desa whose households are known: receiving households and
    receiving persons differ (three members each), kecamatan and kabupaten sum the desa."""
    houses = [factory.household(desil=2, programs=("PKH", "BPNT"), size=3) for _ in range(4)]
    houses += [factory.household(desil=7, programs=(), size=2) for _ in range(2)]
    result = factory.publish("2026Q3", houses)
    with app.app_context():
        by_region: dict[str, dict[tuple[str, str], int]] = {}
        for region, measure, category, value, _mark in cells(result.snapshot_id):
            by_region.setdefault(region, {})[(measure, category)] = value
    expected = {
        ("households", "2"): 4,
        ("households", "6-10"): 2,
        ("households", "total"): 6,
        ("persons", "2"): 12,
        ("persons", "6-10"): 4,
        ("persons", "total"): 16,
        ("program_households", "PKH"): 4,
        ("program_households", "BPNT"): 4,
        ("program_persons", "PKH"): 12,
        ("program_persons", "BPNT"): 12,
    }
    for region in ("32.16.01.2001", "32.16.01", "32.16"):
        # without the zero cells that suppression writes for the categories nobody is in
        stored = {k: v for k, v in by_region[region].items() if v}
        assert stored == expected, region
