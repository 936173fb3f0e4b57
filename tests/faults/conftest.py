"""Faults and hostile input: the portal served for real (tests/faults/live.py) while its
database restarts and its workers are killed, every form fed arbitrary input, and every kind
of "no" compared byte for byte and in time.

These tests belong to the PostgreSQL + Redis run of the suite (``make test-postgres``): without
TEST_DATABASE_URL / TEST_REDIS_URL they skip. With them, a machine that cannot run PostgreSQL
of its own or reach Redis skips them too, except in CI (CI=true), where that fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, Row, create_engine, text

from tests.faults.live import Cluster, Demo, HttpBrowser, Portal

IN_CI = os.environ.get("CI") == "true"


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
        return HttpBrowser(self.portal.port, address=address)

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
