"""Configuration from the environment. ``validate()`` fails closed outside dev and test.

Which class is used: ``PORTAL_ENV`` = ``production`` (the default), ``development`` or
``testing``. Production needs ``SECRET_KEY`` and ``NIK_HMAC_KEY`` in the environment; there is
no literal fallback key anywhere. Development keeps generated keys in ``instance/dev-keys.json``
so that gunicorn workers share them and imported data stays findable across restarts.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from argon2.profiles import RFC_9106_LOW_MEMORY

from portal.settings import SETTINGS, SettingError

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent  # a checkout: templates/, static/, translations/ sit beside the package


def asset_dir(name: str) -> Path:
    """templates/, static/ or translations/: inside the package when installed from a wheel
    (the build copies them there), else beside it in the checkout."""
    packaged = PACKAGE / name
    return packaged if packaged.is_dir() else ROOT / name


def _instance_dir() -> Path:
    """Where the SQLite database, uploads and development keys live by default: INSTANCE_PATH,
    else ``instance/`` of the checkout, else ``instance/`` of the working directory."""
    configured = os.environ.get("INSTANCE_PATH")
    if configured:
        return Path(configured).resolve()
    if (ROOT / "pyproject.toml").is_file():
        return ROOT / "instance"
    return Path.cwd() / "instance"


INSTANCE = _instance_dir()


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration is unsafe or broken."""


