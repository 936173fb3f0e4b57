"""Redis down: the portal keeps answering and keeps limiting, in each worker's memory."""

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.fixtures.app import _make_app
from tests.fixtures.factories import Factory
from tests.helpers import Client


@pytest.fixture
def app_with_dead_redis(db_url: str) -> Iterator[Flask]:
    from portal.extensions import limiter

    try:
        yield from _make_app(
            db_url,
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",  # nothing listens on port 1
            LOOKUP_LIMIT="3 per minute",
        )
    finally:
        # the limiter is one object per process and init_app does not clear this flag:
        # without this, later tests would quietly count in memory instead of in Redis
        limiter._storage_dead = False


def test_lookup_with_unreachable_redis_still_answers_and_still_limits(
    app_with_dead_redis: Flask, tmp_path
) -> None:
    import random

    from portal.dataimport.demo import Numbers

    factory = Factory(app_with_dead_redis, tmp_path, Numbers(random.Random(3)))
    house = factory.household(desil=2)
    factory.publish("2026Q3", [house])
    client: Client = app_with_dead_redis.test_client()  # type: ignore[assignment]
    pair = {"nik": house.members[0].nik, "no_kk": house.no_kk}

    statuses = [client.post_form("/", pair).status for _ in range(5)]

    assert statuses == [303, 303, 303, 429, 429]
    assert "Desil" in client.page("/hasil").text  # the result of the last answered look-up
