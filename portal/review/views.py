"""HTTP for the staff queue. Thin: load in scope (404 otherwise), check, call the service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.appeals import drafts, errors, questions, reflected, tickets
from portal.appeals import photos as photolib
from portal.appeals.questions import address_line
from portal.appeals.reasons import DECISION_REASONS, REASONS
from portal.appeals.states import AppealStatus
from portal.auth.decorators import staff_gate
from portal.auth.forms import EmptyForm
from portal.auth.models import Role
from portal.db import utcnow
from portal.extensions import limiter
from portal.guard import csrf_in_form
from portal.review import (
    decision_views,
    decisions,
    forms,
    matching,
    permissions,
    queries,
    search,
    service,
)
from portal.security import client_network
from portal.wilayah import queries as wilayah

bp = Blueprint("review", __name__, url_prefix="/staf")
bp.before_request(staff_gate)


@bp.after_request
def _audit_refusals(response: Response) -> Response:
    """Every 403/404 a signed-in officer gets in the staff area is an audit row."""
    staff = g.get("staff")
    if staff is not None and response.status_code in (403, 404):
        service.record_refusal(staff, request.method, request.path, response.status_code)
    return response


def _case_or_404(appeal_id: int) -> Any:
    appeal = queries.get_case(g.staff, appeal_id)
    if appeal is None:
        abort(404)  # not in scope looks exactly like not existing
    return appeal


def _kecamatan_choices() -> list[tuple[str, str]]:
    if not g.staff.office_code:
        return []
    return [(w.code, w.name) for w in wilayah.children(g.staff.office_code)]


def _desa_choices() -> list[tuple[str, str]]:
    """The desa an officer can filter on: an operator's own, else those of the office."""
    if g.staff.role_enum is Role.OPERATOR_DESA:
        codes = g.staff.desa_codes
    elif g.staff.office_code:
        codes = wilayah.desa_in_kabupaten(g.staff.office_code)
    else:
        return []  # pusat: the national list is too long to offer
    return wilayah.describe(codes)


def _desa_filter(form: Any) -> str | None:
    """The one desa of the officer's area that the typed desa names (None: no filter, or an
    error added to the field, which then matches no case)."""
    typed = form.desa.data
    if not typed or form.desa.errors:
        return None
    found = search.resolve_desa(typed, form.desa_options)
    if len(found) == 1:
        return found[0]
    if not found:
        form.desa.errors.append(_("No desa of your area has that name."))
    else:
        form.desa.errors.append(
            _("Several desa have that name: choose one from the list, with its kecamatan.")
        )
    return None


@bp.get("/")
def queue() -> Any:
    if g.staff.role_enum is Role.OPERATOR_DESA and not request.args:
        return redirect(url_for("review.field_checks"))  # an operator's home: their tasks
    form = forms.QueueFilterForm(_kecamatan_choices(), _desa_choices(), request.args)
    form.validate()
    desa = _desa_filter(form)

    def valid(field: Any) -> Any:
        # a refused value (not one of the options, a NUL byte...) never reaches the database
        return None if field.errors else (field.data or None)

    filters = queries.QueueFilter(
        status=valid(form.status),
        reason=valid(form.reason),
        kecamatan=valid(form.kecamatan),
        desa=desa,
        overdue=bool(valid(form.overdue)),
        mine=bool(valid(form.mine)),
        escalated=bool(valid(form.escalated)),
        verval=valid(form.verval),
        nothing=bool(form.errors),  # ...and matches no case, with the error shown
    )
    page = queries.queue(g.staff, filters, request.args.get("setelah"))
    rows = queries.rows_for(g.staff, page.cases)
    search.record_listing(g.staff, rows, request.remote_addr)
    forwarded = [a.id for a in page.cases if a.status == AppealStatus.DITERUSKAN.value]
    # the next page keeps the filters, and only them (nothing else reaches url_for)
    args: dict[str, Any] = {
        f.name: request.args[f.name] for f in form if f.name in request.args and not f.errors
    }
    return render_template(
        "review/queue.html",
        form=form,
        page=page,
        rows=rows.rows,
        verval_titles=forms.VERVAL_CHOICES,
        next_url=url_for("review.queue", setelah=page.next_cursor, **args)
        if page.next_cursor
        else None,
        statuses=list(AppealStatus),
        now=utcnow(),
        take_form=EmptyForm(),
        can_take=g.staff.role_enum in permissions.DECIDERS,
        waiting=reflected.waiting_periods(forwarded),
    )


@bp.post("/ambil-berikutnya")
def take_next() -> Response:
    if not EmptyForm().validate():
        abort(400)
    return decision_views.take_next_case()


@bp.get("/kasus/<int(max=2147483647):appeal_id>")
def case(appeal_id: int) -> str:
    appeal = _case_or_404(appeal_id)
    return _case_page(appeal, decision_views.panel_form(appeal, g.staff, request.args))


