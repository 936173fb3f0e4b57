"""Load test (`make load`): a bounded mix of what citizens and staff do, against the portal
served as in production, for a fixed time, with every answer checked.

The portal runs under gunicorn with deploy/gunicorn.conf.py (sync workers, PORTAL_ENV=
production) on PostgreSQL + Redis by default (a database created for the run and dropped
after it; --database-url for one of yours, --sqlite for SQLite, --no-redis for in-process
limits and database staff sessions). The data: a generated snapshot of Kabupaten Bekasi
(--persons, as bench/lookup_vs_floor.py builds it), a signed-in admin_dinsos of 32.16
(enrolled through the real enrolment page with a TOTP code), and cases filed through the
real question pages before the run.

The mix runs for --duration seconds, all kinds at once, each on its own connections (closed
loop: a connection sends its next request when the answer to the last one is in):

    lookup_hit   POST / with a member's NIK + No. KK, then GET /hasil (shows the household)
    lookup_miss  the same with a valid pair that matches nothing (shows no household)
    track        POST /lacak with a ticket + the filer's NIK, then GET /lacak/kasus
    filing       a whole sanggahan or usulan, page by page (about 16 requests), to a receipt:
                 Python threads (http.client), as a phone browser without JavaScript
    queue        GET /staf/ (the queue of the officer's kabupaten)
    case         GET /staf/kasus/<id> (a case page)
    dashboard    GET /staf/dasbor

The wrk kinds run in one wrk process each (bench/load_mix.lua), one connection a wrk thread so
that each answer is checked against its request. Rate limits are set high for the run (they
are checked on every request, never refuse); a 429 would still be counted apart.

Printed and written to bench/out/load.json: req/s, p50/p99 per kind and overall, CPU of the
gunicorn workers per request, the status classes, and the count of answers that are not
2xx/3xx/429 and of answers that are not what the request asked for (a redirect to the
sign-in page, a hit without its household): both must be 0, else the exit status is 1. wrk
missing: exit 2.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import platform
import random
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import summary as stats
from lookup_vs_floor import (
    KABUPATEN,
    DataSet,
    Server,
    base_env,
    fail,
    flask_cli,
    git_commit,
    open_session,
    say,
)

try:
    import pyotp
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from portal.dataimport.demo import House, write_csv
except ModuleNotFoundError as exc:
    raise SystemExit(
        f"run with the project's venv: .venv/bin/python bench/load.py ({exc})"
    ) from None

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
LUA = ROOT / "bench" / "load_mix.lua"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
HOST = "127.0.0.1"
PORT = 8102
HIGH = "1000000 per second"
# Every limit the mix meets, so that none refuses during the run (they are still counted).
LIMITS = (
    "LOOKUP_LIMIT",
    "APPEAL_LIMIT",
    "APPEAL_FILER_LIMIT",
    "TRACK_LIMIT",
    "DRAFT_LIMIT",
    "PHOTO_LIMIT",
    "STAFF_LOGIN_LIMIT",
    "STAFF_LOGIN_ACCOUNT_LIMIT",
)
WRK_KINDS = ("lookup_hit", "lookup_miss", "track", "queue", "case", "dashboard")
KINDS = (*WRK_KINDS, "filing")
DEFAULT_MIX = "lookup_hit=7,lookup_miss=2,track=2,filing=2,queue=1,case=1,dashboard=1"
ADMIN = "load.admin@dinsos.example.go.id"
PASSWORD = "beban uji enam puluh detik 2026"  # noqa: S105 (a bench account, dropped after)
NOTE = "Rumahnya besar dan punya mobil baru sejak tahun lalu."
CONDITIONS = {
    "work": "casual",
    "income": "lt1",
    "floor": "earth",
    "walls": "bamboo",
    "water": "unprotected",
    "electricity": "450",
    "sanitation": "shared",
}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
TICKET = re.compile(r'class="ticket"[^>]*>([^<]+)<')
SECRET = re.compile(r'class="qr__secret"[^>]*>([^<]+)<')


def parse_mix(text_: str) -> dict[str, int]:
    mix = dict.fromkeys(KINDS, 0)
    for item in text_.split(","):
        name, sep, count = item.strip().partition("=")
        if not sep or name not in mix or not count.isdigit():
            raise argparse.ArgumentTypeError(f"kind=connections pairs of {', '.join(KINDS)}")
        mix[name] = int(count)
    if not any(mix.values()):
        raise argparse.ArgumentTypeError("at least one connection")
    return mix


# --- a browser without JavaScript ------------------------------------------------------------


@dataclass
class Answer:
    status: int
    location: str  # the path of the Location header, "" if none
    body: str
    seconds: float


class Browser:
    """One person's browser: its cookies (all sent on every request; the portal's are
    Secure, which plain-HTTP loopback must ignore), no redirect followed."""

    def __init__(
        self, port: int, on_answer: Any = None, stop: threading.Event | None = None
    ) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.on_answer = on_answer
        self.stop = stop  # once set, nothing more is sent: the run is over

    def send(self, method: str, path: str, form: dict[str, Any] | None = None) -> Answer:
        if self.stop is not None and self.stop.is_set():
            raise RunOver
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            text_ = resp.read().decode(errors="replace")
        finally:
            conn.close()
        seconds = time.perf_counter() - started
        for raw in resp.headers.get_all("Set-Cookie") or []:
            name, _, value = raw.split(";", 1)[0].partition("=")
            gone = not value or "max-age=0" in raw.lower() or "1970" in raw
            if gone:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        location = urllib.parse.urlsplit(resp.getheader("Location") or "").path
        answer = Answer(resp.status, location, text_, seconds)
        if self.on_answer is not None:
            self.on_answer(answer)
        return answer


class RunOver(Exception):
    """The run ended in the middle of a filing: it is left there, not counted."""


class StepFailed(RuntimeError):
    def __init__(self, answer: Answer, what: str) -> None:
        super().__init__(f"{what}: HTTP {answer.status} (to {answer.location or '-'})")
        self.answer = answer


def token_of(answer: Answer, what: str) -> str:
    found = CSRF.search(answer.body)
    if answer.status != 200 or not found:
        raise StepFailed(answer, f"{what}: no form")
    return found.group(1) or found.group(2)


def answers_for(kind: str, filer: House, about: House) -> dict[str, dict[str, Any]]:
    """Complete answers (as tests/appeals/conftest.py answers_for): a sanggahan INC-MAMPU
    about another household, or an usulan USUL-PROGRAM for the filer's own."""
    head = filer.members[0]
    answers: dict[str, dict[str, Any]] = {
        "pelapor": {"nik": head.nik, "no_kk": filer.no_kk},
        "kontak": {"phone": "0812 3456 7890", "email": ""},
    }
    if kind == "sanggahan":
        answers["alasan"] = {"reason": "INC-MAMPU"}
        answers["subjek"] = {
            "whose": "other",
            "subject_name": "Pak Budi",
            "subject_alamat": "KP. SAGARA, dekat masjid",
            "subject_rt": "2",
            "subject_rw": "5",
            "desa": about.kode_desa,
            "subject_nik": about.members[0].nik,
        }
        answers["rincian"] = {"evidence": ["house"], "note": NOTE}
    else:
        answers["alasan"] = {"reason": "USUL-PROGRAM"}
        answers["rumah-tangga"] = {
            "no_kk": filer.no_kk,
            "head_nik": head.nik,
            "alamat": filer.alamat,
        }
        answers["desa"] = {"desa": filer.kode_desa}
        answers["program"] = {"programs": ["PKH"]}
        answers["kondisi"] = dict(CONDITIONS)
    return answers


