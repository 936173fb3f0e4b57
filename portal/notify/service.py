"""Deliver the outbox: claim a due message, send it, record the outcome.

Every message goes queued -> claimed -> sending -> sent, each step committed before the
next, and every write is conditional on the message still being this worker's attempt
(``attempts``), so a worker that lost its claim cannot overwrite a newer outcome.

- claimed: taken by a worker (``claimed_at``/``claimed_by``). On PostgreSQL the candidate
  row is locked ``FOR UPDATE SKIP LOCKED`` (two workers take different messages); on both
  engines the claim is an update conditional on the row being unchanged. A worker that dies
  here has sent nothing: after NOTIFY_LEASE_SECONDS another worker takes the message over.
- sending: committed just before the SMTP transaction or the gateway request. A worker that
  dies here may or may not have sent it. After the lease: an SMS is sent again with the same
  reference (the gateway drops a reference it already accepted: at least once to the
  gateway, once to the phone); an e-mail is NOT sent again but marked failed with an
  "outcome unknown" error for the admin (at most once: SMTP cannot de-duplicate), who may
  send it again with ``flask notify retry``.
- sent / queued again (next_attempt_at, exponential back-off with jitter) / failed (refused
  for good, or NOTIFY_MAX_ATTEMPTS used up).

Sending never happens inside a transaction that changes a case: filing and deciding only
write the row (appeals.service), so a mail server or gateway that is down never blocks them.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from portal import db
from portal.appeals.models import OutboxMessage
from portal.jobs.service import worker_name
from portal.notify import content
from portal.notify.senders import Outgoing, Refused, Retry, Sender, configured

QUEUED, CLAIMED, SENDING, SENT, FAILED = "queued", "claimed", "sending", "sent", "failed"
STATUSES = (QUEUED, CLAIMED, SENDING, SENT, FAILED)
BACKOFF_MAX_SECONDS = 6 * 3600
UNKNOWN_EMAIL = (
    "outcome unknown: the worker stopped while sending this e-mail; not sent again so that "
    "nobody gets it twice (flask notify retry sends it again)"
)
RESENT_SMS = "the worker stopped while sending; sent again with the same reference"


def backoff(attempt: int, base: float, rand: random.Random | None = None) -> float:
    """Seconds before the attempt after ATTEMPT (1 = the first failed): BASE doubled per
    attempt, at most 6 h, with "equal jitter" (half fixed, half random) so that messages
    that failed together do not all come back together."""
    delay = min(base * 2 ** max(attempt - 1, 0), BACKOFF_MAX_SECONDS)
    return float(delay / 2 + (rand or random).uniform(0, delay / 2))


@dataclass(frozen=True)
class Claim:
    id: int
    attempt: int
    channel: str
    recipient: str
    template: str
    payload: dict[str, Any]
    locale: str
    created_at: datetime


@dataclass(frozen=True)
class Outcome:
    id: int
    channel: str
    status: str  # sent | queued (to be tried again) | failed | lost (another worker has it)
    attempt: int
    error: str | None = None


def _lease() -> timedelta:
    return timedelta(seconds=int(current_app.config["NOTIFY_LEASE_SECONDS"]))


def _claimable(now: datetime, due_by: datetime, channels: Collection[str]) -> Any:
    return and_(
        OutboxMessage.channel.in_(list(channels)),
        or_(
            and_(
                OutboxMessage.status == QUEUED,
                or_(
                    OutboxMessage.next_attempt_at.is_(None),
                    OutboxMessage.next_attempt_at <= due_by,
                ),
            ),
            # its worker died before sending: nothing left the portal
            and_(OutboxMessage.status == CLAIMED, OutboxMessage.claimed_at < now - _lease()),
        ),
    )


def recover(senders: Mapping[str, Sender]) -> int:
    """Messages whose worker stopped while sending (lease run out): sent again where the
    channel is idempotent, marked failed (outcome unknown) where it is not. Commits."""
    now = db.utcnow()
    stale = (OutboxMessage.status == SENDING, OutboxMessage.claimed_at < now - _lease())
    spent = OutboxMessage.attempts >= int(current_app.config["NOTIFY_MAX_ATTEMPTS"])
    moved = 0
    for channel, sender in senders.items():
        changes: list[tuple[Any, dict[str, Any]]]
        if sender.idempotent:
            changes = [
                # a message whose sending stops its worker every time must not loop for ever
                (spent, {"status": FAILED, "last_error": RESENT_SMS + ": no attempt left"}),
                (~spent, {"status": QUEUED, "next_attempt_at": now, "last_error": RESENT_SMS}),
            ]
        else:
            changes = [(True, {"status": FAILED, "last_error": UNKNOWN_EMAIL})]
        for which, values in changes:
            result = db.session.execute(
                update(OutboxMessage)
                .where(*stale, OutboxMessage.channel == channel, which)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            moved += int(result.rowcount or 0)  # type: ignore[attr-defined]
    db.session.commit()
    return moved


def claim(
    channels: Collection[str], *, due_by: datetime | None = None, worker: str | None = None
) -> Claim | None:
    """Take the oldest message of CHANNELS due by DUE_BY (default: now) and commit the
    claim. A message put back in this pass is due after its start, so a pass ends."""
    if not channels:
        return None
    while True:
        now = db.utcnow()
        stmt = (
            select(OutboxMessage.id, OutboxMessage.attempts, OutboxMessage.status)
            .where(_claimable(now, due_by or now, channels))
            .order_by(OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        candidate = db.session.execute(stmt).first()
        if candidate is None:
            db.session.rollback()
            return None
        ident, attempts, status = candidate
        claimed = db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == ident,
                OutboxMessage.attempts == attempts,
                OutboxMessage.status == status,
            )
            .values(
                status=CLAIMED,
                attempts=attempts + 1,
                claimed_at=now,
                claimed_by=worker or worker_name(),
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            db.session.rollback()  # another worker was quicker
            continue
        row = db.session.execute(
            select(
                OutboxMessage.channel,
                OutboxMessage.recipient,
                OutboxMessage.template,
                OutboxMessage.payload,
                OutboxMessage.locale,
                OutboxMessage.created_at,
            ).where(OutboxMessage.id == ident)
        ).one()
        db.session.commit()
        return Claim(
            ident,
            attempts + 1,
            row.channel,
            row.recipient,
            row.template,
            dict(row.payload or {}),
            row.locale,
            row.created_at,
        )


def _move(claim: Claim, before: str, **values: Any) -> bool:
    """Change the message if it is still this claim's, in state BEFORE; commit."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == claim.id,
            OutboxMessage.attempts == claim.attempt,
            OutboxMessage.status == before,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def deliver(claim: Claim, sender: Sender) -> Outcome:
    """Render and send a claimed message, recording each step."""
    try:
        rendered = content.render(claim.template, claim.payload, claim.locale, claim.channel)
    except content.UnknownTemplate as exc:
        error = f"cannot render: {exc}"
        _move(claim, CLAIMED, status=FAILED, last_error=error)
        return Outcome(claim.id, claim.channel, FAILED, claim.attempt, error)
    if not _move(claim, CLAIMED, status=SENDING, claimed_at=db.utcnow()):
        return Outcome(claim.id, claim.channel, "lost", claim.attempt)
    outgoing = Outgoing(
        reference=content.reference(claim.id, claim.created_at),
        recipient=claim.recipient,
        subject=rendered.subject,
        text=rendered.text,
        locale=claim.locale,
    )
    try:
        sender.send(outgoing)
    except Refused as exc:
        _move(claim, SENDING, status=FAILED, last_error=str(exc))
        return Outcome(claim.id, claim.channel, FAILED, claim.attempt, str(exc))
    except Retry as exc:
        last = claim.attempt >= int(current_app.config["NOTIFY_MAX_ATTEMPTS"])
        if last:
            _move(claim, SENDING, status=FAILED, last_error=str(exc))
            return Outcome(claim.id, claim.channel, FAILED, claim.attempt, str(exc))
        wait = backoff(claim.attempt, float(current_app.config["NOTIFY_RETRY_SECONDS"]))
        _move(
            claim,
            SENDING,
            status=QUEUED,
            last_error=str(exc),
            next_attempt_at=db.utcnow() + timedelta(seconds=wait),
        )
        return Outcome(claim.id, claim.channel, QUEUED, claim.attempt, str(exc))
    _move(claim, SENDING, status=SENT, sent_at=db.utcnow(), last_error=None)
    return Outcome(claim.id, claim.channel, SENT, claim.attempt)


def senders() -> dict[str, Sender]:
    return configured(current_app.config)


def run_pass(
    found: Mapping[str, Sender] | None = None, *, limit: int | None = None
) -> list[Outcome]:
    """Every message due when the pass starts, each tried at most once (at most LIMIT): one
    that fails is due again after its back-off, later than the pass's start."""
    found = senders() if found is None else found
    recover(found)
    started = db.utcnow()
    outcomes: list[Outcome] = []
    while limit is None or len(outcomes) < limit:
        taken = claim(found.keys(), due_by=started)
        if taken is None:
            break
        outcomes.append(deliver(taken, found[taken.channel]))
    return outcomes


# what sending a failed message again changes (here and on the staff page, review.outbox)
RETRY_VALUES: dict[str, Any] = {
    "status": QUEUED,
    "attempts": 0,
    "next_attempt_at": None,
    "claimed_at": None,
}


def retry(ids: Collection[int]) -> int:
    """The admin sends failed messages again: queued, due now, attempts from zero. Commits."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.status == FAILED)
        .values(**RETRY_VALUES)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def counts() -> dict[str, int]:
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    return {status: int(n) for status, n in rows}


def listing(statuses: Collection[str], limit: int) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status.in_(list(statuses)))
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )
