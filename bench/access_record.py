"""The access record ("Riwayat pengecekan") of a much-read household, among many others.

Writes BACKGROUND access events spread over 300 k households and 13 months, then HOT events
for one household in the last 12 months (look-ups mostly, some case views, field checks and
exports), ANALYZEs, and times ``portal.access.history.household_record``: the first page
(median of 20) and every page of the 12 months one after the other. On PostgreSQL it prints
the plan of the page's query (EXPLAIN ANALYZE, BUFFERS). Writes bench/out/access_record.json.

    .venv/bin/python bench/access_record.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/h3_access
    .venv/bin/python bench/access_record.py --database-url sqlite:///bench/out/access.sqlite

The database is emptied first (PostgreSQL: schema public; SQLite: the file).
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
HOT = "f" * 32

PG_BACKGROUND = """
INSERT INTO access_events (kk_hmac, at, channel, actor, actor_role, actor_office, period,
                           ip_prefix, purpose)
SELECT md5('kk' || (i % 300000)),
       now() - (i % 395) * interval '1 day' - (i % 1440) * interval '1 minute',
       'web', 'citizen', NULL, NULL, '2026Q3', '203.0.113.0/24', 'lookup'
FROM generate_series(1, :n) AS i
"""
PG_HOT = """
INSERT INTO access_events (kk_hmac, at, channel, actor, actor_role, actor_office, period,
                           ip_prefix, purpose)
SELECT :kk, now() - (i % 364) * interval '1 day' - (i % 1440) * interval '1 minute',
       CASE WHEN i % 20 = 0 THEN 'staff' ELSE 'web' END,
       CASE WHEN i % 20 = 0 THEN 'staff' ELSE 'citizen' END,
       CASE WHEN i % 20 = 0 THEN 'verifikator' END,
       CASE WHEN i % 20 = 0 THEN '32.16' END,
       '2026Q3', '203.0.113.0/24',
       CASE WHEN i % 20 = 0 THEN 'case' ELSE 'lookup' END
FROM generate_series(1, :n) AS i
"""
SQLITE_SERIES = "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) "
SQLITE_BACKGROUND = (
    SQLITE_SERIES
    + """
INSERT INTO access_events (kk_hmac, at, channel, actor, period, ip_prefix, purpose)
SELECT 'kk' || (i % 300000),
       datetime('now', '-' || (i % 395) || ' days', '-' || (i % 1440) || ' minutes'),
       'web', 'citizen', '2026Q3', '203.0.113.0/24', 'lookup' FROM s
"""
)
SQLITE_HOT = (
    SQLITE_SERIES
    + """
INSERT INTO access_events (kk_hmac, at, channel, actor, actor_role, actor_office, period,
                           ip_prefix, purpose)
SELECT :kk, datetime('now', '-' || (i % 364) || ' days', '-' || (i % 1440) || ' minutes'),
       CASE WHEN i % 20 = 0 THEN 'staff' ELSE 'web' END,
       CASE WHEN i % 20 = 0 THEN 'staff' ELSE 'citizen' END,
       CASE WHEN i % 20 = 0 THEN 'verifikator' END,
       CASE WHEN i % 20 = 0 THEN '32.16' END,
       '2026Q3', '203.0.113.0/24',
       CASE WHEN i % 20 = 0 THEN 'case' ELSE 'lookup' END
FROM s
"""
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--background", type=int, default=1_000_000)
    parser.add_argument("--hot", type=int, default=10_000)
    args = parser.parse_args()
    url = make_url(args.database_url)
    postgres = url.get_backend_name() == "postgresql"
    if postgres:
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}
            ).scalar()
            if not found:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        with create_engine(url).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    elif url.database:
        Path(url.database).unlink(missing_ok=True)

    from portal import create_app, db
    from portal.access import history
    from portal.migrate import upgrade

    app = create_app({"ENV_NAME": "testing", "TESTING": True, "DATABASE_URL": str(url)})
    result: dict[str, object] = {
        "engine": url.get_backend_name(),
        "background_events": args.background,
        "hot_events": args.hot,
    }
    with app.app_context():
        upgrade()
        conn = db.session.connection()
        started = time.perf_counter()
        conn.execute(text(PG_BACKGROUND if postgres else SQLITE_BACKGROUND), {"n": args.background})
        conn.execute(text(PG_HOT if postgres else SQLITE_HOT), {"n": args.hot, "kk": HOT})
        db.session.commit()
        conn = db.session.connection()
        conn.execute(text("ANALYZE" if postgres else "ANALYZE access_events"))
        db.session.commit()
        result["seed_seconds"] = round(time.perf_counter() - started, 1)

        times = []
        for _round in range(20):
            t0 = time.perf_counter()
            first = history.household_record(HOT)
            times.append((time.perf_counter() - t0) * 1000)
        result["first_page_ms_median"] = round(statistics.median(times), 2)
        result["first_page_ms_max"] = round(max(times), 2)
        result["first_page_lines"] = len(first.lines)

        pages, lines, events, until = 0, 0, 0, None
        t0 = time.perf_counter()
        while True:
            page = history.household_record(HOT, until=until)
            pages += 1
            lines += len(page.lines)
            events += sum(line.count for line in page.lines)
            if page.older is None:
                break
            until = page.older
        result["all_pages_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        result.update(pages=pages, lines=lines, events_shown=events)

        if postgres:
            engine = db.session.get_bind()
            compiled = history.page_query(HOT, db.utcnow() - history.WINDOW).compile(
                dialect=engine.dialect
            )
            plan = db.session.connection().exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), compiled.params
            )
            result["plan"] = [row[0] for row in plan]
            print("\n".join(result["plan"]))  # type: ignore[arg-type]
    print(json.dumps(result, indent=2))
    OUT.mkdir(exist_ok=True)
    (OUT / "access_record.json").write_text(json.dumps({"summary": result}, indent=2))


if __name__ == "__main__":
    main()