def _case_page(appeal: Any, decision_form: Any, conflicts: tuple[str, ...] = ()) -> str:
    """The case page: the evidence, with the decision panel beside it for the officer who
    holds the case (the decide route shows it again with its errors or conflicts)."""
    filer = _filer(appeal)
    service.view_case(appeal, g.staff, request.remote_addr, filer_shown=filer is not None)
    checks = queries.field_checks_of(appeal)
    people = (
        {appeal.assigned_to_id, appeal.decided_by_id, appeal.subject_linked_by_id}
        | {c.requested_by_id for c in checks}
        | {c.done_by_id for c in checks}
    )
    request_form = forms.FieldCheckRequestForm(_office_desa(), data={"desa": appeal.kode_desa})
    answered = questions.case_lines(appeal)
    answered.pop("note", None)  # the filer's own words: shown with the filer, or not at all
    can_work = permissions.can_work(g.staff, appeal)
    households = queries.household_history(g.staff, appeal)
    mismatch = (appeal.details or {}).get("desa_mismatch") or {}
    assisted = appeal.assist if filer is not None and appeal.channel == "assisted" else None
    return render_template(
        "review/case.html",
        appeal=appeal,
        reason=REASONS[appeal.reason_code],
        households=households,
        # each desa the page names, by its name (the code only where the table lacks it)
        places=queries.desa_names(
            [
                *(c.kode_desa for c in checks),
                *(h.kode_desa for h in households.shown),
                mismatch.get("chosen"),
                mismatch.get("dtsen"),
                assisted.kode_desa if assisted else None,
            ]
        ),
        linked=queries.linked_cases(g.staff, appeal),
        checks=checks,
        names=queries.staff_names({p for p in people if p}),
        region=wilayah.place(appeal.kode_desa or appeal.kecamatan_code),
        can_claim=permissions.can_claim(g.staff, appeal),
        can_work=can_work,
        can_match=matching.can_match(g.staff, appeal),
        reported=_reported(appeal),
        claim_form=EmptyForm(),
        request_form=request_form,
        filer=filer,
        answered=answered,
        decision_reasons=DECISION_REASONS,
        outcomes=forms.OUTCOMES,
        waiting=reflected.waiting_periods([appeal.id]).get(appeal.id, 0),
        form=decision_form if can_work else None,
        panel=decision_views.panel(appeal, g.staff, conflicts) if can_work else None,
    )


@dataclass(frozen=True)
class Filer:
    """Who filed a case, as the case page shows it to those who may see it."""

    nik: str
    verified: bool
    own_household: bool
    note: list[str]


def _filer(appeal: Any) -> Filer | None:
    """The filer, for the signed-in officer: None unless ``permissions.may_see_filer``; the
    one place a staff page gets the filer's identity from."""
    if not permissions.may_see_filer(g.staff, appeal):
        return None
    return Filer(
        nik=appeal.filer_nik,
        verified=bool(appeal.filer_verified),
        own_household=bool(appeal.subject_is_filer_household),
        note=questions.case_lines(appeal).get("note", []),
    )


def _reported(appeal: Any) -> dict[str, str] | None:
    """Another household as the filer described it (name, address, desa), for the page."""
    if appeal.subject_is_filer_household or not appeal.subject_name:
        return None
    return {
        "name": appeal.subject_name,
        "address": address_line(appeal.subject_alamat, appeal.subject_rt, appeal.subject_rw),
        "place": wilayah.place(appeal.subject_kode_desa) if appeal.subject_kode_desa else "",
    }


def _office_desa() -> list[tuple[str, str]]:
    code = g.staff.office_code
    return wilayah.describe(wilayah.desa_in_kabupaten(code)) if code else []


def _per_officer() -> str:
    """Rate-limit key of the staff pages that read DTSEN: the signed-in officer."""
    staff = g.get("staff")
    return f"staff:{staff.id}" if staff is not None else client_network()


@bp.route("/kasus/<int(max=2147483647):appeal_id>/cocokkan", methods=["GET", "POST"])
@csrf_in_form
@limiter.limit(
    lambda: current_app.config["STAFF_MATCH_LIMIT"],
    methods=["POST"],
    key_func=_per_officer,
    scope="staff-match",
)
def match(appeal_id: int) -> Any:
    """Find the household a filer described by name: search a desa of the area by name."""
    appeal = _case_or_404(appeal_id)
    if g.staff.role_enum not in permissions.DECIDERS:
        abort(403)
    if not matching.can_match(g.staff, appeal):
        flash(_("This case cannot be matched to a household now."), "error")
        return redirect(url_for("review.case", appeal_id=appeal.id))
    form = forms.MatchSearchForm(
        _office_desa(),
        data={"nama": appeal.subject_name, "desa": appeal.subject_kode_desa or appeal.kode_desa},
    )
    found = None
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                found = matching.candidates(
                    g.staff, appeal, form.nama.data or "", form.desa.data or "", request.remote_addr
                )
            except matching.NoName:
                form.nama.errors.append(_("Type a name: letters, not only a title like Pak."))
            except service.NotAllowed:
                abort(404)
        if form.errors:
            status = 400
    return render_template(
        "review/match.html",
        appeal=appeal,
        reason=REASONS[appeal.reason_code],
        reported=_reported(appeal),
        form=form,
        found=found,
    ), status


