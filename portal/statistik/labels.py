"""Words of the statistics pages (translated when shown)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import g
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

if TYPE_CHECKING:
    from portal.statistik.queries import Cell

OUTCOME_LABELS = {
    "open": _l("Still open"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "duplicate": _l("Duplicate"),
    "withdrawn": _l("Withdrawn by the filer"),
    "other": _l("Other"),
}


def count_text(cell: Cell) -> str:
    """A cell's text: the count with the reader's digit grouping, or "<5" / "*"."""
    if not cell.shown:
        return cell.text
    separator = g.get("_group_separator")
    if separator is None:
        locale = get_locale()
        separator = locale.number_symbols["latn"]["group"] if locale is not None else "."
        g._group_separator = separator
    return f"{cell.value:,}".replace(",", separator)
