"""Profile the look-up in-process: CPU ms per POST / and per GET /hasil, and where it goes.

Uses the data set of the last ``bench/lookup_vs_floor.py`` run (bench/out: its database, keys
and pairs), so run that once first. The app runs in this process, called the way a WSGI server
calls it (an environ in, the body iterated out; the session cookie carried from the POST's
answer to the GET by hand), with no gunicorn and no network, as production configures it, so
the figures are the portal's own cost a request without the HTTP server's (``--driver client``:
through Flask's test client instead, whose cookie jar and URL handling add about 0.1 ms a
request):

    .venv/bin/python bench/profile_lookup.py                      # SQLite, memory:// limits
    .venv/bin/python bench/profile_lookup.py --engine postgresql  # the h5_lookup_* database,
                                                                  # Redis limits (db 5)
    .venv/bin/python bench/profile_lookup.py --profile cprofile   # + the top functions
    .venv/bin/python bench/profile_lookup.py --breakdown          # CPU ms by step, unprofiled
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import json
import os
import pstats
import re
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from procstat import cpu_seconds, redis_server_pids

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=400, help="look-ups (POST + GET) timed")
    parser.add_argument("--profile", choices=("none", "cprofile"), default="none")
    parser.add_argument("--top", type=int, default=35, help="functions listed by --profile")
    parser.add_argument(
        "--driver",
        choices=("wsgi", "client"),
        default="wsgi",
        help="call the WSGI app directly (default) or through Flask's test client",
    )
    parser.add_argument("--dump", type=Path, help="with --profile cprofile: also write the stats")
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="time the look-up's steps (session, hooks, form, policy, queries, page) by step",
    )
    parser.add_argument(
        "--env", type=Path, help="another env file than bench/out/env-<engine>.json (the last run)"
    )
    args = parser.parse_args()

    env_file = args.env or OUT / f"env-{args.engine}.json"
    if not env_file.exists():
        raise SystemExit(f"{env_file} is missing: run bench/lookup_vs_floor.py --engine first")
    setup = json.loads(env_file.read_text())
    os.environ.update(setup["env"])
    sys.path.insert(0, str(ROOT))
    from portal import create_app

    app = create_app()
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if token is None:
        raise SystemExit("no csrf_token on GET /")
    pairs = [line.split(",") for line in (Path(setup["pairs"])).read_text().splitlines()]

    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    if cookie is None:
        raise SystemExit("GET / set no session cookie")
    session_cookie = f"{cookie.key}={cookie.value}"

    def call(environ: dict[str, object]) -> tuple[str, dict[str, str]]:
        """The app called as a WSGI server calls it: status line and headers, body read."""
        seen: dict[str, object] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return lambda data: None

        body = app(environ, start_response)
        try:
            for _chunk in body:
                pass
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return str(seen["status"]), dict(seen["headers"])  # type: ignore[arg-type]

    def environ(method: str, path: str, cookie: str, form: bytes = b"") -> dict[str, object]:
        env: dict[str, object] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8101",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8101",
            "HTTP_COOKIE": cookie,
            "HTTP_USER_AGENT": "profile_lookup",
            "HTTP_ACCEPT": "text/html",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(form),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if form:
            env["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
            env["CONTENT_LENGTH"] = str(len(form))
        return env

    csrf = urllib.parse.quote_plus(token[1])

    def one_wsgi(i: int) -> tuple[float, float]:
        nik, kk, _expected = pairs[i % len(pairs)]
        form = f"nik={nik}&no_kk={kk}&csrf_token={csrf}".encode()
        _PHASE[0] = "POST"
        t0 = time.process_time()
        status, headers = call(environ("POST", "/", session_cookie, form))
        t1 = time.process_time()
        if not status.startswith("303"):
            raise SystemExit(f"POST / answered {status}")
        answered = headers.get("Set-Cookie", "").split(";", 1)[0] or session_cookie
        _PHASE[0] = "GET"
        status, _headers = call(environ("GET", "/hasil", answered))
        t2 = time.process_time()
        if not status.startswith("200"):
            raise SystemExit(f"GET /hasil answered {status}")
        return t1 - t0, t2 - t1

    def one_client(i: int) -> tuple[float, float]:
        nik, kk, _expected = pairs[i % len(pairs)]
        t0 = time.process_time()
        answer = client.post("/", data={"nik": nik, "no_kk": kk, "csrf_token": token[1]})
        t1 = time.process_time()
        if answer.status_code != 303:
            raise SystemExit(f"POST / answered {answer.status_code}")
        shown = client.get("/hasil")
        t2 = time.process_time()
        if shown.status_code != 200:
            raise SystemExit(f"GET /hasil answered {shown.status_code}")
        return t1 - t0, t2 - t1

    one = one_wsgi if args.driver == "wsgi" else one_client

    for i in range(50):  # warm caches and connections
        one(i)
    steps = _time_steps(app) if args.breakdown else None
    profiler = cProfile.Profile() if args.profile == "cprofile" else None
    servers = _local_servers(app) if args.engine == "postgresql" else {}
    server_cpu = {name: cpu_seconds(pids) for name, pids in servers.items()}
    posts, gets = 0.0, 0.0
    wall = time.perf_counter()
    if profiler:
        profiler.enable()
    for i in range(args.requests):
        p, g = one(50 + i)
        posts += p
        gets += g
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - wall
    n = args.requests
    print(
        f"{args.engine}: {n} look-ups in-process ({args.driver}): "
        f"POST / {1000 * posts / n:.2f} ms CPU, "
        f"GET /hasil {1000 * gets / n:.2f} ms CPU, both {1000 * (posts + gets) / n:.2f} ms"
        + ("  (under cProfile: inflated)" if profiler else "")
    )
    print(f"  wall time a look-up (one after another): {1000 * wall / n:.2f} ms")
    for name, pids in servers.items():
        used = cpu_seconds(pids) - server_cpu[name]
        print(f"  {name} CPU a look-up: {1000 * used / n:.2f} ms (processes {sorted(pids)})")
    if steps is not None:
        _print_steps(steps, n, posts, gets)
    if profiler and args.dump:
        profiler.dump_stats(str(args.dump))
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)


def _local_servers(app: Any) -> dict[str, set[int]]:
    """The processes on this machine that serve the app's database connections (PostgreSQL
    backends, from pg_stat_activity) and its Redis (the redis-server process), when they run
    here: their CPU is the look-up's too, on the same cores. Empty for a server elsewhere."""
    from sqlalchemy import text

    from portal import db

    found: dict[str, set[int]] = {}
    with app.app_context():
        pids = db.session.execute(
            text(
                # the app's pooled connections, this one included (it goes back to the pool)
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend'"
            )
        ).scalars()
        backends = {int(p) for p in pids if Path(f"/proc/{p}/stat").exists()}
        db.session.rollback()
    if backends:
        found["PostgreSQL backends"] = backends
    redis = redis_server_pids()
    if redis:
        found["Redis server"] = redis
    return found


