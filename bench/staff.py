"""Staff pages at a million cases: queue, page 50, filters, the desa operator's queue, a case
page and the dashboard, through the app in-process (Flask test client, signed in like an
officer: password + TOTP), with p50/p95, CPU per request and EXPLAIN (ANALYZE) plans.

    .venv/bin/python bench/staff.py                  # create the db, seed 1 M, measure, drop
    .venv/bin/python bench/staff.py --reuse --keep   # a database seeded earlier, kept

Writes bench/out/staff.json and prints a table. See bench/README.md ("Staff pages").
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select  # noqa: E402

from bench import seed_cases  # noqa: E402
from bench.summary import all_ok, staff_summary  # noqa: E402
from portal import db  # noqa: E402

OUT = ROOT / "bench" / "out"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_staff"
GOAL_MS = 100.0
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NEXT = re.compile(r'href="([^"]*setelah=[^"]*)"')


@dataclass
class Scenario:
    name: str
    role: str  # a key of the seeded staff
    urls: list[str]  # cycled through, one a request
    goal: bool = True  # one of the goals (p95 under GOAL_MS)


@dataclass
class Statement:
    sql: str
    params: Any
    ms: float


@dataclass
class Recorder:
    """Every SQL statement the app runs while ON, with its time."""

    on: bool = False
    statements: list[Statement] = field(default_factory=list)
    _started: float = 0.0

    def attach(self, engine: Any) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            self._started = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            if self.on and not executemany:
                ms = (time.perf_counter() - self._started) * 1000
                self.statements.append(Statement(statement, parameters, ms))


def login(app: Any, staff: seed_cases.SeededStaff) -> Any:
    """A test client signed in through /staf/masuk like a browser (GET, CSRF token, POST)."""
    client = app.test_client()
    for attempt in range(3):
        page = client.get("/staf/masuk")
        token = CSRF.search(page.get_data(as_text=True))
        if not token:
            raise RuntimeError("no csrf_token on the login page")
        answer = client.post(
            "/staf/masuk",
            data={
                "email": staff.email,
                "password": staff.password,
                "code": staff.code(),
                "csrf_token": html.unescape(token.group(1)),
            },
        )
        if answer.status_code == 302:
            return client
        time.sleep(31 if attempt == 0 else 5)  # a code used in this step already: next step
    raise RuntimeError(f"cannot sign in as {staff.email}: {answer.status_code}")


def follow(client: Any, url: str, pages: int) -> str:
    """The URL of page PAGES of the queue at URL, following its 'next' links."""
    for _page in range(pages - 1):
        body = client.get(url).get_data(as_text=True)
        found = NEXT.search(body)
        if not found:
            raise RuntimeError(f"the queue ends before page {pages}")
        url = html.unescape(found.group(1))
    return url


TICK = os.sysconf("SC_CLK_TCK")


def backend_cpu_ms(database: str | None) -> float:
    """User + system CPU so far of the PostgreSQL backends serving DATABASE (this machine's
    /proc; 0 elsewhere). Parallel workers that have exited are not in it."""
    if not database:
        return 0.0
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            # "postgres: [cluster: ]user database host(port) state"
            if not cmdline.startswith("postgres:") or f" {database} " not in cmdline:
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total * 1000 / TICK


def percentile(values: list[float], p: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def measure(
    client: Any,
    scenario: Scenario,
    requests: int,
    recorder: Recorder,
    database: str | None = None,
    warmup: int = 3,
) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    for i in range(warmup):
        client.get(scenario.urls[i % len(scenario.urls)])
    wall: list[float] = []
    cpu: list[float] = []
    backend_before = backend_cpu_ms(database)
    for i in range(requests):
        url = scenario.urls[i % len(scenario.urls)]
        c0, t0 = time.process_time(), time.perf_counter()
        response = client.get(url)
        response.get_data()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    backend = (backend_cpu_ms(database) - backend_before) / requests
    # one more request with every statement recorded: what the page runs, and how long each
    recorder.statements.clear()
    recorder.on = True
    client.get(scenario.urls[0]).get_data()
    recorder.on = False
    statements = list(recorder.statements)
    return {
        "role": scenario.role,
        "requests": requests,
        "p50_ms": round(percentile(wall, 50), 1),
        "p95_ms": round(percentile(wall, 95), 1),
        "mean_ms": round(statistics.fmean(wall), 1),
        "max_ms": round(max(wall), 1),
        "app_cpu_ms": round(statistics.fmean(cpu), 1),
        "db_cpu_ms": round(backend, 1),
        "statuses": statuses,
        "goal_ms": GOAL_MS if scenario.goal else None,
        "sql_statements": len(statements),
        "sql_ms": round(sum(s.ms for s in statements), 1),
        "_statements": statements,
    }


def explain(app: Any, statements: list[Statement], top: int = 3) -> list[dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest SELECTs a page ran (PostgreSQL only)."""
    engine = app.extensions["db_engine"]
    if engine.dialect.name != "postgresql":
        return []
    selects = [s for s in statements if s.sql.lstrip().upper().startswith("SELECT")]
    plans = []
    for s in sorted(selects, key=lambda s: -s.ms)[:top]:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + s.sql, s.params).all()
            conn.rollback()
        plans.append(
            {"ms": round(s.ms, 2), "sql": " ".join(s.sql.split()), "plan": [r[0] for r in rows]}
        )
    return plans


