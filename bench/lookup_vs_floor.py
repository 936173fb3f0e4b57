"""Look-up benchmark: the portal's NIK look-up against the floor of ../shared/bench.

The floor (``floor_app.py``) is bare Flask and one SQLite primary-key SELECT. Both are served
in the same run by gunicorn with the same worker count and hit by wrk with the same settings,
alternately (floor, portal, floor, portal, ...) so that drift on a shared machine shows. The
figure we track is the ratio portal look-ups/s / floor req/s (goals: at least 0.25 in issue
11's round, 0.5 where we are going, as ../shared/bench/README.md says; p99 under 50 ms).

Everything is written under bench/out/ (never instance/):

    portal.sqlite   the portal's database: migrations, regions, one snapshot of --persons
    snapshot.csv    that snapshot (Kabupaten Bekasi, about 4 persons a household)
    pairs.csv       NIK,No. KK pairs the wrk script posts (about 10% valid pairs that miss)
    floor.sqlite    the floor's 1,000,000 rows
    lookup.json     the figures of the last run (--json names another file of bench/out/)

Run with the project's venv: ``.venv/bin/python bench/lookup_vs_floor.py`` (``make bench``).
Needs wrk (``apt-get install wrk``) and the compiled catalogs (``make i18n-compile``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import NoReturn

from sqlalchemy import Engine, Table, create_engine, text
from sqlalchemy.pool import NullPool

try:
    from gen_snapshot import MISS_SHARE, SEED, DataSet
    from procstat import cpu_seconds, redis_server_pids

    from portal.dataimport.demo import write_csv
except ModuleNotFoundError as exc:
    raise SystemExit(
        f"run with the project's venv: .venv/bin/python bench/lookup_vs_floor.py ({exc})"
    ) from None

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
LUA = ROOT / "bench" / "lookup_post.lua"


def default_floor_dir() -> Path:
    """The shared floor: ../shared/bench beside this checkout or, for a clone of a local
    checkout (CI clones into /tmp), beside the checkout it was cloned from; BENCH_FLOOR_DIR
    overrides both."""
    if os.environ.get("BENCH_FLOOR_DIR"):
        return Path(os.environ["BENCH_FLOOR_DIR"])
    beside = ROOT.parent / "shared" / "bench"
    try:
        origin = subprocess.run(
            ["git", "-C", str(ROOT), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        origin = ""
    candidates = [beside]
    if origin and Path(origin).is_dir():  # a local path, not a URL
        candidates.append(Path(origin).resolve().parent / "shared" / "bench")
    return next((c for c in candidates if (c / "floor_app.py").exists()), beside)


FLOOR_DIR = default_floor_dir()
HOST = "127.0.0.1"  # loopback only
FLOOR_PORT = 8100
PORTAL_PORT = 8101
FLOOR_ROWS = 1_000_000  # floor_post.lua picks among 0..999999
BENCH_LIMIT = "1000000 per second"
KABUPATEN = "32.16"  # Kabupaten Bekasi
PAIRS = 20_000
GOAL = 0.5  # the floor's README: "at least half the floor"
GOAL_THIS_ROUND = 0.25  # issue 11: "at least 0.25 of the floor's req/s in this round"
P99_GOAL_MS = 50.0  # issue 11: "p99 under 50 ms at 16 connections"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(code)


def base_env() -> dict[str, str]:
    """The environment every child gets: explicit, nothing inherited but PATH and HOME."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    return env


def run(cmd: list[str], env: dict[str, str], timeout: float) -> str:
    """Run CMD from the repo root; return its stdout, or stop with its stderr."""
    try:
        done = subprocess.run(
            cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(exc.stdout or "")
        sys.stderr.write(exc.stderr or "")
        fail(f"{' '.join(cmd[1:4])}... exited with {exc.returncode}")
    except subprocess.TimeoutExpired:
        fail(f"{' '.join(cmd[1:4])}... took longer than {timeout:.0f} s")
    return done.stdout


# --- the data set ------------------------------------------------------------------------------


def flask_cli(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    return run([sys.executable, "-m", "flask", "--app", "portal", *args], env, timeout)


class Target:
    """Where the portal's data set lives: a SQLite file or a PostgreSQL database (+ Redis)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.engine = args.engine
        self.persons = args.persons
        self.dir = OUT / f"{args.engine}-{args.persons}"
        if self.engine == "sqlite":
            self.path = self.dir / "portal.sqlite"
            self.url = f"sqlite:///{self.path}"
            self.limits = "memory://"
        else:
            self.name = f"{args.pg_database}_{args.persons}"
            self.url = f"{args.pg_server.rstrip('/')}/{self.name}"
            self.limits = args.redis_url

    def engine_(self) -> Engine:
        return create_engine(self.url, poolclass=NullPool)

    def exists(self) -> bool:
        if self.engine == "sqlite":
            return self.path.exists()
        with self._server().connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": self.name}
            ).first()
        return found is not None

    def _server(self) -> Engine:
        server = self.url.rsplit("/", 1)[0] + "/postgres"
        return create_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")

    def create(self) -> None:
        """An empty database (dropped first)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.engine == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return
        with self._server().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))

    def drop(self) -> None:
        if self.engine == "postgresql":
            with self._server().connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))

    def scalar(self, sql: str) -> int:
        engine = self.engine_()
        try:
            with engine.connect() as conn:
                return int(conn.execute(text(sql)).scalar_one())
        finally:
            engine.dispose()

    def scalars(self, sql: str) -> list[object]:
        engine = self.engine_()
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(sql)).scalars())
        finally:
            engine.dispose()

    def describe(self) -> str:
        if self.engine == "sqlite":
            return str(self.path.relative_to(ROOT))
        return f"PostgreSQL database {self.name}, rate limits in {self.limits}"


