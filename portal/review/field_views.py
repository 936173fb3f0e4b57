"""HTTP for the desa operator's field checks (verval): the task list (the operator's home),
the task with its draft, and the operator's history. Thin: load in the operator's desa (404
otherwise), check the form, call portal/review/fieldwork.py (which commits and audits).

The task's form has two buttons: "Save draft" keeps what is written (no field required) and
"Send" records the result. Photos chosen with either are stored as they arrive, with the
draft, so neither a refused send nor a dropped connection afterwards loses them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.appeals import checklist, uploads
from portal.appeals.reasons import REASONS
from portal.auth.decorators import role_required
from portal.auth.models import Role
from portal.db import utcnow
from portal.forms import SESSION_EXPIRED
from portal.guard import accepts_photos, csrf_in_form, photo_too_large
from portal.review import fieldwork, forms, queries
from portal.wilayah import queries as wilayah

DRAFT = "draf"  # the value of the "Save draft" button (name="action")
NOTE_MAX = 2000


@role_required(Role.OPERATOR_DESA)
def field_checks() -> str:
    tasks = fieldwork.open_checks(g.staff)
    return render_template(
        "review/field_checks.html",
        tasks=tasks,
        places=queries.desa_names(t.check.kode_desa for t in tasks),
    )


@role_required(Role.OPERATOR_DESA)
def field_history() -> str:
    return render_template(
        "review/field_history.html",
        rows=fieldwork.history(g.staff),
        outcomes=forms.OUTCOMES,
        limit=fieldwork.HISTORY_PAGE,
    )


def _initial(draft: Any) -> dict[str, Any]:
    """The form's values from a saved draft."""
    if draft is None:
        return {}
    answers = draft.answers or {}
    values = {"outcome": answers.get("outcome") or None, "finding": answers.get("finding", "")}
    for key, value in (answers.get("checklist") or {}).items():
        values[f"cek_{key}"] = value
    return values


@accepts_photos
@csrf_in_form
@role_required(Role.OPERATOR_DESA)
def field_check(check_id: int) -> Any:
    found = fieldwork.check_for(g.staff, check_id)
    if found is None:
        abort(404)
    check, appeal = found
    reason = appeal.reason_code
    draft = fieldwork.draft_of(check)
    form = forms.field_check_result_form(
        reason, **({"data": _initial(draft)} if request.method == "GET" else {})
    )
    status = 200
    if photo_too_large():
        form.form_errors.append(uploads.too_large_body())
        status = 413
    elif request.method == "POST" and check.done_at is None:
        response = _post(check, appeal, form)
        if response is not None:
            return response
        status = 400
    fieldwork.view(check, appeal, g.staff, request.remote_addr)
    return render_template(
        "review/field_check.html",
        check=check,
        appeal=appeal,
        form=form,
        checklist_fields=forms.checklist_fields(form, reason),
        reason=REASONS[reason],
        region=wilayah.place(check.kode_desa),
        household=fieldwork.household_to_visit(g.staff, appeal, utcnow().date()),
        draft=fieldwork.draft_of(check),
        kept_photos=len(fieldwork.draft_photos(check)),
        room=fieldwork.photo_room(check),
        answers=checklist.ANSWERS,
        draft_action=DRAFT,
    ), status


def _post(check: Any, appeal: Any, form: Any) -> Response | None:
    """Save the draft or send the result; a redirect when done, None to show the form again
    with its errors (photos that passed are kept with the draft either way)."""
    saving = request.form.get("action") == DRAFT
    valid = form.validate()
    if any(error is SESSION_EXPIRED for error in form.form_errors):
        return None  # no valid token, whichever button: nothing is kept, the form is shown again
    try:
        uploaded = uploads.read(request.files.getlist("photos"), fieldwork.photo_room(check))
        form.photos.errors.extend(uploaded.errors)
        for clean in uploaded.photos:
            fieldwork.keep_photo(check, g.staff, clean)
        answers = fieldwork.draft_answers(
            appeal.reason_code,
            form.outcome.data if form.outcome.data in forms.OUTCOMES else "",
            form.finding.data or "",
            forms.checklist_answers(form, appeal.reason_code),
        )
        if saving or not valid or form.photos.errors:
            # a refused send keeps what was written too, as a draft
            if len(answers["finding"]) > NOTE_MAX:
                if saving:
                    form.finding.errors = [_("Write between 10 and 2000 characters.")]
                return None
            fieldwork.save_draft(check, appeal, g.staff, answers)
            if not saving or form.photos.errors:
                return None
            flash(_("Draft saved. You can come back to it later."), "success")
            return redirect(url_for("review.field_check", check_id=check.id))
        fieldwork.send(
            check,
            g.staff,
            form.outcome.data or "",
            form.finding.data or "",
            answers["checklist"],
        )
    except fieldwork.NotAllowed:
        abort(404)
    flash(_("Thank you. The officer can see your finding now."), "success")
    return redirect(url_for("review.field_checks"))


def add_routes(bp: Blueprint) -> None:
    """Add the field-check pages to the staff blueprint (portal/review/__init__.py). The
    endpoint names (review.field_checks, review.field_check) are the ones links use."""
    bp.add_url_rule("/verval", view_func=field_checks, methods=["GET"])
    bp.add_url_rule("/riwayat-verval", view_func=field_history, methods=["GET"])
    bp.add_url_rule(
        "/verval/<int(max=2147483647):check_id>",
        view_func=field_check,
        methods=["GET", "POST"],
    )
