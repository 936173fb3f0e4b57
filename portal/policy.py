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

import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

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
        view.dtsen_checks = tuple(kinds)  # type: ignore[attr-defined]
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
    for item in parse_many(str(config[limit])) if limit else ():
        if not store.hit(item, "network", check.value, network):
            raise Refused
    free = int(config[FREE_MISSES.get(check, "DTSEN_FREE_MISSES")])
    waits = [_wait_for(store, identity, free) for identity in found]
    wait = max(waits, default=0)
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
    for identity in admission.identities:
        store.hit(_miss_window(), "miss", identity.bucket)


def _wait_for(store: _Store, identity: Identity, free: int) -> int:
    """Seconds a check about IDENTITY must wait: 0 while it has FREE or fewer recent misses."""
    config = current_app.config
    misses = store.count(_miss_window(), "miss", identity.bucket)
    over = misses - free
    if over < 0:
        return 0
    base = int(config["DTSEN_WAIT_SECONDS"])
    return int(min(int(config["DTSEN_WAIT_MAX_SECONDS"]), base * 2 ** min(over, 20)))


def _miss_window() -> RateLimitItem:
    # a day of misses per identity; the amount only bounds the counter
    return parse_many("100000 per day")[0]


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
    used = hashlib.sha256(token.encode()).hexdigest()
    return store.first_use(used, TOKEN_GRACE_SECONDS * 2)


# --- storage (the rate-limit storage, with memory while it is down) -------------------------


class _Store:
    def __init__(self, uri: str, prefix: str) -> None:
        self.prefix = prefix
        self.primary: Storage = storage_from_string(uri)
        self.fallback = MemoryStorage()
        self.down_until = 0.0

    def _storage(self) -> Storage:
        return self.fallback if time.time() < self.down_until else self.primary

    def _run(self, action: Callable[[Storage], Any]) -> Any:
        storage = self._storage()
        try:
            return action(storage)
        except storage.base_exceptions as exc:  # Redis unreachable: count in memory meanwhile
            log.warning("rate-limit storage down (%s): counting in memory", type(exc).__name__)
            self.down_until = time.time() + FALLBACK_SECONDS
            return action(self.fallback)

    def hit(self, item: RateLimitItem, *ids: str) -> bool:
        return bool(self._run(lambda s: MovingWindowRateLimiter(s).hit(item, self.prefix, *ids)))

    def count(self, item: RateLimitItem, *ids: str) -> int:
        stats = self._run(
            lambda s: MovingWindowRateLimiter(s).get_window_stats(item, self.prefix, *ids)
        )
        return int(item.amount - stats.remaining)

    def first_use(self, key: str, expiry: int) -> bool:
        full = f"{self.prefix}/used/{key}"
        return int(self._run(lambda s: s.incr(full, expiry))) == 1

    def reset(self) -> None:
        for storage in (self.primary, self.fallback):
            with contextlib.suppress(storage.base_exceptions):
                storage.reset()


def _store() -> _Store:
    return current_app.extensions["dtsen_policy"]  # type: ignore[no-any-return]


def reset(app: Flask) -> None:
    """Forget every count (tests)."""
    app.extensions["dtsen_policy"].reset()


def init_app(app: Flask) -> None:
    prefix = f"{app.config['RATELIMIT_KEY_PREFIX']}/dtsen"
    app.extensions["dtsen_policy"] = _Store(str(app.config["RATELIMIT_STORAGE_URI"]), prefix)
