"""Period history at a kabupaten's size on PostgreSQL: how long ``record_changes`` takes
between two periods of Kabupaten Bekasi's size (900 k households, 3.6 M persons each).

The two periods are generated in SQL (no CSV, no import: this measures the change
computation alone), with differences of the usual kinds: 2 % of households removed and 2 %
added, 5 % with another desil, 1 % with another address, 0.5 % of persons gone, 3 % with
other programs, 0.2 % on another family card, 0.3 % with a corrected name. The second period
is written in the same transaction that computes the changes, as the import does, so its
rows are not in the planner's statistics yet (``--analyze`` runs ANALYZE first, for the
comparison). It prints the seconds, the backend's CPU seconds when /proc shows them, the
rows written, and writes bench/out/history.json.

    .venv/bin/python bench/history.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/h2_history

The database is created, migrated and dropped at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

OUT = Path(__file__).parent / "out"

HOUSEHOLDS_Q2 = """
INSERT INTO households (snapshot_id, kk_hmac, no_kk, kode_desa, alamat, desil)
SELECT :s, md5('kk' || i), lpad(i::text, 16, '0'), :desa, 'KP. SAGARA RT 002/RW 005',
       1 + (i * 7) % 10
FROM generate_series(1, :households) AS i
"""
PERSONS_Q2 = """
INSERT INTO persons (snapshot_id, nik_hmac, kk_hmac, position, nik, nama, jenis_kelamin,
                     tanggal_lahir, hubungan, programs)
SELECT :s, md5('nik' || j), md5('kk' || ((j - 1) / 4 + 1)), j, lpad(j::text, 16, '0'),
       'SITI AMINAH', 'P', DATE '1988-06-05', 'ANAK',
       CASE WHEN (1 + ((((j - 1) / 4 + 1) * 7) % 10)) <= 4 THEN 'PKH;BPNT;PBI-JK'
            WHEN (1 + ((((j - 1) / 4 + 1) * 7) % 10)) <= 5 THEN 'BPNT;PBI-JK' ELSE '' END
FROM generate_series(1, :persons) AS j
"""
HOUSEHOLDS_Q3 = """
INSERT INTO households (snapshot_id, kk_hmac, no_kk, kode_desa, alamat, desil)
SELECT :s, kk_hmac, no_kk, kode_desa,
       CASE WHEN i % 100 = 7 THEN 'KP. BARU RT 001/RW 001' ELSE alamat END,
       CASE WHEN i % 20 = 1 THEN 1 + (desil % 10) ELSE desil END
FROM (SELECT h.*, row_number() OVER (ORDER BY no_kk) AS i FROM households h
      WHERE snapshot_id = :prev) AS h
WHERE i % 50 <> 0
UNION ALL
SELECT :s, md5('kk' || i), lpad(i::text, 16, '0'), :desa, 'KP. SAGARA RT 002/RW 005', 3
FROM generate_series(:households + 1, :households + :households / 50) AS i
"""
PERSONS_Q3 = """
INSERT INTO persons (snapshot_id, nik_hmac, kk_hmac, position, nik, nama, jenis_kelamin,
                     tanggal_lahir, hubungan, programs)
SELECT :s, md5('nik' || j),
       CASE WHEN j % 500 = 11 AND (hh + 1) % 50 <> 0 THEN md5('kk' || (hh + 1))
            ELSE md5('kk' || hh) END,
       j, lpad(j::text, 16, '0'),
       CASE WHEN j % 333 = 2 THEN 'SITI AMINAH HASANAH' ELSE 'SITI AMINAH' END,
       'P', DATE '1988-06-05', 'ANAK',
       CASE WHEN j % 33 = 5 THEN 'PBI-JK;PIP'
            WHEN (1 + ((hh * 7) % 10)) <= 4 THEN 'PKH;BPNT;PBI-JK'
            WHEN (1 + ((hh * 7) % 10)) <= 5 THEN 'BPNT;PBI-JK' ELSE '' END
FROM (SELECT j, (j - 1) / 4 + 1 AS hh FROM generate_series(1, :persons) AS j) AS p
WHERE hh % 50 <> 0 AND j % 200 <> 3
UNION ALL
SELECT :s, md5('nik' || j), md5('kk' || ((j - 1) / 4 + 1)), j, lpad(j::text, 16, '0'),
       'BAYU', 'L', DATE '2026-05-01', 'ANAK', ''
