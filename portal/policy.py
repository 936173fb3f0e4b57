"""One policy for every check against DTSEN data, whatever route or channel asks.

A check answers a question about the registry that a stranger could turn into an oracle:
"does this NIK hold this No. KK" (the look-up, the filer of a case), "are these two people
on this family card" (the heir of an usulan), "did this NIK file this ticket" (tracking).
Each one, before it runs:

1. counts against its **client network** (an IPv4 address or an IPv6 /64): every attempt,
   answered or not; over the limit, the 429 page (``Refused``);
2. looks at each **identity** it is about (a NIK, a No. KK, a ticket) by its keyed HMAC.
   Every "no" is a miss charged to each of them, in one bucket per identity shared by all
   checks and routes. While an identity has few recent misses nothing happens. Past
   ``DTSEN_FREE_MISSES`` in a day, a check about it must wait first (``MustWait``): the
   person is asked to send again after a delay that doubles with every further miss, up to
   ``DTSEN_WAIT_MAX_SECONDS``, carrying a signed, single-use wait token bound to the
   identities and to their client network.

So a stranger who guesses at someone's NIK slows every further guess about that NIK down
exponentially, but can never lock its owner out: the owner waits once, then their own
right answer is given. (Before, ten wrong guesses blocked the owner's look-up for an hour.)
Staff sign-in uses the same rule per account, from any address.

A route that runs a check declares it (``@checks(Check.LOOKUP)``, shown in the route
snapshot), and the queries that answer the questions refuse to run for a public request
that was not admitted (``require_admission``), so a new route cannot skip the policy.
Counts live in the rate-limit storage (Redis in production), with each process's memory as
a fallback while it is unreachable, as for every other limit.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from flask_limiter import ExemptionScope
from flask_limiter.util import get_qualified_name
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import RateLimitItem, parse_many
from limits.storage import RedisStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from portal.core.tokens import token_hash
from portal.security import client_network

log = logging.getLogger("portal")

V = TypeVar("V", bound=Callable[..., Any])

# How long a wait token is good for once its wait is over.
TOKEN_GRACE_SECONDS = 15 * 60
# How long the memory fallback is used before Redis is tried again.
FALLBACK_SECONDS = 30


def _now() -> float:
    """The clock of waits and tokens (tests move it)."""
    return time.time()


class Check(StrEnum):
    LOOKUP = "lookup"  # NIK + No. KK -> the household (the public look-up)
    FILER = "filer"  # NIK + No. KK -> a member now (who files a case)
    HEIR = "heir"  # No. KK + two NIKs -> both on that card (an heir usulan)
    TRACK = "track"  # ticket + NIK -> the case (following a case, "did you mean")
    SIGN_IN = "sign_in"  # staff: e-mail + password + code (not DTSEN, the same stranger rule)


# Per client network, every attempt: the setting that holds the limit. Staff sign-in counts
# its failures per network in its view (STAFF_LOGIN_LIMIT); here only its account waits.
NETWORK_LIMIT: dict[Check, str | None] = {
    Check.LOOKUP: "LOOKUP_LIMIT",
    Check.FILER: "APPEAL_LIMIT",
    Check.HEIR: "APPEAL_LIMIT",
    Check.TRACK: "TRACK_LIMIT",
    Check.SIGN_IN: None,
}
# Misses about one identity in a day before checks about it wait (DTSEN_FREE_MISSES else).
FREE_MISSES = {Check.SIGN_IN: "STAFF_LOGIN_FREE_FAILURES"}


@dataclass(frozen=True)
class Identity:
    """What a check is about: a NIK, a No. KK or a ticket, never in the clear."""

    kind: str
    key: str  # the keyed HMAC of the number, or the ticket

    @property
    def bucket(self) -> str:
        return f"{self.kind}:{self.key}"


def nik(number: str) -> Identity:
    from portal.dataimport.queries import pseudonym

    return Identity("nik", pseudonym(number, "nik"))


def kk(number: str) -> Identity:
    from portal.dataimport.queries import pseudonym

    return Identity("kk", pseudonym(number, "kk"))


def ticket(code: str) -> Identity:
    return Identity("ticket", code)


def account(email: str) -> Identity:
    """A staff account by its e-mail, keyed like the numbers (it may name a person)."""
    key = str(current_app.config["NIK_HMAC_KEY"]).encode()
    digest = hmac.new(key, b"account:" + email.strip().lower().encode(), hashlib.sha256)
    return Identity("account", digest.hexdigest()[:32])


class Refused(Exception):
    """Over the client network's limit for this check: answer with the 429 page."""


