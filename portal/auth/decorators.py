"""The staff area is secure by default: every request to a staff blueprint needs a live
staff session, except the endpoints listed in PUBLIC. @role_required narrows further."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, g, redirect, request, url_for
from sqlalchemy.orm import joinedload

from portal import db
from portal.auth.models import Role, StaffUser
from portal.auth.sessions import store

PUBLIC = frozenset({"auth.login", "auth.enrol"})
F = TypeVar("F", bound=Callable[..., Any])


def load_staff() -> StaffUser | None:
    """The officer of this request's staff cookie, or None."""
    if "staff" in g:
        return g.staff
    g.staff = None
    token = request.cookies.get(current_app.config["STAFF_COOKIE_NAME"])
    if token:
        info = store().load(token)
        if info is not None:
            # the officer and their desa in one SELECT (the relationship alone loads the
            # desa by a second one): every staff request asks this
            user = db.session.get(StaffUser, info.staff_id, options=[joinedload(StaffUser.desa)])
            if user is not None and user.active and user.enrolled_at is not None:
                g.staff = user
                g.staff_session = info
    return g.staff


def staff_gate() -> Any:
    """before_request of every staff blueprint."""
    if request.endpoint in PUBLIC:
        return None
    if load_staff() is None:
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target))
    return None


def role_required(*roles: Role) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = load_staff()
            if user is None or user.role_enum not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]  # wraps() keeps the view's signature

    return decorator


_SAFE_PATH = re.compile(r"/staf/[A-Za-z0-9/_.~%?=&+-]*")


def safe_next(target: str | None) -> str | None:
    """Only a plain path inside the staff area: never an open redirect, never a header."""
    if target and _SAFE_PATH.fullmatch(target) and "//" not in target:
        return target
    return None