def bekasi_desas(target: Target) -> list[str]:
    engine = target.engine_()
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT code FROM wilayah WHERE level = 4 AND code LIKE :p"),
                {"p": f"{KABUPATEN}.%"},
            ).all()
    finally:
        engine.dispose()
    return [r[0] for r in rows]


def seed_filler(target: Target, copies: int) -> dict[str, object]:
    """COPIES more households and persons in the published snapshot, made in the database
    from the imported ones (INSERT ... SELECT, no CSV, no Python per row): each copy keeps
    every column but gets new keys, ``<first 23 characters of the HMAC>x<copy number in
    hex>``, which no real HMAC (hexadecimal) can equal, so the bench's pairs still find
    exactly their own household. They are never looked up: they give the indexes the depth
    and the tables the size of a data set COPIES + 1 times larger. Built from the models'
    columns, so a column added to the snapshot tables is copied too."""
    from portal.dataimport.models import Household, Person

    pg = target.engine == "postgresql"

    def key(column: str) -> str:
        suffix = "lpad(to_hex(g.n), 8, '0')" if pg else "printf('%08x', g.n)"
        return f"substr(t.{column}, 1, 23) || 'x' || {suffix}"

    def copy_sql(table: Table) -> str:
        names = [c.name for c in table.columns]
        values = [key(n) if n in ("kk_hmac", "nik_hmac") else f"t.{n}" for n in names]
        series = "generate_series(1, :k) AS g(n)" if pg else "g"
        # names from the models, values bound
        insert_ = " ".join(
            ("INSERT INTO", table.name, f"({', '.join(names)})", "SELECT", ", ".join(values))
            + ("FROM", table.name, "t,", series, "WHERE t.snapshot_id = :sid")
        )
        if pg:
            return insert_
        counter = "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :k)"
        return f"{counter} {insert_}"

    started = time.perf_counter()
    engine = target.engine_()
    try:
        with engine.begin() as conn:
            if pg:
                # bench only: no foreign-key triggers for the copy (the copies are consistent)
                conn.execute(text("SET session_replication_role = replica"))
            else:
                conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
            sid = conn.execute(
                text("SELECT id FROM snapshots WHERE status = 'published' ORDER BY period DESC")
            ).scalar_one()
            params = {"sid": sid, "k": copies}
            for table in (Household.__table__, Person.__table__):
                say(f"filler: {copies} copies of {table.name} ...")
                conn.execute(text(copy_sql(table)), params)
            persons = conn.execute(
                text("SELECT count(*) FROM persons WHERE snapshot_id = :sid"), params
            ).scalar_one()
            households = conn.execute(
                text("SELECT count(*) FROM households WHERE snapshot_id = :sid"), params
            ).scalar_one()
            conn.execute(
                text("UPDATE snapshots SET row_count = :p, household_count = :h WHERE id = :sid"),
                {"p": persons, "h": households, "sid": sid},
            )
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    finally:
        engine.dispose()
    seconds = time.perf_counter() - started
    say(f"filler: snapshot now {persons:,} persons, {households:,} households ({seconds:.0f} s)")
    return {
        "filler_method": "INSERT ... SELECT copies of the imported rows with new keys",
        "filler_copies": copies,
        "filler_seconds": round(seconds, 1),
        "snapshot_persons": persons,
        "snapshot_households": households,
    }