class MustWait(Exception):
    """An identity of this check had many misses: send again after ``until``."""

    def __init__(self, until: datetime, token: str) -> None:
        super().__init__(until.isoformat())
        self.until = until
        self.token = token

    @property
    def seconds(self) -> int:
        return max(1, int(self.until.timestamp() - _now() + 0.999))


class UnguardedCheck(RuntimeError):
    """A public request reached a DTSEN question without going through ``admit``."""


@dataclass(frozen=True)
class Admission:
    check: Check
    identities: tuple[Identity, ...]


# --- declaring and enforcing ----------------------------------------------------------------


def checks(*kinds: Check) -> Callable[[V], V]:
    """Mark a view that runs these checks (listed in the route snapshot)."""

    def mark(view: V) -> V:
        view.dtsen_checks = tuple(kinds)  # type: ignore[attr-defined]  # the route list reads it
        return view

    return mark


def require_admission() -> None:
    """Called by the queries that answer DTSEN questions: in a public request, only after
    ``admit``. Staff requests are signed in and scoped; jobs and the CLI have no request."""
    if not has_request_context() or g.get("staff") is not None:
        return
    if not g.get("dtsen_admitted"):
        raise UnguardedCheck("a DTSEN check ran without portal.policy.admit()")


def recheck() -> None:
    """This request checks again numbers that were admitted when they were typed, in an
    earlier step of the same draft (sending a case re-verifies its filer against the data
    of the moment). The person learns nothing new, so nothing is counted."""
    g.dtsen_admitted = True


# --- the policy -----------------------------------------------------------------------------


def admit(check: Check, identities: Iterable[Identity], wait_token: str | None = None) -> Admission:
    """Count this attempt and let it through, or raise Refused / MustWait."""
    found = tuple(identities)
    admission = Admission(check, found)
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        g.dtsen_admitted = True
        return admission
    store = _store()
    network = client_network()
    limit = NETWORK_LIMIT[check]
    items = _parse(str(config[limit])) if limit else ()
    # one round trip to the storage: the network's limits counted, the identities' misses read
    misses = store.admit(
        [(item, item.key_for(store.prefix, "network", check.value, network)) for item in items],
        [_miss_key(store, identity) for identity in found],
    )
    if misses is None:
        raise Refused
    free = int(config[FREE_MISSES.get(check, "DTSEN_FREE_MISSES")])
    wait = max((_wait_for(count, free) for count in misses), default=0)
    if wait and not _valid_token(store, wait_token, found, network):
        until = datetime.fromtimestamp(_now() + wait, UTC)
        raise MustWait(until, _token(found, network, until))
    g.dtsen_admitted = True
    return admission


