"""HTTP for the Dinas Sosial contact that citizens see: its admin_dinsos keeps it current.
Thin: the role (403 for any other), the scope (another kabupaten/kota: 404, as for cases),
the form, one service call (audited), PRG."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.auth.decorators import role_required
from portal.auth.models import Role
from portal.guard import csrf_in_form
from portal.help import queries as contacts
from portal.help import service as contact_service
from portal.help.forms import ContactForm
from portal.review import permissions
from portal.wilayah import queries as wilayah


@role_required(Role.ADMIN_DINSOS)
def contacts_home() -> Response:
    return redirect(url_for("review.contact", kabupaten_code=g.staff.office_code))


@role_required(Role.ADMIN_DINSOS)
@csrf_in_form
def contact(kabupaten_code: str) -> Any:
    if not permissions.can_edit_contact(g.staff, kabupaten_code):
        abort(404)  # another area's: not in scope looks like not there
    current = contacts.get(kabupaten_code)
    form = ContactForm(obj=current if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                changed = contact_service.save_contact(g.staff, kabupaten_code, form.values())
            except contact_service.NotAllowed:
                abort(404)
            if changed:
                flash(_("Contact saved. Citizens see it now."), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("review.contact", kabupaten_code=kabupaten_code))
        status = 400
    region = wilayah.get(kabupaten_code)
    return render_template(
        "review/contact.html",
        form=form,
        kabupaten_code=kabupaten_code,
        area=region.name if region else kabupaten_code,
        preview=contacts.view_of(current) if current else None,
    ), status


def add_routes(bp: Blueprint) -> None:
    """Add the contact pages to the staff blueprint (portal/review/__init__.py)."""
    bp.add_url_rule("/kontak", view_func=contacts_home, methods=["GET"])
    bp.add_url_rule("/kontak/<kabupaten_code>", view_func=contact, methods=["GET", "POST"])
