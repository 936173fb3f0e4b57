"""HTTP for the export to Pusdatin. Thin: check the role, call the service, PRG.

An admin_dinsos sees what waits and makes an export; pusat sees every export and downloads
it; everyone else gets 403. An export outside the officer's scope is simply not found."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from portal.auth.decorators import role_required
from portal.auth.forms import EmptyForm
from portal.auth.models import Role
from portal.review import export as exporting
from portal.review import permissions, queries
from portal.review.views import bp
from portal.wilayah import queries as wilayah


@bp.get("/ekspor")
@role_required(Role.ADMIN_DINSOS, Role.PUSAT)
def exports() -> str:
    past = exporting.exports_for(g.staff)
    can_create = permissions.can_export(g.staff)
    return render_template(
        "review/exports.html",
        exports=past,
        can_create=can_create,
        waiting=exporting.waiting_count(g.staff) if can_create else 0,
        form=EmptyForm(),
        names=queries.staff_names({e.created_by_id for e in past}),
        regions=wilayah.names({e.kabupaten_code for e in past}),
    )


@bp.post("/ekspor")
@role_required(Role.ADMIN_DINSOS)
def create_export() -> Response:
    if not EmptyForm().validate():
        abort(400)
    try:
        made = exporting.create_export(g.staff, remote_addr=request.remote_addr)
    except exporting.NotAllowed:
        abort(403)
    except exporting.NothingToExport:
        flash(_("No approved case is waiting: there is nothing to export."), "info")
    except exporting.ExportBusy:
        flash(_("Another export was being made at the same time. Please try again."), "error")
    else:
        flash(
            ngettext(
                "Export %(id)s is ready with %(num)d case. The case is now forwarded to Kemensos.",
                "Export %(id)s is ready with %(num)d cases. "
                "The cases are now forwarded to Kemensos.",
                made.case_count,
                id=made.id,
            ),
            "success",
        )
    return redirect(url_for("review.exports"))


@bp.get("/ekspor/<int(max=2147483647):export_id>.csv")
@role_required(Role.ADMIN_DINSOS, Role.PUSAT)
def download_export(export_id: int) -> Response:
    found = exporting.get_export(g.staff, export_id)
    if found is None:
        abort(404)  # another area's export looks exactly like a missing one
    exporting.record_download(g.staff, found, request.remote_addr)
    response = Response(found.content.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{exporting.filename(found)}"'
    response.headers["Cache-Control"] = "no-store"
    return response