def file_case(browser: Browser, kind: str, answers: dict[str, dict[str, Any]]) -> str:
    """Walk the question pages (GET each page, POST its form with its csrf_token, follow the
    Location), send the check page, read the ticket on the receipt."""
    path = f"/{kind}/alasan"
    for __ in range(20):
        slug = path.rsplit("/", 1)[-1]
        token = token_of(browser.send("GET", path), path)
        if slug == "periksa":
            data: dict[str, Any] = {"declaration": "y"}
        elif slug == "foto":
            data = {"action": "continue"}
        else:
            data = answers[slug]
        sent = browser.send("POST", path, {"csrf_token": token, **data})
        if sent.status not in (302, 303) or not sent.location or sent.location == path:
            raise StepFailed(sent, f"POST {path} refused")
        if slug == "periksa":
            if sent.location != "/tanda-terima":
                raise StepFailed(sent, "the check page did not lead to the receipt")
            receipt = browser.send("GET", "/tanda-terima")
            found = TICKET.search(receipt.body)
            if receipt.status != 200 or not found:
                raise StepFailed(receipt, "no ticket on the receipt")
            return found.group(1).strip()
        path = sent.location
    raise RuntimeError(f"the {kind} journey does not end")


class Filers:
    """Households that file, each once (a filer files few cases a day), thread-safe."""

    def __init__(self, houses: list[House], seed: int) -> None:
        rng = random.Random(seed)
        # usulan USUL-PROGRAM: an eligible household that does not receive PKH yet
        self.usulan = [h for h in houses if h.desil <= 4 and "PKH" not in h.members[0].programs]
        self.sanggahan = list(houses)
        rng.shuffle(self.usulan)
        rng.shuffle(self.sanggahan)
        self.houses = houses
        self.rng = rng
        self.used: set[str] = set()
        self.lock = threading.Lock()
        self.count = 0

    def next(self) -> tuple[str, House, House]:
        with self.lock:
            self.count += 1
            kind = "usulan" if self.count % 2 == 0 else "sanggahan"
            pool = self.usulan if kind == "usulan" else self.sanggahan
            while pool:
                filer = pool.pop()
                if filer.no_kk not in self.used:
                    break
            else:
                raise RuntimeError("no household left to file: use more --persons")
            self.used.add(filer.no_kk)
            about = self.rng.choice(self.houses)
            while about is filer:
                about = self.rng.choice(self.houses)
            return kind, filer, about


