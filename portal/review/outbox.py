"""The messages to filers as the admin sees them on the staff site (``/staf/pesan``): a count
per status and the messages not sent, newest first, with their last error; a failed one can
be sent again (the same as ``flask notify retry``), audited.

Scoped like everything staff read (``permissions.OUTBOX``): pusat all, an admin_dinsos the
messages of cases in their kabupaten/kota, nobody else. A message out of scope is not found.
The recipient never leaves this module whole: ``Message.recipient`` is masked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from portal import db
from portal.appeals.models import Appeal, OutboxMessage
from portal.audit.service import record
from portal.auth.models import StaffUser
from portal.notify import service as notify
from portal.notify.contacts import mask
from portal.review import permissions

PAGE_SIZE = 25
# the statuses the page counts; "claimed" (a worker took it, not sending yet) counts as sending
SHOWN_STATUSES = (notify.QUEUED, notify.SENDING, notify.SENT, notify.FAILED)
NOT_SENT = (notify.QUEUED, notify.CLAIMED, notify.SENDING, notify.FAILED)


class NotFound(LookupError):
    """No such message in the officer's scope (another area's looks exactly like none)."""


class NotFailed(ValueError):
    """Only a failed message is sent again (a queued one will be; a sent one was)."""


@dataclass(frozen=True)
class Message:
    """A message as the page shows it: the recipient masked."""

    id: int
    ticket: str
    channel: str
    recipient: str  # masked
    template: str
    status_of_case: str | None  # the case's status the message announces, if the payload says
    status: str  # queued | sending (claimed too) | failed
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime

    @property
    def failed(self) -> bool:
        return self.status == notify.FAILED


@dataclass(frozen=True)
class Page:
    messages: list[Message]
    number: int
    has_next: bool


def _shown(status: str) -> str:
    return notify.SENDING if status == notify.CLAIMED else status


def _in_scope(user: StaffUser, *columns: Any) -> Any:
    stmt = select(*columns).join(Appeal, Appeal.id == OutboxMessage.appeal_id)
    return permissions.scoped(stmt, user, permissions.OUTBOX)


def counts(user: StaffUser) -> dict[str, int]:
    """Messages per status in USER's scope (every status of SHOWN_STATUSES, zero if none)."""
    rows = db.session.execute(
        _in_scope(user, OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    found = dict.fromkeys(SHOWN_STATUSES, 0)
    for status, n in rows:
        shown = _shown(status)
        if shown in found:
            found[shown] += int(n)
    return found


def not_sent(user: StaffUser, number: int = 1) -> Page:
    """Page NUMBER (from 1) of the messages not sent in USER's scope, the newest first."""
    rows = db.session.execute(
        _in_scope(user, OutboxMessage, Appeal.ticket)
        .where(OutboxMessage.status.in_(NOT_SENT))
        .order_by(OutboxMessage.id.desc())
        .offset((number - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    messages = [
        Message(
            id=m.id,
            ticket=ticket,
            channel=m.channel,
            recipient=mask(m.channel, m.recipient),
            template=m.template,
            status_of_case=str((m.payload or {}).get("status") or "") or None,
            status=_shown(m.status),
            attempts=m.attempts,
            next_attempt_at=m.next_attempt_at,
            last_error=m.last_error,
            created_at=m.created_at,
        )
        for m, ticket in rows[:PAGE_SIZE]
    ]
    return Page(messages, number, len(rows) > PAGE_SIZE)


def retry(user: StaffUser, message_id: int) -> None:
    """Send a failed message again, as ``flask notify retry`` does (queued, due now, attempts
    from zero), audited. Raises NotFound (not in scope) or NotFailed. Commits."""
    found = db.session.execute(
        _in_scope(user, OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts).where(
            OutboxMessage.id == message_id
        )
    ).first()
    if found is None:
        raise NotFound(message_id)
    if found.status != notify.FAILED:
        raise NotFailed(message_id)
    moved = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == notify.FAILED)
        .values(**notify.RETRY_VALUES)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]  # retried by someone else meanwhile
        db.session.rollback()
        raise NotFailed(message_id)
    record(
        "notify_retry",
        staff=user,
        target_type="outbox_message",
        target_id=message_id,
        before={"status": notify.FAILED, "attempts": found.attempts},
        after={"status": notify.QUEUED, "attempts": 0},
    )
    db.session.commit()


def record_view(user: StaffUser, number: int) -> None:
    """Looking at the messages (masked contacts of filers) is an action too: audit it."""
    record(
        "view_messages",
        staff=user,
        after={"scope": user.office_code or "national", "page": number},
    )
    db.session.commit()