@bp.post("/kasus/<int(max=2147483647):appeal_id>/tautkan")
def link(appeal_id: int) -> Response:
    """Link the chosen candidate's household to the case."""
    appeal = _case_or_404(appeal_id)
    if not EmptyForm().validate():
        abort(400)
    try:
        matching.link(g.staff, appeal, request.form.get("person", ""))
    except matching.HouseholdNotFound:
        abort(404)  # another area's household looks exactly like none at all
    except service.NotAllowed:
        abort(403)
    flash(_("The household is linked to this case."), "success")
    return redirect(url_for("review.case", appeal_id=appeal.id))


@bp.post("/kasus/<int(max=2147483647):appeal_id>/ambil")
def claim(appeal_id: int) -> Response:
    appeal = _case_or_404(appeal_id)
    if not EmptyForm().validate():
        abort(400)
    try:
        service.claim(appeal, g.staff)
    except service.AlreadyClaimed:
        flash(_("Another officer took this case a moment ago."), "error")
    except service.SameOfficer:
        flash(_("This case contests your own decision: another officer must handle it."), "error")
    except service.NotAllowed:
        abort(403)
    else:
        flash(_("The case is now yours."), "success")
    return redirect(url_for("review.case", appeal_id=appeal.id))


@bp.post("/kasus/<int(max=2147483647):appeal_id>/verval")
def request_check(appeal_id: int) -> Any:
    appeal = _case_or_404(appeal_id)
    choices = (
        wilayah.describe(wilayah.desa_in_kabupaten(g.staff.office_code))
        if g.staff.office_code
        else []
    )
    form = forms.FieldCheckRequestForm(choices)
    if not form.validate():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("review.case", appeal_id=appeal.id))
    try:
        service.request_field_check(
            appeal, g.staff, form.desa.data or "", form.instructions.data or ""
        )
    except service.NotAllowed:
        abort(403)
    flash(_("The field check was sent to the operators of the desa."), "success")
    return redirect(url_for("review.case", appeal_id=appeal.id))


@bp.route("/kasus/<int(max=2147483647):appeal_id>/putuskan", methods=["GET", "POST"])
@csrf_in_form
def decide(appeal_id: int) -> Any:
    """The decision panel of the case page, beside the evidence; a decision against the
    evidence comes back with its conflicts until confirmed with a note."""
    appeal = _case_or_404(appeal_id)
    if not permissions.can_work(g.staff, appeal):
        flash(_("Only the officer who holds a case in review can decide it."), "error")
        return redirect(url_for("review.case", appeal_id=appeal.id))
    if request.method == "GET":
        return _case_page(appeal, decision_views.panel_form(appeal, g.staff, request.args))
    form = decision_views.panel_form(appeal, g.staff)
    conflicts: tuple[str, ...] = ()
    if form.validate():
        duplicate = None
        if form.decision.data == AppealStatus.DUPLIKAT.value:
            try:
                code = tickets.normalise(form.duplicate_of.data or "")
            except ValueError:
                code = None
            duplicate = queries.by_ticket(g.staff, code) if code else None
            if duplicate is None or duplicate.id == appeal.id:
                form.duplicate_of.errors.append(_("Enter the ticket of another case in your area."))
        if not form.errors:
            try:
                decisions.decide(
                    appeal,
                    g.staff,
                    AppealStatus(form.decision.data),
                    form.reason.data or "",
                    form.note.data or "",
                    duplicate,
                    confirmed=decision_views.confirmed(form),
                    override_note=form.override_note.data or "",
                )
            except errors.InvalidTransition:
                flash(_("This case was decided meanwhile; nothing was changed."), "error")
                return redirect(url_for("review.case", appeal_id=appeal.id))
            except decisions.NoFieldResult:
                form.reason.errors.append(
                    _(
                        "This reason names what a field check found, but this case has no "
                        "field check result. Choose another reason, or ask for a field check "
                        "and decide when its result is in."
                    )
                )
            except decisions.NeedsConfirmation as needed:
                conflicts = needed.conflicts
                decision_views.ask_confirmation(form, conflicts)
            except service.SameOfficer:
                form.form_errors.append(
                    _("This case contests your own decision: another officer must decide it.")
                )
            except (service.BadDecision, service.NotAllowed):
                form.form_errors.append(_("This decision is not possible for this case."))
            else:
                flash(_("Decision saved. The citizen can read it now."), "success")
                if request.form.get("next"):
                    return decision_views.take_next_case()
                return redirect(url_for("review.case", appeal_id=appeal.id))
    return _case_page(appeal, form, conflicts), 400


@bp.get("/kasus/<int(max=2147483647):appeal_id>/foto/<int(max=2147483647):photo_id>")
def photo(appeal_id: int, photo_id: int) -> Response:
    appeal = _case_or_404(appeal_id)
    found = queries.photo_of(appeal, photo_id)
    if found is None:
        abort(404)
    service.view_photo(appeal, photo_id, g.staff)
    path = photolib.path_for(drafts.upload_dir(), found.storage_key)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=0, conditional=False)
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["Content-Disposition"] = "inline"
    return response
