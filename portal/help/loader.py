"""Load the Dinas Sosial contacts from a data file, and the demo's fictional one.

Idempotent: a row equal to the table's is left alone; a changed row is updated; a new one is
added. Rows of kabupaten/kota not in the file are kept (an officer may have entered them).
Every row written is an audit event (actor: the system), in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from portal import db
from portal.audit.service import record
from portal.help import queries
from portal.help.models import DinsosContact
from portal.help.reader import ContactFileError, read
from portal.help.service import write_contact
from portal.wilayah import queries as wilayah
from portal.wilayah.models import Level

# The file shipped with the portal: a header and no rows (no office's number is invented).
SHIPPED = Path(__file__).resolve().parent.parent / "data" / "kontak-dinsos.csv"

# The demo kabupaten's entry: clearly not a real office (pages mark it as demo data too).
DEMO = {
    "office_name": "Dinas Sosial (CONTOH DEMO, bukan kantor sebenarnya)",
    "address": "Jl. Contoh Demo No. 0 (alamat contoh, bukan alamat sebenarnya)",
    "phone": "0000 0000 0000",
    "whatsapp": "0000 0000 0000",
    "email": None,
    "hours": "Senin-Jumat 08.00-15.00 (contoh)",
}


@dataclass(frozen=True)
class ContactImportResult:
    added: int
    updated: int
    unchanged: int


def import_file(path: Path) -> ContactImportResult:
    """Load the contacts of PATH in one transaction; raises ContactFileError (nothing written)."""
    rows = read(path)
    kabupaten = wilayah.codes(Level.KABUPATEN)
    unknown = [
        f"line {row.line}: {row.kabupaten_code} is not a kabupaten/kota in the region table "
        "(run `flask --app portal wilayah import` first?)"
        for row in rows
        if row.kabupaten_code not in kabupaten
    ]
    if unknown:
        raise ContactFileError(unknown)
    existing = {c.kabupaten_code: c for c in db.session.scalars(select(DinsosContact))}
    added = updated = 0
    for row in rows:
        contact = existing.get(row.kabupaten_code)
        if contact is not None and contact.fields() == row.fields() and not contact.is_demo:
            continue
        if contact is None:
            added += 1
        else:
            updated += 1
        write_contact(
            contact,
            row.kabupaten_code,
            row.fields(),
            action="contact_import",
            staff=None,
            reason=f"data file {path.name}",
        )
    db.session.commit()
    return ContactImportResult(added, updated, len(rows) - added - updated)


def load_demo(kabupaten_code: str) -> bool:
    """Give the demo kabupaten a fictional contact, marked as demo data, unless it has one
    (a real contact is never replaced). Returns whether a row was added."""
    if db.session.scalar(
        select(DinsosContact.id).where(DinsosContact.kabupaten_code == kabupaten_code)
    ):
        return False
    contact = DinsosContact(kabupaten_code=kabupaten_code, is_demo=True, **DEMO)
    db.session.add(contact)
    db.session.flush()
    record(
        "contact_demo",
        staff=None,
        target_type="dinsos_contact",
        target_id=contact.id,
        after={"kabupaten_code": kabupaten_code, **contact.fields()},
        reason="flask demo: fictional contact",
    )
    db.session.commit()
    queries.clear_contact_cache()
    return True


__all__ = ["SHIPPED", "ContactFileError", "ContactImportResult", "import_file", "load_demo"]