def build_portal_data(
    args: argparse.Namespace, env: dict[str, str], target: Target
) -> dict[str, object]:
    target.create()
    say(f"portal data set: {target.describe()} (db upgrade, wilayah import)")
    flask_cli(env, "db", "upgrade")
    print("  " + flask_cli(env, "wilayah", "import").splitlines()[0])
    desas = bekasi_desas(target)
    if not desas:
        fail(f"no desa of {KABUPATEN} in the region table after `wilayah import`")
    # Up to --imported persons are generated and imported; a larger --persons is reached
    # with copies made in the database (seed_filler).
    imported = min(args.persons, args.imported)
    copies = max(0, round(args.persons / imported) - 1)
    today = date.today()
    period = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    started = time.perf_counter()
    data = DataSet(imported, today, desas)
    csv_path = target.dir / "snapshot.csv"
    write_csv(csv_path, period, data.houses)
    pairs = data.pairs(PAIRS)
    with (target.dir / "pairs.csv").open("w") as fh:
        fh.writelines(f"{n},{k},{e}\n" for n, k, e in pairs)
    say(
        f"generated {imported:,} persons in {len(data.houses):,} households "
        f"({imported / len(data.houses):.2f} a household, {len(data.desas)} desa of "
        f"{len(data.kecamatans)} kecamatan) in {time.perf_counter() - started:.1f} s"
    )
    say(f"flask --app portal dtsen import {csv_path.relative_to(ROOT)}")
    line = flask_cli(env, "dtsen", "import", str(csv_path), timeout=3600).strip()
    print(f"  {line.splitlines()[-1] if line else ''}")
    rate = re.search(r"in ([\d.]+) s \(([\d,]+) rows/s\)", line)
    meta: dict[str, object] = {
        "engine": target.engine,
        "persons": args.persons,
        "imported_persons": imported,
        "households_imported": len(data.houses),
        "period": period,
        "seed": SEED,
        "pairs": len(pairs),
        "miss_share": MISS_SHARE,
        "import_line": line,
        "import_seconds": float(rate.group(1)) if rate else None,
        "import_rows_per_s": int(rate.group(2).replace(",", "")) if rate else None,
    }
    if copies:
        meta |= seed_filler(target, copies)
    else:
        meta |= {"snapshot_persons": imported, "snapshot_households": len(data.houses)}
    return meta


def portal_dataset(
    args: argparse.Namespace, target: Target
) -> tuple[dict[str, object], dict[str, str]]:
    """Build (or with --reuse-data, reuse) the portal's data set; return it and the keys."""
    meta_path = target.dir / "dataset.json"
    keys_path = target.dir / "keys.json"
    if args.reuse_data and meta_path.exists() and keys_path.exists() and target.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("persons") == args.persons:
            say(f"reusing {target.describe()} ({args.persons:,} persons)")
            return meta, json.loads(keys_path.read_text())
    # bench-only keys, kept beside the data so that a reused data set stays findable
    target.dir.mkdir(parents=True, exist_ok=True)
    meta_path.unlink(missing_ok=True)
    keys = {"SECRET_KEY": secrets.token_hex(32), "NIK_HMAC_KEY": secrets.token_hex(32)}
    keys_path.write_text(json.dumps(keys))
    keys_path.chmod(0o600)
    meta = build_portal_data(args, portal_env(keys, args, target), target)
    meta_path.write_text(json.dumps(meta, indent=2))
    return meta, keys


def build_floor(floor_dir: Path, reuse: bool) -> Path:
    floor_db = OUT / "floor.sqlite"
    if reuse and floor_db.exists():
        say(f"reusing {floor_db.relative_to(ROOT)}")
        return floor_db
    floor_db.unlink(missing_ok=True)
    say(f"floor data set: {floor_db.relative_to(ROOT)} ({FLOOR_ROWS:,} rows)")
    started = time.perf_counter()
    env = base_env() | {"FLOOR_DB": str(floor_db)}
    run([sys.executable, str(floor_dir / "floor_app.py"), str(FLOOR_ROWS)], env, 600)
    say(f"floor built in {time.perf_counter() - started:.1f} s")
    return floor_db


# --- servers -----------------------------------------------------------------------------------


FREE_MISSES = "1000"  # the most the setting takes


def portal_env(keys: dict[str, str], args: argparse.Namespace, target: Target) -> dict[str, str]:
    return (
        base_env()
        | {
            "PORTAL_ENV": "production",
            "SECRET_KEY": keys["SECRET_KEY"],
            "NIK_HMAC_KEY": keys["NIK_HMAC_KEY"],
            "DATABASE_URL": target.url,
            "RATELIMIT_STORAGE_URI": target.limits,
            "LOOKUP_LIMIT": args.limit,
            # a miss pair comes back many times in a run, and in Redis its misses outlive the
            # run (a day): never make it wait, still read and charged on every check
            "DTSEN_FREE_MISSES": FREE_MISSES,
        }
        | dict(item.split("=", 1) for item in args.set)
    )