def missed(admission: Admission) -> None:
    """The check's answer was no: charge a miss to each identity it was about."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    store = _store()
    store.miss([_miss_key(store, identity) for identity in admission.identities])


def _wait_for(misses: int, free: int) -> int:
    """Seconds a check about an identity with MISSES recent misses must wait: 0 while it has
    FREE or fewer."""
    config = current_app.config
    over = misses - free
    if over < 0:
        return 0
    base = int(config["DTSEN_WAIT_SECONDS"])
    return int(min(int(config["DTSEN_WAIT_MAX_SECONDS"]), base * 2 ** min(over, 20)))


# a day of misses per identity; the amount only bounds the counter
MISS_WINDOW: RateLimitItem = parse_many("100000 per day")[0]


@functools.lru_cache(maxsize=64)
def _parse(limits: str) -> tuple[RateLimitItem, ...]:
    """The items of a limit setting ("60 per minute; 600 per hour"), parsed once a process."""
    return tuple(parse_many(limits))


def _miss_key(store: _Store, identity: Identity) -> str:
    return MISS_WINDOW.key_for(store.prefix, "miss", identity.bucket)


# --- wait tokens ----------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]), salt="dtsen-wait")


def _digest(identities: Iterable[Identity], network: str) -> str:
    material = "|".join(sorted(i.bucket for i in identities)) + "|" + network
    return hashlib.sha256(material.encode()).hexdigest()


def _token(identities: Iterable[Identity], network: str, until: datetime) -> str:
    return _serializer().dumps({"d": _digest(identities, network), "t": until.timestamp()})


def _valid_token(
    store: _Store, token: str | None, identities: Iterable[Identity], network: str
) -> bool:
    """Signed by us, for these identities and this network, its wait over, used once."""
    if not token:
        return False
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        return False
    if not isinstance(payload, dict) or payload.get("d") != _digest(identities, network):
        return False
    not_before = float(payload.get("t", 0))
    now = _now()
    if not not_before <= now <= not_before + TOKEN_GRACE_SECONDS:
        return False
    used = token_hash(token)
    return store.first_use(used, TOKEN_GRACE_SECONDS * 2)


# --- storage (the rate-limit storage, with memory while it is down) -------------------------
#
# A check costs one round trip: the client network's limits are counted and the identities'
# misses read together (``admit``), in one Lua script on Redis; a miss is one more
# (``miss``). Both keep limits' moving-window lists under limits' own key names, so counts
# survive an upgrade and ``limits`` can still read them. In memory (dev, tests, the fallback
# while Redis is down) the same windows are plain lists under a lock: limits' MemoryStorage
# starts a timer thread on most hits, which cost more than the rest of the check.

_ADMIT_LUA = """
-- KEYS: the network windows (ARGV: limit, expiry for each), then the identities' miss windows
-- ARGV[1] now, ARGV[2] number of network windows, then limit/expiry pairs, then the miss
-- window's limit and expiry. Returns {0} when a network window is full (that window and any
-- after it are not counted, as limits' hit() one by one), else {1, misses of each identity}.
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
for i = 1, n do
  local limit = tonumber(ARGV[1 + 2 * i])
  local expiry = tonumber(ARGV[2 + 2 * i])
  local entry = redis.call('lindex', KEYS[i], limit - 1)
  if entry and tonumber(entry) >= now - expiry then
    return {0}
  end
  redis.call('lpush', KEYS[i], ARGV[1])
  redis.call('ltrim', KEYS[i], 0, limit - 1)
  redis.call('expire', KEYS[i], expiry)
