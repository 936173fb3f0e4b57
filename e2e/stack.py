"""The portal as it is deployed, on this machine: the released wheel in a fresh venv, two
gunicorn servers with deploy/gunicorn.conf.py, nginx with the documented site
(deploy/nginx/dtsen-portal.conf.template) over TLS, PostgreSQL and Redis, production settings,
and a local SMTP server (aiosmtpd, into the Maildir e2e/out/mail) for the notifications.

    python e2e/stack.py up      # build, install, migrate, load the demo, serve; prints the URL
    python e2e/stack.py down    # stop nginx and both app servers

``make e2e`` brings it up, runs the browser suite against it (e2e/test_*.py) and takes it
down. Everything it writes is under e2e/out/ (logs, screenshots, the venv, the TLS key).
Root is needed once, to install nginx and Chromium from the distribution's packages.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(os.environ.get("E2E_OUT", ROOT / "e2e" / "out"))
STATE = OUT / "stack.json"
PACKAGES = {
    "nginx": "nginx-light",
    "chromium": "chromium",
    "envsubst": "gettext-base",
}
BROTLI = Path("/usr/share/nginx/modules/ngx_http_brotli_filter_module.so")
BROTLI_PACKAGE = "libnginx-mod-http-brotli-filter"

PG_ADMIN_URL = os.environ.get("E2E_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = os.environ.get("E2E_PG_DB", "dtsen_e2e")
REDIS_URL = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379/7")
HTTPS_PORT = int(os.environ.get("E2E_HTTPS_PORT", "8443"))
HTTP_PORT = int(os.environ.get("E2E_HTTP_PORT", "8080"))
APP_PORTS = (18001, 18002)
SMTP_PORT = int(os.environ.get("E2E_SMTP_PORT", "18025"))
HOST = "localhost"
STAFF = (
    ("admin@dinsos.example.go.id", "Rina Admin", "admin_dinsos", "32.16"),
    ("verifikator@dinsos.example.go.id", "Budi Verifikator", "verifikator", "32.16"),
    ("psm@desa.example.go.id", "Asep PSM", "operator_desa", "32.16.01.2001"),
)


@dataclass
class Stack:
    """What the browser suite needs to know about the running deployment."""

    url: str
    database_url: str
    redis_url: str
    venv: str
    env: dict[str, str]
    app_pids: dict[str, int] = field(default_factory=dict)
    nginx_pid_file: str = ""
    demo: dict[str, dict[str, str]] = field(default_factory=dict)
    enrol_links: dict[str, str] = field(default_factory=dict)
    screenshots: str = ""
    smtp_pid: int = 0
    mail_dir: str = ""

    @classmethod
    def load(cls) -> Stack:
        return cls(**json.loads(STATE.read_text()))

    def save(self) -> None:
        STATE.write_text(json.dumps(asdict(self), indent=2))


def log(message: str) -> None:
    print(f"[e2e] {message}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None, **kwargs: object) -> str:
    result = subprocess.run(
        [str(a) for a in args],
        check=True,
        text=True,
        capture_output=True,
        env={**os.environ, **(env or {})},
        **kwargs,  # type: ignore[arg-type]
    )
    return result.stdout


# --- the machine ------------------------------------------------------------------------


def ensure_packages() -> None:
    """nginx, Chromium and envsubst from Debian's packages (brotli where packaged)."""
    missing = [pkg for cmd, pkg in PACKAGES.items() if shutil.which(cmd) is None]
    if not BROTLI.exists():
        missing.append(BROTLI_PACKAGE)
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"install as root first: apt-get install -y {' '.join(missing)}")
    log(f"installing {' '.join(missing)} (apt)")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    try:
        run("apt-get", "install", "-y", "-q", "--no-install-recommends", *missing, env=env)
    except subprocess.CalledProcessError:
        run("apt-get", "update", "-q", env=env)
        run("apt-get", "install", "-y", "-q", "--no-install-recommends", *missing, env=env)


# --- the release ----------------------------------------------------------------------


def build_wheel(python: Path) -> Path:
    dist = OUT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    log("building the wheel")
    run(python, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist, cwd=ROOT)
    [wheel] = dist.glob("dtsen_portal-*.whl")
    return wheel