def scenarios(app: Any, seeded: seed_cases.SeedResult, clients: dict[str, Any]) -> list[Scenario]:
    verifikator = clients["verifikator"]
    page50 = follow(verifikator, "/staf/", 50)
    linked = seeded.case_ids.get("linked") or seeded.case_ids.get("open") or []
    cases = [f"/staf/kasus/{i}" for i in linked[:25]]
    return [
        Scenario("queue first page", "verifikator", ["/staf/"]),
        Scenario("queue page 50", "verifikator", [page50]),
        Scenario("queue status=diterima", "verifikator", ["/staf/?status=diterima"]),
        Scenario("queue status=disetujui", "verifikator", ["/staf/?status=disetujui"]),
        Scenario("queue overdue", "verifikator", ["/staf/?overdue=y"], goal=False),
        Scenario("queue verval=requested", "verifikator", ["/staf/?verval=requested"]),
        Scenario("queue verval=none", "verifikator", ["/staf/?verval=none"]),
        Scenario("queue desa typed", "verifikator", ["/staf/?desa=Sagara+Makmur"]),
        # "/staf/" sends an operator to their field checks; the queue is the "All cases in
        # your desa" link
        Scenario("desa operator queue", "operator_desa", ["/staf/?status="]),
        Scenario("desa operator field checks", "operator_desa", ["/staf/verval"]),
        Scenario("case page (linked cases)", "verifikator", cases),
        Scenario("dashboard admin_dinsos", "admin_dinsos", ["/staf/dasbor"]),
        Scenario("dashboard pusat", "pusat", ["/staf/dasbor"]),
        *extra_scenarios(app, seeded, clients),
    ]


# Hook for measurements that need code from another branch (the export as a background job,
# issue 11 item 4): return more Scenarios, or measure and return them as results in
# EXTRA_RESULTS. Kept empty here on purpose.
ExtraResults = Callable[[Any, seed_cases.SeedResult, dict[str, Any]], dict[str, Any]]
EXTRA_RESULTS: list[ExtraResults] = []


def extra_scenarios(
    app: Any, seeded: seed_cases.SeedResult, clients: dict[str, Any]
) -> list[Scenario]:
    """Export measurement hook: see EXTRA_RESULTS / measure_export below."""
    return []


def measure_export(
    app: Any, seeded: seed_cases.SeedResult, clients: dict[str, Any]
) -> dict[str, Any]:
    """Export measurement hook (issue 11 item 4, added at merge): create an export of the
    approved cases as admin_dinsos and time it until done. Returns {} until then."""
    results: dict[str, Any] = {}
    for fn in EXTRA_RESULTS:
        results.update(fn(app, seeded, clients))
    return results