FROM generate_series(:persons + 1, :persons + :persons / 50) AS j
"""


def backend_cpu(pid: int) -> float | None:
    """utime + stime of a PostgreSQL backend, when it runs on this machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/h2_history",
        help="a PostgreSQL database to create and drop (default: %(default)s)",
    )
    parser.add_argument("--households", type=int, default=900_000)
    parser.add_argument("--analyze", action="store_true", help="ANALYZE before computing")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    url = make_url(args.database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}
        ).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    # an existing database is emptied by schema (DROP DATABASE waits for every backend of
    # the server to absorb a barrier; a stuck session elsewhere would hold this run)
    with create_engine(url).begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))

    from portal import create_app, db
    from portal.dataimport import history, retention
    from portal.migrate import upgrade

    app = create_app({"ENV_NAME": "testing", "TESTING": True, "DATABASE_URL": str(url)})
    households = args.households
    params = {"households": households, "persons": households * 4, "desa": "32.16.01.2001"}
    result: dict[str, object] = {"households": households, "persons": households * 4}
    try:
        with app.app_context():
            upgrade()
            conn = db.session.connection()
            conn.execute(
                text(
                    "INSERT INTO wilayah (code, name, level, parent_code) VALUES "
                    "('32', 'JAWA BARAT', 1, NULL), "
                    "('32.16', 'KAB. BEKASI', 2, '32'), "
                    "('32.16.01', 'TARUMAJAYA', 3, '32.16'), "
                    "('32.16.01.2001', 'SAGARA MAKMUR', 4, '32.16.01')"
                )
            )
            ids = []
            for period in ("2026Q2", "2026Q3"):
                ids.append(
                    conn.execute(
                        text(
                            "INSERT INTO snapshots (period, status, sha256, source_name, "
                            "row_count, household_count, imported_at, published_at) VALUES "
                            "(:p, 'published', '', 'bench', 0, 0, now(), now()) RETURNING id"
                        ),
                        {"p": period},
                    ).scalar_one()
                )
            q2, q3 = ids
            for sid in ids:  # the rows are written here, not by the import
                retention.add_empty_partitions(conn, sid)
            started = time.perf_counter()
            conn.execute(text(HOUSEHOLDS_Q2), {**params, "s": q2})
            conn.execute(text(PERSONS_Q2), {**params, "s": q2})
            db.session.commit()
            with (
                app.extensions["db_engine"]
                .connect()
                .execution_options(isolation_level="AUTOCOMMIT") as c
            ):
                c.execute(text("VACUUM ANALYZE households, persons"))
            conn = db.session.connection()
            conn.execute(text(HOUSEHOLDS_Q3), {**params, "s": q3, "prev": q2})
            conn.execute(text(PERSONS_Q3), {**params, "s": q3})
            result["generate_seconds"] = round(time.perf_counter() - started, 1)
            if args.analyze:
                conn.execute(text("ANALYZE households, persons"))
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            cpu0, t0 = backend_cpu(pid), time.perf_counter()
            history.record_changes(db.session, q3, q2)
            seconds = time.perf_counter() - t0
            cpu1 = backend_cpu(pid)
            db.session.commit()
            counts = dict(
                db.session.execute(
                    text(
                        "SELECT 'household ' || kind, count(*) FROM household_changes "
                        "GROUP BY kind UNION ALL SELECT 'person ' || kind, count(*) "
                        "FROM person_changes GROUP BY kind"
                    )
                ).all()
            )
            result.update(
                record_changes_seconds=round(seconds, 2),
                backend_cpu_seconds=round(cpu1 - cpu0, 2) if cpu0 is not None else None,
                analyzed=args.analyze,
                change_rows=counts,
                loadavg=Path("/proc/loadavg").read_text().split()[:3],
            )
            db.session.close()
    finally:
        app.extensions["db_engine"].dispose()
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
        admin.dispose()
    OUT.mkdir(exist_ok=True)
    (OUT / "history.json").write_text(json.dumps(result, indent=2))
    print(f"record_changes at {households:,} households / {households * 4:,} persons:")
    wall, cpu = result["record_changes_seconds"], result["backend_cpu_seconds"]
    print(f"  {wall} s wall, backend CPU {cpu} s")
    for key, value in sorted(counts.items()):
        print(f"  {key:<28} {value:>9,}")
    print(f"  loadavg {' '.join(result['loadavg'])}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
