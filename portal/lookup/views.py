"""HTTP for the look-up. The NIK travels only in the POST body. The POST answers 303: to the
form again after an error (portal/replay keeps what passed), or to the result page, a GET
that shows this browser's latest look-up from a short-lived server-side reference (a random
token in the session, never a number in a URL or cookie). So Back, refresh and the language
switch keep the result, and the access is recorded once, by the POST."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import ServiceUnavailable

from portal import db, policy, replay
from portal.dataimport import queries as snapshot_queries
from portal.errors import must_wait, too_many_requests
from portal.extensions import limiter
from portal.guard import csrf_in_form
from portal.lookup import service
from portal.lookup.forms import LookupForm
from portal.security import ip_prefix
from portal.wilayah import queries as wilayah

bp = Blueprint("lookup", __name__)


PAGE = "lookup"


@bp.route("/", methods=["GET", "POST"])
@limiter.exempt  # counted by portal.policy (one storage round trip), not by flask-limiter too
@csrf_in_form
@policy.checks(policy.Check.LOOKUP)
def index() -> ResponseReturnValue:
    if request.method != "POST":
        kept = replay.restore(PAGE)
        form = LookupForm(formdata=kept.formdata if kept else None)
        if kept:
            kept.apply(form)
        return render_template("lookup/index.html", form=form)
    form = LookupForm()
    if form.honeypot_filled():
        return too_many_requests()
    if not form.validate():
        return replay.again(form, PAGE, url_for("lookup.index"))
    nik, no_kk = form.nik.number or "", form.no_kk.number or ""
    try:
        admission = policy.admit(
            policy.Check.LOOKUP, [policy.nik(nik), policy.kk(no_kk)], request.form.get("wait")
        )
    except policy.Refused:
        return too_many_requests()
    except policy.MustWait as wait:
        page = render_template("lookup/index.html", form=LookupForm(formdata=None), wait=wait)
        return must_wait(page, wait.seconds)
    # the whole result, found once; a match's access record is written by remember_lookup
    # with the result's reference, which keeps the result for the page, in one commit before
    # the 303 (on PostgreSQL one statement, outside an explicit transaction)
    db.single_statement_writes()
    try:
        found = service.lookup(nik, no_kk, ip_prefix=ip_prefix(request.remote_addr), defer=True)
    except service.NoDataPublished:
        raise ServiceUnavailable() from None
    if not found.matched:
        policy.missed(admission)
    replay.done(PAGE)
    replay.remember_lookup(
        nik,
        no_kk,
        snapshot_id=found.snapshot_id,
        matched=found.matched,
        found=service.stored(found),
        access_row=found.access_row,
    )
    return redirect(url_for("lookup.result"), code=303)


def recall_current() -> replay.Recalled | ResponseReturnValue:
    """This browser's latest look-up reference if it is still shown (30 minutes, the data it
    was found in still current); otherwise the redirect to the form, with why. For every page
    that shows what the look-up found (the result, its access record)."""
    reference = replay.recall_lookup()
    if reference is None:
        flash(
            _(
                "For your family's privacy, a result is shown for 30 minutes only. Enter the "
                "numbers again to see it."
            ),
            "info",
        )
        return redirect(url_for("lookup.index"))
    current = snapshot_queries.current_snapshot()
    if current is None or current.id != reference.snapshot_id:
        replay.forget_lookup()
        flash(_("The data was updated since your check. Check again to see the new data."), "info")
        return redirect(url_for("lookup.index"))
    return reference


@bp.get("/hasil")
@limiter.exempt  # shows what an admitted POST found (policy.recheck)
@policy.checks(policy.Check.LOOKUP)  # shows again what the POST found (policy.recheck)
def result() -> ResponseReturnValue:
    """This browser's latest look-up, as its reference keeps it (no new access record, no
    question to the snapshot: the POST found and recorded it). Expired, unknown, or from
    older data: back to the form. It only reads, or forgets the reference (one statement)."""
    db.reads_only()
    reference = recall_current()
    if not isinstance(reference, replay.Recalled):
        return reference
    found = service.from_stored(reference.found)
    if found is None:  # kept without its result (before it was kept): find it again
        policy.recheck()  # the numbers were admitted by the POST that found this result
        try:
            found = service.lookup(reference.nik, reference.no_kk, record=False)
        except service.NoDataPublished:
            raise ServiceUnavailable() from None
    # desa, kecamatan, kabupaten/kota: the province adds nothing for the family
    region = wilayah.place(found.kode_desa) if found.kode_desa else None
    return render_template("lookup/result.html", result=found, region=region)


@bp.get("/healthz")
@limiter.exempt
def healthz() -> tuple[dict[str, str], int]:
    """The process answers (liveness)."""
    return {"status": "ok"}, 200


@bp.get("/readyz")
@limiter.exempt
def readyz() -> tuple[dict[str, str], int]:
    """The database answers (readiness)."""
    from sqlalchemy import text

    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure means not ready; the reason goes to the log only
        current_app.logger.warning("readyz: database not reachable")
        return {"status": "unavailable"}, 503
    return {"status": "ok"}, 200
