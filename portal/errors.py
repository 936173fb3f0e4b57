"""Error pages: every failure answers with a translated page and a fitting status.

A database failure is a 503 "service unavailable", never "not found". A rate-limit breach
(or a filled honeypot) is a 429 with Retry-After that does not say which limit was hit.
"""

from __future__ import annotations

import logging
import math
from urllib.parse import urlsplit

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import ngettext
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("portal")

PAGES = {400, 403, 404, 405, 413, 415, 429, 500, 503}
RETRY_AFTER_SECONDS = 60


def duration(seconds: int | float) -> str:
    """A wait or a lifetime in words, rounded up to what a person would say: "45 detik",
    "15 menit", "24 jam" (the ``duration`` filter of every template)."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 60:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    minutes = math.ceil(seconds / 60)
    if minutes < 120 and minutes % 60:
        return ngettext("%(num)d minute", "%(num)d minutes", minutes)
    hours = math.ceil(minutes / 60)
    if hours < 48 or hours % 24:
        return ngettext("%(num)d hour", "%(num)d hours", hours)
    return ngettext("%(num)d day", "%(num)d days", hours // 24)


def way_back() -> str | None:
    """Where the person was when a form could not be accepted (an expired session): the page
    the form was on, if our own (the Referer, path and query only), else the address posted
    to when it also answers GET. Never another site; None when neither is known."""
    referrer = request.referrer
    if referrer:
        parts = urlsplit(referrer)
        if (
            parts.netloc == request.host
            and parts.path.startswith("/")
            and not parts.path.startswith("//")
        ):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    rule = request.url_rule
    if request.method == "POST" and rule is not None and "GET" in (rule.methods or ()):
        return request.path
    return None


def render_error(status: int, **context: object) -> tuple[str, int]:
    template = f"errors/{status}.html" if status in PAGES else "errors/generic.html"
    return render_template(template, status=status, **context), status


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    body, status = render_error(status)
    headers = {}
    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if status == 405 and exc.get_response().headers.get("Allow"):
        headers["Allow"] = exc.get_response().headers["Allow"]
    return body, status, headers


def too_many_requests() -> tuple[str, int, dict[str, str]]:
    """The one answer to every limit, honeypot included: the same page and the same
    Retry-After, so neither says which limit was hit (per IP, per NIK, per filer...)."""
    body, status = render_error(429, retry_after=RETRY_AFTER_SECONDS)
    return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def must_wait(body: str, seconds: int) -> tuple[str, int, dict[str, str]]:
    """A form that may be sent again after a wait (portal.policy.MustWait): it says so."""
    return body, 429, {"Retry-After": str(seconds)}


def _rate_limited(_exc: RateLimitExceeded) -> ResponseReturnValue:
    return too_many_requests()


def _csrf_error(_exc: CSRFError) -> ResponseReturnValue:
    return render_error(400, csrf=True, back=way_back())


def _database_down(exc: Exception) -> ResponseReturnValue:
    log.error("database unavailable on %s %s: %s", request.method, request.path, type(exc).__name__)
    body, status = render_error(503)
    return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _unexpected(exc: Exception) -> ResponseReturnValue:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return render_error(InternalServerError.code)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    from redis.exceptions import RedisError

    # RedisError: unreachable, timed out, or full (OutOfMemoryError under noeviction)
    for down in (OperationalError, InterfaceError, PoolTimeout, RedisError):
        app.register_error_handler(down, _database_down)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
