"""Public statistics at a kabupaten's size on PostgreSQL: how long ``refresh_snapshot``
(portal/statistik/refresh.py, run in the publishing transaction) takes for a period of
Kabupaten Bekasi's size (900 k households, 3.6 M persons over its 187 desa), and how long
the /statistik page of Bekasi takes per request afterwards (wall and the process's CPU).

The period is generated in SQL (no CSV, no import: this measures the statistics alone), with
desil 1-10 and programs as bench/history.py writes them, and analysed as the import does
before publication. It prints the seconds of the SQL pass and of the suppression, the
backend's CPU seconds when /proc shows them, the cells written, the page's time per request
(median of 50, after a warm-up) and its size, and writes bench/out/statistik.json.

    .venv/bin/python bench/statistik.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/h4_statistik

The database is created, migrated and dropped at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

OUT = Path(__file__).parent / "out"

HOUSEHOLDS = """
INSERT INTO households (snapshot_id, kk_hmac, no_kk, kode_desa, alamat, desil)
SELECT :s, md5('kk' || i), lpad(i::text, 16, '0'),
       (CAST(:desas AS text[]))[1 + (i * 31) % cardinality(CAST(:desas AS text[]))],
       'KP. SAGARA RT 002/RW 005', 1 + (i * 7) % 10
FROM generate_series(1, :households) AS i
"""
PERSONS = """
INSERT INTO persons (snapshot_id, nik_hmac, kk_hmac, position, nik, nama, jenis_kelamin,
                     tanggal_lahir, hubungan, programs)
SELECT :s, md5('nik' || j), md5('kk' || ((j - 1) / 4 + 1)), j, lpad(j::text, 16, '0'),
       'SITI AMINAH', 'P', DATE '1988-06-05', 'ANAK',
       CASE WHEN (1 + ((((j - 1) / 4 + 1) * 7) % 10)) <= 4 THEN 'PKH;BPNT;PBI-JK'
            WHEN (1 + ((((j - 1) / 4 + 1) * 7) % 10)) <= 5 THEN 'BPNT;PBI-JK' ELSE '' END
FROM generate_series(1, :persons) AS j
"""


def backend_cpu(pid: int) -> float | None:
    import os

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/h4_statistik",
        help="a PostgreSQL database to create and drop (default: %(default)s)",
    )
    parser.add_argument("--households", type=int, default=900_000)
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
    with create_engine(url).begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))

    from portal import create_app, db
    from portal.dataimport import retention
    from portal.migrate import upgrade
    from portal.statistik import refresh
    from portal.wilayah.loader import import_dir

    app = create_app({"ENV_NAME": "testing", "TESTING": True, "DATABASE_URL": str(url)})
    households = args.households
    result: dict[str, object] = {"households": households, "persons": households * 4}
    try:
        with app.app_context():
            upgrade()
            import_dir()
            conn = db.session.connection()
            desas = list(
                conn.execute(
                    text("SELECT code FROM wilayah WHERE level = 4 AND code LIKE '32.16.%'")
                ).scalars()
            )
            sid = conn.execute(
                text(
                    "INSERT INTO snapshots (period, status, sha256, source_name, row_count, "
                    "household_count, imported_at, published_at) VALUES "
                    "('2026Q3', 'published', '', 'bench', 0, 0, now(), now()) RETURNING id"
                )
            ).scalar_one()
            retention.add_empty_partitions(conn, sid)
            params = {"s": sid, "households": households, "persons": households * 4}
            conn.execute(text(HOUSEHOLDS), {**params, "desas": desas})
            conn.execute(text(PERSONS), params)
            db.session.commit()
            with (
                app.extensions["db_engine"]
                .connect()
                .execution_options(isolation_level="AUTOCOMMIT") as c
            ):
                c.execute(text("VACUUM ANALYZE households, persons"))
            conn = db.session.connection()
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            cpu0, t0 = backend_cpu(pid), time.perf_counter()
            original = refresh._suppress
            timings: dict[str, float] = {}

            def timed(c, s):  # type: ignore[no-untyped-def]
                timings["sql"] = time.perf_counter() - t0
                started = time.perf_counter()
                written = original(c, s)
                timings["suppression"] = time.perf_counter() - started
                return written

            refresh._suppress = timed  # type: ignore[assignment]
            cells = refresh.refresh_snapshot(conn, sid)
            seconds = time.perf_counter() - t0
            cpu1 = backend_cpu(pid)
            db.session.commit()
            refresh._suppress = original  # type: ignore[assignment]
            result.update(
                refresh_seconds=round(seconds, 2),
                sql_seconds=round(timings["sql"], 2),
                suppression_seconds=round(timings["suppression"], 2),
                backend_cpu_seconds=round(cpu1 - cpu0, 2) if cpu0 is not None else None,
                cells=cells,
                desa=len(desas),
            )
        client = app.test_client()
        for _warm in range(5):
            response = client.get("/statistik/32.16", base_url="https://localhost")
        if response.status_code != 200:
            raise SystemExit(f"/statistik/32.16 answered {response.status_code}")
        times = []
        cpu_started = time.process_time()
        for _round in range(50):
            started = time.perf_counter()
            client.get("/statistik/32.16", base_url="https://localhost")
            times.append(time.perf_counter() - started)
        page_cpu = (time.process_time() - cpu_started) / 50
        result.update(
            page_ms_median=round(statistics.median(times) * 1000, 2),
            page_cpu_ms=round(page_cpu * 1000, 2),
            page_bytes=len(response.get_data()),
            loadavg=Path("/proc/loadavg").read_text().split()[:3],
        )
    finally:
        app.extensions["db_engine"].dispose()
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        admin.dispose()
    OUT.mkdir(exist_ok=True)
    (OUT / "statistik.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