# --- the portal --------------------------------------------------------------------------------


class ProductionServer(Server):
    """gunicorn with deploy/gunicorn.conf.py, as deployed; its access log goes to the log
    file. max_requests is 0 for the run: a recycled worker takes its CPU time with it."""

    def start(self, workers: int) -> None:
        cmd = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF)]
        cmd += ["-w", str(workers), "-b", f"{HOST}:{self.port}", "--max-requests", "0"]
        cmd += ["--chdir", str(self.chdir), self.app]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=self.chdir, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )


@dataclass
class Target:
    """Where the run's data lives and how to clean up after it."""

    database_url: str
    redis_url: str | None
    key_prefix: str
    created_db: str | None = None  # dropped at the end
    admin_url: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def engine_name(self) -> str:
        return "sqlite" if self.database_url.startswith("sqlite") else "postgresql"


def prepare_target(args: argparse.Namespace) -> Target:
    prefix = f"load-{secrets.token_hex(4)}"
    redis_url = None if args.no_redis else args.redis_url
    if args.sqlite:
        path = OUT / "load.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return Target(f"sqlite:///{path}", redis_url, prefix)
    if args.database_url:
        return Target(args.database_url, redis_url, prefix)
    admin = make_url(args.pg_url)
    name = args.db_name
    engine = create_engine(admin.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    url = admin.set(drivername="postgresql+psycopg", database=name)
    return Target(
        url.render_as_string(hide_password=False),
        redis_url,
        prefix,
        created_db=name,
        admin_url=args.pg_url,
    )


def cleanup_target(target: Target, keep: bool) -> None:
    if target.redis_url:
        try:
            import redis

            client = redis.Redis.from_url(target.redis_url)
            keys = list(client.scan_iter(match=f"{target.key_prefix}*", count=1000))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])
            client.close()
        except Exception as exc:  # cleaning up must not hide the run's result
            say(f"could not delete the run's Redis keys ({target.key_prefix}*): {exc}")
    if target.created_db and not keep:
        engine = create_engine(
            make_url(target.admin_url).set(drivername="postgresql+psycopg"),
            isolation_level="AUTOCOMMIT",
        )
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.created_db}" WITH (FORCE)'))
        engine.dispose()
        say(f"dropped database {target.created_db}")


def portal_env(keys: dict[str, str], target: Target) -> dict[str, str]:
    env = base_env() | {
        "PORTAL_ENV": "production",
        "SECRET_KEY": keys["SECRET_KEY"],
        "NIK_HMAC_KEY": keys["NIK_HMAC_KEY"],
        "DATABASE_URL": target.database_url,
        "RATELIMIT_KEY_PREFIX": target.key_prefix,
        "DTSEN_FREE_MISSES": "1000",  # a miss pair may come back many times in a run
        "UPLOAD_DIR": str(OUT / "load-uploads"),
        "INSTANCE_PATH": str(OUT / "load-instance"),
    }
    env |= dict.fromkeys(LIMITS, HIGH)
    if target.redis_url:
        env["REDIS_URL"] = target.redis_url
    else:
        env["RATELIMIT_STORAGE_URI"] = "memory://"
    return env


def desas_of(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT code FROM wilayah WHERE level = 4 AND code LIKE :p"),
            {"p": f"{KABUPATEN}.%"},
        ).all()
    engine.dispose()
    return [r[0] for r in rows]


