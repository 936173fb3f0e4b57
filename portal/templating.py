"""Every template global and filter, registered in one place when the app is created.

Blueprints register none: a page may use any of these whichever blueprint renders it (the
staff case page shows a case's status like the filer's pages do; the result, receipt and
case pages all name the Dinas Sosial contact), so none of them may depend on another
blueprint having been registered first. Templates ask these presenters instead of naming
states, slicing codes or looking up labels themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, request, url_for

from portal import pages
from portal.appeals import checklist, tickets
from portal.appeals.states import CSS, OPEN, TITLES, AppealStatus
from portal.auth.models import ROLE_TITLES, Role
from portal.core.names import mask_name
from portal.errors import duration
from portal.help import queries as help_queries
from portal.i18n import LANGUAGE_NAMES
from portal.i18n import filters as i18n_filters
from portal.lookup.labels import HUBUNGAN_LABELS, PROGRAM_NAMES, desil_label
from portal.statistik import labels as stat_labels


def program_name(code: str) -> str:
    """The translated name of a program code (the code itself if unknown)."""
    return pages.translated(PROGRAM_NAMES.get(code, code))


def hubungan_label(code: str) -> str:
    """The translated family relation of a snapshot's ``hubungan`` code."""
    return pages.translated(HUBUNGAN_LABELS.get(code, code.title()))


def status_title(status: str) -> str:
    """What the filer and the staff read for a case's status."""
    return str(TITLES[AppealStatus(status)])


def status_css(status: str) -> str:
    """The CSS class that colours a case's status."""
    return CSS[AppealStatus(status)]


def status_open(status: str) -> bool:
    """Not yet decided (received or in review): may be late, escalated or withdrawn."""
    return AppealStatus(status) in OPEN


def role_title(role: str) -> str:
    """The translated title of a staff role."""
    return str(ROLE_TITLES[Role(role)])


def short_hash(digest: str, length: int = 12) -> str:
    """The first characters of a hex digest, enough to compare by eye with a download's."""
    return digest[:length]


def dinsos_contact(source: Any) -> help_queries.ContactView | None:
    """The Dinsos contact for a case, a look-up result or a region code (None: unknown)."""
    return help_queries.contact_for(source)


def site_address(endpoint: str = "lookup.index") -> dict[str, str]:
    """The portal's address to print (``text``, without the scheme) and link (``href``).

    From PUBLIC_BASE_URL when set; otherwise the address this browser used, which is only
    ever shown back to the same browser (never used to build a link for anyone else)."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    href = base + url_for(endpoint)
    parts = urlsplit(href)
    text = parts.netloc + (parts.path if parts.path != "/" else "")
    return {"href": href, "text": text}


GLOBALS: dict[str, Any] = {
    "program_name": program_name,
    "hubungan_label": hubungan_label,
    "desil_label": desil_label,
    "status_title": status_title,
    "status_css": status_css,
    "status_open": status_open,
    "role_title": role_title,
    "dinsos_contact": dinsos_contact,
    "site_address": site_address,
    "field_checklist": checklist.lines,  # a field check's checklist answers, on the case page
    "lang_url": i18n_filters.lang_url,
    "period_label": i18n_filters.period_label,
    "LANGUAGE_NAMES": LANGUAGE_NAMES,
}

FILTERS: dict[str, Callable[..., Any]] = {
    "ticket": tickets.display,
    "short_hash": short_hash,
    "duration": duration,
    "masked": mask_name,
    "date": i18n_filters.date_label,
    "numberformat": i18n_filters.number_label,  # Flask-Babel's, with whole numbers kept
    "datetime": i18n_filters.datetime_label,
    "time": i18n_filters.time_label,
    "period": i18n_filters.period_label,
    "stat_count": stat_labels.count_text,
}


def init_app(app: Flask) -> None:
    """Register every global and filter, and the Jinja settings of every page. After
    ``i18n.init_app``: Flask-Babel installs its gettext callables, which portal.pages
    replaces with cheaper ones."""
    env = app.jinja_env
    env.globals.update(pages.template_globals(app))
    env.globals.update(GLOBALS)
    env.filters.update(FILTERS)
    env.add_extension("jinja2.ext.do")
    env.trim_blocks = True
    env.lstrip_blocks = True