end
local miss_limit = tonumber(ARGV[3 + 2 * n])
local since = now - tonumber(ARGV[4 + 2 * n])
local out = {1}
for k = n + 1, #KEYS do
  -- newest first: binary search for the oldest entry still in the window
  local low, high, count = 0, math.min(redis.call('llen', KEYS[k]), miss_limit) - 1, 0
  while low <= high do
    local mid = math.floor((low + high) / 2)
    local value = tonumber(redis.call('lindex', KEYS[k], mid))
    if value and value >= since then
      count = mid + 1
      low = mid + 1
    else
      high = mid - 1
    end
  end
  out[#out + 1] = count
end
return out
"""

_MISS_LUA = """
-- KEYS: miss windows; ARGV: now, limit, expiry. One entry in each.
for k = 1, #KEYS do
  redis.call('lpush', KEYS[k], ARGV[1])
  redis.call('ltrim', KEYS[k], 0, tonumber(ARGV[2]) - 1)
  redis.call('expire', KEYS[k], tonumber(ARGV[3]))
end
return #KEYS
"""


class _Windows:
    """Moving windows in this process's memory: {key: timestamps, newest last}."""

    base_exceptions: tuple[type[Exception], ...] = ()

    def __init__(self) -> None:
        self.lists: dict[str, list[float]] = {}
        self.expires: dict[str, float] = {}
        self.lock = threading.Lock()
        self.next_sweep = 0.0

    def _sweep(self, now: float) -> None:
        """Forget windows whose last entry expired (at most every 10 s)."""
        if now < self.next_sweep:
            return
        self.next_sweep = now + 10
        for key in [k for k, until in self.expires.items() if until < now]:
            self.lists.pop(key, None)
            self.expires.pop(key, None)

    def _count(self, key: str, limit: int, since: float) -> int:
        """Entries at or after SINCE among the last LIMIT: a suffix of the sorted list, found
        by bisection (a busy network's hourly list holds hundreds; no scan, no copy)."""
        entries = self.lists.get(key)
        if not entries:
            return 0
        return min(limit, len(entries) - bisect.bisect_left(entries, since))

    def _push(self, key: str, now: float, limit: int, expiry: int) -> None:
        entries = self.lists.setdefault(key, [])
        # kept sorted for _count: a wall clock set back counts at the newest entry's time
        entries.append(max(now, entries[-1]) if entries else now)
        if len(entries) > limit:
            del entries[: len(entries) - limit]
        self.expires[key] = now + expiry

    def admit(
        self, windows: list[tuple[RateLimitItem, str]], misses: list[str]
    ) -> list[int] | None:
        now = time.time()
        expiry = MISS_WINDOW.get_expiry()
        with self.lock:
            self._sweep(now)
            for item, key in windows:
                if self._count(key, item.amount, now - item.get_expiry()) >= item.amount:
                    return None
                self._push(key, now, item.amount, item.get_expiry())
            return [self._count(key, MISS_WINDOW.amount, now - expiry) for key in misses]

    def miss(self, keys: list[str]) -> None:
        now = time.time()
        with self.lock:
            for key in keys:
                self._push(key, now, MISS_WINDOW.amount, MISS_WINDOW.get_expiry())

    def incr(self, key: str, expiry: int) -> int:
        now = time.time()
        with self.lock:
            self._sweep(now)
            entries = self.lists.setdefault(key, [])
            entries.append(now)
            self.expires[key] = now + expiry
            return len(entries)

    def reset(self) -> None:
        with self.lock:
            self.lists.clear()
            self.expires.clear()


class _LimitsWindows:
    """The same windows on a ``limits`` storage: Redis by script (one round trip a call),
    any other storage limits supports through its moving-window API, key by key."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        raised = storage.base_exceptions
        self.base_exceptions = raised if isinstance(raised, tuple) else (raised,)
        self.redis = isinstance(storage, RedisStorage)
        self._key: Callable[[str], str] = str  # the key in Redis (the scripts' path only)
        if isinstance(storage, RedisStorage):
            self._key = storage.prefixed_key
            client = storage.get_connection()
            self.admit_script = client.register_script(_ADMIT_LUA.encode())
            self.miss_script = client.register_script(_MISS_LUA.encode())

    def admit(
        self, windows: list[tuple[RateLimitItem, str]], misses: list[str]
    ) -> list[int] | None:
        if not self.redis:
            for item, key in windows:
                if not MovingWindowRateLimiter(self.storage).hit(item, key):
                    return None
            return [self._count(key) for key in misses]
        args: list[Any] = [time.time(), len(windows)]
        for item, _key in windows:
            args += [item.amount, item.get_expiry()]
        args += [MISS_WINDOW.amount, MISS_WINDOW.get_expiry()]
        keys = [self._key(key) for _item, key in windows] + [self._key(k) for k in misses]
        found = self.admit_script(keys, args)
        if not int(found[0]):
            return None
        return [int(count) for count in found[1:]]

    def _count(self, key: str) -> int:
        stats = MovingWindowRateLimiter(self.storage).get_window_stats(MISS_WINDOW, key)
        return int(MISS_WINDOW.amount - stats.remaining)

    def miss(self, keys: list[str]) -> None:
        if not keys:
            return
        if not self.redis:
            for key in keys:
                MovingWindowRateLimiter(self.storage).hit(MISS_WINDOW, key)
            return
        args = [time.time(), MISS_WINDOW.amount, MISS_WINDOW.get_expiry()]
        self.miss_script([self._key(k) for k in keys], args)

    def incr(self, key: str, expiry: int) -> int:
        return int(self.storage.incr(key, expiry))

    def reset(self) -> None:
        self.storage.reset()


def _sync_storage(uri: str) -> Storage:
    """The ``limits`` storage at URI, which must be a synchronous one (not async+...)."""
    storage = storage_from_string(uri)
    if not isinstance(storage, Storage):
        raise ValueError("the rate-limit storage must be synchronous (not an async+ URI)")
    return storage


class _Store:
    def __init__(self, uri: str, prefix: str) -> None:
        self.prefix = prefix
        self.primary: _Windows | _LimitsWindows = (
            _Windows() if uri.startswith("memory://") else _LimitsWindows(_sync_storage(uri))
        )
        self.fallback = _Windows()
        self.down_until = 0.0

    def _run(self, action: Callable[[_Windows | _LimitsWindows], Any]) -> Any:
        windows = self.fallback if time.time() < self.down_until else self.primary
        try:
            return action(windows)
        except windows.base_exceptions as exc:  # Redis unreachable: count in memory meanwhile
            log.warning("rate-limit storage down (%s): counting in memory", type(exc).__name__)
            self.down_until = time.time() + FALLBACK_SECONDS
            return action(self.fallback)

    def admit(
        self, windows: list[tuple[RateLimitItem, str]], misses: list[str]
    ) -> list[int] | None:
        """Count a hit in each network window, in order, unless one is full (None); then the
        misses in each identity's window."""
        return self._run(lambda w: w.admit(windows, misses))

    def miss(self, keys: list[str]) -> None:
        self._run(lambda w: w.miss(keys))

    def first_use(self, key: str, expiry: int) -> bool:
        full = f"{self.prefix}/used/{key}"
        return int(self._run(lambda w: w.incr(full, expiry))) == 1

    def reset(self) -> None:
        for windows in (self.primary, self.fallback):
            with contextlib.suppress(*windows.base_exceptions):
                windows.reset()


def _store() -> _Store:
    return current_app.extensions["dtsen_policy"]


def reset(app: Flask) -> None:
    """Forget every count (tests)."""
    app.extensions["dtsen_policy"].reset()


# --- flask-limiter's hooks, skipped where it has nothing to do ---------------------------------
#
# flask-limiter runs a before_request and an after_request hook on every request. For a view
# it exempts (``@limiter.exempt``: the checks this module counts itself, the result page,
# the health checks) they find no limit to count, but finding that (resolving the
# application, default, blueprint and decorated limits, an ordered set, the view's qualified
# name) cost more CPU than this module's whole check. Whether an endpoint has any limit
# cannot change once the app serves (limits are declared at import and in the settings), so
# it is decided once per endpoint and process; a view with any limit, or any setting that
# could give it one (application, default or meta limits, in-memory fallback limits, request
# filters), keeps both hooks.

_FULLY_EXEMPT = ExemptionScope.APPLICATION | ExemptionScope.DEFAULT | ExemptionScope.META


def _limiter_has_nothing_to_do(app: Flask, endpoint: str) -> bool:
    from portal.extensions import limiter

    view = app.view_functions.get(endpoint)
    if view is None:
        return False
    manager = limiter.limit_manager
    blueprint = endpoint.rpartition(".")[0] or None
    scope = manager.exemption_scope(app, endpoint, blueprint)
    name = get_qualified_name(view)
    return bool(
        scope & _FULLY_EXEMPT == _FULLY_EXEMPT
        and not manager.decorated_limits(name)
        and not manager.has_hints(endpoint)
        and not (blueprint and manager.blueprint_limits(app, blueprint))
        and not any(limiter._in_memory_fallback)
        and not limiter._request_filters
    )


def _skip_limiter_for_exempt_views(app: Flask) -> None:
    from flask_limiter import Limiter

    decided: dict[str, bool] = {}

    def exempt_here() -> bool:
        endpoint = request.endpoint
        if endpoint is None:
            return False
        known = decided.get(endpoint)
        if known is None:
            known = decided[endpoint] = _limiter_has_nothing_to_do(app, endpoint)
        return known

    def wrap_before(hook: Any) -> Any:
        @functools.wraps(hook)
        def before() -> Any:
            return None if exempt_here() else hook()

        return before

    def wrap_after(hook: Any) -> Any:
        def after(response: Any) -> Any:
            return response if exempt_here() else hook(response)

        return after

    inject = getattr(Limiter, "_Limiter__inject_headers", None)
    funcs = app.before_request_funcs.get(None, [])
    for i, hook in enumerate(funcs):
        if getattr(hook, "__func__", None) is Limiter._check_request_limit:
            funcs[i] = wrap_before(hook)
    after = app.after_request_funcs.get(None, [])
    for i, after_hook in enumerate(after):
        if isinstance(after_hook, functools.partial) and after_hook.func is inject:
            after[i] = wrap_after(after_hook)


def init_app(app: Flask) -> None:
    """After ``limiter.init_app``: the policy's storage, and flask-limiter's hooks skipped
    for the views it exempts."""
    prefix = f"{app.config['RATELIMIT_KEY_PREFIX']}/dtsen"
    app.extensions["dtsen_policy"] = _Store(str(app.config["RATELIMIT_STORAGE_URI"]), prefix)
    _skip_limiter_for_exempt_views(app)
