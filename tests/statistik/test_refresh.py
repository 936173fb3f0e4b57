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
