"""Template filters and globals that depend on the locale (registered by portal.templating)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import request, url_for
from flask_babel import format_date, format_datetime, format_time
from flask_babel import lazy_gettext as _l
from werkzeug.routing import BuildError

from portal.core.periods import Period

# Query arguments a language link may carry over. Anything else (a NIK pasted into a URL,
# tracking junk) is dropped, so it is never echoed into the page.
KEPT_QUERY_ARGS = ("q", "alasan", "return", "sampai")


def lang_url(lang: str) -> str:
    """The current page in another language, keeping view args and safe query args."""
    args: dict[str, Any] = dict(request.view_args or {})
    args.update({k: v for k, v in request.args.items() if k in KEPT_QUERY_ARGS})
    args["lang"] = lang
    endpoint = request.endpoint if request.endpoint and request.method == "GET" else None
    try:
        return url_for(endpoint or "lookup.index", **args)
    except BuildError:  # an error page may have no endpoint to rebuild
        return url_for("lookup.index", lang=lang)


def date_label(value: date | datetime | None, fmt: str = "long") -> str:
    """A date in the reader's language; datetimes are shown as their Jakarta date."""
    if value is None:
        return ""
    return format_date(value, fmt)


def datetime_label(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return format_datetime(value, fmt)


def time_label(value: datetime | None, fmt: str = "medium") -> str:
    """A time of day in the reader's language, in Jakarta time (e.g. 14.05.09)."""
    if value is None:
        return ""
    return format_time(value, fmt)


# A period as people say it, never its code (2026Q3): "Triwulan III 2026" in Indonesian, the
# quarter with its months in English. One message per quarter, so each language words it whole.
QUARTERS = {
    1: _l("Q1 %(year)s (January-March)"),
    2: _l("Q2 %(year)s (April-June)"),
    3: _l("Q3 %(year)s (July-September)"),
    4: _l("Q4 %(year)s (October-December)"),
}


def period_label(period: Period | str | None) -> str:
    """``2026Q3`` -> "Triwulan III 2026" / "Q3 2026 (July-September)"; "" for no period."""
    if period is None or period == "":
        return ""
    p = period if isinstance(period, Period) else Period.parse(str(period))
    return str(QUARTERS[p.quarter]) % {"year": p.year}