def install_release(wheel: Path) -> Path:
    """A fresh venv with the locked dependencies and the wheel: nothing from the checkout."""
    venv = OUT / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    log("installing the wheel into a fresh venv")
    run(sys.executable, "-m", "venv", venv)
    pip = venv / "bin" / "pip"
    run(pip, "install", "--quiet", "--require-hashes", "-r", ROOT / "requirements" / "main.txt")
    run(pip, "install", "--quiet", "--no-deps", wheel)
    return venv


# --- services ---------------------------------------------------------------------------


def fresh_database() -> str:
    import psycopg  # the checkout's venv has it (requirements/dev.txt)

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DB}"')
    admin = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{admin}/{PG_DB}"


def fresh_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def production_env(database_url: str) -> dict[str, str]:
    return {
        "PORTAL_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "NIK_HMAC_KEY": secrets.token_hex(32),
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "PROXY_FIX_X_FOR": "1",
        "INSTANCE_PATH": str(OUT / "instance"),
        "UPLOAD_DIR": str(OUT / "uploads"),
        "PUBLIC_BASE_URL": f"https://{HOST}:{HTTPS_PORT}",
        # the notification worker (`flask notify send`) sends to the stack's SMTP server
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(SMTP_PORT),
        "SMTP_STARTTLS": "false",
        "SMTP_FROM": f"DTSEN <no-reply@{HOST}>",
        # a new export may be cancelled for 15 s (10 min by default): e2e/test_office.py
        # cancels one in that window, and waits it out for the next one
        "EXPORT_UNDO_MINUTES": "0.25",
        # one demo household ("Receiving some") files the sanggahan of every staff journey,
        # more than the 5 a day a real filer may send (APPEAL_FILER_LIMIT's default)
        "APPEAL_FILER_LIMIT": "50 per day",
        "PATH": os.environ["PATH"],
    }


def start_smtp_server() -> tuple[int, Path]:
    """aiosmtpd (the checkout's venv: a dev dependency) on 127.0.0.1:SMTP_PORT, storing every
    message it receives in the Maildir e2e/out/mail; its pid and the Maildir."""
    import smtplib

    mail = OUT / "mail"
    shutil.rmtree(mail, ignore_errors=True)
    logfile = (OUT / "smtp.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{SMTP_PORT}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(mail),
        ],  # fmt: skip
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    logfile.close()
    _STARTED.append(process)
    deadline = time.monotonic() + 15
    while True:
        try:
            with smtplib.SMTP("127.0.0.1", SMTP_PORT, timeout=2) as smtp:
                smtp.noop()
            return process.pid, mail
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"the SMTP server did not answer on :{SMTP_PORT}") from None
            time.sleep(0.2)


DEMO_LINE = re.compile(r"^\s+(?P<title>.+?)\s+NIK (?P<nik>\d{16})\s+No\. KK (?P<kk>\d{16})$")
DEMO_KEYS = {
    "Receiving bansos": "receiving",
    "Receiving some": "partly",
    "In scope, not receiving": "in_scope",
    "Above the programs": "above",
    "Removed in the last update": "removed",
    "Not in DTSEN": "unknown",
    "NIK and No. KK do not match": "mismatch",
}


def set_up_data(venv: Path, env: dict[str, str]) -> tuple[dict[str, dict[str, str]], dict]:
    flask = [venv / "bin" / "flask", "--app", "portal"]
    log("migrating, importing regions, loading the demo snapshots")
    run(*flask, "db", "upgrade", env=env)
    run(*flask, "wilayah", "import", env=env)
    demo: dict[str, dict[str, str]] = {}
    for line in run(*flask, "demo", "--not-real-data", env=env).splitlines():
        match = DEMO_LINE.match(line)
        if match:
            key = next(v for k, v in DEMO_KEYS.items() if match["title"].startswith(k))
            demo[key] = {"nik": match["nik"], "no_kk": match["kk"], "title": match["title"]}
    if len(demo) != len(DEMO_KEYS):
        raise SystemExit(f"the demo printed {len(demo)} look-up pairs, expected {len(DEMO_KEYS)}")
    links = {}
    for email, name, role, region in STAFF:
        out = run(
            *flask, "staff", "create", "--email", email, "--name", name, "--role", role,
            "--region", region, "--base-url", f"https://{HOST}:{HTTPS_PORT}", env=env,
        )  # fmt: skip
        links[role] = out.strip().rsplit(" ", 1)[-1]
    return demo, links


