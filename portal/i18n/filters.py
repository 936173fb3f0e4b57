"""Template filters and globals that depend on the locale (registered by portal.templating)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from babel import Locale, numbers
from flask import request, url_for
from flask.globals import _cv_app
from flask_babel import (
    format_date,
    format_datetime,
    format_number,
    format_time,
    get_locale,
    to_user_timezone,
)
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


def _babel_state(name: str) -> Any:
    """Flask-Babel's per-request choice NAME (babel_locale, babel_tzinfo), ``force_locale``
    included, or None before it was made: its own get_locale() and get_timezone() cost two
    context lookups a call, and a staff page formats a few hundred numbers and dates."""
    app_ctx = _cv_app.get(None)
    state = getattr(app_ctx.g, "_flask_babel", None) if app_ctx is not None else None
    return getattr(state, name, None)


def _locale() -> Locale | None:
    locale = _babel_state("babel_locale")
    return locale if locale is not None else get_locale()


def _jakarta_day(value: datetime) -> date:
    """VALUE's date where the reader is (Asia/Jakarta), as Flask-Babel's rebase gives it."""
    zone = _babel_state("babel_tzinfo")
    if zone is None:
        return to_user_timezone(value).date()
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).date()


# A whole number's and a day's text per locale (and date format), kept for the process: they
# never change, and Babel formats each anew (about 25 us: a dashboard's 320 counts and 50
# dates took some 10 ms a page). Bounded: a number or a day not seen for a while is formed again.
@lru_cache(maxsize=16384)
def _whole_number(value: int, locale: Locale) -> str:
    return numbers.format_decimal(value, locale=locale)


@lru_cache(maxsize=4096)
def _day(value: date, fmt: str, locale: Locale) -> str:
    return format_date(value, fmt)  # a date, not a datetime: nothing to rebase


def number_label(value: Any) -> str:
    """Flask-Babel's ``numberformat`` filter: VALUE in the reader's language (12.345 in
    Indonesian, 12,345 in English); a whole number's text is kept."""
    locale = _locale()
    if type(value) is int and locale is not None:
        return _whole_number(value, locale)
    return format_number(value)


def date_label(value: date | datetime | None, fmt: str = "long") -> str:
    """A date in the reader's language; datetimes are shown as their Jakarta date."""
    if value is None:
        return ""
    locale = _locale()
    if locale is None:  # outside a request: Flask-Babel's defaults
        return format_date(value, fmt)
    if isinstance(value, datetime):
        value = _jakarta_day(value)
    return _day(value, fmt, locale)


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
