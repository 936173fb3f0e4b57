"""Faults and hostile input: the portal served for real (tests/faults/live.py) while its
database restarts and its workers are killed, every form fed arbitrary input, and every kind
of "no" compared byte for byte and in time.

These tests belong to the PostgreSQL + Redis run of the suite (``make test-postgres``): without
TEST_DATABASE_URL / TEST_REDIS_URL they skip. With them, a machine that cannot run PostgreSQL
of its own or reach Redis skips them too, except in CI (CI=true), where that fails the run.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, Row, create_engine, text

from tests.faults.live import Cluster, Demo, HttpBrowser, Portal, first_in_line

IN_CI = os.environ.get("CI") == "true"

# Property tests: modest and repeatable by default (the same examples on every run, so CI is
# not the place where a new example turns up); HYPOTHESIS_PROFILE=faults-explore searches
# wider, with new random examples each run.
_PATIENT = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile(
    "faults",
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_PATIENT,
)
settings.register_profile(
    "faults-explore",
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=_PATIENT,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "faults"))


@pytest.fixture(autouse=True)
def _postgres_and_redis_run() -> None:
    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("faults run with PostgreSQL + Redis: set TEST_DATABASE_URL and TEST_REDIS_URL")
    if not os.environ.get("TEST_REDIS_URL"):
        pytest.skip("faults run with PostgreSQL + Redis: set TEST_REDIS_URL")


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI cannot run the fault tests: {reason}", pytrace=False)
    pytest.skip(reason)


# --- the timing module last, on a quiet machine ------------------------------------------------

TIMED = "test_every_no_looks_the_same.py"  # compares answer times: wants the CPU to itself
QUIET_AFTER = "FAULTS_TIME_AFTER"  # a path: timing waits until it exists (make test-both)
QUIET_WAIT_SECONDS = 1800


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The timing module's tests run after every other fault test, on the same servers:
    make test-both starts this run while the last parts of the suite still run, and
    lets the timing begin only once they are done (QUIET_AFTER)."""
    items.sort(key=lambda item: item.path.name == TIMED)  # stable: otherwise as collected


@pytest.fixture(scope="module")
def quiet_machine() -> None:
    """Wait for the path QUIET_AFTER names to exist (make test-both creates it when the
    suite's parts have ended); without it, go at once."""
    path = os.environ.get(QUIET_AFTER)
    if not path:
        return
    deadline = time.monotonic() + QUIET_WAIT_SECONDS
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            pytest.fail(f"{QUIET_AFTER}: {path} did not appear in {QUIET_WAIT_SECONDS} s")
        time.sleep(0.2)


def _redis_problem(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis at {url} is unreachable: {exc}"
    return None


@dataclass
class Served:
    cluster: Cluster
    portal: Portal
    demo: Demo
    engine: Engine

    def browser(self, address: str = "203.0.113.7") -> HttpBrowser:
        """A phone that chose English with the language switch (its Accept-Language is
        ignored: the service is in Bahasa Indonesia unless the person picks English)."""
        browser = HttpBrowser(self.portal.port, address=address)
        browser.choose_language(browser.language)
        return browser

    def first_in_line(self) -> contextlib.AbstractContextManager[bool]:
        """The servers and this process get the CPU before the machine's other work: for
        measuring time on a busy machine (see live.first_in_line)."""
        portal = [self.portal.master, *self.portal.workers()]
        return first_in_line([os.getpid(), *portal, *self.cluster.processes()])

    def query(self, sql: str, **params: Any) -> list[Row[Any]]:
        """Rows of SQL, read straight from the portal's database."""
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))


@pytest.fixture(scope="package")
def served() -> Iterator[Served]:
    """PostgreSQL of our own with the demo data, gunicorn (2 workers) serving the portal."""
    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("faults run with PostgreSQL + Redis: set TEST_DATABASE_URL and TEST_REDIS_URL")
    redis_url = os.environ.get("TEST_REDIS_URL", "")
    problem = Cluster.available() or _redis_problem(redis_url)
    if problem:
        _missing(problem)
    cluster = Cluster.create()
    portal = Portal.prepare(cluster.url, redis_url)
    engine = create_engine(cluster.url, pool_pre_ping=True)
    try:
        demo = portal.load_demo()
        portal.serve(workers=2)
        yield Served(cluster, portal, demo, engine)
    finally:
        engine.dispose()
        portal.destroy()
        cluster.destroy()