def case_ids(database_url: str) -> list[int]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM appeals ORDER BY id")).all()]
    engine.dispose()
    return ids


def build_data(args: argparse.Namespace, env: dict[str, str], target: Target) -> tuple[Any, dict]:
    say(f"data set on {target.engine_name}: db upgrade, wilayah import")
    flask_cli(env, "db", "upgrade")
    print("  " + flask_cli(env, "wilayah", "import").splitlines()[0])
    desas = desas_of(target.database_url)
    if not desas:
        fail(f"no desa of {KABUPATEN} in the region table after `wilayah import`")
    today = date.today()
    period = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    data = DataSet(args.persons, today, desas)
    csv_path = OUT / "load-snapshot.csv"
    write_csv(csv_path, period, data.houses)
    say(
        f"flask --app portal dtsen import ({args.persons:,} persons, "
        f"{len(data.houses):,} households)"
    )
    line = flask_cli(env, "dtsen", "import", str(csv_path)).strip()
    print(f"  {line}")
    pairs = data.pairs(20_000)
    for wanted, name in (("hit", "load-hits.csv"), ("miss", "load-misses.csv")):
        with (OUT / name).open("w") as fh:
            fh.writelines(f"{n},{k}\n" for n, k, e in pairs if e == wanted)
    return data, {
        "persons": args.persons,
        "households": len(data.houses),
        "period": period,
        "import_line": line,
        "pairs": len(pairs),
    }


def enrol_admin(env: dict[str, str], port: int) -> Browser:
    """An admin_dinsos of 32.16, created by the CLI and enrolled through its link (password
    and the authenticator's code), as an officer does; the browser holds its staff cookie."""
    out = flask_cli(
        env,
        "staff",
        "create",
        "--email",
        ADMIN,
        "--name",
        "Load Test Admin",
        "--role",
        "admin_dinsos",
        "--region",
        KABUPATEN,
        "--base-url",
        f"http://{HOST}:{port}",
    )
    link = urllib.parse.urlsplit(out.strip().rsplit(" ", 1)[-1]).path
    officer = Browser(port)
    page = officer.send("GET", link)
    secret = SECRET.search(page.body)
    token = token_of(page, "the enrolment page")
    if not secret:
        fail("the enrolment page shows no key")
    code = pyotp.TOTP(secret.group(1).replace(" ", "")).now()
    form = {"csrf_token": token, "password": PASSWORD, "confirm": PASSWORD, "code": code}
    done = officer.send("POST", link, form)
    if done.status != 302 or "dtsen_staff" not in officer.cookies:
        fail(f"enrolment refused: HTTP {done.status}")
    return officer


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the filing threads saw (one lock: a few hundred requests a second at most)."""

    latencies: list[float] = field(default_factory=list)
    classes: dict[str, int] = field(
        default_factory=lambda: {"2xx": 0, "3xx": 0, "429": 0, "other": 0}
    )
    filed: int = 0
    failed: int = 0
    unexpected: list[str] = field(default_factory=list)
    filing_seconds: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, a: Answer) -> None:
        with self.lock:
            self.latencies.append(a.seconds * 1000)
            self.classes[status_class(a.status)] += 1


def status_class(status: int) -> str:
    if status == 429:
        return "429"
    if 200 <= status < 400:
        return f"{status // 100}xx"
    return "other"


def filing_thread(port: int, filers: Filers, tally: Tally, stop: threading.Event) -> None:
    while not stop.is_set():
        kind, filer, about = filers.next()
        browser = Browser(port, tally.answer, stop)
        started = time.perf_counter()
        try:
            file_case(browser, kind, answers_for(kind, filer, about))
        except RunOver:
            return
        except (StepFailed, OSError, http.client.HTTPException) as exc:
            with tally.lock:
                tally.failed += 1
                tally.unexpected.append(f"{kind}: {exc}")
            continue
        with tally.lock:
            tally.filed += 1
            tally.filing_seconds.append(time.perf_counter() - started)


def start_wrk(kind: str, connections: int, args: argparse.Namespace, env: dict[str, str]):
    report = OUT / f"load-wrk-{kind}.txt"
    report.unlink(missing_ok=True)
    cmd = ["wrk", f"-t{connections}", f"-c{connections}", f"-d{args.duration}s"]
    cmd += ["--timeout", "30s", "-s", str(LUA), f"http://{HOST}:{PORT}"]
    kind_env = env | {"LOAD_KIND": kind, "LOAD_REPORT": str(report)}
    proc = subprocess.Popen(cmd, env=kind_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return proc, report


def read_report(path: Path) -> dict[str, Any]:
    """What load_mix.lua's done() wrote."""
    found: dict[str, Any] = {"quantiles_ms": []}
    for line in path.read_text().splitlines():
        key, _, rest = line.partition(" ")
        if key == "q":
            found["quantiles_ms"].append(float(rest.split()[1]) / 1000)
        elif key == "errors":
            names = ("connect", "read", "write", "timeout", "status")
            found["socket_errors"] = dict(zip(names, map(int, rest.split()), strict=True))
        elif key == "first_unexpected":
            found[key] = rest
        else:
            found[key] = int(float(rest))
    return found


