"""The kept world of tests/fixtures/worlds.py: published once for the tests of a module that
leave it unchanged, published again after a test that changed it, never seen by a test that
did not ask for it. The tests run in file order (a module is never split across the parts of
``make test-both``) and each says what the earlier ones left: run the module whole."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy import select

from portal import db
from portal.dataimport.models import Snapshot
from tests.fixtures.factories import Factory
from tests.fixtures.worlds import KeptWorld

SEEN: dict[str, object] = {}  # what the earlier tests of this module saw


def publish_pair(factory: Factory) -> list[str]:
    """Two households as 2026Q3; returns every member's NIK."""
    houses = [factory.household(), factory.household(size=3)]
    factory.publish("2026Q3", houses)
    return [m.nik for h in houses for m in h.members]


def snapshots(app: Flask) -> list[tuple[str, datetime]]:
    with app.app_context():
        rows = db.session.execute(select(Snapshot.period, Snapshot.published_at))
        return [tuple(r) for r in rows]


def test_1_the_world_is_published(app: Flask, kept_world: KeptWorld) -> None:
    SEEN["niks"] = kept_world(publish_pair)
    SEEN["snapshots"] = snapshots(app)
    assert [period for period, _ in snapshots(app)] == ["2026Q3"]


def test_2_an_unchanged_world_is_kept_and_new_households_are_new(
    app: Flask, kept_world: KeptWorld, factory: Factory
) -> None:
    assert "snapshots" in SEEN, "run the module whole"
    assert kept_world(publish_pair) == SEEN["niks"]
    assert snapshots(app) == SEEN["snapshots"]  # the same rows: not published again
    house = factory.household(size=4)  # the factory goes on where the world left it
    assert not {m.nik for m in house.members} & set(SEEN["niks"])  # type: ignore[call-overload]


def test_3_a_test_that_publishes_another_period(
    app: Flask, kept_world: KeptWorld, factory: Factory
) -> None:
    kept_world(publish_pair)
    factory.publish("2026Q4", [factory.household()])
    assert [period for period, _ in snapshots(app)] == ["2026Q3", "2026Q4"]


def test_4_a_changed_world_is_published_again(app: Flask, kept_world: KeptWorld) -> None:
    assert "snapshots" in SEEN, "run the module whole"
    kept_world(publish_pair)
    now = snapshots(app)
    assert [period for period, _ in now] == ["2026Q3"]  # the extra period is gone
    assert now != SEEN["snapshots"]  # a new publication (the same file, published later)


def test_5_an_app_of_its_own_empties_the_tables_after_the_world_was_checked(
    limited_app: Flask, kept_world: KeptWorld
) -> None:
    kept_world(publish_pair)  # (kept_world's check runs before limited_app's cleaning)
    SEEN["snapshots"] = snapshots(limited_app)


def test_6_so_the_world_is_published_again(app: Flask, kept_world: KeptWorld) -> None:
    assert "snapshots" in SEEN, "run the module whole"
    kept_world(publish_pair)
    now = snapshots(app)
    assert [period for period, _ in now] == ["2026Q3"]
    assert now != SEEN["snapshots"]


def test_7_a_test_that_does_not_ask_for_it_does_not_see_it(app: Flask) -> None:
    assert snapshots(app) == []
