"""Every setting an operator may change, with its parser, its check and one line of help.

Each is read from the environment variable of the same name (``PORTAL_ENV`` picks the base
class in ``config.py``, whose attributes are the defaults). A value that does not parse, or
is out of range, stops start-up with the variable's name and what it must be; a secret's
value is never repeated in that message. The table of all of them, with their defaults, is
``docs/settings.md``; ``python -m portal settings`` prints it (a test keeps the two equal).

Pure: no Flask. ``config.py`` applies these; nothing else reads the environment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from limits import parse_many

from portal.core.programs import DESIL_RANGE, canonical

Parser = Callable[[str], Any]
Check = Callable[[Any], "str | None"]


class SettingError(ValueError):
    """A value that does not parse or is out of range; the message says what it must be."""


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Parser
    help: str
    check: Check | None = None
    secret: bool = False
    kind: str = "text"  # for the table: what to write

    def read(self, raw: str) -> Any:
        try:
            value = self.parse(raw)
        except (SettingError, ValueError) as exc:
            got = "" if self.secret else f", got {raw!r}"
            raise SettingError(f"{self.name} must be {self.kind} ({exc}){got}") from None
        self.verify(value)
        return value

    def verify(self, value: Any) -> None:
        problem = self.check(value) if self.check else None
        if problem:
            raise SettingError(f"{self.name}: {problem}")


# --- parsers --------------------------------------------------------------------------------


def text(raw: str) -> str:
    return raw


def integer(raw: str) -> int:
    try:
        return int(raw.strip().replace("_", ""))
    except ValueError:
        raise SettingError("a whole number") from None


def number(raw: str) -> float:
    try:
        return float(raw.strip())
    except ValueError:
        raise SettingError("a number") from None


TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


def boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise SettingError("true or false")


def desil_map(raw: str) -> dict[str, int | None]:
    """``PKH=3,BPNT=5,BLT=none``: the highest desil in scope per program (none: not tied)."""
    found: dict[str, int | None] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        code, sep, top = item.partition("=")
        program = canonical(code)
        if not sep or program is None:
            raise SettingError(f"PROGRAM=DESIL pairs with known program codes; {item!r} is not")
        if top.strip().lower() == "none":
            found[program] = None
            continue
        desil = integer(top)
        if desil not in DESIL_RANGE:
            raise SettingError(f"a desil from 1 to 10 for {program}")
        found[program] = desil
    return found


# --- checks ---------------------------------------------------------------------------------


def at_least(low: float) -> Check:
    return lambda value: None if value >= low else f"must be at least {low:g}"


def between(low: float, high: float) -> Check:
    return lambda value: None if low <= value <= high else f"must be from {low:g} to {high:g}"


def one_of(*values: str) -> Check:
    return lambda value: None if value in values else "must be one of " + ", ".join(values)


def rate_limit(value: Any) -> str | None:
    try:
        if parse_many(str(value)):
            return None
    except ValueError:
        pass
    return "must be a rate limit such as '20 per hour; 60 per day'"


def url_with_scheme(*schemes: str) -> Check:
    def check(value: Any) -> str | None:
        if value is None:
            return None
        scheme = urlsplit(str(value)).scheme.split("+", 1)[0]
        if scheme not in schemes:
            return "must be a URL starting with " + " or ".join(f"{s}://" for s in schemes)
        return None

    return check


LIMIT = "a rate limit"
SECONDS = "seconds"


def _table() -> list[Setting]:
    s = Setting
    db = url_with_scheme("sqlite", "postgresql")
    redis = url_with_scheme("redis", "rediss", "unix")
    return [
        # secrets and services
        s(
            "SECRET_KEY",
            text,
            "Signs sessions and CSRF tokens. Required outside development; 32+ random characters.",
            secret=True,
        ),
        s(
            "NIK_HMAC_KEY",
            text,
            "Keys the HMAC by which NIK and No. KK are stored and found. "
            "Required, must differ from SECRET_KEY; changing it makes imported data unfindable "
            "until re-imported.",
            secret=True,
        ),
        s(
            "DATABASE_URL",
            text,
            "SQLAlchemy URL of the database, e.g. `postgresql+psycopg://portal@/portal`.",
            db,
            kind="a URL",
        ),
        s(
            "DATABASE_POOL_SIZE",
            integer,
            "Connections each worker process keeps open (PostgreSQL).",
            at_least(1),
            kind="a whole number",
        ),
        s(
            "DATABASE_MAX_OVERFLOW",
            integer,
            "Extra connections a worker may open at a peak.",
            at_least(0),
            kind="a whole number",
        ),
        s(
            "DATABASE_POOL_PRE_PING",
            boolean,
            "Test every pooled connection before use: one round trip per "
            "request. Off: a connection is tested only after "
            "DATABASE_POOL_PING_IDLE_SECONDS unused, and a database restart "
            "costs each worker one 503 before it reconnects.",
            kind="true or false",
        ),
        s(
            "DATABASE_POOL_PING_IDLE_SECONDS",
            number,
            "Test a pooled connection before use when it has been unused "
            "this long (PostgreSQL; without DATABASE_POOL_PRE_PING).",
            at_least(0),
            kind=SECONDS,
        ),
        s(
            "ACCESS_LOG_ASYNC_COMMIT",
            boolean,
            "PostgreSQL: commit a citizen's look-up record without waiting "
            "for the WAL flush (a database crash may lose the last fraction "
            "of a second of them: docs/lookup.md).",
            kind="true or false",
        ),
        s(
            "REDIS_URL",
            text,
            "Redis, shared by every worker and server: rate-limit storage "
            "(unless RATELIMIT_STORAGE_URI is set) and staff sessions.",
            redis,
            kind="a URL",
        ),
        s(
            "RATELIMIT_STORAGE_URI",
            text,
            "Rate-limit storage; `memory://` counts per worker.",
            url_with_scheme("memory", "redis", "rediss", "unix"),
            kind="a URL",
        ),
        s(
            "RATELIMIT_ENABLED",
            boolean,
            "Rate limits on (never turn off in production).",
            kind="true or false",
        ),
        s("RATELIMIT_KEY_PREFIX", text, "Prefix of the rate-limit keys in the storage."),
        # limits
        s("LOOKUP_LIMIT", text, "Look-ups per client network.", rate_limit, kind=LIMIT),
        s(
            "DTSEN_FREE_MISSES",
            integer,
            "Wrong tries in a day about one NIK, No. KK or ticket (any check, any route) "
            "before each further check about it must wait.",
            between(1, 1000),
            kind="a whole number",
        ),
        s(
            "DTSEN_WAIT_SECONDS",
            integer,
            "The first wait; it doubles with every further wrong try.",
            between(1, 3600),
            kind=SECONDS,
        ),
        s(
            "DTSEN_WAIT_MAX_SECONDS",
            integer,
            "The longest wait: the owner of the numbers is never kept out longer.",
            between(1, 24 * 3600),
            kind=SECONDS,
        ),
        s(
            "APPEAL_LIMIT",
            text,
            "Filer checks and submissions per client network.",
            rate_limit,
            kind=LIMIT,
        ),
        s(
            "APPEAL_FILER_LIMIT",
            text,
            "Cases filed per filer's NIK (counted in the database).",
            rate_limit,
            kind=LIMIT,
        ),
        s(
            "ASSISTED_FILING_LIMIT",
            text,
            "Cases one desa operator files for citizens at the desa office (in the database).",
            rate_limit,
            kind=LIMIT,
        ),
        s(
            "APPEAL_MAX_OPEN_PER_SUBJECT",
            integer,
            "Open cases one filer may have about one household.",
            at_least(1),
            kind="a whole number",
        ),
        s(
            "TRACK_LIMIT",
            text,
            "Tracking attempts per client network (and failures per ticket).",
            rate_limit,
            kind=LIMIT,
        ),
        s(
            "DRAFT_LIMIT",
            text,
            "New sanggahan/usulan drafts started per client network.",
            rate_limit,
            kind=LIMIT,
        ),
        s(
            "PHOTO_LIMIT",
            text,
            "Posts to a photo page (each photo is a decode) per client network.",
            rate_limit,
            kind=LIMIT,
        ),
        s(
            "STAFF_LOGIN_LIMIT",
            text,
            "Failed staff sign-ins per client network.",
            rate_limit,
            kind=LIMIT,
        ),
        s(
            "STAFF_LOGIN_ACCOUNT_LIMIT",
            text,
            "Failed sign-ins per account and network.",
            rate_limit,
            kind=LIMIT,
        ),
        s(
            "STAFF_MATCH_LIMIT",
            text,
            "Searches of DTSEN households by name (matching a reported neighbour), per officer.",
            rate_limit,
            kind=LIMIT,
        ),
        s(
            "STAFF_SEARCH_LIMIT",
            text,
            "Case searches by ticket, NIK, No. KK or name (/staf/cari), per officer.",
            rate_limit,
            kind=LIMIT,
        ),
        # cases
        s(
            "STAFF_LOGIN_FREE_FAILURES",
            integer,
            "Failed sign-ins of one account in a day, from any address, before each further "
            "try must wait (as for DTSEN checks: doubling waits, never a lock-out).",
            between(1, 1000),
            kind="a whole number",
        ),
        s(
            "APPEAL_SLA_DAYS",
            integer,
            "Days until a decision is due (shown on the receipt).",
            between(1, 365),
            kind="a whole number",
        ),
        s(
            "CONTEST_DAYS",
            integer,
            "Days after a decision during which it can be contested.",
            between(1, 365),
            kind="a whole number",
        ),
        s("UPLOAD_DIR", text, "Where evidence photos are stored (never under static/)."),
        s(
            "PHOTO_MAX_BYTES",
            integer,
            "Largest photo accepted, in bytes (each photo is "
            "re-encoded, at most 2048 px, without metadata).",
            at_least(64 * 1024),
            kind="a whole number",
        ),
        s(
            "PHOTO_MAX_PIXELS",
            integer,
            "Most pixels a photo may have (width x height); 17 M fits a 16 MP phone camera.",
            between(1_000_000, 100_000_000),
            kind="a whole number",
        ),
        s(
            "PHOTO_DECODE_CPU_SECONDS",
            integer,
            "CPU time one photo may take to decode and re-encode (in a child process that the "
            "kernel stops past it).",
            between(1, 20),
            kind=SECONDS,
        ),
        s(
            "PHOTO_DECODE_MEMORY_MB",
            integer,
            "Memory one photo's decoding may use, in MB, on top of the worker's.",
            between(128, 4096),
            kind="a whole number",
        ),
        s(
            "UPLOAD_MAX_BODY_BYTES",
            integer,
            "Largest body of a photo page, in bytes; bounds "
            "the transfer only (each photo is checked on its own). The proxy's body limit for "
            "photo pages must be at least this.",
            at_least(1024 * 1024),
            kind="a whole number",
        ),
        s(
            "PROGRAM_MAX_DESIL",
            desil_map,
            "Deployment override of the desil range per "
            "program, e.g. `PKH=3,BPNT=5` (`none`: not tied to a desil).",
            kind="PROGRAM=DESIL pairs",
        ),
        s(
            "SNAPSHOT_CACHE_SECONDS",
            number,
            "How long a process reuses the list of published "
            "snapshots before it sees another process's import.",
            at_least(0),
            kind=SECONDS,
        ),
        s(
            "EXPIRED_SWEEP_SECONDS",
            number,
            "How often a process deletes the expired look-up results, kept forms, "
            "tracking grants and day-old drafts (a write deletes only its browser's "
            "previous one); 0 sweeps on every write.",
            at_least(0),
            kind=SECONDS,
        ),
        s(
            "EXPORT_INLINE_MAX",
            integer,
            "Exports of up to this many approved cases are made in the officer's request; "
            "larger ones are queued for the job worker (`flask jobs work`, "
            "dtsen-portal-jobs.service).",
            at_least(0),
            kind="a whole number",
        ),
        s(
            "EXPORT_UNDO_MINUTES",
            number,
            "How long a new export waits before it is final: meanwhile its admin_dinsos may "
            "cancel it (its cases wait again) and nobody may download it; 0 makes it final "
            "at once.",
            between(0, 1440),
            kind="a number of minutes",
        ),
        s(
            "JOBS_LEASE_SECONDS",
            integer,
            "How long a claimed background job stays with its worker without a sign of life "
            "before another worker takes it over (SQLite: longer than the longest export).",
            between(10, 24 * 3600),
            kind=SECONDS,
        ),
        s(
            "JOBS_MAX_ATTEMPTS",
            integer,
            "Attempts of a background job before it is marked failed.",
            between(1, 20),
            kind="a whole number",
        ),
        s(
            "JOBS_POLL_SECONDS",
            number,
            "How long an idle job worker waits before looking for work again.",
            between(0.1, 600),
            kind=SECONDS,
        ),
        # notifications (docs/notifications.md)
        s(
            "SMTP_HOST",
            text,
            "SMTP server the notification worker sends e-mail through (unset: e-mail "
            "messages stay queued).",
            kind="a host name",
        ),
        s("SMTP_PORT", integer, "Port of SMTP_HOST.", between(1, 65535), kind="a whole number"),
        s(
            "SMTP_STARTTLS",
            boolean,
            "Upgrade the SMTP connection with STARTTLS (verifying the server's certificate) "
            "before signing in or sending.",
            kind="true or false",
        ),
        s("SMTP_USER", text, "User name at SMTP_HOST (unset: send without signing in)."),
        s("SMTP_PASSWORD", text, "Password of SMTP_USER.", secret=True),
        s(
            "SMTP_FROM",
            text,
            "Sender of the portal's e-mail, e.g. `DTSEN <no-reply@cekdtsen.example.go.id>`; "
            "its domain also names each message's Message-ID.",
            kind="an e-mail address",
        ),
        s(
            "SMS_GATEWAY",
            text,
            "Kind of SMS gateway (`http-json`: the JSON interface of docs/notifications.md).",
            one_of("http-json"),
        ),
        s(
            "SMS_GATEWAY_URL",
            text,
            "Where SMS messages are posted (unset: SMS messages stay queued).",
            url_with_scheme("https", "http"),
            kind="a URL",
        ),
        s("SMS_GATEWAY_TOKEN", text, "Bearer token sent to SMS_GATEWAY_URL.", secret=True),
        s(
            "NOTIFY_TIMEOUT_SECONDS",
            number,
            "How long the notification worker waits for the SMTP server or the SMS gateway "
            "to answer one step.",
            between(1, 120),
            kind=SECONDS,
        ),
        s(
            "NOTIFY_MAX_ATTEMPTS",
            integer,
            "Attempts to send one message before it is marked failed (shown by `flask notify "
            "list`).",
            between(1, 50),
            kind="a whole number",
        ),
        s(
            "NOTIFY_RETRY_SECONDS",
            number,
            "Wait before the second attempt; it doubles with every further one (with jitter, "
            "at most 6 hours).",
            between(0, 3600),
            kind=SECONDS,
        ),
        s(
            "NOTIFY_LEASE_SECONDS",
            integer,
            "A message claimed by a notification worker that has not finished with it after "
            "this long is taken over (at least 5 x NOTIFY_TIMEOUT_SECONDS).",
            between(10, 3600),
            kind=SECONDS,
        ),
        s(
            "NOTIFY_POLL_SECONDS",
            number,
            "How long an idle notification worker waits before looking again; it doubles while "
            "nothing is due, up to 60 s.",
            between(0.1, 60),
            kind=SECONDS,
        ),
        s(
            "SNAPSHOT_KEEP_PERIODS",
            integer,
            "How many published DTSEN periods are kept (at least 2: the look-up compares with "
            "the previous period). Older periods and replaced files are pruned after each "
            "import and by `flask dtsen prune`.",
            at_least(2),
            kind="a whole number",
        ),
        # staff
        s(
            "STAFF_SESSION_BACKEND",
            text,
            "Staff sessions: `redis` (needs REDIS_URL), "
            "`database`, or `auto` (Redis when REDIS_URL is set).",
            one_of("auto", "database", "redis"),
        ),
        s("STAFF_COOKIE_NAME", text, "Name of the staff session cookie."),
        s(
            "STAFF_IDLE_MINUTES",
            integer,
            "A staff session ends after this many idle minutes.",
            between(1, 24 * 60),
            kind="a whole number",
        ),
        s(
            "STAFF_ABSOLUTE_HOURS",
            integer,
            "A staff session ends this many hours after sign-in, whatever happens.",
            between(1, 7 * 24),
            kind="a whole number",
        ),
        s(
            "STAFF_ENROL_HOURS",
            integer,
            "How long an enrolment link stays valid.",
            between(1, 30 * 24),
            kind="a whole number",
        ),
        s(
            "STAFF_PASSWORD_MIN",
            integer,
            "Shortest staff password.",
            at_least(8),
            kind="a whole number",
        ),
        s(
            "PASSWORD_TIME_COST",
            integer,
            "argon2id passes per staff password hash; at least 3 outside testing (the "
            "test suite alone hashes cheaply: 1 pass over 8 KiB).",
            at_least(1),
            kind="a whole number",
        ),
        s(
            "PASSWORD_MEMORY_KIB",
            integer,
            "argon2id memory per hash, in KiB; at least 65536 outside testing.",
            at_least(8),
            kind="a whole number",
        ),
        s(
            "PASSWORD_PARALLELISM",
            integer,
            "argon2id lanes per hash.",
            at_least(1),
            kind="a whole number",
        ),
        # web
        s(
            "PROXY_FIX_X_FOR",
            integer,
            "Trusted reverse proxies in front (X-Forwarded-For and "
            "-Proto hops); 1 behind the documented nginx.",
            between(0, 5),
            kind="a whole number",
        ),
        s(
            "CLIENT_IPV6_PREFIX",
            integer,
            "Per-client limits count an IPv6 client by this network (a phone holds a whole "
            "/64); IPv4 clients by address.",
            between(32, 128),
            kind="a whole number",
        ),
        s(
            "MAX_CONTENT_LENGTH",
            integer,
            "Largest request body in bytes, except photo pages.",
            at_least(1024),
            kind="a whole number",
        ),
        s(
            "MAX_FORM_MEMORY_SIZE",
            integer,
            "Largest text field of a form, in bytes.",
            at_least(1024),
            kind="a whole number",
        ),
        s(
            "PUBLIC_BASE_URL",
            text,
            "Address of the portal as citizens type it, e.g. `https://cekdtsen.example.go.id`: "
            "printed on receipts (unset: the address the browser used, shown only).",
            url_with_scheme("https", "http"),
            kind="a URL",
        ),
        s("SESSION_COOKIE_NAME", text, "Name of the citizens' session cookie."),
        s(
            "SESSION_COOKIE_SECURE",
            boolean,
            "Cookies only over HTTPS (off only for local plain-HTTP development).",
            kind="true or false",
        ),
        s(
            "PERMANENT_SESSION_LIFETIME",
            integer,
            "Lifetime of the citizens' session cookie.",
            at_least(60),
            kind=SECONDS,
        ),
        s(
            "WTF_CSRF_TIME_LIMIT",
            integer,
            "How long a form may stay open before it must be sent again.",
            at_least(60),
            kind=SECONDS,
        ),
        s(
            "PREFERRED_URL_SCHEME",
            text,
            "Scheme of URLs built outside a request.",
            one_of("https", "http"),
        ),
        s("BABEL_DEFAULT_LOCALE", text, "Language when nobody chose one.", one_of("id", "en")),
        s("SQL_ECHO", boolean, "Log every SQL statement (debugging only).", kind="true or false"),
    ]


SETTINGS: dict[str, Setting] = {setting.name: setting for setting in _table()}