class Server:
    def __init__(self, name: str, port: int, app: str, chdir: Path, env: dict[str, str]) -> None:
        self.name, self.port, self.app, self.chdir, self.env = name, port, app, chdir, env
        self.log = OUT / f"gunicorn-{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, workers: int) -> None:
        with socket.socket() as sock:
            if sock.connect_ex((HOST, self.port)) == 0:
                fail(f"{HOST}:{self.port} is already in use: stop what listens there first")
        cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"{HOST}:{self.port}"]
        cmd += ["--chdir", str(self.chdir), self.app]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=self.chdir, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self, path: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                break
            try:
                if http(self.url + path, timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-3000:]
        fail(f"{self.name} did not answer {path} on {self.url}. Its log:\n{tail}")

    def workers(self) -> list[int]:
        """The master's children (its gunicorn workers), from /proc."""
        if self.proc is None:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                found.append(int(entry.name))
        return sorted(found)

    def memory(self) -> dict[str, object]:
        pids = self.workers()
        rss = [status_kib(pid, "VmRSS") for pid in pids]
        hwm = [status_kib(pid, "VmHWM") for pid in pids]
        return {
            "master_rss_kib": status_kib(self.proc.pid, "VmRSS") if self.proc else None,
            "worker_pids": pids,
            "worker_rss_kib": rss,
            "worker_peak_rss_kib": hwm,
            "workers_rss_total_kib": sum(r for r in rss if r),
        }

    def cpu_seconds(self) -> float:
        """User + system CPU time of the workers so far (to tell CPU cost from waiting)."""
        return cpu_seconds(self.workers())

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # SIGTERM to the master: graceful shutdown of its workers
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def database_pids(target: Target) -> set[int]:
    """On PostgreSQL, the processes on this machine that serve the portal's data: the client
    backends of its database (the workers' pooled connections) and the Redis server. Their
    CPU is a look-up's too, on the same cores; empty on SQLite or for servers elsewhere."""
    if target.engine != "postgresql":
        return set()
    pids = {
        int(pid)
        for pid in target.scalars(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
    }
    return {pid for pid in pids | redis_server_pids() if Path(f"/proc/{pid}/stat").exists()}


def status_kib(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def http(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 10
) -> tuple[int, str, list[str]]:
    """One request to one of our loopback servers: status, body and Set-Cookie headers."""
    if not url.startswith(f"http://{HOST}:"):
        raise ValueError(f"not a loopback URL: {url}")
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310 (checked)
    try:
        with _OPENER.open(request, timeout=timeout) as resp:
            return resp.status, resp.read().decode(), resp.headers.get_all("Set-Cookie") or []
    except urllib.error.HTTPError as exc:
        return (
            exc.code,
            exc.read().decode(errors="replace"),
            exc.headers.get_all("Set-Cookie") or [],
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are answers here (the look-up's POST answers 303), never followed."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def open_session(base: str) -> tuple[str, str]:
    """GET "/" like a browser: the session cookie and the page's csrf_token."""
    _status, html, cookies = http(base + "/")
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html)
    value = re.search(r'value="([^"]+)"', tag.group(0)) if tag else None
    if not value or not cookies:
        fail("GET / gave no csrf_token or no session cookie: cannot post the look-up form")
    return "; ".join(c.split(";", 1)[0] for c in cookies), value.group(1)


def post_lookup(base: str, cookie: str, token: str, nik: str, kk: str) -> tuple[int, str]:
    """A look-up as the browser makes it: POST "/" (303 with the session that holds the
    result's reference), then GET "/hasil" with that session. The result page's status and
    HTML, or the POST's status if it did not answer 303."""
    body = urllib.parse.urlencode({"nik": nik, "no_kk": kk, "csrf_token": token}).encode()
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    status, html, cookies = http(base + "/", body, headers)
    if status != 303 or not cookies:
        return status, html
    session = "; ".join(c.split(";", 1)[0] for c in cookies)
    status, html, _cookies = http(base + "/hasil", headers={"Cookie": session})
    return status, html


def check_answers(base: str, cookie: str, token: str, pairs: list[list[str]]) -> None:
    """A few look-ups by hand: hits must show a household, misses must not, all with 200.
    (wrk only counts statuses: a wrong key would make every hit a fast, fake miss.)"""
    hits = [p for p in pairs if p[2] == "hit"][:20]
    misses = [p for p in pairs if p[2] == "miss"][:10]
    for nik, kk, expected in hits + misses:
        status, html = post_lookup(base, cookie, token, nik, kk)
        found = "desil-card" in html
        if status != 200 or found != (expected == "hit"):
            fail(f"look-up check: expected a {expected}, got HTTP {status}, household={found}")
    say(f"look-up check: {len(hits)} hits and {len(misses)} misses answered as expected")


def age_references(target: Target, count: int) -> None:
    """COUNT references that expired a minute ago and COUNT still valid (random tokens, no
    result kept: nobody reads them), written in chunks."""
    from portal.replay.models import LookupReference

    table = LookupReference.__table__
    now = datetime.now(UTC)
    started = time.monotonic()
    engine = target.engine_()
    try:
        for first in range(0, 2 * count, 10_000):
            rows = [
                {
                    "token_hash": secrets.token_hex(32),
                    "owner": secrets.token_hex(32),
                    "nik": "3216000000000000",
                    "no_kk": "3216000000000000",
                    "snapshot_id": 0,
                    "matched": False,
                    "found": None,
                    # the first half expired a minute ago, the rest expire over 30 minutes
                    "expires_at": now
                    + timedelta(minutes=-1 if i < count else 30 * (i - count) / count),
                }
                for i in range(first, min(first + 10_000, 2 * count))
            ]
            with engine.begin() as conn:
                conn.execute(table.insert(), rows)
    finally:
        engine.dispose()
    took = time.monotonic() - started
    say(f"added {count:,} expired and {count:,} valid references in {took:.0f} s")


def references_state(target: Target) -> dict[str, int]:
    """The look-up references table: its rows, how many expired, and on PostgreSQL its dead
    rows (deleted, not yet vacuumed), which a DELETE by expiry walks again."""
    from sqlalchemy import func, select

    from portal.replay.models import LookupReference

    table = LookupReference.__table__
    engine = target.engine_()
    try:
        with engine.connect() as conn:
            rows, expired = conn.execute(
                select(
                    func.count(),
                    func.count().filter(table.c.expires_at < datetime.now(UTC)),
                ).select_from(table)
            ).one()
    finally:
        engine.dispose()
    state = {"rows": int(rows), "expired": int(expired)}
    if target.engine == "postgresql":
        state["dead"] = target.scalar(
            "SELECT coalesce(max(n_dead_tup), 0) FROM pg_stat_user_tables"
            " WHERE relname = 'lookup_references'"
        )
    return state


def describe_references(state: dict[str, int]) -> str:
    text = f"{state['rows']:,} rows, {state['expired']:,} of them expired"
    if "dead" in state:
        text += f", {state['dead']:,} dead (deleted, not vacuumed)"
    return text


def access_events(target: Target) -> int:
    return target.scalar("SELECT count(*) FROM access_events")


# --- wrk ---------------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(
    url: str, script: Path, args: argparse.Namespace, env: dict[str, str], seconds: int
) -> dict[str, object]:
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--latency"]
    cmd += ["-s", str(script), url]
    try:
        done = subprocess.run(
            cmd, env=env, check=True, capture_output=True, text=True, timeout=seconds + 60
        )
    except subprocess.CalledProcessError as exc:
        fail(f"wrk exited with {exc.returncode}:\n{exc.stdout}{exc.stderr}")
    except subprocess.TimeoutExpired:
        fail(f"wrk did not finish within {seconds + 60} s")
    out = done.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    if not rps or not total:
        fail(f"cannot read wrk's output:\n{out}{done.stderr}")
    latency = {
        f"p{p}_ms": round(float(v) * _UNITS[u], 3)
        for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    }
    if "p50_ms" not in latency or "p99_ms" not in latency:
        fail(f"no latency distribution in wrk's output:\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests_per_s": float(rps.group(1)),
        "requests": int(total.group(1)),
        **latency,
        "non_2xx_3xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": dict(
            zip(("connect", "read", "write", "timeout"), map(int, sock.groups()), strict=True)
        )
        if sock
        else {},
        "stderr": done.stderr.strip(),
    }


def summarise(runs: list[dict[str, object]]) -> dict[str, object]:
    rps = [r["requests_per_s"] for r in runs]
    return {
        "requests_per_s_median": round(statistics.median(rps), 1),
        "requests_per_s_best": max(rps),
        "requests_per_s_runs": rps,
        "p50_ms_median": round(statistics.median(r["p50_ms"] for r in runs), 3),
        "p99_ms_median": round(statistics.median(r["p99_ms"] for r in runs), 3),
        "workers_cpu_ms_per_request_median": round(
            statistics.median(r["workers_cpu_ms_per_request"] for r in runs), 3
        ),
    } | (
        {
            "database_cpu_ms_per_request_median": round(
                statistics.median(r["database_cpu_ms_per_request"] for r in runs), 3
            )
        }
        if all("database_cpu_ms_per_request" in r for r in runs)
        else {}
    )


# --- reporting ---------------------------------------------------------------------------------


def git_commit() -> str | None:
    """The checked-out commit, read from .git (no git command run)."""
    try:
        head = (ROOT / ".git" / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        loose = ROOT / ".git" / ref
        if loose.exists():
            return loose.read_text().strip()
        for line in (ROOT / ".git" / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0]
    except OSError:
        return None
    return None


def mib(kib: int | None) -> str:
    return f"{kib / 1024:.0f}" if kib else "?"


def print_table(result: dict[str, object]) -> None:
    s = result["settings"]
    floor, portal = result["summary"]["floor"], result["summary"]["portal"]
    mem = result["memory"]
    print()
    print(
        f"Look-up vs floor: gunicorn -w {s['workers']} (sync), wrk -t{s['threads']} "
        f"-c{s['connections']} -d{s['duration_s']}s --latency, {s['rounds']} rounds "
        f"alternated; {result['machine']['cpus']} CPUs"
    )
    print(f"Portal: {s['database']}; rate limits for the run: {s['rate_limit']}")
    if s["portal_settings"]:
        print(f"Portal settings for the run: {', '.join(s['portal_settings'])}")
    d = result["dataset"]
    print(
        f"Snapshot: {d['snapshot_persons']:,} persons, {d['snapshot_households']:,} households "
        f"({d['imported_persons']:,} imported"
        + (
            f", the rest copies made in the database in {d['filler_seconds']:.0f} s"
            if d.get("filler_copies")
            else ""
        )
        + ")"
    )
    loads = (
        result["machine"]["load_average_at_start"][0],
        result["machine"]["load_average_at_end"][0],
    )
    print(f"Load average (1 min) at start {loads[0]:.2f}, at end {loads[1]:.2f}")
    print()
    header = (
        f"{'':8} {'req/s':>9} {'best':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11}"
        f"  {'workers RSS MiB':<16}"
    )
    print(header)
    print("-" * len(header))
    for name, row in (("floor", floor), ("portal", portal)):
        rss = " + ".join(mib(k) for k in mem[name]["worker_rss_kib"])
        print(
            f"{name:8} {row['requests_per_s_median']:>9,.0f} {row['requests_per_s_best']:>9,.0f} "
            f"{row['p50_ms_median']:>8.2f} {row['p99_ms_median']:>8.2f} "
            f"{row['workers_cpu_ms_per_request_median']:>11.2f}  {rss}"
        )
    print("-" * len(header))
    ratio = result["summary"]["ratio_median"]
    verdicts = ", ".join(
        f"{'meets' if ratio >= goal else 'BELOW'} {what} of {goal}"
        for what, goal in (("this round's goal", GOAL_THIS_ROUND), ("the goal", GOAL))
    )
    print(f"ratio portal/floor (medians): {ratio:.3f}  ({verdicts})")
    rounds = ", ".join(f"{r:.3f}" for r in result["summary"]["ratio_by_round"])
    print(f"ratio round by round: {rounds}")
    print("req/s: median of the rounds (best: the highest round); the portal's are look-ups/s,")
    print("  a look-up being two requests (POST /, then GET /hasil); the floor's one request")
    p99_met = "met" if result["summary"]["meets_p99_goal"] else "NOT met"
    print(
        "p50, p99: latency of one HTTP request, median of the rounds"
        f" (goal p99 < {P99_GOAL_MS:.0f} ms: {p99_met})"
    )
    print("CPU ms/req: user+system CPU of the gunicorn workers during a run / its look-ups")
    if "database_cpu_ms_per_request_median" in portal:
        print(
            f"  and of the PostgreSQL backends + Redis server on this machine: "
            f"{portal['database_cpu_ms_per_request_median']:.2f} ms a look-up (median)"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=200_000, help="persons in the snapshot")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, both servers")
    parser.add_argument("--duration", type=int, default=20, help="seconds of each wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="floor+portal rounds (alternated)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk warm-up, each")
    parser.add_argument("--limit", default=BENCH_LIMIT, help="both look-up rate limits")
    parser.add_argument("--floor-dir", type=Path, default=FLOOR_DIR, help="the shared floor")
    parser.add_argument(
        "--reuse-data", action="store_true", help="keep bench/out's data sets if they fit"
    )
    parser.add_argument(
        "--engine",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the portal's database; postgresql also keeps the rate limits in Redis, as "
        "production does",
    )
    parser.add_argument(
        "--imported",
        type=int,
        default=200_000,
        help="at most this many persons are generated and imported; a larger --persons is "
        "reached with copies made in the database (see seed_filler)",
    )
    parser.add_argument(
        "--pg-server",
        default=os.environ.get("BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without a database (env BENCH_PG_SERVER)",
    )
    parser.add_argument(
        "--pg-database",
        default=os.environ.get("BENCH_PG_DATABASE", "bench_lookup"),
        help="database name prefix, suffixed with --persons; dropped and created "
        "(env BENCH_PG_DATABASE)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="rate-limit storage with --engine postgresql (env BENCH_REDIS_URL)",
    )
    parser.add_argument(
        "--aged-references",
        type=int,
        default=50_000,
        metavar="N",
        help="before the runs, add N look-up references that expired a minute ago and N "
        "still valid, as a portal holds after an hour of N look-ups a half hour (default "
        "50,000; 0: none, the table as a new portal has it)",
    )
    parser.add_argument(
        "--drop", action="store_true", help="drop the PostgreSQL database at the end"
    )
    parser.add_argument(
        "--json",
        default="lookup.json",
        metavar="NAME",
        help="the file of bench/out/ the figures go to (default lookup.json)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SETTING=VALUE",
        help="a portal setting for the run (repeatable), e.g. ACCESS_LOG_ASYNC_COMMIT=false",
    )
    args = parser.parse_args()
    if args.aged_references < 0:
        parser.error("--aged-references >= 0")
    if Path(args.json).name != args.json or not args.json.endswith(".json"):
        parser.error("--json: a file name ending in .json, without a directory")
    if args.persons < 1000 or args.workers < 1 or args.duration < 1 or args.rounds < 1:
        parser.error("--persons >= 1000, --workers, --duration and --rounds >= 1")
    if args.imported < 1000:
        parser.error("--imported >= 1000")
    if any("=" not in item for item in args.set):
        parser.error("--set takes SETTING=VALUE")

    started = time.monotonic()
    load_before = os.getloadavg()
    if not (args.floor_dir / "floor_app.py").exists():
        fail(
            f"the floor is missing: {args.floor_dir}/floor_app.py (../shared/bench beside the "
            "checkout or the one it was cloned from; --floor-dir or BENCH_FLOOR_DIR points "
            "elsewhere)"
        )
    floor_lua = args.floor_dir / "floor_post.lua"
    if not floor_lua.exists():
        fail(f"the floor's wrk script is missing: {floor_lua}")
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        raise SystemExit(2)
    if importlib.util.find_spec("gunicorn") is None:
        fail("gunicorn is missing: run with the project's venv (.venv/bin/python)")
    if not (ROOT / "translations" / "id" / "LC_MESSAGES" / "messages.mo").exists():
        fail("the catalogs are not compiled: run `make i18n-compile` (make bench does)")
    OUT.mkdir(parents=True, exist_ok=True)

    target = Target(args)
    dataset, keys = portal_dataset(args, target)
    # for bench/profile_lookup.py: the same app, data set and pairs, in-process
    env_file = OUT / f"env-{args.engine}.json"
    env_file.write_text(
        json.dumps({"env": portal_env(keys, args, target), "pairs": str(target.dir / "pairs.csv")})
    )
    env_file.chmod(0o600)
    floor_db = build_floor(args.floor_dir, args.reuse_data)
    pairs = [line.split(",") for line in (target.dir / "pairs.csv").read_text().splitlines()]
    if args.aged_references:
        age_references(target, args.aged_references)
    references_before = references_state(target)
    say(f"look-up references at start: {describe_references(references_before)}")

    floor = Server(
        "floor",
        FLOOR_PORT,
        "floor_app:app",
        args.floor_dir,
        base_env() | {"FLOOR_DB": str(floor_db)},
    )
    portal = Server("portal", PORTAL_PORT, "wsgi:app", ROOT, portal_env(keys, args, target))
    runs: list[dict[str, object]] = []
    try:
        for server, ready in ((floor, "/hello"), (portal, "/readyz")):
            server.start(args.workers)
            server.wait_ready(ready)
            say(
                f"{server.name}: gunicorn -w {args.workers} on {server.url} (pid {server.proc.pid})"
            )
        cookie, token = open_session(portal.url)
        check_answers(portal.url, cookie, token, pairs)
        portal_wrk_env = base_env() | {
            "LOOKUP_PAIRS": str(target.dir / "pairs.csv"),
            "LOOKUP_COOKIE": cookie,
            "LOOKUP_CSRF": urllib.parse.quote(token, safe=""),
        }
        targets = {
            "floor": (floor.url, floor_lua, base_env()),
            "portal": (portal.url, LUA, portal_wrk_env),
        }
        if args.warmup:
            for name, (url, script, env) in targets.items():
                warm = wrk(url, script, args, env, args.warmup)
                say(f"warm-up {name}: {warm['requests_per_s']:,.0f} req/s")
        for round_no in range(1, args.rounds + 1):
            for name, (url, script, env) in targets.items():
                server = floor if name == "floor" else portal
                events = access_events(target) if name == "portal" else 0
                serving = database_pids(target) if name == "portal" else set()
                cpu, served = server.cpu_seconds(), cpu_seconds(serving)
                result = wrk(url, script, args, env, args.duration)
                cpu, served = server.cpu_seconds() - cpu, cpu_seconds(serving) - served
                if name == "portal":
                    # a look-up is two requests (POST, then GET /hasil): count look-ups
                    result["http_requests"] = result["requests"]
                    result["http_requests_per_s"] = result["requests_per_s"]
                    result["requests"] = result["requests"] // 2
                    result["requests_per_s"] = round(result["requests_per_s"] / 2, 1)
                result |= {
                    "server": name,
                    "round": round_no,
                    "workers_cpu_s": round(cpu, 2),
                    "workers_cpu_ms_per_request": round(1000 * cpu / max(result["requests"], 1), 3),
                }
                if serving:
                    result["database_cpu_ms_per_request"] = round(
                        1000 * served / max(result["requests"], 1), 3
                    )
                if name == "portal":
                    written = access_events(target) - events
                    result["access_events_written"] = written
                    result["hit_share"] = round(written / max(result["requests"], 1), 3)
                runs.append(result)
                errors = result["socket_errors"]
                say(
                    f"round {round_no} {name:6}: {result['requests_per_s']:>8,.0f} req/s  "
                    f"p50 {result.get('p50_ms', 0):.2f} ms  p99 {result.get('p99_ms', 0):.2f} ms  "
                    f"CPU {result['workers_cpu_ms_per_request']:.2f} ms/req  "
                    f"non-2xx {result['non_2xx_3xx']}"
                    + (f"  socket errors {errors}" if any(errors.values()) else "")
                    + (f"  hits logged {result['hit_share']:.0%}" if name == "portal" else "")
                )
        memory = {"floor": floor.memory(), "portal": portal.memory()}
        references_after = references_state(target)
        say(f"look-up references at the end: {describe_references(references_after)}")
    finally:
        for server in (portal, floor):
            server.stop()
        if args.drop:
            target.drop()

    bad = [r for r in runs if r["non_2xx_3xx"]]
    floor_runs = [r for r in runs if r["server"] == "floor"]
    portal_runs = [r for r in runs if r["server"] == "portal"]
    summary = {"floor": summarise(floor_runs), "portal": summarise(portal_runs)}
    summary["ratio_median"] = round(
        summary["portal"]["requests_per_s_median"] / summary["floor"]["requests_per_s_median"], 4
    )
    summary["ratio_best"] = round(
        summary["portal"]["requests_per_s_best"] / summary["floor"]["requests_per_s_best"], 4
    )
    summary["ratio_by_round"] = [
        round(p["requests_per_s"] / f["requests_per_s"], 4)
        for f, p in zip(floor_runs, portal_runs, strict=True)
    ]
    summary["goal_this_round"] = GOAL_THIS_ROUND
    summary["meets_goal_this_round"] = summary["ratio_median"] >= GOAL_THIS_ROUND
    summary["goal"] = GOAL
    summary["meets_goal"] = summary["ratio_median"] >= GOAL
    summary["p99_goal_ms"] = P99_GOAL_MS
    summary["meets_p99_goal"] = summary["portal"]["p99_ms_median"] < P99_GOAL_MS
    summary["valid"] = not bad
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            # other work on the machine shows here (the runs themselves load it too)
            "load_average_at_start": [round(x, 2) for x in load_before],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "settings": {
            "workers": args.workers,
            "worker_class": "sync",
            "threads": args.threads,
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "order": "floor, portal, alternated",
            "rate_limit": f"LOOKUP_LIMIT = {args.limit!r}, DTSEN_FREE_MISSES = {FREE_MISSES}",
            "portal_settings": args.set,
            "engine": args.engine,
            "database": target.describe(),
            "ratelimit_storage": target.limits,
            "portal_env": "production (bench keys in bench/out/keys.json)",
        },
        "dataset": dataset,
        "aged_references": args.aged_references,
        "references": {"at_start": references_before, "at_end": references_after},
        "floor_rows": FLOOR_ROWS,
        "runs": runs,
        "summary": summary,
        "memory": memory,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    (OUT / args.json).write_text(json.dumps(result, indent=2) + "\n")
    print_table(result)
    say(f"figures written to {(OUT / args.json).relative_to(ROOT)}")
    if bad:
        fail(
            "non-2xx/3xx responses in "
            + ", ".join(f"round {r['round']} {r['server']} ({r['non_2xx_3xx']})" for r in bad)
            + ": the figures are not valid (a 400 or 429 answers faster than a look-up). "
            f"See {OUT.relative_to(ROOT)}/gunicorn-*.log"
        )


if __name__ == "__main__":
    main()
