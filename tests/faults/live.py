"""The portal served for real, for the fault tests: a PostgreSQL cluster of the test's own (so
it can be stopped without touching the machine's), the portal migrated and loaded with the demo
data by its own command line, gunicorn with deploy/gunicorn.conf.py and production settings,
and a browser that speaks HTTP to it as nginx forwards a phone's HTTPS request.
"""

from __future__ import annotations

import contextlib
import csv
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from werkzeug.wrappers import Response

from e2e.stack import DEMO_KEYS, DEMO_LINE
from portal.dataimport.demo import House, Member
from tests.helpers import Client

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv that runs the suite: gunicorn, flask
PG_BIN = Path(os.environ.get("FAULTS_PG_BIN", "/usr/lib/postgresql/15/bin"))
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
# The limits are not what these tests are about: high enough that hundreds of requests from
# one test address are never refused, still counted in Redis on every request as in production.
HIGH = "100000 per minute"
LIMITS = {
    "LOOKUP_LIMIT": HIGH,
    "APPEAL_LIMIT": HIGH,
    "TRACK_LIMIT": HIGH,
    "DRAFT_LIMIT": HIGH,
    "PHOTO_LIMIT": HIGH,
    "APPEAL_FILER_LIMIT": "1000 per day",
    "DTSEN_FREE_MISSES": "1000",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(args: list[str | Path], **kwargs: Any) -> str:
    result = subprocess.run(  # noqa: S603 (our own binaries, arguments we built)
        [str(a) for a in args], check=False, text=True, capture_output=True, **kwargs
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, args))} exited {result.returncode}:\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return result.stdout


# --- PostgreSQL of our own -------------------------------------------------------------------