def start_app_server(venv: Path, env: dict[str, str], port: int, *, append: bool = False) -> int:
    """One gunicorn server on 127.0.0.1:PORT, as deployed; its pid (the master's). Its log is
    e2e/out/app-PORT.log (APPEND keeps what an earlier run of the same port wrote)."""
    logfile = (OUT / f"app-{port}.log").open("a" if append else "w")
    process = subprocess.Popen(
        [
            str(venv / "bin" / "gunicorn"),
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "portal:create_app()",
        ],  # fmt: skip
        env={**env, "PORTAL_BIND": f"127.0.0.1:{port}"},
        stdout=logfile,
        stderr=subprocess.STDOUT,
        cwd=OUT,
        start_new_session=True,
    )
    logfile.close()  # the server holds its own copy
    _STARTED.append(process)  # kept, not collected: it runs on after this process exits
    return process.pid


_STARTED: list[subprocess.Popen[bytes]] = []


def start_app_servers(venv: Path, env: dict[str, str]) -> dict[str, int]:
    pids = {str(port): start_app_server(venv, env, port) for port in APP_PORTS}
    for port in APP_PORTS:
        wait_for(f"http://127.0.0.1:{port}/readyz", f"app server :{port}")
    return pids


def restart_app_server(stack: Stack, port: int) -> int:
    """Start the app server of PORT again (after stop_app_server) with the stack's venv and
    environment, wait until it is ready, and record its new pid in stack.json."""
    pid = start_app_server(Path(stack.venv), stack.env, port, append=True)
    wait_for(f"http://127.0.0.1:{port}/readyz", f"app server :{port}")
    stack.app_pids[str(port)] = pid
    stack.save()
    return pid


def tls_certificate() -> tuple[Path, Path]:
    cert, key = OUT / "tls" / "cert.pem", OUT / "tls" / "key.pem"
    cert.parent.mkdir(parents=True, exist_ok=True)
    if not cert.exists():
        run(
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-days", "7", "-nodes", "-subj", f"/CN={HOST}", "-keyout", key, "-out", cert,
            "-addext", f"subjectAltName=DNS:{HOST},IP:127.0.0.1",
        )  # fmt: skip
    return cert, key


NGINX_DIR = OUT / "nginx"


def render_site(venv: Path, *, down: int | None = None) -> None:
    """The documented site (deploy/nginx/dtsen-portal.conf.template) rendered with envsubst
    as its header says; DOWN, an app port, is marked down as `deploy/nginx-site.sh drain`
    does, so nginx sends it no new requests."""
    cert, key = tls_certificate()
    static = next((venv / "lib").glob("python3*/site-packages/portal/static"))
    apps = [f"127.0.0.1:{port}" + (" down" if port == down else "") for port in APP_PORTS]
    values = {
        "PORTAL_SERVER_NAME": HOST,
        "PORTAL_HTTPS_PORT": str(HTTPS_PORT),
        "PORTAL_HTTP_PORT": str(HTTP_PORT),
        "PORTAL_TLS_CERT": str(cert),
        "PORTAL_TLS_KEY": str(key),
        "PORTAL_APP_1": apps[0],
        "PORTAL_APP_2": apps[1],
        "PORTAL_STATIC_DIR": str(static),
        "PORTAL_NGINX_EXTRA": str(NGINX_DIR / "extra"),
    }
    template = (ROOT / "deploy" / "nginx" / "dtsen-portal.conf.template").read_text()
    names = " ".join(f"${name}" for name in values)
    site = run("envsubst", names, input=template, env=values)
    (NGINX_DIR / "site.conf").write_text(site)


def reload_nginx() -> None:
    """Test the configuration, then reload: new workers take the new site, the old ones
    finish the requests they hold."""
    conf = NGINX_DIR / "nginx.conf"
    run("nginx", "-t", "-q", "-c", conf, "-p", NGINX_DIR)
    run("nginx", "-s", "reload", "-c", conf, "-p", NGINX_DIR)


def drain(stack: Stack, port: int) -> None:
    """`deploy/nginx-site.sh drain 127.0.0.1:PORT` for this stack's own nginx."""
    render_site(Path(stack.venv), down=port)
    reload_nginx()


