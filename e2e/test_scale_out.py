"""Two app servers behind one nginx, as deployed: what must not depend on which server
answers. Rate limits and staff sessions live in the shared Redis; stopping one server
gracefully (SIGTERM, as systemd does on a deploy) costs a citizen nothing.

Load comes from plain HTTP clients (http.client), each with its own loopback source address
(127.x.y.z), so nginx and the app see distinct clients, as phones behind different networks
are; the app trusts nginx's X-Forwarded-For (PROXY_FIX_X_FOR=1) and nothing a client writes."""

from __future__ import annotations

import http.client
import random
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from e2e.conftest import deployed_config, stack_flask
from e2e.journeys import Officer, enrol
from e2e.stack import (
    APP_PORTS,
    OUT,
    Stack,
    drain,
    restart_app_server,
    running,
    stop_app_server,
    undrain,
)

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
MATCHED = "Keluarga Anda terdaftar di DTSEN dan menerima bansos"
NOT_FOUND = "Keluarga dengan NIK dan No. KK ini tidak ditemukan"
RNG = random.Random()  # a new network per run: reruns against one stack never collide


def new_network() -> str:
    """A /24 of the loopback range no earlier run used: 127.A.B."""
    return f"127.{RNG.randint(16, 254)}.{RNG.randint(0, 255)}"


