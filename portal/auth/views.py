"""HTTP for staff sign-in, enrolment and sessions (all under /staf)."""

from __future__ import annotations

import io
from typing import Any

import segno
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from portal import policy
from portal.auth import forms, service
from portal.auth.decorators import load_staff, safe_next, staff_gate
from portal.auth.sessions import store
from portal.core.tokens import token_hash
from portal.errors import must_wait
from portal.extensions import limiter
from portal.guard import csrf_in_form
from portal.security import client_network, ip_prefix

bp = Blueprint("auth", __name__, url_prefix="/staf")
bp.before_request(staff_gate)

# Set by the first browser that opens an enrolment link; only that browser may finish it.
ENROL_COOKIE = "dtsen_enrol"


def _login_failed(response: Response) -> bool:
    return response.status_code != 302


def _account_key() -> str:
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"{email}|{client_network()}"


def _start_session(user: Any) -> Response:
    """A new session id at every sign-in (rotation); any older cookie of this browser ends."""
    cookie = current_app.config["STAFF_COOKIE_NAME"]
    old = request.cookies.get(cookie)
    if old:
        store().revoke(token_hash(old))
    token = store().create(user.id, ip_prefix(request.remote_addr), request.user_agent.string)
    target = safe_next(request.args.get("next")) or url_for("review.queue")
    response = redirect(target)
    response.set_cookie(
        cookie,
        token,
        httponly=True,
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
        samesite="Strict",
        path="/staf",
    )
    return response


@bp.route("/masuk", methods=["GET", "POST"])
@csrf_in_form
@limiter.limit(
    lambda: current_app.config["STAFF_LOGIN_LIMIT"],
    methods=["POST"],
    deduct_when=_login_failed,
    scope="staff-login-ip",
)
@limiter.limit(
    lambda: current_app.config["STAFF_LOGIN_ACCOUNT_LIMIT"],
    methods=["POST"],
    key_func=_account_key,
    deduct_when=_login_failed,
    scope="staff-login-account",
)
def login() -> Any:
    if request.method == "GET" and load_staff() is not None:
        return redirect(url_for("review.queue"))
    form = forms.LoginForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            email = form.email.data or ""
            try:
                # failures per account from any address slow its sign-in down, never block it
                admission = policy.admit(
                    policy.Check.SIGN_IN, [policy.account(email)], request.form.get("wait")
                )
            except policy.MustWait as wait:
                page = render_template("auth/login.html", form=form, wait=wait, account=True)
                return must_wait(page, wait.seconds)
            try:
                user = service.authenticate(email, form.password.data or "", form.code.data or "")
            except service.LoginFailed:
                policy.missed(admission)
                form.form_errors.append(_("The e-mail, password or code is not right."))
            else:
                return _start_session(user)
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/daftar/<token>", methods=["GET", "POST"])
@csrf_in_form
@limiter.limit(
    lambda: current_app.config["STAFF_LOGIN_LIMIT"],
    methods=["POST"],
    deduct_when=_login_failed,
    scope="staff-enrol-ip",
)
def enrol(token: str) -> Any:
    try:
        user = service.enrolment_user(token)
    except service.EnrolmentInvalid:
        return render_template("auth/enrol_invalid.html"), 404
    try:
        bound = service.open_enrolment(user, request.cookies.get(ENROL_COOKIE))
    except service.OpenedElsewhere:
        return render_template("auth/enrol_elsewhere.html"), 409
    form = forms.EnrolForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                service.enrol(user, form.password.data or "", form.code.data or "")
            except service.WeakPassword:
                form.password.errors.append(
                    _(
                        "Choose a stronger password: at least %(num)d characters, with some "
                        "variety, and not based on your e-mail.",
                        num=int(current_app.config["STAFF_PASSWORD_MIN"]),
                    )
                )
            except service.BadCode:
                form.code.errors.append(
                    _("The code is not right. Check the time on your phone and try the new code.")
                )
            else:
                return _start_session(user)
        status = 400
    uri = service.provisioning_uri(user)
    qr = io.BytesIO()
    segno.make(uri, error="m").save(
        qr, kind="svg", scale=5, border=2, xmldecl=False, dark="#000", light="#fff"
    )
    secret = service.pending_secret(user)
    response = make_response(
        render_template(
            "auth/enrol.html",
            form=form,
            user=user,
            qr_svg=qr.getvalue().decode(),
            secret_groups=[secret[i : i + 4] for i in range(0, len(secret), 4)],
            reopened_at=user.enrol_reopened_at,
        ),
        status,
    )
    if bound:
        response.set_cookie(
            ENROL_COOKIE,
            bound,
            max_age=int(current_app.config["STAFF_ENROL_HOURS"]) * 3600,
            path=url_for("auth.enrol", token=token),
            secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
            httponly=True,
            samesite="Strict",
        )
    return response


@bp.post("/keluar")
def logout() -> Response:
    form = forms.EmptyForm()
    if form.validate():
        cookie = current_app.config["STAFF_COOKIE_NAME"]
        token = request.cookies.get(cookie)
        if token:
            store().revoke(token_hash(token))
        service.logged_out(g.staff)
        response = make_response(redirect(url_for("auth.login")))
        response.delete_cookie(cookie, path="/staf")
        flash(_("You are logged out."), "success")
        return response
    return redirect(url_for("auth.sessions"))


@bp.get("/sesi")
def sessions() -> str:
    current = g.get("staff_session")
    return render_template(
        "auth/sessions.html",
        sessions=sorted(store().list(g.staff.id), key=lambda s: s.created_at, reverse=True),
        current_hash=current.token_hash if current else None,
        form=forms.EmptyForm(),
    )


@bp.post("/sesi/keluar-semua")
def logout_everywhere() -> Response:
    form = forms.EmptyForm()
    if form.validate():
        count = service.logout_everywhere(g.staff)
        flash(
            ngettext(
                "Logged out of %(num)d session, including this one.",
                "Logged out of %(num)d sessions, including this one.",
                count,
            ),
            "success",
        )
        response = make_response(redirect(url_for("auth.login")))
        response.delete_cookie(current_app.config["STAFF_COOKIE_NAME"], path="/staf")
        return response
    return redirect(url_for("auth.sessions"))
