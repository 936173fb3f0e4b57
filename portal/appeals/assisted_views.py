"""HTTP for assisted filing at the desa office (portal/appeals/assisted.py): the operator's
start page (consent, desa office, kind) that leads into the public journey, and the receipt
of a case they filed (print, or the ticket by SMS). Staff pages under /staf: the staff cookie
is needed, and the operator_desa role. Registered inside the appeals blueprint
(portal/appeals/__init__.py), so its endpoints are ``appeals.assist.*``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.appeals import assisted, errors, tickets
from portal.appeals.forms import AssistSmsForm, AssistStartForm
from portal.appeals.reasons import REASONS, Kind
from portal.auth.decorators import load_staff, role_required, staff_gate
from portal.auth.models import Role
from portal.extensions import limiter
from portal.guard import csrf_in_form
from portal.review import service as review_service
from portal.security import client_network
from portal.wilayah import queries as wilayah

bp = Blueprint("assist", __name__, url_prefix="/staf/bantu-ajukan")
bp.before_request(staff_gate)


@bp.after_request
def _audit_refusals(response: Response) -> Response:
    """A 403/404 of a signed-in officer here is an audit row, as in the rest of /staf."""
    staff = g.get("staff")
    if staff is not None and response.status_code in (403, 404):
        review_service.record_refusal(staff, request.method, request.path, response.status_code)
    return response


def _operator_limit() -> str:
    """Per operator (the limiter may ask before the staff gate ran: no session, per network)."""
    staff = load_staff()
    return f"staff:{staff.id}" if staff is not None else f"net:{client_network()}"


def _start_form(formdata: Any = None) -> AssistStartForm:
    codes = g.staff.desa_codes
    names = wilayah.names(set(codes))
    desa = [(code, f"{names.get(code, code)} ({code})") for code in sorted(codes)]
    return AssistStartForm(desa, assisted.CONSENT_STATEMENT, formdata=formdata)


@bp.route("", methods=["GET", "POST"])
@csrf_in_form
@role_required(Role.OPERATOR_DESA)
@limiter.limit("60 per hour", methods=["POST"], key_func=_operator_limit, scope="assist-start")
def start() -> Any:
    """Consent, desa office and kind; then the public journey's first question."""
    status = 200
    if request.method == "POST":
        form = _start_form(request.form)
        if form.validate():
            kind = Kind(form.kind.data)
            try:
                assisted.begin(g.staff, form.desa.data, kind)
            except errors.OutsideOperatorDesa:
                abort(404)
            return redirect(url_for("appeals.step", kind_name=kind.value, slug="alasan"))
        status = 400
    else:
        form = _start_form()
    return render_template("review/assist_start.html", form=form, active=assisted.current()), status


@bp.post("/selesai")
@role_required(Role.OPERATOR_DESA)
def stop() -> Response:
    """Leave assisted filing without sending: the draft is left behind (it expires)."""
    assisted.end()
    flash(_("Assisted filing ended. Nothing was sent."), "info")
    return redirect(url_for("appeals.assist.start"))


def _case_or_404(appeal_id: int) -> Any:
    found = assisted.assisted_case(g.staff, appeal_id)
    if found is None:
        abort(404)  # another operator's (or no such case): not there
    return found


def _receipt(appeal_id: int, form: AssistSmsForm, status: int = 200) -> Any:
    appeal, assist = _case_or_404(appeal_id)
    office = wilayah.names({assist.kode_desa}).get(assist.kode_desa, assist.kode_desa)
    return render_template(
        "review/assist_receipt.html",
        appeal=appeal,
        assist=assist,
        office=office,
        reason=REASONS[appeal.reason_code],
        ticket_spoken=" ".join(tickets.display(appeal.ticket)),
        form=form,
        sms_left=max(assisted.SMS_PER_CASE - assist.sms_sent, 0),
    ), status


@bp.get("/<int(max=2147483647):appeal_id>")
@role_required(Role.OPERATOR_DESA)
def receipt(appeal_id: int) -> Any:
    """The ticket of a case this operator filed, to print or send by SMS."""
    return _receipt(appeal_id, AssistSmsForm(formdata=None))


@bp.post("/<int(max=2147483647):appeal_id>/sms")
@csrf_in_form
@role_required(Role.OPERATOR_DESA)
@limiter.limit("30 per hour", key_func=_operator_limit, scope="assist-sms")
def send_sms(appeal_id: int) -> Any:
    appeal, assist = _case_or_404(appeal_id)
    form = AssistSmsForm()
    if not form.validate():
        return _receipt(appeal_id, form, 400)
    if not assisted.send_ticket(g.staff, appeal, assist, form.phone.data):
        form.phone.errors = [_("The ticket was sent by SMS as often as it may be for one case.")]
        return _receipt(appeal_id, form, 429)
    flash(_("The ticket will be sent by SMS in a moment."), "success")
    return redirect(url_for("appeals.assist.receipt", appeal_id=appeal_id))