def reused_seed(app: Any) -> seed_cases.SeedResult:
    """The staff and sample cases of a database seeded earlier (--reuse)."""
    from portal.appeals.models import Appeal
    from portal.auth.models import StaffUser

    with app.app_context():
        staff = {}
        for user in db.session.scalars(select(StaffUser).where(StaffUser.email.like("bench.%"))):
            key = user.email.split("@")[0].removeprefix("bench.")
            staff[key] = seed_cases.SeededStaff(
                user.role,
                user.email,
                user.totp_secret or "",
                user.id,
                [d.kode_desa for d in user.desa] or [user.office_code],
            )
        total = db.session.scalar(select(func.count()).select_from(Appeal))
        roots = list(
            db.session.scalars(
                select(Appeal.cluster_of_id)
                .where(Appeal.cluster_of_id.is_not(None), Appeal.id % 499 == 0)
                .limit(25)
            )
        )
        kab = staff["verifikator"].regions[0]
    return seed_cases.SeedResult(total or 0, 0, 0, 0.0, kab, [], staff, {"linked": roots})


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_STAFF_URL", DEFAULT_URL))
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50, help="timed requests a scenario")
    parser.add_argument("--reuse", action="store_true", help="a database seeded earlier")
    parser.add_argument("--keep", action="store_true", help="do not drop the database after")
    parser.add_argument("--label", default="", help="a word for the JSON (before, after...)")
    parser.add_argument("--out", type=Path, default=OUT / "staff.json")
    args = parser.parse_args(argv)

    load_start = Path("/proc/loadavg").read_text().split()[:3]
    if args.reuse:
        app = seed_cases.make_app(args.database_url)
        with app.app_context():
            from portal.migrate import upgrade

            upgrade()  # a database seeded by an older commit gets this commit's schema
        seeded = reused_seed(app)
    else:
        app = seed_cases.prepare(args.database_url, create=True)
        print(f"seeding {args.cases:,} cases ...", flush=True)
        seeded = seed_cases.seed(app, args.cases, progress=True)
        print(f"seeded in {seeded.seconds:.0f} s", flush=True)
    try:
        engine = app.extensions["db_engine"]
        database = engine.url.database if engine.dialect.name == "postgresql" else None
        recorder = Recorder()
        recorder.attach(app.extensions["db_engine"])
        clients = {key: login(app, staff) for key, staff in seeded.staff.items()}
        results: dict[str, Any] = {}
        plans: dict[str, Any] = {}
        for scenario in scenarios(app, seeded, clients):
            found = measure(clients[scenario.role], scenario, args.requests, recorder, database)
            statements = found.pop("_statements")
            results[scenario.name] = found
            plans[scenario.name] = explain(app, statements)
            print(
                f"{scenario.name:28} p50 {found['p50_ms']:8.1f} ms  p95 {found['p95_ms']:8.1f} ms"
                f"  app CPU {found['app_cpu_ms']:7.1f} ms  db CPU {found['db_cpu_ms']:6.1f} ms"
                f"  SQL {found['sql_statements']:3} stmts"
                f" {found['sql_ms']:7.1f} ms  {found['statuses']}",
                flush=True,
            )
        results.update(measure_export(app, seeded, clients))
    finally:
        app.extensions["db_engine"].dispose()
        if not args.keep:
            seed_cases.drop(args.database_url)
    load_end = Path("/proc/loadavg").read_text().split()[:3]
    print()
    print(
        f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'app CPU':>8} {'db CPU':>7}"
        f"  goal (p95 < {GOAL_MS:.0f} ms)"
    )
    print("-" * 80)
    for name, r in results.items():
        verdict = ""
        if r.get("goal_ms"):
            verdict = "met" if r["p95_ms"] < GOAL_MS else "NOT met"
            if not all_ok(r["statuses"]):  # a redirect or an error is not the page
                verdict = f"NOT met: answered {r['statuses']}"
        print(
            f"{name:28} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['app_cpu_ms']:8.1f}"
            f" {r.get('db_cpu_ms', 0):7.1f}  {verdict}"
        )
    print("-" * 80)
    print(f"load average: {' '.join(load_start)} at start, {' '.join(load_end)} at end")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "label": args.label,
        "commit": git_commit(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "database": app.extensions["db_engine"].dialect.name,
        "seed": seeded.as_json(),
        "requests": args.requests,
        "load_average": {"start": load_start, "end": load_end},
        "results": results,
        "plans": plans,
        "summary": staff_summary(results, seeded.cases, GOAL_MS),
    }
    args.out.write_text(json.dumps(report, indent=2, default=str))
    print(f"written: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