def jiffies(pid: int) -> int | None:
    """utime + stime of a process (fields 14 and 15 of /proc/<pid>/stat), None if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def backend_cpu(target: Target) -> dict[int, int]:
    """CPU so far of each PostgreSQL backend connected to the run's database, when the
    server runs on this machine (its processes are in /proc); {} otherwise. The workers'
    pools keep their connections, so the same backends serve the whole run."""
    if target.engine_name != "postgresql":
        return {}
    engine = create_engine(target.database_url)
    try:
        with engine.connect() as conn:
            pids = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalars()
            found = {pid: jiffies(pid) for pid in pids}
    finally:
        engine.dispose()
    return {pid: j for pid, j in found.items() if j is not None}


def head_commit() -> str | None:
    """The commit, from git itself (a worktree's .git is a file git_commit() cannot read)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def cpu_busy() -> tuple[int, int]:
    """Busy and total jiffies of the whole machine (/proc/stat), to tell how full it was."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def kind_figures(
    requests: int, seconds: float, qs: list[float], classes: dict[str, int], unexpected: int
) -> dict[str, Any]:
    p = stats.merge_percentiles([(requests, qs)], (50, 99))
    return {
        "requests": requests,
        "requests_per_s": round(requests / seconds, 1) if seconds else 0.0,
        "p50_ms": round(p[50], 2) if p[50] is not None else None,
        "p99_ms": round(p[99], 2) if p[99] is not None else None,
        "status": classes,
        "unexpected": unexpected,
        "quantiles_ms": [round(q, 3) for q in qs],
    }


def measure(
    args: argparse.Namespace,
    portal: Server,
    wrk_env: dict[str, str],
    filers: Filers,
    target: Target,
) -> tuple[dict[str, Any], Tally, dict[str, Any]]:
    tally = Tally()
    stop = threading.Event()
    cpu_before, busy_before = portal.cpu_seconds(), cpu_busy()
    backends_before = backend_cpu(target)
    started = time.monotonic()
    running = {
        kind: start_wrk(
            kind, args.mix[kind], args, wrk_env | {"LOAD_DATA": wrk_env[f"data_{kind}"]}
        )
        for kind in WRK_KINDS
        if args.mix[kind]
    }
    workers = [
        threading.Thread(target=filing_thread, args=(PORT, filers, tally, stop), daemon=True)
        for __ in range(args.mix["filing"])
    ]
    for w in workers:
        w.start()
    time.sleep(args.duration)
    stop.set()
    for w in workers:
        w.join(timeout=60)
    results: dict[str, Any] = {}
    for kind, (proc, report) in running.items():
        out, err = proc.communicate(timeout=args.duration + 120)
        if proc.returncode != 0 or not report.exists():
            fail(f"wrk ({kind}) exited with {proc.returncode}:\n{out.decode()}{err.decode()}")
        results[kind] = read_report(report)
    elapsed = time.monotonic() - started
    busy_after = cpu_busy()
    backends_after = backend_cpu(target)
    backends = sum(j - backends_before.get(pid, 0) for pid, j in backends_after.items())
    machine = {
        "workers_cpu_s": round(portal.cpu_seconds() - cpu_before, 2),
        # backends that ended during the run are missed (the pools keep theirs open)
        "postgres_backends_cpu_s": (
            round(backends / os.sysconf("SC_CLK_TCK"), 2) if backends_after else None
        ),
        "elapsed_s": round(elapsed, 1),
        "machine_cpu_busy_share": round(
            (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1]), 3
        ),
    }
    return results, tally, machine


def check_by_hand(port: int, session: Browser, officer: Browser, data: dict[str, str]) -> None:
    """One request of each kind before the run, with its answer read: the wrk checks only
    see what load_mix.lua looks for."""
    for kind, expect in (("lookup_hit", True), ("lookup_miss", False)):
        nik, kk = Path(data[f"data_{kind}"]).read_text().splitlines()[0].split(",")
        token = token_of(session.send("GET", "/"), "the look-up form")
        sent = session.send("POST", "/", {"nik": nik, "no_kk": kk, "csrf_token": token})
        page = session.send("GET", sent.location or "/")
        if sent.location != "/hasil" or page.status != 200 or ("desil-card" in page.body) != expect:
            fail(f"{kind} check: HTTP {sent.status} to {sent.location!r}, then {page.status}")
    ticket, nik = Path(data["data_track"]).read_text().splitlines()[0].split(",")
    token = token_of(session.send("GET", "/lacak"), "the tracking form")
    sent = session.send("POST", "/lacak", {"ticket": ticket, "nik": nik, "csrf_token": token})
    page = session.send("GET", sent.location or "/lacak")
    if sent.location != "/lacak/kasus" or ticket not in page.body:
        fail(f"track check: HTTP {sent.status} to {sent.location!r}, then {page.status}")
    case_id = Path(data["data_case"]).read_text().split()[0]
    for path in ("/staf/", f"/staf/kasus/{case_id}", "/staf/dasbor"):
        page = officer.send("GET", path)
        if page.status != 200:
            fail(f"staff check: GET {path} answered {page.status}")
    say("checked by hand: a hit, a miss, a tracked case, the queue, a case page, the dashboard")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (60)")
    parser.add_argument("--persons", type=int, default=100_000, help="persons in the snapshot")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--mix", type=parse_mix, default=parse_mix(DEFAULT_MIX),
                        help=f"connections per kind (default {DEFAULT_MIX})")  # fmt: skip
    parser.add_argument("--cases", type=int, default=20, help="cases filed before the run")
    parser.add_argument("--quick", action="store_true",
                        help="a short run for make bench: 20 s, 20,000 persons")  # fmt: skip
    where = parser.add_argument_group("where the data lives (default: PostgreSQL + Redis)")
    where.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                       help="a PostgreSQL server to create the run's database on")  # fmt: skip
    where.add_argument("--db-name", default="bench_load",
                       help="the database created for the run and dropped after it")  # fmt: skip
    where.add_argument("--database-url", help="an existing, empty database instead (kept)")
    where.add_argument("--sqlite", action="store_true", help="SQLite in bench/out/load.sqlite")
    where.add_argument("--redis-url", default="redis://127.0.0.1:6379/0",
                       help="Redis for rate limits and staff sessions (the run's keys have "
                       "their own prefix and are deleted after it)")  # fmt: skip
    where.add_argument("--no-redis", action="store_true",
                       help="in-process rate limits, staff sessions in the database")  # fmt: skip
    where.add_argument("--keep-db", action="store_true", help="do not drop the created database")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.persons = min(args.duration, 20), min(args.persons, 20_000)
    if args.persons < 5_000 or args.duration < 5 or args.workers < 1 or args.cases < 2:
        parser.error("--persons >= 5000, --duration >= 5, --workers >= 1, --cases >= 2")

    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        raise SystemExit(2)
    if importlib.util.find_spec("gunicorn") is None:
        fail("gunicorn is missing: run with the project's venv (.venv/bin/python)")
    if not (ROOT / "translations" / "id" / "LC_MESSAGES" / "messages.mo").exists():
        fail("the catalogs are not compiled: run `make i18n-compile` (make load does)")
    OUT.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    keys = {"SECRET_KEY": secrets.token_hex(32), "NIK_HMAC_KEY": secrets.token_hex(32)}
    target = prepare_target(args)
    env = portal_env(keys, target)
    portal = ProductionServer("load", PORT, "wsgi:app", ROOT, env)
    try:
        data, dataset = build_data(args, env, target)
        portal.start(args.workers)
        portal.wait_ready("/readyz", timeout=60)
        say(f"portal: gunicorn -c deploy/gunicorn.conf.py -w {args.workers} on {portal.url}")
        officer = enrol_admin(env, PORT)
        say(f"{ADMIN} enrolled and signed in (admin_dinsos, {KABUPATEN})")
        filers = Filers(data.houses, seed=11)
        tracked = []
        for __ in range(args.cases):
            kind, filer, about = filers.next()
            try:
                ticket = file_case(Browser(PORT), kind, answers_for(kind, filer, about))
            except StepFailed as exc:
                fail(f"filing a {kind} before the run: {exc}")
            tracked.append((ticket, filer.members[0].nik))
        (OUT / "load-tracks.csv").write_text("".join(f"{t},{n}\n" for t, n in tracked))
        (OUT / "load-cases.csv").write_text(
            "".join(f"{i}\n" for i in case_ids(target.database_url))
        )
        say(f"{len(tracked)} cases filed through the question pages (half sanggahan, half usulan)")
        cookie, token = open_session(portal.url)
        wrk_env = base_env() | {
            "LOAD_COOKIE": cookie.split(";")[0],
            "LOAD_CSRF": urllib.parse.quote(token, safe=""),
            "LOAD_STAFF_COOKIE": f"dtsen_staff={officer.cookies['dtsen_staff']}",
            "data_lookup_hit": str(OUT / "load-hits.csv"),
            "data_lookup_miss": str(OUT / "load-misses.csv"),
            "data_track": str(OUT / "load-tracks.csv"),
            "data_case": str(OUT / "load-cases.csv"),
            "data_queue": "",
            "data_dashboard": "",
        }
        session = Browser(PORT)
        check_by_hand(PORT, session, officer, wrk_env)
        mix = ", ".join(f"{k} {v}" for k, v in args.mix.items() if v)
        say(f"load: {args.duration} s, connections: {mix}")
        results, tally, machine = measure(args, portal, wrk_env, filers, target)
        memory = portal.memory()
    finally:
        portal.stop()
        cleanup_target(target, args.keep_db)

    result = report(args, results, tally, machine, memory, dataset, target, load_before)
    (OUT / "load.json").write_text(json.dumps(result, indent=2) + "\n")
    print_table(result)
    say(f"figures written to {(OUT / 'load.json').relative_to(ROOT)}")
    s = result["summary"]
    if s["not_2xx_3xx_429"] or s["unexpected"] or s["socket_errors"]:
        first = "; ".join(result["first_unexpected"][:3])
        fail(
            f"{s['not_2xx_3xx_429']} answers not 2xx/3xx/429, {s['unexpected']} unexpected "
            f"answers, {s['socket_errors']} socket errors ({first}). See "
            f"{OUT.relative_to(ROOT)}/gunicorn-load.log"
        )


def report(
    args: argparse.Namespace,
    results: dict[str, Any],
    tally: Tally,
    machine: dict[str, Any],
    memory: dict[str, Any],
    dataset: dict[str, Any],
    target: Target,
    load_before: tuple[float, float, float],
) -> dict[str, Any]:
    seconds = args.duration
    kinds: dict[str, Any] = {}
    firsts = []
    socket_errors = 0
    for kind, r in results.items():
        classes = {"2xx": r["n2xx"], "3xx": r["n3xx"], "429": r["n429"], "other": r["nother"]}
        figures = kind_figures(
            r["requests"], r["duration_us"] / 1e6, r["quantiles_ms"], classes, r["unexpected"]
        )
        errors = {k: v for k, v in r["socket_errors"].items() if k != "status"}
        figures["socket_errors"] = errors
        figures["connections"] = args.mix[kind]
        socket_errors += sum(errors.values())
        kinds[kind] = figures
        if r.get("first_unexpected"):
            firsts.append(r["first_unexpected"])
    if args.mix["filing"]:
        figures = kind_figures(
            len(tally.latencies),
            seconds,
            stats.quantiles(tally.latencies),
            tally.classes,
            len(tally.unexpected),
        )
        figures["connections"] = args.mix["filing"]
        figures["filings_completed"] = tally.filed
        figures["filings_per_minute"] = round(tally.filed * 60 / seconds, 1)
        figures["filing_seconds_median"] = (
            round(sorted(tally.filing_seconds)[len(tally.filing_seconds) // 2], 2)
            if tally.filing_seconds
            else None
        )
        kinds["filing"] = figures
        firsts.extend(tally.unexpected)
    total = sum(k["requests"] for k in kinds.values())
    overall = stats.merge_percentiles(
        [(k["requests"], k["quantiles_ms"]) for k in kinds.values()], (50, 99)
    )
    classes = {
        c: sum(k["status"][c] for k in kinds.values()) for c in ("2xx", "3xx", "429", "other")
    }
    unexpected = sum(k["unexpected"] for k in kinds.values())
    summary = {
        "requests": total,
        "requests_per_s": round(total / seconds, 1),
        "p50_ms": round(overall[50], 2) if overall[50] is not None else None,
        "p99_ms": round(overall[99], 2) if overall[99] is not None else None,
        "lookups_per_s": round(
            sum(kinds[k]["requests"] for k in ("lookup_hit", "lookup_miss") if k in kinds)
            / 2
            / seconds,
            1,
        ),
        "filings_completed": tally.filed if args.mix["filing"] else 0,
        "answers_429": classes["429"],
        "not_2xx_3xx_429": classes["other"],
        "unexpected": unexpected,
        "socket_errors": socket_errors,
        "workers_cpu_ms_per_request": round(1000 * machine["workers_cpu_s"] / max(total, 1), 2),
        "postgres_cpu_ms_per_request": (
            round(1000 * machine["postgres_backends_cpu_s"] / max(total, 1), 2)
            if machine["postgres_backends_cpu_s"] is not None
            else None
        ),
        "machine_cpu_busy_share": machine["machine_cpu_busy_share"],
        "valid": not (classes["other"] or unexpected or socket_errors),
    }
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit() or head_commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in load_before],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            **machine,
        },
        "settings": {
            "duration_s": seconds,
            "workers": args.workers,
            "server": "gunicorn -c deploy/gunicorn.conf.py (sync, max_requests 0), production",
            "database": target.engine_name,
            "rate_limit_storage": "redis" if target.redis_url else "memory://",
            "staff_sessions": "redis" if target.redis_url else "database",
            "rate_limits": f"{', '.join(LIMITS)} = {HIGH!r}; DTSEN_FREE_MISSES = 1000",
            "mix_connections": {k: v for k, v in args.mix.items() if v},
            "cases_filed_before": args.cases,
        },
        "dataset": dataset,
        "kinds": kinds,
        "summary": summary,
        "first_unexpected": firsts[:10],
        "memory": memory,
    }


def print_table(result: dict[str, Any]) -> None:
    s, m = result["settings"], result["machine"]
    print()
    print(
        f"Load: {s['duration_s']} s, gunicorn -w {s['workers']} (sync), {s['database']} + "
        f"{s['rate_limit_storage']}, {result['dataset']['persons']:,} persons; {m['cpus']} CPUs"
    )
    print(
        f"Load average (1 min) at start {m['load_average_at_start'][0]:.2f}, at end "
        f"{m['load_average_at_end'][0]:.2f}; machine CPU busy {m['machine_cpu_busy_share']:.0%}"
    )
    print()
    header = (
        f"{'kind':12} {'conns':>5} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'2xx':>7} {'3xx':>7} {'429':>5} {'other':>5} {'unexp':>5}"
    )
    print(header)
    print("-" * len(header))
    rows = list(result["kinds"].items())
    total = result["summary"]
    for name, k in rows:
        st = k["status"]
        print(
            f"{name:12} {k['connections']:>5} {k['requests']:>9,} {k['requests_per_s']:>8,.1f} "
            f"{k['p50_ms'] or 0:>8.1f} {k['p99_ms'] or 0:>8.1f} {st['2xx']:>7,} {st['3xx']:>7,} "
            f"{st['429']:>5} {st['other']:>5} {k['unexpected']:>5}"
        )
    print("-" * len(header))
    conns = sum(k["connections"] for _, k in rows)
    print(
        f"{'all':12} {conns:>5} {total['requests']:>9,} {total['requests_per_s']:>8,.1f} "
        f"{total['p50_ms'] or 0:>8.1f} {total['p99_ms'] or 0:>8.1f}"
    )
    filing = result["kinds"].get("filing")
    if filing:
        print(
            f"filings completed: {filing['filings_completed']} "
            f"({filing['filings_per_minute']}/min, median "
            f"{stats.show(filing['filing_seconds_median'])} s each, about 16 requests)"
        )
    print(
        f"look-ups: {total['lookups_per_s']}/s (a look-up is a POST and a GET); CPU a request: "
        f"gunicorn workers {total['workers_cpu_ms_per_request']} ms, PostgreSQL backends "
        f"{stats.show(total['postgres_cpu_ms_per_request'])} ms"
    )
    print(
        f"answers not 2xx/3xx/429: {total['not_2xx_3xx_429']} (must be 0); unexpected: "
        f"{total['unexpected']} (must be 0); 429: {total['answers_429']}; socket errors: "
        f"{total['socket_errors']}"
    )
    print("p50/p99 per kind: its requests; 'all': the kinds' distributions merged (0.5 % steps)")
    print()


if __name__ == "__main__":
    main()