@dataclass
class Cluster:
    """A throwaway PostgreSQL cluster in a temporary directory, trust auth, 127.0.0.1 only.

    PostgreSQL refuses to run as root: as root (CI) its programs run as the postgres user,
    which owns the directory.
    """

    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @staticmethod
    def available() -> str | None:
        """Why a cluster cannot be made here, or None."""
        missing = [p.name for p in (PG_BIN / "initdb", PG_BIN / "pg_ctl") if not p.exists()]
        if missing:
            return f"PostgreSQL binaries missing in {PG_BIN}: {', '.join(missing)}"
        if os.geteuid() == 0 and shutil.which("runuser") is None:
            return "running as root without runuser (PostgreSQL refuses to run as root)"
        return None

    @classmethod
    def create(cls) -> Cluster:
        # not under pytest's tmp_path: it is private to root, and the server runs as postgres
        root = Path(tempfile.mkdtemp(prefix="dtsen-faults-pg-"))
        cluster = cls(root, free_port())
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        cluster._pg(
            "initdb", "-D", cluster.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--no-sync", "--no-instructions",
        )  # fmt: skip
        cluster.start()
        return cluster

    def _pg(self, program: str, *args: str | Path) -> str:
        command: list[str | Path] = [PG_BIN / program, *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return _run(command, cwd=self.root)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._pg("pg_ctl", "-D", self.data, "-o", options, "-l", self.root / "server.log",
                 "-w", "-t", "30", "start")  # fmt: skip

    def stop(self) -> None:
        """Fast shutdown: open transactions are rolled back, clients disconnected."""
        self._pg("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "30", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def processes(self) -> list[int]:
        """The postmaster and its children (a backend per connection, background workers)."""
        try:
            postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return [postmaster, *children(postmaster)]

    def destroy(self) -> None:
        if self.running():
            with contextlib.suppress(RuntimeError):
                self._pg("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


# --- the portal --------------------------------------------------------------------------------


@dataclass
class Demo:
    """The demo snapshots as the portal published them: the showcase pairs it printed and
    every household of both periods, read back from the CSV files it wrote."""

    showcase: dict[str, dict[str, str]]
    periods: dict[str, list[House]]

    @property
    def current(self) -> list[House]:
        """Households of the current period (2026Q3), showcase households excluded."""
        shown = {pair["no_kk"] for pair in self.showcase.values()}
        return [h for h in self.periods["2026Q3"] if h.no_kk not in shown]

    def numbers(self) -> set[str]:
        return {
            number
            for houses in self.periods.values()
            for h in houses
            for number in (h.no_kk, *(m.nik for m in h.members))
        }


def read_demo(path: Path) -> list[House]:
    houses: dict[str, House] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            house = houses.setdefault(
                row["no_kk"],
                House(row["no_kk"], row["kode_desa"], row["alamat"], int(row["desil"]), []),
            )
            house.members.append(
                Member(
                    row["nik"],
                    row["nama"],
                    row["jenis_kelamin"],
                    date.fromisoformat(row["tanggal_lahir"]),
                    row["hubungan"],
                    [p for p in row["program"].split(";") if p],
                )
            )
    return list(houses.values())


@dataclass
class Portal:
    """gunicorn serving ``portal:create_app()`` from the checkout, production settings."""

    root: Path
    env: dict[str, str]
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    demo: Demo | None = None

    @classmethod
    def prepare(cls, database_url: str, redis_url: str) -> Portal:
        root = Path(tempfile.mkdtemp(prefix="dtsen-faults-app-"))
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(root),
            "LANG": "C.UTF-8",
            "PORTAL_ENV": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "NIK_HMAC_KEY": secrets.token_hex(32),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "RATELIMIT_KEY_PREFIX": f"faults-{secrets.token_hex(4)}",
            "PROXY_FIX_X_FOR": "1",  # as behind the documented nginx
            "INSTANCE_PATH": str(root / "instance"),
            "UPLOAD_DIR": str(root / "uploads"),
            **LIMITS,
        }
        return cls(root, env)

    def flask(self, *args: str) -> str:
        return _run([BIN / "flask", "--app", "portal", *args], env=self.env, cwd=self.root)

    def load_demo(self) -> Demo:
        """Migrate, import the region table and the demo snapshots, as deploy/ says."""
        self.flask("db", "upgrade")
        self.flask("wilayah", "import")
        out = self.root / "demo"
        printed = self.flask("demo", "--not-real-data", "--out", str(out))
        showcase = {}
        for line in printed.splitlines():
            match = DEMO_LINE.match(line)
            if match:
                key = next(v for k, v in DEMO_KEYS.items() if match["title"].startswith(k))
                showcase[key] = {"nik": match["nik"], "no_kk": match["kk"]}
        periods = {p: read_demo(out / f"dtsen-demo-{p}.csv") for p in ("2026Q2", "2026Q3")}
        self.demo = Demo(showcase, periods)
        return self.demo

    @property
    def log(self) -> Path:
        return self.root / "gunicorn.log"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def log_problems(self, lines: int = 80) -> str:
        """The log without the access lines of answered requests (2xx, 3xx): the errors,
        their tracebacks and the failed requests, which a plain tail buries under traffic."""
        answered = re.compile(r'^"[A-Z]+ [^"]*" [23]\d\d ')
        try:
            text = self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        kept = [line for line in text.splitlines() if not answered.match(line)]
        return "\n".join(kept[-lines:])

    def serve(self, workers: int = 2, *extra: str) -> None:
        self.port = free_port()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                [
                    str(BIN / "gunicorn"),
                    "--config",
                    str(GUNICORN_CONF),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(workers),
                    *extra,
                    "portal:create_app()",
                ],  # fmt: skip
                env=self.env,
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while len(self.workers()) < workers or not self._ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not come up:\n{self.log_tail()}")
            time.sleep(0.1)

    def _ready(self) -> bool:
        try:
            return raw_request(self.port, "GET", "/readyz", timeout=2)[0] == 200
        except OSError:
            return False

    @property
    def master(self) -> int:
        assert self.process is not None
        return self.process.pid

    def workers(self) -> list[int]:
        """The worker processes: the master's children."""
        return children(self.master)

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def first_in_line(pids: list[int], niceness: int = -10) -> Iterator[bool]:
    """Run PIDS (and their future children) before the machine's other work while the block
    runs, as far as this user may (root may; anyone else measures at the usual priority).
    Yields whether it could."""
    before: dict[int, int] = {}
    allowed = True
    for pid in pids:
        try:
            before[pid] = os.getpriority(os.PRIO_PROCESS, pid)
            os.setpriority(os.PRIO_PROCESS, pid, niceness)
        except ProcessLookupError:
            continue
        except PermissionError:
            allowed = False
            break
    try:
        yield allowed
    finally:
        for pid, value in before.items():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.setpriority(os.PRIO_PROCESS, pid, value)


def children(pid: int) -> list[int]:
    """Live child processes of PID (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


# --- a browser over HTTP -----------------------------------------------------------------------


def raw_request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 15,
) -> tuple[int, list[tuple[str, str]], bytes, float]:
    """One request on a new connection: status, headers, body, and the seconds from sending
    the request to the last byte of the answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.connect()
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        return response.status, response.getheaders(), data, elapsed
    finally:
        conn.close()


# What a browser sees when the server went away mid-request (a worker killed): it shows an
# error and the person presses the button again.
DROPPED = (ConnectionError, http.client.RemoteDisconnected, http.client.IncompleteRead)

CSRF_VALUE = re.compile(r'(<input\b[^>]*\bname="(?:csrf_token|wait)"[^>]*\bvalue=")[^"]*(")')


@dataclass
class HttpBrowser:
    """A phone's browser as the app sees it behind nginx (PROXY_FIX_X_FOR=1): plain HTTP from
    127.0.0.1 with X-Forwarded-Proto https and the phone's address in X-Forwarded-For, the
    headers a browser adds to a form POST (Origin, Sec-Fetch-Site, Referer), and its cookies,
    Secure ones included (the browser is on HTTPS).

    It has the methods of tests.helpers.Client that the journey helpers use (get, post, page,
    csrf_token, post_form), so tests/appeals/conftest.py's walk() and submit() drive it.
    """

    port: int
    address: str = "203.0.113.7"
    language: str = "en"
    host: str = "portal.test"
    user_agent: str = "Mozilla/5.0 (Linux; Android 13) dtsen-faults"
    cookies: dict[str, str] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)

    page = Client.page
    choose_language = Client.choose_language
    csrf_token = Client.csrf_token
    post_form = Client.post_form

    @property
    def origin(self) -> str:
        return f"https://{self.host}"

    def open(self, method: str, url: str, data: Any = None, timeout: float = 15) -> Response:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {
            "Host": self.host,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.address,
            "Accept-Language": self.language,
            "User-Agent": self.user_agent,
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if method == "POST":
            body = urlencode(data or {}, doseq=True).encode()
            headers.update(
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Origin": self.origin,
                    "Sec-Fetch-Site": "same-origin",
                    "Referer": self.origin + "/",
                }
            )
        status, raw_headers, content, elapsed = raw_request(
            self.port, method, path, body, headers, timeout
        )
        self.statuses.append(status)
        self._keep_cookies(raw_headers)
        response = Response(content, status=status, headers=raw_headers)
        response.elapsed = elapsed  # type: ignore[attr-defined]
        return response

    def _keep_cookies(self, headers: list[tuple[str, str]]) -> None:
        for name, value in headers:
            if name.lower() != "set-cookie":
                continue
            for key, morsel in SimpleCookie(value).items():
                expired = morsel["max-age"] == "0" or "1970" in morsel["expires"]
                if expired:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value

    def get(self, url: str, **_kwargs: Any) -> Response:
        return self.open("GET", url)

    def post(self, url: str, data: Any = None, **_kwargs: Any) -> Response:
        return self.open("POST", url, data)


def main_html(body: str, *typed: str) -> str:
    """The <main> of a page as bytes would be compared: the CSRF token (and a wait token) and
    what the person typed (echoed in a field) replaced by placeholders."""
    match = re.search(r"<main\b.*?</main>", body, re.S)
    assert match, "no <main> in the page"
    html = CSRF_VALUE.sub(r"\1[token]\2", match.group(0))
    for value in typed:
        if value:
            html = html.replace(value, "[typed]")
    return html


def group_by(items: list[Any], key: Any) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for item in items:
        grouped[key(item)].append(item)
    return dict(grouped)
