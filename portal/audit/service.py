"""Writing audit events. Called only from service functions, inside their transaction, so an
action and its audit row commit together or not at all."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from portal import db
from portal.audit.models import AuditEvent
from portal.security import ip_prefix


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
    event = AuditEvent(
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
    db.session.add(event)
    return event
