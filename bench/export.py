"""Export benchmark: the Pusdatin export of 20,000 and of 100,000 approved cases on PostgreSQL.

Goal (issue 11): 100 k approved cases exported in under 30 s, memory flat. Each size is
exported by the job worker exactly as in production (``create_export`` queues the job,
``flask jobs work --once`` runs it), in a fresh child process, so that the figures are that
process's own: wall seconds, CPU seconds, SQL statements, RSS before the run and its peak.
Memory is flat when the peak over the baseline does not grow with the number of cases.

    .venv/bin/python bench/export.py               # 20 k then 100 k: bench/out/export.json
    .venv/bin/python bench/export.py --sizes 5000  # a quick run
    .venv/bin/python bench/export.py --keep        # keep the database afterwards

The database ``h4_export_bench`` (``--db``) is created on the PostgreSQL server of ``--server``
and dropped at the end. Seeding: ``seed_cases`` (one function; COPY through psycopg 3) writes
approved cases of Kabupaten Bekasi (a mix of sanggahan about a household of the current
snapshot, usulan with their answers, contests) and 10 % as many in Kota Bekasi, which the
export must leave alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from procstat import cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
GOAL_SECONDS = 30.0


def rss_mib() -> float:
    """This process's resident memory now, in MiB (Linux)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- seeding --------------------------------------------------------------------------------


def _ticket(n: int) -> str:
    from portal.appeals.tickets import ALPHABET, check_symbol

    body = ""
    for _digit in range(7):
        n, digit = divmod(n, len(ALPHABET))
        body += ALPHABET[digit]
    return body + check_symbol(body)


def seed_cases(url: str, count: int, *, start: int, snapshot_id: int) -> None:
    """COUNT approved cases in Kabupaten Bekasi and COUNT // 10 in Kota Bekasi, numbered from
    START (tickets, NIKs and HMACs derive from the number). Every fourth is an usulan with
    its answers, every tenth contests the case before it, the rest are sanggahan about a
    household of SNAPSHOT_ID (one household per case, so the No. KK join finds each).
    COPY through psycopg 3: appeals, then the households of the current snapshot."""
    import psycopg

    now = datetime.now(UTC)
    columns = (
        "ticket, kind, reason_code, status, filer_nik_hmac, filer_nik, filer_kk_hmac, "
        "filer_verified, filer_locale, subject_is_filer_household, subject_nik_hmac, "
        "subject_nik, subject_kk_hmac, subject_found, kabupaten_code, kecamatan_code, "
        "kode_desa, note, evidence, details, declared, period, created_at, updated_at, "
        "due_at, decided_at, decision_reason, decision_note, draft_token, contests_id"
    )
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        first_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM appeals").fetchone()[0]
        with conn.cursor().copy(f"COPY appeals ({columns}) FROM STDIN") as copy:
            total = count + count // 10
            for i in range(total):
                n = start + i
                elsewhere = i >= count
                desa = "32.75.01.1001" if elsewhere else "32.16.01.2001"
                usulan = n % 4 == 0
                kk_hmac = f"{n:032x}"
                details = (
                    json.dumps(
                        {"household": {"no_kk": f"3216{n:012d}"}, "programs": ["PKH", "BPNT"]}
                    )
                    if usulan
                    else "{}"
                )
                contests = first_id + i - 1 if (n % 10 == 3 and i > 0) else None
                copy.write_row(
                    (
                        _ticket(n),
                        "usulan" if usulan else "sanggahan",
                        "USUL-PROGRAM" if usulan else "INC-MAMPU",
                        "disetujui",
                        f"{n:032x}",
                        f"32160141019{n % 100000:05d}",
                        f"{n + 1:032x}",
                        n % 3 != 0,
                        "id",
                        n % 2 == 0,
                        kk_hmac,
                        f"32160155059{n % 100000:05d}",
                        None if usulan else kk_hmac,
                        True,
                        desa[:5],
                        desa[:8],
                        desa,
                        "Rumahnya besar dan punya mobil baru.",
                        "[]",
                        details,
                        True,
                        "2026Q3",
                        now - timedelta(days=20),
                        now - timedelta(days=2),
                        now,
                        now - timedelta(days=2),
                        "verified_in_field",
                        f"Kunjungan lapangan {n}: laporan benar, rumah permanen.",
                        f"bench-{n}",
                        contests,
                    )
                )
        with conn.cursor().copy(
            "COPY households (snapshot_id, kk_hmac, no_kk, kode_desa, alamat, desil) FROM STDIN"
        ) as copy:
            for i in range(count):
                n = start + i
                if n % 4:
                    copy.write_row(
                        (snapshot_id, f"{n:032x}", f"3216{n:012d}", "32.16.01.2001", "KP. X", 3)
                    )
        conn.execute("ANALYZE appeals")
        conn.execute("ANALYZE households")