class Config:
    ENV_NAME = "production"

    SECRET_KEY: str | None = None
    NIK_HMAC_KEY: str | None = None
    DATABASE_URL = f"sqlite:///{INSTANCE / 'portal.sqlite'}"
    REDIS_URL: str | None = None

    # Rate limits (config strings, parsed at boot by validate()).
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"  # REDIS_URL, when set, is used instead
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_KEY_PREFIX = "portal"
    RATELIMIT_HEADERS_ENABLED = False  # headers would tell which limit is close
    # Redis down: count in this process's memory instead of failing requests.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    # Per client IP. Generous: carriers put many people behind one address (CGNAT).
    LOOKUP_LIMIT = "60 per minute; 600 per hour"
    # Every check against DTSEN (portal/policy.py): past this many misses in a day about one
    # NIK, No. KK or ticket, each further check about it waits first, twice as long after
    # each miss, up to the maximum. A stranger's guesses slow down; the owner is never
    # locked out (one wait, then the right answer).
    DTSEN_FREE_MISSES = 5
    DTSEN_WAIT_SECONDS = 30
    DTSEN_WAIT_MAX_SECONDS = 15 * 60

    # Filing cases: per client IP (decorator), per filer's NIK (counted in the database),
    # and a cap on open cases about one household from one filer.
    APPEAL_LIMIT = "20 per hour; 60 per day"
    APPEAL_FILER_LIMIT = "5 per day"
    APPEAL_MAX_OPEN_PER_SUBJECT = 2
    # Cases one desa operator files for citizens at the desa office (counted in the database)
    ASSISTED_FILING_LIMIT = "30 per day"
    TRACK_LIMIT = "30 per minute; 300 per hour"
    # Drafts started and photo-page posts, per client network: each draft is a row and
    # each photo a decode, so neither may be free in bulk.
    DRAFT_LIMIT = "20 per hour; 100 per day"
    PHOTO_LIMIT = "30 per hour; 150 per day"
    APPEAL_SLA_DAYS = 14
    CONTEST_DAYS = 30
    UPLOAD_DIR = str(INSTANCE / "uploads")
    PHOTO_MAX_BYTES = 5 * 1024 * 1024
    PHOTO_MAX_PIXELS = 17_000_000  # a 16 MP phone camera, with room to spare
    # Each photo is decoded in a child process that the kernel stops past these.
    PHOTO_DECODE_CPU_SECONDS = 5
    PHOTO_DECODE_MEMORY_MB = 512
    # Body of a photo page (MAX_CONTENT_LENGTH elsewhere). Each file beyond PHOTO_MAX_BYTES is
    # refused by name, so this only bounds the transfer: three oversized phone photos fit.
    UPLOAD_MAX_BODY_BYTES = 48 * 1024 * 1024

    # Staff: server-side sessions ("auto": Redis when REDIS_URL is set, else the database),
    # time-outs, login throttling (failures only), enrolment links, password length.
    STAFF_SESSION_BACKEND = "auto"
    STAFF_COOKIE_NAME = "dtsen_staff"
    STAFF_IDLE_MINUTES = 30
    STAFF_ABSOLUTE_HOURS = 10
    STAFF_LOGIN_LIMIT = "20 per 15 minutes"  # failed logins per client IP
    STAFF_LOGIN_ACCOUNT_LIMIT = "5 per 15 minutes"  # failed logins per account and IP
    # Name searches of DTSEN households (matching a neighbour reported by name), per officer
    STAFF_MATCH_LIMIT = "30 per hour; 150 per day"
    # Case searches by ticket, NIK, No. KK or name (/staf/cari), per officer
    STAFF_SEARCH_LIMIT = "60 per hour; 300 per day"
    # failed sign-ins of one account in a day, from any address, before each further try
    # waits (portal/policy.py: 30 s doubling; the officer is slowed, never locked out)
    STAFF_LOGIN_FREE_FAILURES = 20
    STAFF_ENROL_HOURS = 72
    STAFF_PASSWORD_MIN = 12
    # argon2id cost of staff passwords (argon2-cffi's RFC 9106 "low memory" profile, its
    # defaults). validate() refuses less outside testing: only the test suite hashes cheaply.
    PASSWORD_TIME_COST = 3
    PASSWORD_MEMORY_KIB = 64 * 1024
    PASSWORD_PARALLELISM = 4

    PROXY_FIX_X_FOR = 0  # number of trusted proxies in front (X-Forwarded-For hops)
    CLIENT_IPV6_PREFIX = 64  # per-client limits key IPv6 clients by this network
    MAX_CONTENT_LENGTH = 64 * 1024
    MAX_FORM_MEMORY_SIZE = 64 * 1024

    # The portal's address as printed on receipts; unset: the address the browser used.
    PUBLIC_BASE_URL: str | None = None

    SESSION_COOKIE_NAME = "dtsen_session"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 4
    PREFERRED_URL_SCHEME = "https"

    LANGUAGES = ("id", "en")
    BABEL_DEFAULT_LOCALE = "id"
    BABEL_DEFAULT_TIMEZONE = "Asia/Jakarta"

    # Deployment override of the desil range per program, e.g. {"PKH": 3}.
    PROGRAM_MAX_DESIL: dict[str, int | None] = {}

    SQL_ECHO = False
    # a sync worker holds one connection at a time: 2 + 2 leave room without crowding
    # PostgreSQL's max_connections when many workers on several servers share it
    DATABASE_POOL_SIZE = 2
    DATABASE_MAX_OVERFLOW = 2
    # Off: a ping only for a connection unused for DATABASE_POOL_PING_IDLE_SECONDS (portal.db);
    # a restart while busy costs each worker one 503 (the pool is then replaced at once)
    DATABASE_POOL_PRE_PING = False
    DATABASE_POOL_PING_IDLE_SECONDS = 10.0
    # A citizen's look-up record commits without waiting for the WAL flush (PostgreSQL);
    # the trade-off is in docs/lookup.md, "The access record's commit"
    ACCESS_LOG_ASYNC_COMMIT = True
    # How long a process may reuse the list of published snapshots (seconds); a new import
    # in another process is seen within this time (the importing process sees it at once).
    SNAPSHOT_CACHE_SECONDS = 10.0
    # How often a process deletes the expired rows of a table that a write adds to (look-up
    # references, kept forms, tracking and case-list grants, drafts), in seconds: not on every
    # write, which scanned every deleted row not yet vacuumed (portal/expiry.py); 0: always
    EXPIRED_SWEEP_SECONDS = 10.0
    # How many published periods are kept (at least 2: the look-up compares with the
    # previous period); older ones and replaced files are pruned after each import.
    SNAPSHOT_KEEP_PERIODS = 4

    # Exports of more approved cases than this are made by the job worker (`flask jobs
    # work`), not in the officer's request; the exports page shows their progress.
    EXPORT_INLINE_MAX = 1000
    # An export waits this many minutes before it is final: meanwhile its admin_dinsos may
    # cancel it (its cases wait again) and nobody may download it. 0: final at once.
    EXPORT_UNDO_MINUTES = 10.0
    # Background jobs: a claimed job is the worker's for this long (extended while it reports
    # progress on PostgreSQL); after that another worker takes it over. Attempts per job;
    # seconds an idle worker waits before looking again.
    JOBS_LEASE_SECONDS = 300
    JOBS_MAX_ATTEMPTS = 3
    JOBS_POLL_SECONDS = 5.0

    # Notifications (portal/notify, docs/notifications.md): e-mail over SMTP, SMS through an
    # HTTP gateway. A channel without its server stays queued.
    SMTP_HOST: str | None = None
    SMTP_PORT = 587
    SMTP_STARTTLS = True
    SMTP_USER: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_FROM = "DTSEN <no-reply@localhost>"
    SMS_GATEWAY = "http-json"
    SMS_GATEWAY_URL: str | None = None
    SMS_GATEWAY_TOKEN: str | None = None
    NOTIFY_TIMEOUT_SECONDS = 20.0
    NOTIFY_MAX_ATTEMPTS = 8
    NOTIFY_RETRY_SECONDS = 60.0
    NOTIFY_LEASE_SECONDS = 300
    NOTIFY_POLL_SECONDS = 5.0

    REQUIRED = ("SECRET_KEY", "NIK_HMAC_KEY")

    @classmethod
    def validate(cls, config: dict[str, Any]) -> None:
        """Raise ConfigError on anything unsafe. Called by create_app before anything binds."""
        missing = [k for k in cls.REQUIRED if not config.get(k)]
        if missing:
            raise ConfigError(
                "Refusing to start: set " + " and ".join(missing) + " in the environment "
                "(generate each with: python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        if config["SECRET_KEY"] == config["NIK_HMAC_KEY"]:
            raise ConfigError("NIK_HMAC_KEY must differ from SECRET_KEY.")
        for key in ("SECRET_KEY", "NIK_HMAC_KEY"):
            if len(str(config[key])) < 32 and config.get("ENV_NAME") == "production":
                raise ConfigError(f"{key} is too short: use at least 32 random characters.")
        for setting in SETTINGS.values():
            try:
                setting.verify(config[setting.name])
            except SettingError as exc:
                raise ConfigError(str(exc)) from None
        if config["PHOTO_MAX_BYTES"] > config["UPLOAD_MAX_BODY_BYTES"]:
            raise ConfigError("UPLOAD_MAX_BODY_BYTES must be at least PHOTO_MAX_BYTES.")
        if config["NOTIFY_LEASE_SECONDS"] < 5 * config["NOTIFY_TIMEOUT_SECONDS"]:
            raise ConfigError("NOTIFY_LEASE_SECONDS must be at least 5 x NOTIFY_TIMEOUT_SECONDS.")
        if config["STAFF_SESSION_BACKEND"] == "redis" and not config.get("REDIS_URL"):
            raise ConfigError("STAFF_SESSION_BACKEND=redis needs REDIS_URL.")
        if config.get("ENV_NAME") != "testing":
            cls._check_password_cost(config)

    @staticmethod
    def _check_password_cost(config: dict[str, Any]) -> None:
        """Staff password hashes at least as costly as argon2-cffi's defaults (RFC 9106 low
        memory: 3 passes over 64 MiB). The cheap cost of TestConfig must never reach a
        deployment, by PORTAL_ENV or by a variable copied from a test set-up."""
        floor = RFC_9106_LOW_MEMORY
        for name, low in (
            ("PASSWORD_TIME_COST", floor.time_cost),
            ("PASSWORD_MEMORY_KIB", floor.memory_cost),
        ):
            if config[name] < low:
                raise ConfigError(
                    f"{name} must be at least {low} outside testing (argon2's default cost)."
                )


class DevConfig(Config):
    """Local development (`make run`): generated keys kept in instance/, plain-HTTP cookies."""

    ENV_NAME = "development"
    SESSION_COOKIE_SECURE = False
    PREFERRED_URL_SCHEME = "http"

    @classmethod
    def load_dev_keys(cls) -> dict[str, str]:
        path = INSTANCE / "dev-keys.json"
        if path.exists():
            return json.loads(path.read_text())
        keys = {"SECRET_KEY": secrets.token_hex(32), "NIK_HMAC_KEY": secrets.token_hex(32)}
        INSTANCE.mkdir(parents=True, exist_ok=True)
        # exclusive create: two processes starting at once keep the first file written
        try:
            with path.open("x") as fh:
                json.dump(keys, fh)
            path.chmod(0o600)
        except FileExistsError:
            return json.loads(path.read_text())
        return keys


class TestConfig(Config):
    """Tests: random keys per run, rate limits off unless a test turns them on."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = secrets.token_hex(32)
    NIK_HMAC_KEY = secrets.token_hex(32)
    # Secure cookies and https URLs as in production: the suite's client speaks HTTPS with a
    # browser's headers (tests/helpers.Browser).
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    SERVER_NAME = None
    SNAPSHOT_CACHE_SECONDS = 0.0  # tests publish and look up at once
    # cheap password hashing: the tests check behaviour, not the cost (0.3 s -> ~1 ms a hash)
    PASSWORD_TIME_COST = 1
    PASSWORD_MEMORY_KIB = 8
    PASSWORD_PARALLELISM = 1
    EXPORT_UNDO_MINUTES = 0.0  # exports are final at once unless a test sets a window


CONFIGS: dict[str, type[Config]] = {
    "production": Config,
    "development": DevConfig,
    "testing": TestConfig,
}


def load(config: type[Config] | dict[str, Any] | None) -> tuple[type[Config], dict[str, Any]]:
    """Pick the config class (argument, mapping's ENV_NAME, else PORTAL_ENV), apply overrides."""
    overrides: dict[str, Any] = {}
    if isinstance(config, dict):
        overrides = config
        config = None
    if config is None:
        # a mapping may name its base (ENV_NAME); otherwise PORTAL_ENV does
        name = overrides.get("ENV_NAME") or os.environ.get("PORTAL_ENV", "production")
        if name not in CONFIGS:
            raise ConfigError(f"PORTAL_ENV must be one of {', '.join(CONFIGS)}, got {name!r}")
        config = CONFIGS[name]
    values = {k: getattr(config, k) for k in dir(config) if k.isupper()}
    if config is DevConfig:
        values.update(DevConfig.load_dev_keys())
    if config is not TestConfig:  # tests are hermetic: they pass what they need
        values.update(read_environment())
        if values.get("REDIS_URL") and "RATELIMIT_STORAGE_URI" not in os.environ:
            values["RATELIMIT_STORAGE_URI"] = values["REDIS_URL"]
    values.update(overrides)
    return config, values


def read_environment() -> dict[str, Any]:
    """Every setting set in the environment, parsed; ConfigError names a bad one."""
    values: dict[str, Any] = {}
    for name, setting in SETTINGS.items():
        raw = os.environ.get(name)
        if raw is None or raw == "":
            continue
        try:
            values[name] = setting.read(raw)
        except SettingError as exc:
            raise ConfigError(str(exc)) from None
    return values


def markdown_table() -> str:
    """The settings table of docs/settings.md, with the production defaults."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, setting in SETTINGS.items():
        default = getattr(Config, name)
        if setting.secret or default is None:
            shown = "required" if name in Config.REQUIRED else "unset"
        elif isinstance(default, dict):
            shown = ",".join(f"{k}={v}" for k, v in default.items()) or "(none)"
        elif name in ("DATABASE_URL", "UPLOAD_DIR"):
            shown = str(default).replace(str(INSTANCE), "instance")
        else:
            shown = str(default).lower() if isinstance(default, bool) else str(default)
        rows.append(f"| `{name}` | `{shown}` | {setting.help} |")
    return "\n".join(rows) + "\n"
