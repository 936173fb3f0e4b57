"""HTTP for following a case: ticket + NIK open it (a tracking grant, whose random token is
all the session holds), then the case page with its timeline, withdrawing an open case,
contesting a decision, and forgetting the grant. Its own blueprint (tracking); the pages keep
the /lacak addresses. Every POST answers with a redirect (Post/Redirect/Get, portal/replay)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from portal import db, policy, replay
from portal.appeals import errors, service, tickets
from portal.appeals import forms as f
from portal.appeals import queries as appeal_queries
from portal.appeals.reasons import REASONS
from portal.appeals.states import DECIDED, OPEN, AppealStatus
from portal.appeals.tracking import service as tracking
from portal.appeals.views import to_receipt
from portal.errors import must_wait, too_many_requests
from portal.guard import csrf_in_form

bp = Blueprint("tracking", __name__)

TICKET_FORMAT = _l(
    "A ticket number has 8 letters and digits, for example K7QM-4TXE. It never contains 0, O, "
    "1 or I."
)


@bp.route("/lacak", methods=["GET", "POST"])
@csrf_in_form
@policy.checks(policy.Check.TRACK)
def track() -> Any:
    page = "track"
    if request.method != "POST":
        kept = replay.restore(page)
        form = f.TrackForm(formdata=kept.formdata if kept else None)
        if kept:
            kept.apply(form)
        not_found = bool(kept and kept.notes.get("not_found"))
        return render_template("appeals/track.html", form=form, not_found=not_found)
    form = f.TrackForm()
    if form.honeypot_filled():
        return too_many_requests()
    code = typo = None
    if form.validate():
        try:
            code = tickets.normalise(form.ticket.data or "")
        except tickets.TicketCheckError as exc:
            typo = str(exc)
        except tickets.TicketFormatError:
            form.ticket.errors.append(TICKET_FORMAT)
    nik = form.nik.number
    if (code or typo) and nik:
        numbers = [policy.nik(nik), policy.ticket(code or typo or "")]
        try:
            admission = policy.admit(policy.Check.TRACK, numbers, request.form.get("wait"))
        except policy.Refused:
            return too_many_requests()
        except policy.MustWait as exc:
            body = render_template("appeals/track.html", form=f.TrackForm(formdata=None), wait=exc)
            return must_wait(body, exc.seconds)
        if code:
            appeal = tracking.find_for_tracking(code, nik)
            if appeal is not None:
                session["track"] = tracking.grant_tracking(appeal)
                replay.done(page)
                return redirect(url_for("tracking.case"))
            policy.missed(admission)
            return replay.again(form, page, url_for("tracking.track"), notes={"not_found": True})
        suggestion = tracking.suggest_ticket(typo or "", nik)
        if suggestion is None:
            policy.missed(admission)
        form.ticket.errors.append(_typo_message(suggestion))
    elif typo:
        form.ticket.errors.append(_typo_message(None))
    return replay.again(form, page, url_for("tracking.track"))


def _typo_message(suggestion: str | None) -> Any:
    message = _l("This ticket number has a typo: one letter or digit is wrong, or two are swapped.")
    if suggestion:
        return replay.Joined(
            message, _l("Did you mean %(ticket)s?", ticket=tickets.display(suggestion))
        )
    return message


def _tracked() -> Any:
    token = session.get("track")
    appeal = tracking.tracked_appeal(token if isinstance(token, str) else None)
    if appeal is None:
        session.pop("track", None)
    return appeal


@bp.get("/lacak/kasus")
def case() -> Any:
    db.reads_only()  # the case, its events, its contest: questions only
    appeal = _tracked()
    if appeal is None:
        flash(_("For your security, enter the ticket number and your NIK again."), "info")
        return redirect(url_for("tracking.track"))
    return render_template(
        "appeals/case.html",
        appeal=appeal,
        reason=REASONS[appeal.reason_code],
        timeline=appeal_queries.timeline(appeal),
        can_withdraw=AppealStatus(appeal.status) in OPEN,
        can_contest=service.can_contest(appeal),
        contest_deadline=service.contest_deadline(appeal),
        contest=appeal_queries.contest_of(appeal),
        decided=AppealStatus(appeal.status) in DECIDED,
        withdraw_form=f.WithdrawForm(),
    )


@bp.route("/lacak/batalkan", methods=["GET", "POST"])
@csrf_in_form
def withdraw() -> Any:
    appeal = _tracked()
    if appeal is None:
        return redirect(url_for("tracking.track"))
    page = f"withdraw/{appeal.id}"
    if request.method == "POST":
        form = f.WithdrawForm()
        if not form.validate():
            return replay.again(form, page, url_for("tracking.withdraw"))
        try:
            service.withdraw(appeal)
        except errors.InvalidTransition:
            flash(_("This case can no longer be withdrawn: it has been decided."), "error")
        else:
            flash(_("Your case was withdrawn."), "success")
        replay.done(page)
        return redirect(url_for("tracking.case"))
    if AppealStatus(appeal.status) not in OPEN:
        return redirect(url_for("tracking.case"))
    kept = replay.restore(page)
    form = f.WithdrawForm(formdata=kept.formdata if kept else None)
    if kept:
        kept.apply(form)
    return render_template("appeals/withdraw.html", appeal=appeal, form=form)


@bp.route("/lacak/sanggah-keputusan", methods=["GET", "POST"])
@csrf_in_form
def contest() -> Any:
    appeal = _tracked()
    if appeal is None:
        return redirect(url_for("tracking.track"))
    if not service.can_contest(appeal):
        flash(_("This decision can no longer be contested."), "error")
        return redirect(url_for("tracking.case"))
    page = f"contest/{appeal.id}"
    if request.method == "POST":
        form = f.ContestForm()
        if form.honeypot_filled():
            return too_many_requests()
        if not form.validate():
            return replay.again(form, page, url_for("tracking.contest"))
        try:
            new = service.contest(appeal, form.note.data or "", locale=g.get("locale", "id"))
        except errors.ContestNotAllowed:
            flash(_("This decision can no longer be contested."), "error")
            return redirect(url_for("tracking.case"))
        replay.done(page)
        return to_receipt(new)
    kept = replay.restore(page)
    form = f.ContestForm(formdata=kept.formdata if kept else None)
    if kept:
        kept.apply(form)
    return render_template("appeals/contest.html", appeal=appeal, form=form)


@bp.post("/lacak/keluar")
def forget() -> Response:
    token = session.pop("track", None)
    tracking.revoke_tracking(token if isinstance(token, str) else None)
    return redirect(url_for("tracking.track"))
