"""The append-only audit trail of staff actions (who, role, office, when, what, before and
after, reason). Rows are only ever inserted; nothing in the code updates or deletes them."""
