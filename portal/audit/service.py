"""Writing audit events. Called only from service functions, inside their transaction, so an
action and its audit row commit together or not at all.

Each row is sealed into the hash chain (portal.audit.chain) just before its transaction
commits (``seal_pending``, a ``before_commit`` hook of every session): the chain's head is
the last lock a transaction takes, so sealing never waits in a cycle with other locks.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from portal import db
from portal.audit import chain
from portal.audit.models import AuditChain, AuditEvent, AuditSeal
from portal.security import ip_prefix

PENDING = "audit_pending"


def record(
    action: str,
    *,
    staff: Any | None,
    target_type: str | None = None,
    target_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    audit = AuditEvent(
        at=db.utcnow(),
        staff_id=getattr(staff, "id", None),
        role=getattr(staff, "role", None),
        office_code=getattr(staff, "office_code", None),
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
        reason=reason,
        ip_prefix=ip_prefix(request.remote_addr) if has_request_context() else None,
    )
    db.session.add(audit)
    db.session.info.setdefault(PENDING, []).append(audit)
    return audit


def row_of(audit: AuditEvent) -> dict[str, Any]:
    return {name: getattr(audit, name) for name in chain.FIELDS}


def seal_pending(session: Session) -> None:
    """Seal this transaction's audit rows, in the order they were recorded."""
    pending: list[AuditEvent] = session.info.pop(PENDING, [])
    if not pending:
        return
    session.flush()  # the rows get their ids
    head = session.execute(
        select(AuditChain).where(AuditChain.id == 1).with_for_update()
    ).scalar_one()
    for audit in pending:
        row_hash = chain.link(head.head, row_of(audit))
        session.add(
            AuditSeal(seq=head.seq + 1, audit_id=audit.id, prev_hash=head.head, row_hash=row_hash)
        )
        head.seq, head.head = head.seq + 1, row_hash
    session.flush()


def _forget_pending(session: Session, *_args: Any) -> None:
    session.info.pop(PENDING, None)


def init_app(app: Flask) -> None:
    maker: sessionmaker[Session] = app.extensions["db_sessionmaker"]
    event.listen(maker, "before_commit", seal_pending)
    event.listen(maker, "after_soft_rollback", _forget_pending)