@dataclass
class Client:
    """One phone as plain HTTP: its own source address and cookie jar, no JavaScript."""

    base: str  # https://localhost:8443 (nginx) or http://127.0.0.1:18001 (one app server)
    source: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Any:
        url = urlsplit(self.base)
        source = (self.source, 0) if self.source else None
        if url.scheme == "https":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # e2e/stack.py's throwaway certificate
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                "127.0.0.1", url.port, timeout=30, source_address=source, context=context
            )
        else:
            conn = http.client.HTTPConnection("127.0.0.1", url.port, timeout=30)
        headers = {
            "Host": url.netloc,
            "User-Agent": "Mozilla/5.0 (Linux; Android 10; Redmi 9A) Chrome/119.0 Mobile",
            "Accept-Language": "id-ID,id;q=0.9",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response

    def lookup(self, nik: str, no_kk: str) -> tuple[int, str]:
        """The home page (session cookie, form token), then the look-up form sent."""
        page = self.request("GET", "/")
        assert page.status == 200, page.status
        token = TOKEN.search(page.text)
        assert token, "no csrf_token on the form"
        answer = self.request("POST", "/", {"csrf_token": token[1], "nik": nik, "no_kk": no_kk})
        if answer.status == 303:  # the result page (Post/Redirect/Get), from either server
            answer = self.request("GET", answer.headers["Location"])
        return answer.status, answer.text


def valid_number(kecamatan: str = "321601") -> str:
    """A NIK / No. KK that passes every check (known kecamatan, real date, serial) and that
    no snapshot holds."""
    return f"{kecamatan}{RNG.randint(1, 28):02d}{RNG.randint(1, 12):02d}{RNG.randint(70, 99)}" + (
        f"{RNG.randint(1, 9999):04d}"
    )


def accept_queue(port: int) -> int:
    """Connections waiting to be accepted by the server listening on 127.0.0.1:PORT."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, queues = fields[1], fields[3], fields[4]
        if state == "0A" and local.endswith(f":{port:04X}"):  # 0A: LISTEN
            return int(queues.split(":")[1], 16)  # rx_queue of a listener: its accept queue
    return 0


def log_of(port: int) -> Path:
    return OUT / f"app-{port}.log"


def requests_from(port: int, addresses: set[str], since: int = 0, method: str = "POST") -> int:
    """Access-log lines of METHOD requests of the app server PORT after byte SINCE.

    The app's access log names no client (deploy/gunicorn.conf.py: nginx's log has the
    address), so ADDRESSES only documents whose requests these are: each test makes its own,
    one after the other, and nothing else runs meanwhile."""
    text = log_of(port).read_bytes()[since:].decode("utf-8", "replace")
    return len(re.findall(rf'^"{method} /\S*" \d+', text, re.MULTILINE))


def misses_allowed(stack: Stack) -> int:
    """How many failed checks about one NIK the deployment lets through before it holds
    the next one back: DTSEN_FREE_MISSES (a day), or LOOKUP_NIK_FAILURE_LIMIT (an hour) in
    releases before it."""
    config = deployed_config(stack, "DTSEN_FREE_MISSES", "LOOKUP_NIK_FAILURE_LIMIT")
    if config["DTSEN_FREE_MISSES"] is not None:
        return int(config["DTSEN_FREE_MISSES"])
    return int(str(config["LOOKUP_NIK_FAILURE_LIMIT"]).split()[0])  # "10 per hour; ..."


def test_the_per_nik_failure_limit_holds_across_both_app_servers(stack: Stack) -> None:
    """Failed look-ups of one NIK, each from its own address, spread by nginx over both
    servers, use up the NIK's allowance once (the count is in Redis, not per server): the
    next look-up about it is held back by whichever server answers."""
    allowed = misses_allowed(stack)
    nik = valid_number()
    network = new_network()
    addresses = [f"{network}.{i}" for i in range(1, allowed + 2)]
    marks = {port: log_of(port).stat().st_size for port in APP_PORTS}

    for n, address in enumerate(addresses[:allowed]):
        client = Client(stack.url, address)
        if n % 2:
            # some read another page first; without it, strict round robin would pair every
            # form (GET) with one server and every look-up (POST) with the other
            assert client.request("GET", "/ajukan").status == 200
        status, page = client.lookup(nik, valid_number())
        assert status == 200, f"miss {n + 1} of {allowed}, from {address}: {status}"
        assert NOT_FOUND in page
    held = [("nginx", *Client(stack.url, addresses[-1]).lookup(nik, valid_number()))]
    # nginx sent them to both servers, and each counted the other's misses; a server writes
    # its access-log line after the answer is sent, so the last one may still be on its way
    deadline = time.monotonic() + 10
    while True:
        spread = {port: requests_from(port, set(addresses), marks[port]) for port in APP_PORTS}
        if sum(spread.values()) >= allowed + 1 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    held += [
        (f":{port}", *Client(f"http://127.0.0.1:{port}").lookup(nik, valid_number()))
        for port in APP_PORTS
    ]
    for where, status, page in held:
        assert status == 429, f"{where} answered {status} after {allowed} misses"
        assert NOT_FOUND not in page, f"{where} answered the look-up"
    assert sum(spread.values()) == allowed + 1, spread
    assert all(spread.values()), f"one server got every look-up: {spread}"


def test_a_staff_session_opened_through_nginx_works_on_either_server(
    phone_factory: Any, stack: Stack
) -> None:
    email = f"skala-{RNG.randrange(16**6):06x}@dinsos.example.go.id"
    out = stack_flask(
        stack, "staff", "create", "--email", email, "--name", "Sari Skala", "--role",
        "verifikator", "--region", "32.16", "--base-url", stack.url,
    )  # fmt: skip
    link = out.strip().rsplit(" ", 1)[-1]
    officer = Officer(
        phone_factory("scale-staff"), email, "Sari Skala", "verifikator", "ombak pantai utara 88"
    )
    enrol(officer, link.removeprefix(stack.url))

    [cookie] = [c for c in officer.phone.context.cookies() if c["path"] == "/staf"]
    for port in APP_PORTS:
        server = Client(f"http://127.0.0.1:{port}", cookies={cookie["name"]: cookie["value"]})
        page = server.request("GET", "/staf/")
        assert page.status == 200, f":{port} answered {page.status}"
        assert "Antrean laporan" in page.text
        assert "Sari Skala · Verifikator" in page.text
        stranger = Client(f"http://127.0.0.1:{port}").request("GET", "/staf/")
        assert stranger.status == 302
        assert "/staf/masuk" in stranger.getheader("Location", "")

    # logging out through nginx ends the session on both servers
    officer.phone.submit("Keluar", "signed-out", exact=True)
    for port in APP_PORTS:
        server = Client(f"http://127.0.0.1:{port}", cookies={cookie["name"]: cookie["value"]})
        page = server.request("GET", "/staf/")
        assert page.status == 302, f":{port} still accepts a revoked session"


@dataclass
class Load:
    """Citizens doing look-ups of their household through nginx, each from its own address:
    some steadily (GET the form, send it, every INTERVAL s), some all at once (a peak: the
    form already open, everyone presses "Cek status" together)."""

    url: str
    pair: dict[str, str]
    answers: list[tuple[float, str, int, bool]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def _send(self, client: Client, token: str | None = None) -> None:
        started = time.monotonic()
        try:
            if token is None:
                status, page = client.lookup(self.pair["nik"], self.pair["no_kk"])
            else:
                form = {"csrf_token": token, **self.pair}
                answer = client.request("POST", "/", form)
                if answer.status == 303:
                    answer = client.request("GET", answer.headers["Location"])
                status, page = answer.status, answer.text
            self.answers.append((started, client.source or "", status, MATCHED in page))
        except (OSError, AssertionError) as exc:
            self.errors.append(f"{client.source}: {exc!r}")

    def steady(self, addresses: list[str], count: int, interval: float) -> list[threading.Thread]:
        def citizen(address: str) -> None:
            client = Client(self.url, address)
            for __ in range(count):
                started = time.monotonic()
                self._send(client)
                time.sleep(max(0.0, interval - (time.monotonic() - started)))

        return self._start(citizen, addresses)

    def peak(self, addresses: list[str]) -> Any:
        """Open the form on every phone now; the returned function sends them all at once."""
        ready = []
        for address in addresses:
            client = Client(self.url, address)
            form = client.request("GET", "/")
            assert form.status == 200
            ready.append((client, TOKEN.search(form.text)[1]))  # type: ignore[index]
        by_address = {c.source: (c, token) for c, token in ready}
        return lambda: self._start(lambda a: self._send(*by_address[a]), list(by_address))

    @staticmethod
    def _start(target: Any, addresses: list[Any]) -> list[threading.Thread]:
        threads = [threading.Thread(target=target, args=(a,)) for a in addresses]
        for thread in threads:
            thread.start()
        return threads


def server_busy(port: int) -> bool:
    """Whether the server on 127.0.0.1:PORT holds or queues a connection (Linux)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "01":  # 01: ESTABLISHED
            return True
    return accept_queue(port) > 0