# --- the measured run (a child process per size) ---------------------------------------------


def child(url: str, staff_id: int, expected: int) -> dict[str, Any]:
    """Queue the export as the officer would, then run it with `flask jobs work --once`."""
    from sqlalchemy import event, func, select

    from portal import create_app, db
    from portal.auth.models import StaffUser
    from portal.review import export as exporting
    from portal.review.models import Export, ExportChunk

    app = create_app(
        {"ENV_NAME": "testing", "DATABASE_URL": url, "EXPORT_INLINE_MAX": 0, "TESTING": True}
    )
    with app.app_context():
        user = db.session.get(StaffUser, staff_id)
        made = exporting.create_export(user)
        export_id = made.id
    statements = 0
    timings: dict[str, float] = {}
    started: list[float] = []
    backends: set[int] = set()
    engine = app.extensions["db_engine"]

    def before(*_args: Any) -> None:
        nonlocal statements
        statements += 1
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        key = " ".join(statement.split())[:90]
        timings[key] = timings.get(key, 0.0) + time.perf_counter() - started.pop()

    def remember_backend(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            backends.add(cur.fetchone()[0])

    engine.dispose()  # new connections, so each backend's pid is known
    event.listen(engine, "connect", remember_backend)
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    db_cpu_before = cpu_seconds(backends)
    baseline = rss_mib()
    cpu, wall = time.process_time(), time.perf_counter()
    result = app.test_cli_runner().invoke(args=["jobs", "work", "--once"])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if result.exit_code != 0 or " done " not in result.output:
        raise SystemExit(f"the job did not finish: {result.output}")
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    # the backends that served the run (still open in the pool): their CPU time
    db_cpu = cpu_seconds(backends) - db_cpu_before
    with app.app_context():
        export = db.session.get(Export, export_id)
        chunks, size = db.session.execute(
            select(func.count(), func.sum(func.octet_length(ExportChunk.data))).where(
                ExportChunk.export_id == export_id
            )
        ).one()
        lines = sum(piece.count(b"\n") for piece in exporting.chunks(export))
    if export.case_count != expected or lines != expected + 1:
        raise SystemExit(f"exported {export.case_count} cases, {lines} lines; want {expected}")
    return {
        "cases": expected,
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "sql_statements": statements,
        "db_cpu_seconds": round(db_cpu, 2),
        "slowest": [
            {"seconds": round(t, 2), "sql": sql}
            for sql, t in sorted(timings.items(), key=lambda kv: -kv[1])[:6]
        ],
        "rss_before_mib": round(baseline, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "chunks": chunks,
        "bytes": int(size or 0),
        "status": export.status,
    }


# --- orchestration --------------------------------------------------------------------------


def drop(admin: Any, name: str) -> None:
    """Drop the benchmark database; say so instead of hanging when the server cannot."""
    from sqlalchemy import text

    try:
        with admin.connect() as conn:
            conn.execute(text("SET statement_timeout = '120s'"))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except Exception as exc:  # reported: the operator drops it by hand
        print(f"could not drop database {name} ({type(exc).__name__}); drop it by hand")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20000,100000", help="cases per export (comma list)")
    parser.add_argument("--server", default=SERVER, help="PostgreSQL server URL (no database)")
    parser.add_argument("--db", default="h4_export_bench", help="benchmark database (dropped)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--child", nargs=3, metavar=("URL", "STAFF_ID", "CASES"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        url, staff_id, cases = args.child
        print(json.dumps(child(url, int(staff_id), int(cases))))
        return 0

    from sqlalchemy import create_engine, text

    from portal import create_app, db
    from portal.auth import service as staff
    from portal.dataimport import retention
    from portal.dataimport.models import Snapshot
    from portal.migrate import upgrade
    from portal.wilayah.loader import import_dir

    sizes = [int(s) for s in args.sizes.split(",")]
    url = f"{args.server}/{args.db}"
    admin = create_engine(f"{args.server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{args.db}"'))
        conn.execute(text(f'CREATE DATABASE "{args.db}"'))
    runs: list[dict[str, Any]] = []
    try:
        app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url, "TESTING": True})
        with app.app_context():
            upgrade()
            import_dir()
            officer = staff.create_staff(
                "bench@dinsos.example.go.id", "Bench", "admin_dinsos", ["32.16"]
            )
            staff_id = officer.user.id
            snap = Snapshot(
                period="2026Q3",
                status="published",
                sha256="0" * 64,
                source_name="bench",
                row_count=0,
                household_count=0,
                published_at=db.utcnow(),
            )
            db.session.add(snap)
            db.session.flush()
            retention.add_empty_partitions(db.session.connection(), snap.id)
            db.session.commit()
            snapshot_id = snap.id
        app.extensions["db_engine"].dispose()
        start = 1
        for size in sizes:
            seeded = time.perf_counter()
            seed_cases(url, size, start=start, snapshot_id=snapshot_id)
            seeded = time.perf_counter() - seeded
            start += size + size // 10
            others = size // 10
            print(f"seeded {size:,} approved cases (+{others:,} elsewhere) in {seeded:.1f} s")
            out = subprocess.run(
                [sys.executable, __file__, "--child", url, str(staff_id), str(size)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            run = json.loads(out.stdout.strip().splitlines()[-1])
            run["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
            runs.append(run)
            print(
                f"export of {run['cases']:>7,} cases: {run['seconds']:6.2f} s wall, "
                f"{run['cpu_seconds']:6.2f} s CPU, {run['sql_statements']:>4} SQL statements, "
                f"{run['db_cpu_seconds']:6.2f} s PostgreSQL CPU, "
                f"RSS {run['rss_before_mib']:.0f} MiB before, peak {run['peak_rss_mib']:.0f} MiB "
                f"({run['chunks']} chunks, {run['bytes'] / 2**20:.1f} MiB file), "
                f"load {' '.join(run['loadavg'])}",
                flush=True,
            )
            for step in run["slowest"]:
                print(f"    {step['seconds']:6.2f} s  {step['sql']}")
    finally:
        if not args.keep:
            drop(admin, args.db)
        admin.dispose()
    largest = max(runs, key=lambda r: r["cases"])
    figures = {
        "benchmark": "export",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.node(),
        "cpus": os.cpu_count(),
        "runs": runs,
        "goal_seconds": GOAL_SECONDS,
        "goal_met": largest["seconds"] < GOAL_SECONDS,
        "cpu_ms_per_case": round(1000 * largest["cpu_seconds"] / largest["cases"], 3),
    }
    if len(runs) > 1:
        smallest = min(runs, key=lambda r: r["cases"])
        grow = (largest["peak_rss_mib"] - largest["rss_before_mib"]) - (
            smallest["peak_rss_mib"] - smallest["rss_before_mib"]
        )
        figures["peak_growth_mib"] = round(grow, 1)
        print(
            f"{smallest['cases']:,} -> {largest['cases']:,} cases: time x"
            f"{largest['seconds'] / smallest['seconds']:.2f}, peak RSS over baseline "
            f"{smallest['peak_rss_mib'] - smallest['rss_before_mib']:.0f} -> "
            f"{largest['peak_rss_mib'] - largest['rss_before_mib']:.0f} MiB"
        )
    print(
        f"goal: {largest['cases']:,} cases under {GOAL_SECONDS:.0f} s: "
        f"{'met' if figures['goal_met'] else 'NOT met'} ({largest['seconds']:.1f} s); "
        f"{figures['cpu_ms_per_case']} ms CPU a case in the worker"
    )
    figures["summary"] = {  # the headline figures for make bench
        "cases": largest["cases"],
        "seconds": largest["seconds"],
        "goal_seconds": GOAL_SECONDS,
        "goal_met": figures["goal_met"],
        "cpu_ms_per_case": figures["cpu_ms_per_case"],
        "peak_growth_mib": figures.get("peak_growth_mib"),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "export.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {OUT / 'export.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
