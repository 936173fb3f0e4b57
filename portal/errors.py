"""Error pages: every failure answers with a translated page and a fitting status.

A database failure is a 503 "service unavailable", never "not found". A rate-limit breach
(or a filled honeypot) is a 429 with Retry-After that does not say which limit was hit.
"""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("portal")

PAGES = {400, 403, 404, 405, 413, 415, 429, 500, 503}
RETRY_AFTER_SECONDS = 60


def render_error(status: int, **context: object) -> tuple[str, int]:
    template = f"errors/{status}.html" if status in PAGES else "errors/generic.html"
    return render_template(template, status=status, **context), status


def _http_error(exc: HTTPException) -> object:
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
    body, status = render_error(429)
    return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def must_wait(body: str, seconds: int) -> tuple[str, int, dict[str, str]]:
    """A form that may be sent again after a wait (portal.policy.MustWait): it says so."""
    return body, 429, {"Retry-After": str(seconds)}


def _rate_limited(_exc: RateLimitExceeded) -> object:
    return too_many_requests()


def _csrf_error(_exc: CSRFError) -> object:
    return render_error(400, csrf=True)


def _database_down(exc: Exception) -> object:
    log.error("database unavailable on %s %s: %s", request.method, request.path, type(exc).__name__)
    body, status = render_error(503)
    return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _unexpected(exc: Exception) -> object:
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