def look_ups_across(stack: Stack, port: int, change: Callable[[], None]) -> Load:
    """200 look-ups over about 10 s: 4 citizens steadily (40 each, one every 0.25 s, below
    LOOKUP_LIMIT's 60 a minute) and a peak of 40 who press "Cek status" together. CHANGE
    runs during the peak, while some of its look-ups wait for a worker of the server on
    PORT, as at any busy moment of a deploy."""
    addresses = [f"{new_network()}.{i}" for i in range(1, 45)]
    load = Load(stack.url, stack.demo["receiving"])
    marks = {p: log_of(p).stat().st_size for p in APP_PORTS}
    press = load.peak(addresses[4:])
    threads = load.steady(addresses[:4], count=40, interval=0.25)
    time.sleep(3)
    threads += press()
    deadline = time.monotonic() + 5
    while accept_queue(port) < 3 and time.monotonic() < deadline:
        time.sleep(0.002)
    changed_at = time.monotonic()
    change()
    for thread in threads:
        thread.join(timeout=120)

    assert not load.errors, load.errors[:5]
    assert len(load.answers) == 200
    assert any(at > changed_at for at, *_rest in load.answers), "the load ended before"
    for p in APP_PORTS:
        assert requests_from(p, set(addresses), marks[p]) > 0, f"nginx never used :{p}"
    return load


def refused(load: Load) -> list[tuple[str, int]]:
    return [(address, status) for _at, address, status, _ok in load.answers if status != 200]


@pytest.fixture
def app_server(stack: Stack) -> Iterator[int]:
    """The port of the app server a test stops; started again afterwards whatever happened
    (the same command as `stack.py up`, its new pid in stack.json), and back in nginx's
    rotation, so later tests have both."""
    port = APP_PORTS[0]
    yield port
    if not running(stack.app_pids[str(port)]):
        restart_app_server(stack, port)
    undrain(stack)


def test_stopping_one_app_server_gracefully_costs_a_citizen_nothing(
    stack: Stack, app_server: int
) -> None:
    """SIGTERM straight away, as `systemctl stop` does: every answer must still be the
    household's page. The look-ups queued in the stopping server's listen backlog are reset
    when its last worker exits; nginx resends them to the other server (proxy_next_upstream
    error non_idempotent: the portal's forms may be sent twice without effect)."""
    marks = log_of(app_server).stat().st_size
    load = look_ups_across(
        stack, app_server, lambda: stop_app_server(stack.app_pids[str(app_server)])
    )
    tail = log_of(app_server).read_bytes()[marks:].decode("utf-8", "replace")
    assert "Handling signal: term" in tail, "the server did not get a graceful stop"
    assert not refused(load), f"{len(refused(load))} of 200 were not 200: {refused(load)[:8]}"
    assert all(ok for *_rest, ok in load.answers), "a look-up lost its household"


def test_a_rolling_restart_of_one_app_server_costs_a_citizen_nothing(
    stack: Stack, app_server: int
) -> None:
    """The documented restart: drain the server in nginx (nginx-site.sh drain), wait until
    it holds nothing, SIGTERM, start it again, put it back (nginx-site.sh render). Every
    answer is the household's page, and nginx sends the restarted server requests again."""
    port = app_server
    old_pid = stack.app_pids[str(port)]

    def restart() -> None:
        drain(stack, port)
        deadline = time.monotonic() + 10
        while server_busy(port) and time.monotonic() < deadline:
            time.sleep(0.01)
        stop_app_server(old_pid)
        restart_app_server(stack, port)
        undrain(stack)

    load = look_ups_across(stack, port, restart)
    assert not refused(load), f"{len(refused(load))} of 200 were not 200: {refused(load)[:8]}"
    assert all(ok for *_rest, ok in load.answers), "a look-up lost its household"

    pid = Stack.load().app_pids[str(port)]
    assert pid != old_pid
    assert running(pid)
    probe = Client(stack.url, f"{new_network()}.1")
    mark = log_of(port).stat().st_size
    deadline = time.monotonic() + 20  # a server that failed is tried again after fail_timeout
    while not requests_from(port, {probe.source or ""}, mark, method="GET"):
        assert time.monotonic() < deadline, f"nginx sends the restarted :{port} nothing"
        assert probe.request("GET", "/").status == 200
        time.sleep(0.1)
