"""create_app fails closed: production needs real, distinct keys and valid settings.

Every environment change goes through monkeypatch, and an autouse fixture removes the
settings the suite's own environment might carry, so each test starts from nothing.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import portal.config
from portal import create_app
from portal.config import Config, ConfigError, TestConfig, markdown_table
from portal.settings import SETTINGS

SECRET = "s" * 40
HMAC_KEY = "h" * 40


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*SETTINGS, "PORTAL_ENV"]:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def db_file(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'config.sqlite'}"


@pytest.fixture
def make_app() -> Iterator[Any]:
    """create_app, disposing of every engine it made."""
    apps: list[Flask] = []

    def make(config: Any = None) -> Flask:
        app = create_app(config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["db_engine"].dispose()


def production(db_file: str, **values: Any) -> dict[str, Any]:
    return {"ENV_NAME": "production", "DATABASE_URL": db_file, **values}


# --- fails closed -------------------------------------------------------------------------


def test_production_without_keys_refuses_to_start_naming_both(make_app, db_file: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        make_app(production(db_file))
    message = str(excinfo.value)
    assert "SECRET_KEY" in message
    assert "NIK_HMAC_KEY" in message
    assert "Refusing to start" in message


@pytest.mark.parametrize(
    ("given", "missing", "present"),
    [
        ({"SECRET_KEY": SECRET}, "NIK_HMAC_KEY", "SECRET_KEY"),
        ({"NIK_HMAC_KEY": HMAC_KEY}, "SECRET_KEY", "NIK_HMAC_KEY"),
        ({"SECRET_KEY": SECRET, "NIK_HMAC_KEY": ""}, "NIK_HMAC_KEY", "SECRET_KEY"),
    ],
)
def test_production_with_one_key_missing_names_only_that_key(
    make_app, db_file: str, given: dict[str, str], missing: str, present: str
) -> None:
    with pytest.raises(ConfigError) as excinfo:
        make_app(production(db_file, **given))
    assert missing in str(excinfo.value)
    assert f"set {present}" not in str(excinfo.value)
    assert f"and {present}" not in str(excinfo.value)


@pytest.mark.parametrize("env_name", ["production", "development", "testing"])
def test_equal_keys_are_refused_in_every_environment(
    make_app, db_file: str, env_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(portal.config, "INSTANCE", tmp_path)
    with pytest.raises(ConfigError, match="NIK_HMAC_KEY must differ from SECRET_KEY") as excinfo:
        make_app(
            {
                "ENV_NAME": env_name,
                "DATABASE_URL": db_file,
                "SECRET_KEY": SECRET,
                "NIK_HMAC_KEY": SECRET,
            }  # fmt: skip
        )
    assert SECRET not in str(excinfo.value)


@pytest.mark.parametrize(
    ("keys", "too_short"),
    [
        ({"SECRET_KEY": "short-secret", "NIK_HMAC_KEY": HMAC_KEY}, "SECRET_KEY"),
        ({"SECRET_KEY": SECRET, "NIK_HMAC_KEY": "h" * 31}, "NIK_HMAC_KEY"),
    ],
)
def test_short_keys_are_refused_in_production(
    make_app, db_file: str, keys: dict[str, str], too_short: str
) -> None:
    with pytest.raises(ConfigError, match=f"{too_short} is too short"):
        make_app(production(db_file, **keys))


def test_short_keys_are_allowed_in_testing(make_app, db_file: str) -> None:
    app = make_app(
        {"ENV_NAME": "testing", "DATABASE_URL": db_file, "SECRET_KEY": "a", "NIK_HMAC_KEY": "b"}
    )
    assert app.config["SECRET_KEY"] == "a"


def test_production_with_good_keys_starts(make_app, db_file: str) -> None:
    app = make_app(production(db_file, SECRET_KEY=SECRET, NIK_HMAC_KEY=HMAC_KEY))
    assert app.config["ENV_NAME"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["RATELIMIT_ENABLED"] is True


@pytest.mark.parametrize("setting", ["LOOKUP_LIMIT", "TRACK_LIMIT"])
@pytest.mark.parametrize("value", ["5 per fortnight", "banana", "", "per minute", "-1/minute"])
def test_malformed_rate_limit_is_refused_at_boot(
    make_app, db_file: str, setting: str, value: str
) -> None:
    config = production(db_file, SECRET_KEY=SECRET, NIK_HMAC_KEY=HMAC_KEY, **{setting: value})
    with pytest.raises(ConfigError, match=f"{setting}: must be a rate limit"):
        make_app(config)


@pytest.mark.parametrize("value", ["5 per minute", "60 per minute; 600 per hour", "3/hour"])
def test_well_formed_rate_limits_are_accepted(make_app, db_file: str, value: str) -> None:
    app = make_app(
        production(db_file, SECRET_KEY=SECRET, NIK_HMAC_KEY=HMAC_KEY, LOOKUP_LIMIT=value)
    )
    assert app.config["LOOKUP_LIMIT"] == value


def test_negative_proxy_count_is_refused(make_app, db_file: str) -> None:
    config = production(db_file, SECRET_KEY=SECRET, NIK_HMAC_KEY=HMAC_KEY, PROXY_FIX_X_FOR=-1)
    with pytest.raises(ConfigError, match="PROXY_FIX_X_FOR"):
        make_app(config)


@pytest.mark.parametrize("name", ["staging", "prod", "Production", "test"])
def test_unknown_portal_env_is_refused(
    make_app, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("PORTAL_ENV", name)
    with pytest.raises(ConfigError, match="PORTAL_ENV must be one of") as excinfo:
        make_app()
    assert repr(name) in str(excinfo.value)


def test_portal_env_defaults_to_production(make_app) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY and NIK_HMAC_KEY"):
        make_app()


# --- development keys ---------------------------------------------------------------------


def test_development_generates_keys_once_and_keeps_them_in_instance(
    make_app, db_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "instance"
    monkeypatch.setattr(portal.config, "INSTANCE", instance)
    monkeypatch.setenv("PORTAL_ENV", "development")

    first = make_app({"DATABASE_URL": db_file})
    second = make_app({"DATABASE_URL": db_file})

    keys_file = instance / "dev-keys.json"
    stored = json.loads(keys_file.read_text())
    assert stored == {
        "SECRET_KEY": first.config["SECRET_KEY"],
        "NIK_HMAC_KEY": first.config["NIK_HMAC_KEY"],
    }
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert second.config["NIK_HMAC_KEY"] == first.config["NIK_HMAC_KEY"]
    assert first.config["SECRET_KEY"] != first.config["NIK_HMAC_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert first.config["ENV_NAME"] == "development"
    assert first.config["SESSION_COOKIE_SECURE"] is False


def test_development_keys_differ_between_instances(
    make_app, db_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_ENV", "development")
    monkeypatch.setattr(portal.config, "INSTANCE", tmp_path / "one")
    one = make_app({"DATABASE_URL": db_file})
    monkeypatch.setattr(portal.config, "INSTANCE", tmp_path / "two")
    two = make_app({"DATABASE_URL": db_file})
    assert one.config["SECRET_KEY"] != two.config["SECRET_KEY"]
    assert one.config["NIK_HMAC_KEY"] != two.config["NIK_HMAC_KEY"]


# --- environment variables ----------------------------------------------------------------


def test_environment_variables_configure_production(
    make_app, db_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("NIK_HMAC_KEY", HMAC_KEY)
    monkeypatch.setenv("DATABASE_URL", db_file)
    monkeypatch.setenv("LOOKUP_LIMIT", "7 per minute")
    monkeypatch.setenv("PROXY_FIX_X_FOR", "2")
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "1024")

    app = make_app()

    assert app.config["SECRET_KEY"] == SECRET
    assert app.config["NIK_HMAC_KEY"] == HMAC_KEY
    assert app.config["DATABASE_URL"] == db_file
    assert app.config["LOOKUP_LIMIT"] == "7 per minute"
    assert app.config["PROXY_FIX_X_FOR"] == 2
    assert app.config["MAX_CONTENT_LENGTH"] == 1024


def test_redis_url_becomes_the_rate_limit_storage_unless_set_apart(
    make_app, db_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("NIK_HMAC_KEY", HMAC_KEY)
    monkeypatch.setenv("DATABASE_URL", db_file)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/5")
    assert make_app().config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/5"

    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    assert make_app().config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_a_passed_mapping_overrides_the_environment(
    make_app, db_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("NIK_HMAC_KEY", HMAC_KEY)
    monkeypatch.setenv("LOOKUP_LIMIT", "7 per minute")
    app = make_app(production(db_file, LOOKUP_LIMIT="9 per minute"))
    assert app.config["LOOKUP_LIMIT"] == "9 per minute"
    assert app.config["SECRET_KEY"] == SECRET


def test_environment_variables_can_make_production_fail_closed(
    make_app, db_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("NIK_HMAC_KEY", SECRET)
    with pytest.raises(ConfigError, match="must differ"):
        make_app(production(db_file))


@pytest.mark.parametrize(
    ("name", "value"), [("PROXY_FIX_X_FOR", "two"), ("MAX_CONTENT_LENGTH", "1MB")]
)
def test_badly_typed_environment_variable_is_refused(
    make_app, db_file: str, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"{name} must be a whole number"):
        make_app(production(db_file, SECRET_KEY=SECRET, NIK_HMAC_KEY=HMAC_KEY))


def test_testing_ignores_the_environment(
    make_app, db_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_ENV", "testing")
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("LOOKUP_LIMIT", "banana")
    app = make_app({"DATABASE_URL": db_file})
    assert app.config["SECRET_KEY"] == TestConfig.SECRET_KEY
    assert app.config["LOOKUP_LIMIT"] == Config.LOOKUP_LIMIT
    assert app.config["RATELIMIT_ENABLED"] is False


# --- every setting from the environment -------------------------------------------------------

# A valid value for each setting, different from its default where it can be.
SAMPLES = {
    "SECRET_KEY": ("k" * 40, "k" * 40),
    "NIK_HMAC_KEY": ("n" * 40, "n" * 40),
    "DATABASE_URL": (None, None),  # set by the test to its own file
    "DATABASE_POOL_SIZE": ("12", 12),
    "DATABASE_MAX_OVERFLOW": ("0", 0),
    "DATABASE_POOL_PRE_PING": ("on", True),
    "DATABASE_POOL_PING_IDLE_SECONDS": ("2.5", 2.5),
    "ACCESS_LOG_ASYNC_COMMIT": ("off", False),
    "REDIS_URL": ("redis://127.0.0.1:6379/3", "redis://127.0.0.1:6379/3"),
    "RATELIMIT_STORAGE_URI": ("memory://", "memory://"),
    "RATELIMIT_ENABLED": ("false", False),
    "RATELIMIT_KEY_PREFIX": ("bekasi", "bekasi"),
    "LOOKUP_LIMIT": ("7 per minute", "7 per minute"),
    "DTSEN_FREE_MISSES": ("4", 4),
    "DTSEN_WAIT_SECONDS": ("20", 20),
    "DTSEN_WAIT_MAX_SECONDS": ("600", 600),
    "APPEAL_LIMIT": ("8 per hour", "8 per hour"),
    "APPEAL_FILER_LIMIT": ("2 per day", "2 per day"),
    "APPEAL_MAX_OPEN_PER_SUBJECT": ("3", 3),
    "ASSISTED_FILING_LIMIT": ("12 per day", "12 per day"),
    "TRACK_LIMIT": ("9 per minute", "9 per minute"),
    "DRAFT_LIMIT": ("4 per hour", "4 per hour"),
    "PHOTO_LIMIT": ("6 per hour", "6 per hour"),
    "STAFF_LOGIN_LIMIT": ("11 per hour", "11 per hour"),
    "STAFF_LOGIN_ACCOUNT_LIMIT": ("3 per hour", "3 per hour"),
    "STAFF_MATCH_LIMIT": ("10 per hour", "10 per hour"),
    "STAFF_SEARCH_LIMIT": ("12 per hour", "12 per hour"),
    "STAFF_LOGIN_FREE_FAILURES": ("7", 7),
    "APPEAL_SLA_DAYS": ("10", 10),
    "CONTEST_DAYS": ("20", 20),
    "UPLOAD_DIR": ("/srv/dtsen/uploads", "/srv/dtsen/uploads"),
    "PHOTO_MAX_BYTES": ("8_000_000", 8_000_000),
    "UPLOAD_MAX_BODY_BYTES": ("30000000", 30_000_000),
    "PHOTO_MAX_PIXELS": ("13000000", 13_000_000),
    "PHOTO_DECODE_CPU_SECONDS": ("3", 3),
    "PHOTO_DECODE_MEMORY_MB": ("256", 256),
    "PROGRAM_MAX_DESIL": ("PKH=3, sembako=5, BLT=none", {"PKH": 3, "BPNT": 5, "BLT": None}),
    "SNAPSHOT_CACHE_SECONDS": ("2.5", 2.5),
    "EXPIRED_SWEEP_SECONDS": ("30", 30.0),
    "SNAPSHOT_KEEP_PERIODS": ("6", 6),
    "STAFF_SESSION_BACKEND": ("database", "database"),
    "STAFF_COOKIE_NAME": ("bekasi_staff", "bekasi_staff"),
    "STAFF_IDLE_MINUTES": ("15", 15),
    "STAFF_ABSOLUTE_HOURS": ("8", 8),
    "STAFF_ENROL_HOURS": ("24", 24),
    "STAFF_PASSWORD_MIN": ("14", 14),
    "PASSWORD_TIME_COST": ("4", 4),
    "PASSWORD_MEMORY_KIB": ("131072", 131072),
    "PASSWORD_PARALLELISM": ("2", 2),
    "PROXY_FIX_X_FOR": ("1", 1),
    "CLIENT_IPV6_PREFIX": ("56", 56),
    "MAX_CONTENT_LENGTH": ("32768", 32768),
    "MAX_FORM_MEMORY_SIZE": ("32768", 32768),
    "PUBLIC_BASE_URL": ("https://cekdtsen.example.go.id", "https://cekdtsen.example.go.id"),
    "SESSION_COOKIE_NAME": ("bekasi_session", "bekasi_session"),
    "SESSION_COOKIE_SECURE": ("no", False),
    "PERMANENT_SESSION_LIFETIME": ("3600", 3600),
    "WTF_CSRF_TIME_LIMIT": ("7200", 7200),
    "PREFERRED_URL_SCHEME": ("http", "http"),
    "BABEL_DEFAULT_LOCALE": ("en", "en"),
    "SQL_ECHO": ("yes", True),
    "EXPORT_INLINE_MAX": ("500", 500),
    "EXPORT_UNDO_MINUTES": ("2.5", 2.5),
    "JOBS_LEASE_SECONDS": ("600", 600),
    "JOBS_MAX_ATTEMPTS": ("5", 5),
    "JOBS_POLL_SECONDS": ("2.5", 2.5),
    "SMTP_HOST": ("mail.dinsos.example.go.id", "mail.dinsos.example.go.id"),
    "SMTP_PORT": ("2525", 2525),
    "SMTP_STARTTLS": ("false", False),
    "SMTP_USER": ("portal", "portal"),
    "SMTP_PASSWORD": ("p" * 20, "p" * 20),
    "SMTP_FROM": ("DTSEN <no-reply@dinsos.example.go.id>", "DTSEN <no-reply@dinsos.example.go.id>"),
    "SMS_GATEWAY": ("http-json", "http-json"),
    "SMS_GATEWAY_URL": ("https://sms.example.go.id/send", "https://sms.example.go.id/send"),
    "SMS_GATEWAY_TOKEN": ("t" * 30, "t" * 30),
    "NOTIFY_TIMEOUT_SECONDS": ("10", 10.0),
    "NOTIFY_MAX_ATTEMPTS": ("4", 4),
    "NOTIFY_RETRY_SECONDS": ("30", 30.0),
    "NOTIFY_LEASE_SECONDS": ("120", 120),
    "NOTIFY_POLL_SECONDS": ("1", 1.0),
}

# Class attributes that are not settings: how the config itself works, or fixed by the code.
NOT_SETTINGS = {
    "ENV_NAME",  # PORTAL_ENV
    "REQUIRED",
    "LANGUAGES",  # a language needs a catalog, not a setting
    "BABEL_DEFAULT_TIMEZONE",  # dates are Jakarta dates by product decision
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "RATELIMIT_STRATEGY",
    "RATELIMIT_HEADERS_ENABLED",
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED",
    "RATELIMIT_SWALLOW_ERRORS",
}


def test_every_config_attribute_is_a_setting_or_deliberately_fixed() -> None:
    attributes = {name for name in dir(Config) if name.isupper()}
    assert attributes - NOT_SETTINGS == set(SETTINGS)
    assert set(SAMPLES) == set(SETTINGS)


def test_every_setting_is_read_from_the_environment(
    make_app, db_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", db_file)
    for name, (raw, _expected) in SAMPLES.items():
        if raw is not None:
            monkeypatch.setenv(name, raw)

    app = make_app()

    for name, (raw, expected) in SAMPLES.items():
        if raw is not None:
            assert app.config[name] == expected, name


BAD = {
    "DATABASE_POOL_SIZE": "five",
    "DATABASE_POOL_PRE_PING": "maybe",
    "DATABASE_POOL_PING_IDLE_SECONDS": "-1",
    "ACCESS_LOG_ASYNC_COMMIT": "sometimes",
    "REDIS_URL": "127.0.0.1:6379",
    "APPEAL_SLA_DAYS": "0",
    "PHOTO_MAX_BYTES": "5MB",
    "UPLOAD_MAX_BODY_BYTES": "1000",
    "PROGRAM_MAX_DESIL": "PKH=11",
    "SNAPSHOT_CACHE_SECONDS": "-1",
    "EXPIRED_SWEEP_SECONDS": "soon",
    "SNAPSHOT_KEEP_PERIODS": "1",
    "STAFF_SESSION_BACKEND": "memcached",
    "PROXY_FIX_X_FOR": "9",
    "SESSION_COOKIE_SECURE": "ja",
    "BABEL_DEFAULT_LOCALE": "jv",
    "TRACK_LIMIT": "30 per fortnight",
    "SMTP_PORT": "smtp",
    "SMS_GATEWAY": "twilio",
    "SMS_GATEWAY_URL": "ftp://sms.example.go.id",
    "NOTIFY_MAX_ATTEMPTS": "0",
}


def test_the_notification_lease_must_outlast_a_slow_server(make_app, db_file: str) -> None:
    config = production(
        db_file,
        SECRET_KEY=SECRET,
        NIK_HMAC_KEY=HMAC_KEY,
        NOTIFY_TIMEOUT_SECONDS=60.0,
        NOTIFY_LEASE_SECONDS=120,
    )
    with pytest.raises(ConfigError, match="NOTIFY_LEASE_SECONDS"):
        make_app(config)


@pytest.mark.parametrize(("name", "value"), BAD.items(), ids=BAD.keys())
def test_a_setting_that_does_not_parse_stops_start_up_naming_it(
    make_app, db_file: str, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=rf"^{name}\b"):
        make_app(production(db_file, SECRET_KEY=SECRET, NIK_HMAC_KEY=HMAC_KEY))


def test_photo_limit_cannot_exceed_the_photo_page_body_limit(make_app, db_file: str) -> None:
    config = production(
        db_file,
        SECRET_KEY=SECRET,
        NIK_HMAC_KEY=HMAC_KEY,
        PHOTO_MAX_BYTES=20_000_000,
        UPLOAD_MAX_BODY_BYTES=10_000_000,
    )
    with pytest.raises(ConfigError, match="UPLOAD_MAX_BODY_BYTES"):
        make_app(config)


def test_the_settings_table_in_the_docs_is_current() -> None:
    docs = Path(portal.config.ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert markdown_table() in docs, (
        "docs/settings.md is stale: replace its table with `python -m portal settings`"
    )
