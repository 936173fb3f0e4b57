"""HTTP for the staff case search (/staf/cari): find a case by ticket, NIK, No. KK or name.
Thin: the form, one call to portal/review/search.find, the page.

The query is posted (a NIK or No. KK must never reach a URL, a proxy's access log or the
browser's history); the page answers the POST itself, as a search changes nothing but the
audit and access logs. Rate-limited per officer (STAFF_SEARCH_LIMIT)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template, request
from flask_babel import gettext as _

from portal.db import utcnow
from portal.extensions import limiter
from portal.review import forms, search
from portal.security import client_network


def _per_officer() -> str:
    """Rate-limit key: the signed-in officer (as the name match of review.views)."""
    staff = g.get("staff")
    return f"staff:{staff.id}" if staff is not None else client_network()


@limiter.limit(
    lambda: current_app.config["STAFF_SEARCH_LIMIT"],
    methods=["POST"],
    key_func=_per_officer,
    scope="staff-search",
)
def search_cases() -> Any:
    form = forms.CaseSearchForm()
    found = None
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                found = search.find(g.staff, form.q.data or "", request.remote_addr)
                if found.kind is search.Kind.NUMBER:
                    form.q.data = ""  # a NIK or No. KK is never written back into a page
            except search.BadNumber:
                form.q.errors.append(_("A NIK or No. KK has 16 digits."))
            except search.NothingToSearch:
                form.q.errors.append(
                    _("Type a ticket, a 16-digit number or a name (letters, not only a title).")
                )
        if form.errors:
            status = 400
    return render_template(
        "review/search.html",
        form=form,
        found=found,
        rows=found.rows if found else [],
        verval_titles=forms.VERVAL_CHOICES,
        waiting={},
        now=utcnow(),
    ), status


def add_routes(bp: Blueprint) -> None:
    """Add the case search to the staff blueprint (portal/review/__init__.py)."""
    bp.add_url_rule("/cari", endpoint="search", view_func=search_cases, methods=["GET", "POST"])
