"""Reads of the Dinas Sosial contacts, and what a page shows of one."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, cast

from flask import current_app
from sqlalchemy import bindparam, select

from portal import db
from portal.help.models import DinsosContact
from portal.help.reader import KABUPATEN_CODE, dial_digits, whatsapp_digits
from portal.wilayah import queries as wilayah


@dataclass(frozen=True)
class ContactView:
    """A contact as a page shows it: the office's name, where to go, how to call or write."""

    kabupaten_code: str
    name: str
    address: str
    phone: str | None
    phone_href: str | None
    whatsapp: str | None
    whatsapp_href: str | None
    email: str | None
    hours: str | None
    is_demo: bool


def get(kabupaten_code: str) -> DinsosContact | None:
    return db.session.scalar(
        select(DinsosContact).where(DinsosContact.kabupaten_code == kabupaten_code)
    )


def kabupaten_of(source: Any) -> str | None:
    """The kabupaten/kota code of a case (its handling Dinsos), of a look-up result (the desa
    the household lives in) or of a region code; None when there is none."""
    if source is None:
        return None
    code = getattr(source, "kabupaten_code", None) or getattr(source, "kode_desa", None)
    if code is None and isinstance(source, str):
        code = source
    if not isinstance(code, str):
        return None
    code = code[:5]
    return code if KABUPATEN_CODE.fullmatch(code) else None


def office_name(contact: DinsosContact) -> str:
    if contact.office_name:
        return contact.office_name
    region = wilayah.get(contact.kabupaten_code)
    return f"Dinas Sosial {region.name}" if region else "Dinas Sosial"


def view_of(contact: DinsosContact) -> ContactView:
    """What a page shows. A demo row's numbers are shown but never linked: nobody should
    dial or message an invented number by a tap."""
    live = not contact.is_demo
    return ContactView(
        kabupaten_code=contact.kabupaten_code,
        name=office_name(contact),
        address=contact.address,
        phone=contact.phone,
        phone_href=f"tel:{dial_digits(contact.phone)}" if contact.phone and live else None,
        whatsapp=contact.whatsapp,
        whatsapp_href=(
            f"https://wa.me/{whatsapp_digits(contact.whatsapp)}"
            if contact.whatsapp and live
            else None
        ),
        email=contact.email,
        hours=contact.hours,
        is_demo=contact.is_demo,
    )


# contact_for's read, built once a process: every look-up result, receipt and case page
# shows a contact (a Core row: no ORM object to load for a page that only reads it)
_CONTACT = select(*DinsosContact.__table__.c).where(
    DinsosContact.kabupaten_code == bindparam("code")
)


# Per process: (engine id, kabupaten code) -> (monotonic time read, the contact shown). Every
# look-up result shows one and a contact changes a few times a year: a saved contact is seen
# at once by the process that saved it (write_contact clears this) and by the others within
# SNAPSHOT_CACHE_SECONDS (10 s in production; 0, no cache, in the tests), as a new period is.
_contact_cache: dict[tuple[int, str], tuple[float, ContactView | None]] = {}
_clock = time.monotonic  # (tests move it)


def clear_contact_cache() -> None:
    _contact_cache.clear()


def contact_for(source: Any) -> ContactView | None:
    """The contact of the Dinsos that serves SOURCE (a case, a look-up result, a code)."""
    code = kabupaten_of(source)
    if not code:
        return None
    ttl = float(current_app.config["SNAPSHOT_CACHE_SECONDS"])
    key = (id(current_app.extensions["db_engine"]), code)
    now = _clock()
    cached = _contact_cache.get(key)
    if cached is not None and now - cached[0] <= ttl:
        return cached[1]
    row = db.session.connection().execute(_CONTACT, {"code": code}).first()
    # a row has the model's attributes, which is all view_of reads
    view = view_of(cast(DinsosContact, row)) if row else None
    if ttl > 0:
        if len(_contact_cache) > 1024:  # 514 kabupaten/kota in Indonesia
            _contact_cache.clear()
        _contact_cache[key] = (now, view)
    return view
