"""HTTP for "find my cases". The numbers travel only in the POST body; a proof is kept on the
server and the session holds only its random token (``my_cases``), so the list is a GET that
survives Back, refresh and the language switch; a refused form or a "no" is kept the same
way (portal.replay) for the GET of the form. A case opens on the tracking page through a
tracking grant, as after ticket + NIK."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal import policy, replay
from portal.appeals import tickets
from portal.appeals.mine import service
from portal.appeals.mine.forms import MyCasesForm
from portal.appeals.reasons import REASONS
from portal.appeals.tracking import service as tracking
from portal.errors import must_wait, too_many_requests
from portal.guard import csrf_in_form

bp = Blueprint("my_cases", __name__)

SESSION_KEY = "my_cases"


def _token() -> str | None:
    token = session.get(SESSION_KEY)
    return token if isinstance(token, str) else None


PAGE = "my_cases"


def _nothing_kept() -> MyCasesForm:
    """What a "no" keeps for the GET: no answer (neither number is kept on the server nor
    shown again, whichever was wrong) and no message of a field."""
    form = MyCasesForm(formdata=None)
    del form.nik, form.no_kk
    return form


@bp.route("/laporan-saya", methods=["GET", "POST"])
@csrf_in_form
@policy.checks(policy.Check.LOOKUP)  # the look-up's limits and misses: the same question
def index() -> Any:
    """Post/Redirect/Get (portal.replay): a refused form or a "no" answers 303 to this page,
    whose GET shows it again (status 200), so Back and refresh never send it again."""
    if request.method != "POST":
        kept = replay.restore(PAGE)
        form = MyCasesForm(formdata=kept.formdata if kept else None)
        if kept:
            kept.apply(form)
        missed = bool(kept and kept.notes.get("missed"))
        return render_template("appeals/mine.html", form=form, missed=missed)
    form = MyCasesForm()
    if form.honeypot_filled():
        return too_many_requests()
    if not form.validate():
        return replay.again(form, PAGE, url_for("my_cases.index"))
    nik, no_kk = form.nik.number or "", form.no_kk.number or ""
    try:
        admission = policy.admit(
            policy.Check.LOOKUP, [policy.nik(nik), policy.kk(no_kk)], request.form.get("wait")
        )
    except policy.Refused:
        return too_many_requests()
    except policy.MustWait as wait:
        page = render_template("appeals/mine.html", form=MyCasesForm(formdata=None), wait=wait)
        return must_wait(page, wait.seconds)
    token = service.prove(nik, no_kk)
    if token is None:
        policy.missed(admission)
        return replay.again(
            _nothing_kept(), PAGE, url_for("my_cases.index"), notes={"missed": True}
        )
    replay.done(PAGE)
    session[SESSION_KEY] = token
    return redirect(url_for("my_cases.cases"), 303)


@bp.get("/laporan-saya/daftar")
def cases() -> Any:
    rows = service.listed(_token())
    if rows is None:
        session.pop(SESSION_KEY, None)
        flash(_("For your security, enter your NIK and No. KK again."), "info")
        return redirect(url_for("my_cases.index"))
    return render_template("appeals/mine_list.html", rows=rows, reasons=REASONS)


@bp.post("/laporan-saya/buka")
def open_case() -> Response:
    """One of the listed cases, on the tracking page. The list's form carries one button per
    case whose value is its ticket; its CSRF token is checked by the guard."""
    try:
        ticket = tickets.normalise(request.form.get("ticket", ""))
    except (tickets.TicketFormatError, tickets.TicketCheckError):
        ticket = ""
    appeal = service.case_in_list(_token(), ticket) if ticket else None
    if appeal is None:
        return redirect(url_for("my_cases.cases"), 303)
    session["track"] = tracking.grant_tracking(appeal)
    return redirect(url_for("tracking.case"), 303)


@bp.post("/laporan-saya/selesai")
def forget() -> Response:
    service.revoke(_token())
    session.pop(SESSION_KEY, None)
    return redirect(url_for("my_cases.index"), 303)
