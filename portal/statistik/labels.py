"""Words of the statistics pages (translated when shown)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

OUTCOME_LABELS = {
    "open": _l("Still open"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "duplicate": _l("Duplicate"),
    "withdrawn": _l("Withdrawn by the filer"),
    "other": _l("Other"),
}