_PHASE = ["POST"]  # the request the driver is making: the steps' timers charge it


class _Step:
    """CPU seconds spent in one step, by the request it ran in (POST / or GET /hasil)."""

    def __init__(self) -> None:
        self.seconds = {"POST": 0.0, "GET": 0.0}


def _time_steps(app: Any) -> dict[str, _Step]:
    """Wrap the look-up's steps in CPU timers (a timer costs well under a microsecond, so the
    figures stay close to the unprofiled run's). Steps nest: a view's figure includes the
    form, the policy, the queries and the page it ran."""
    from portal import policy, replay
    from portal.lookup import service, views

    steps: dict[str, _Step] = {}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        step = steps.setdefault(name, _Step())

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                step.seconds[_PHASE[0]] += time.process_time() - t0

        return wrapper

    interface = app.session_interface
    interface.open_session = timed("session: open (cookie check, JSON)", interface.open_session)
    interface.save_session = timed("session: save (sign, cookie)", interface.save_session)
    for funcs, label in (
        (app.before_request_funcs, "before_request"),
        (app.after_request_funcs, "after_request"),
    ):
        hooks = funcs.get(None, [])
        hooks[:] = [timed(f"{label}: {f.__module__}.{f.__name__}", f) for f in hooks]
    app.teardown_appcontext_funcs[:] = [
        timed(f"teardown: {f.__module__}.{f.__name__}", f) for f in app.teardown_appcontext_funcs
    ]
    for endpoint in ("lookup.index", "lookup.result"):
        app.view_functions[endpoint] = timed(
            f"view {endpoint} (all below)", app.view_functions[endpoint]
        )
    views.LookupForm = timed("  form: build (fields, CSRF token)", views.LookupForm)
    form_class = sys.modules["portal.lookup.forms"].LookupForm
    form_class.validate = timed("  form: validate (numbers, CSRF)", form_class.validate)
    policy.admit = timed("  policy.admit (rate limits)", policy.admit)
    service.lookup = timed("  service.lookup (match with household, changes)", service.lookup)
    replay.remember_lookup = timed(
        "  replay.remember_lookup (access record, reference, commit)", replay.remember_lookup
    )
    views.recall_current = timed("  recall_current (reference SELECT)", views.recall_current)
    service.from_stored = timed("  service.from_stored", service.from_stored)
    views.render_template = timed("  render_template (the page)", views.render_template)
    return steps


def _print_steps(steps: dict[str, _Step], n: int, posts: float, gets: float) -> None:
    print(f"\n{'step (CPU ms a request)':<64} {'POST /':>8} {'GET /hasil':>10}")
    for name, step in steps.items():
        post, get = (1000 * step.seconds[m] / n for m in ("POST", "GET"))
        if post or get:
            print(f"{name:<64} {post:>8.3f} {get:>10.3f}")
    outer = [s for name, s in steps.items() if not name.startswith(" ")]
    rest = [
        1000 * (total - sum(s.seconds[m] for s in outer)) / n
        for total, m in ((posts, "POST"), (gets, "GET"))
    ]
    print(
        f"{'rest: Flask and Werkzeug (request, routing, response, contexts)':<64} "
        f"{rest[0]:>8.3f} {rest[1]:>10.3f}"
    )
    print(f"{'the request':<64} {1000 * posts / n:>8.3f} {1000 * gets / n:>10.3f}")


if __name__ == "__main__":
    main()