def undrain(stack: Stack) -> None:
    """`deploy/nginx-site.sh render`: every app server back in the rotation."""
    render_site(Path(stack.venv))
    reload_nginx()


def start_nginx(venv: Path) -> Path:
    """The documented site in an nginx of its own (own pid, logs and temp dirs), so the
    machine's nginx is never touched."""
    conf_dir = NGINX_DIR
    shutil.rmtree(conf_dir, ignore_errors=True)
    extra = conf_dir / "extra"
    extra.mkdir(parents=True)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (conf_dir / "tmp" / sub).mkdir(parents=True)
    if BROTLI.exists():
        shutil.copy(ROOT / "deploy" / "nginx" / "brotli.conf", extra / "brotli.conf")
    render_site(venv)
    modules = f"load_module {BROTLI};\n" if BROTLI.exists() else ""
    (conf_dir / "nginx.conf").write_text(
        f"""{modules}user root;
worker_processes 2;
pid {conf_dir}/nginx.pid;
error_log {OUT}/nginx-error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    server_tokens off;
    access_log {OUT}/nginx-access.log;
    client_body_temp_path {conf_dir}/tmp/body;
    proxy_temp_path {conf_dir}/tmp/proxy;
    fastcgi_temp_path {conf_dir}/tmp/fastcgi;
    uwsgi_temp_path {conf_dir}/tmp/uwsgi;
    scgi_temp_path {conf_dir}/tmp/scgi;
    include {conf_dir}/site.conf;
}}
"""
    )
    run("nginx", "-t", "-q", "-c", conf_dir / "nginx.conf", "-p", conf_dir)
    run("nginx", "-c", conf_dir / "nginx.conf", "-p", conf_dir)
    wait_for(f"https://{HOST}:{HTTPS_PORT}/readyz", "nginx")
    return conf_dir / "nginx.pid"


def wait_for(url: str, what: str, seconds: float = 30) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # our own throwaway certificate
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not answer at {url} within {seconds:.0f} s")
        time.sleep(0.2)


# --- up and down --------------------------------------------------------------------------


def up() -> Stack:
    down(quiet=True)
    OUT.mkdir(parents=True, exist_ok=True)
    ensure_packages()
    wheel = build_wheel(Path(sys.executable))
    venv = install_release(wheel)
    database_url = fresh_database()
    fresh_redis()
    env = production_env(database_url)
    demo, links = set_up_data(venv, env)
    pids = start_app_servers(venv, env)
    nginx_pid = start_nginx(venv)
    smtp_pid, mail_dir = start_smtp_server()
    screenshots = OUT / "screenshots"
    shutil.rmtree(screenshots, ignore_errors=True)
    screenshots.mkdir()
    stack = Stack(
        url=f"https://{HOST}:{HTTPS_PORT}",
        database_url=database_url,
        redis_url=REDIS_URL,
        venv=str(venv),
        env=env,
        app_pids=pids,
        nginx_pid_file=str(nginx_pid),
        demo=demo,
        enrol_links=links,
        screenshots=str(screenshots),
        smtp_pid=smtp_pid,
        mail_dir=str(mail_dir),
    )
    stack.save()
    log(f"serving {stack.url} (wheel {wheel.name}; app servers :{APP_PORTS[0]} :{APP_PORTS[1]})")
    return stack


def running(pid: int) -> bool:
    """Whether the process PID runs (a child of this process that exited is reaped here)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child (started by an earlier `stack.py up`)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_app_server(pid: int, timeout: float = 30) -> None:
    """SIGTERM: gunicorn stops accepting, finishes what it holds, exits."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not running(pid):
            return
        time.sleep(0.1)
    os.killpg(pid, signal.SIGKILL)


def down(quiet: bool = False) -> None:
    if not STATE.exists():
        return
    stack = Stack.load()
    pid_file = Path(stack.nginx_pid_file)
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGQUIT)
    for pid in stack.app_pids.values():
        stop_app_server(pid)
    if stack.smtp_pid:
        stop_app_server(stack.smtp_pid)  # SIGTERM, then the group's SIGKILL
    STATE.unlink()
    if not quiet:
        log("stopped")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down"])
    args = parser.parse_args()
    if args.command == "up":
        up()
    else:
        down()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
