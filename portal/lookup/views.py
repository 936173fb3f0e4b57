"""HTTP for the look-up. The NIK travels only in the POST body; the result is rendered
directly in the POST response (no redirect, no reference in a URL or cookie)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from werkzeug.exceptions import ServiceUnavailable

from portal import policy
from portal.errors import must_wait, too_many_requests
from portal.extensions import limiter
from portal.guard import csrf_in_form
from portal.lookup import service
from portal.lookup.forms import LookupForm
from portal.lookup.labels import HUBUNGAN_LABELS, PROGRAM_NAMES, desil_label
from portal.security import ip_prefix
from portal.wilayah import queries as wilayah

bp = Blueprint("lookup", __name__)


@bp.app_template_global()
def program_name(code: str) -> str:
    return str(PROGRAM_NAMES.get(code, code))


@bp.app_template_global()
def hubungan_label(code: str) -> str:
    return str(HUBUNGAN_LABELS.get(code, code.title()))


bp.add_app_template_global(desil_label)


@bp.route("/", methods=["GET", "POST"])
@csrf_in_form
@policy.checks(policy.Check.LOOKUP)
def index() -> object:
    form = LookupForm()
    if request.method != "POST":
        return render_template("lookup/index.html", form=form)
    if form.honeypot_filled():
        return too_many_requests()
    if not form.validate():
        return render_template("lookup/index.html", form=form), 400
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
    try:
        result = service.lookup(nik, no_kk, ip_prefix=ip_prefix(request.remote_addr))
    except service.NoDataPublished:
        raise ServiceUnavailable() from None
    if not result.matched:
        policy.missed(admission)
    # desa, kecamatan, kabupaten/kota: the province adds nothing for the family
    region = wilayah.place(result.kode_desa) if result.kode_desa else None
    return render_template("lookup/result.html", result=result, region=region)


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

    from portal import db

    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure means not ready; the reason goes to the log only
        current_app.logger.warning("readyz: database not reachable")
        return {"status": "unavailable"}, 503
    return {"status": "ok"}, 200
