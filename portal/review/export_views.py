"""HTTP for the export to Pusdatin. Thin: check the role, call the service, PRG.

An admin_dinsos sees what waits and makes an export; pusat sees every export and downloads
it; everyone else gets 403. An export outside the officer's scope is simply not found."""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import format_datetime, format_decimal, ngettext
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.appeals.reasons import DECISION_REASONS, REASONS
from portal.auth.decorators import role_required
from portal.auth.forms import EmptyForm
from portal.auth.models import Role
from portal.jobs.models import Job, JobStatus
from portal.review import export as exporting
from portal.review import permissions, queries
from portal.review.models import Export, ExportStatus
from portal.wilayah import queries as wilayah


@dataclass(frozen=True)
class ExportRow:
    """What the exports page shows of an export's state (a presenter: no states in Jinja)."""

    state: str
    ready: bool
    text: str
    expected: str  # the number of cases a pending export is making, when known


def _status(export: Export, jobs: dict[int, Job]) -> ExportRow:
    state = exporting.state(export, jobs)
    job = jobs.get(export.job_id) if export.job_id is not None else None
    total = job.progress_total if job is not None else None
    shown = "" if total is None else str(total)
    if state == ExportStatus.READY:
        return ExportRow(state, True, "", str(export.case_count))
    if state == ExportStatus.HELD:
        text = _(
            "Not final yet: it can be cancelled until %(time)s. "
            "The file can be downloaded after that.",
            time=format_datetime(export.final_at, "short"),
        )
        return ExportRow(state, False, text, str(export.case_count))
    if state == ExportStatus.CANCELLED:
        return ExportRow(state, False, _("Cancelled. Its cases wait for the next export."), "")
    if state == JobStatus.RUNNING:
        text = _(
            "Being made: %(done)s of %(total)s cases written.",
            done=job.progress_done if job else 0,
            total=shown or "?",
        )
    elif state == JobStatus.QUEUED:
        text = _("Queued: waiting for the job worker.")
    elif state == JobStatus.FAILED:
        text = _("Failed. The cases were not exported and still wait: make a new export.")
    else:
        text = _("Nothing left to export: another export took these cases first.")
    return ExportRow(state, False, text, shown)


@role_required(Role.ADMIN_DINSOS, Role.PUSAT)
def exports() -> str:
    exporting.finalize_due(g.staff)  # a held export whose undo window is over becomes final
    past = exporting.exports_for(g.staff)
    can_create = permissions.can_export(g.staff)
    jobs = exporting.jobs_of(past)
    return render_template(
        "review/exports.html",
        exports=past,
        jobs=jobs,
        statuses={e.id: _status(e, jobs) for e in past},
        in_progress=exporting.any_in_progress(past, jobs),  # says so, with a link to look again
        can_create=can_create,
        waiting=exporting.waiting_count(g.staff) if can_create else 0,
        form=EmptyForm(),
        names=queries.staff_names({e.created_by_id for e in past}),
        regions=wilayah.names({e.kabupaten_code for e in past}),
        cancellable={e.id for e in past if can_create and exporting.in_window(e)},
    )


@role_required(Role.ADMIN_DINSOS)
def preview_export() -> str:
    """What the next export would take, before it is made (nothing is written)."""
    return render_template(
        "review/export_preview.html",
        preview=exporting.preview(g.staff),
        reasons=REASONS,
        decision_reasons=DECISION_REASONS,
        window=format_decimal(float(current_app.config["EXPORT_UNDO_MINUTES"]), "#,##0.#")
        if current_app.config["EXPORT_UNDO_MINUTES"]
        else None,
        form=EmptyForm(),
    )


@role_required(Role.ADMIN_DINSOS)
def create_export() -> Response:
    if not EmptyForm().validate():
        abort(400)
    expected = request.form.get("expected", "")
    if expected:  # from the preview: the officer saw this many
        if not expected.isdigit() or len(expected) > 9:
            abort(400)
        if int(expected) != exporting.waiting_count(g.staff):
            flash(
                _(
                    "The waiting cases changed since the preview. "
                    "Check the new figures before you export."
                ),
                "error",
            )
            return redirect(url_for("review.preview_export"))
    try:
        made = exporting.create_export(g.staff, remote_addr=request.remote_addr)
    except exporting.NotAllowed:
        abort(403)
    except exporting.NothingToExport:
        flash(_("No approved case is waiting: there is nothing to export."), "info")
    except exporting.ExportBusy:
        flash(
            _(
                "An export of your area is still being made. "
                "Wait until it is ready, then try again."
            ),
            "error",
        )
    else:
        if made.status == ExportStatus.HELD:
            flash(
                ngettext(
                    "Export %(id)s holds %(num)d case. It becomes final at %(time)s; "
                    "until then you can cancel it below.",
                    "Export %(id)s holds %(num)d cases. It becomes final at %(time)s; "
                    "until then you can cancel it below.",
                    made.case_count,
                    id=made.id,
                    time=format_datetime(made.final_at, "short"),
                ),
                "success",
            )
            return redirect(url_for("review.exports"))
        if made.status == ExportStatus.PENDING:
            flash(
                _(
                    "Export %(id)s is being made in the background. This page shows its "
                    "progress; the file appears here when it is ready.",
                    id=made.id,
                ),
                "info",
            )
            return redirect(url_for("review.exports"))
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


@role_required(Role.ADMIN_DINSOS)
def cancel_export(export_id: int) -> Response:
    if not EmptyForm().validate():
        abort(400)
    try:
        cancelled = exporting.cancel_export(g.staff, export_id)
    except exporting.NotAllowed:
        abort(404)  # another area's export looks exactly like a missing one
    except exporting.TooLate:
        flash(_("This export is final: it can no longer be cancelled."), "error")
        return redirect(url_for("review.exports"))
    flash(
        _("Export %(id)s is cancelled. Its cases wait for the next export.", id=cancelled.id),
        "success",
    )
    return redirect(url_for("review.exports"))


@role_required(Role.ADMIN_DINSOS, Role.PUSAT)
def download_export(export_id: int) -> Response:
    exporting.finalize_due(g.staff)
    found = exporting.get_export(g.staff, export_id)
    if found is None or found.status != ExportStatus.READY:
        abort(404)  # another area's export looks exactly like a missing one
    exporting.record_download(g.staff, found, request.remote_addr)
    # the file streams out a piece (about 1 MB) at a time
    response = Response(stream_with_context(exporting.chunks(found)), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Length"] = str(found.size_bytes)
    response.headers["Content-Disposition"] = f'attachment; filename="{exporting.filename(found)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def add_routes(bp: Blueprint) -> None:
    """Add the export pages to the staff blueprint (portal/review/__init__.py)."""
    bp.add_url_rule("/ekspor", view_func=exports, methods=["GET"])
    bp.add_url_rule("/ekspor", view_func=create_export, methods=["POST"])
    bp.add_url_rule("/ekspor/pratinjau", view_func=preview_export, methods=["GET"])
    bp.add_url_rule(
        "/ekspor/<int(max=2147483647):export_id>/batal",
        view_func=cancel_export,
        methods=["POST"],
    )
    bp.add_url_rule(
        "/ekspor/<int(max=2147483647):export_id>.csv",
        view_func=download_export,
        methods=["GET"],
    )
