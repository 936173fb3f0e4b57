"""The argon2id cost of staff passwords: argon2-cffi's defaults (or stronger) everywhere but
the test suite, which hashes cheaply because it checks behaviour, not cost.

Production must never inherit the cheap cost: not by PORTAL_ENV, not by a variable copied
from a test set-up. The hashes are read back with ``argon2.extract_parameters``, so the
tests see the cost that is really used, not only the configured one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY
from flask import Flask

from portal import create_app
from portal.auth import service
from portal.config import Config, ConfigError, DevConfig, TestConfig
from portal.settings import SETTINGS

DEFAULTS = RFC_9106_LOW_MEMORY  # what argon2.PasswordHasher() uses without arguments


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*SETTINGS, "PORTAL_ENV"]:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Any]:
    apps: list[Flask] = []

    def make(env: str, **values: Any) -> Flask:
        app = create_app(
            {
                "ENV_NAME": env,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'cost.sqlite'}",
                "SECRET_KEY": "s" * 40,
                "NIK_HMAC_KEY": "h" * 40,
                **values,
            }
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["db_engine"].dispose()


def hash_cost(app: Flask) -> tuple[int, int, int]:
    """Hash a password the way the portal does in APP and read the cost back from the hash."""
    with app.app_context():
        params = extract_parameters(service._hasher().hash("a long enough password"))
    return params.time_cost, params.memory_cost, params.parallelism


@pytest.mark.parametrize("config", [Config, DevConfig], ids=["production", "development"])
def test_production_and_development_default_to_argon2_library_defaults_or_stronger(
    config: type[Config],
) -> None:
    passes, memory = config.PASSWORD_TIME_COST, config.PASSWORD_MEMORY_KIB
    assert passes >= DEFAULTS.time_cost
    assert memory >= DEFAULTS.memory_cost
    assert config.PASSWORD_PARALLELISM >= 1


def test_a_production_app_hashes_at_the_library_default_cost(make_app) -> None:
    app = make_app("production")
    assert hash_cost(app) == (DEFAULTS.time_cost, DEFAULTS.memory_cost, DEFAULTS.parallelism)


def test_the_test_suite_hashes_cheaply(app: Flask) -> None:
    assert hash_cost(app) == (1, 8, 1)
    assert (TestConfig.PASSWORD_TIME_COST, TestConfig.PASSWORD_MEMORY_KIB) == (1, 8)


@pytest.mark.parametrize("env", ["production", "development"])
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PASSWORD_TIME_COST", DEFAULTS.time_cost - 1),
        ("PASSWORD_TIME_COST", TestConfig.PASSWORD_TIME_COST),
        ("PASSWORD_MEMORY_KIB", DEFAULTS.memory_cost - 1),
        ("PASSWORD_MEMORY_KIB", TestConfig.PASSWORD_MEMORY_KIB),
    ],
)
def test_a_cost_below_the_library_defaults_stops_start_up_outside_testing(
    make_app, env: str, name: str, value: int
) -> None:
    with pytest.raises(ConfigError, match=rf"^{name} must be at least"):
        make_app(env, **{name: value})


def test_the_cheap_test_cost_from_the_environment_stops_a_production_start(
    make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("PASSWORD_MEMORY_KIB", "8")
    with pytest.raises(ConfigError, match="PASSWORD_TIME_COST must be at least 3"):
        make_app("production")


def test_a_stronger_cost_is_accepted_and_used_in_production(make_app) -> None:
    app = make_app("production", PASSWORD_TIME_COST=4, PASSWORD_MEMORY_KIB=128 * 1024)
    assert hash_cost(app)[:2] == (4, 128 * 1024)
