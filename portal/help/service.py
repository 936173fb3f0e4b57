"""The writes of the help capability: a Dinsos contact saved by its officer or imported."""

from __future__ import annotations

from typing import Any

from portal import db
from portal.audit.service import record
from portal.auth.models import StaffUser
from portal.help import queries
from portal.help.models import FIELDS, DinsosContact
from portal.review.permissions import can_edit_contact


def write_contact(
    contact: DinsosContact | None,
    kabupaten_code: str,
    values: dict[str, Any],
    *,
    action: str,
    staff: StaffUser | None,
    reason: str | None,
) -> DinsosContact:
    """Create or overwrite the contact of KABUPATEN_CODE with VALUES (no longer a demo entry),
    audited with the values before and after; the caller commits. The one write of a contact:
    the staff page and the data-file import both come through here."""
    before = None if contact is None else {**contact.fields(), "is_demo": contact.is_demo}
    if contact is None:
        contact = DinsosContact(kabupaten_code=kabupaten_code)
        db.session.add(contact)
    for field, value in values.items():
        setattr(contact, field, value)
    contact.is_demo = False
    contact.updated_at = db.utcnow()
    db.session.flush()
    queries.clear_contact_cache()  # this process shows the new values at once
    record(
        action,
        staff=staff,
        target_type="dinsos_contact",
        target_id=contact.id,
        before=before,
        after={"kabupaten_code": kabupaten_code, **contact.fields()},
        reason=reason,
    )
    return contact


class NotAllowed(Exception):
    """Only the admin_dinsos of the kabupaten/kota may change its contact."""


def save_contact(user: StaffUser, kabupaten_code: str, values: dict[str, Any]) -> bool:
    """Set the contact of KABUPATEN_CODE to VALUES (the fields of ``FIELDS``; empty is None),
    audited with the values before and after, and commit. Returns whether anything changed
    (saving the same values writes nothing)."""
    if not can_edit_contact(user, kabupaten_code):
        raise NotAllowed(kabupaten_code)
    wanted = {field: (values.get(field) or None) for field in FIELDS}
    contact = queries.get(kabupaten_code)
    if contact is not None and contact.fields() == wanted and not contact.is_demo:
        return False
    write_contact(contact, kabupaten_code, wanted, action="contact_update", staff=user, reason=None)
    db.session.commit()
    return True
