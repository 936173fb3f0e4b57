"""Security headers, proxy wiring, the rate-limit client key and the log scrubber."""

from __future__ import annotations

import ipaddress
import logging
import re

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.core.nik import scrub

CSP = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)


def client_network() -> str:
    """The rate-limit key of a client: its IPv4 address, or its IPv6 network.

    The address is the one ProxyFix found (PROXY_FIX_X_FOR hops). An IPv6 client holds a
    whole /64 (CLIENT_IPV6_PREFIX) and can pick a new address for every request: keyed by
    address, every request would get a fresh allowance.
    """
    address = request.remote_addr or ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        prefix = int(current_app.config["CLIENT_IPV6_PREFIX"])
        return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
    return str(ip)


def ip_prefix(address: str | None) -> str:
    """Coarse network of an address for logs people may see: /24 for IPv4, /48 for IPv6."""
    if not address:
        return ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


# Every response's headers, each unless the view set it already (in this order).
# Referrer-Policy: our own pages send their address to our own pages only (the same-origin
# check in portal.guard reads it); other sites never learn which page a citizen came from.
_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
_HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
# pages may show personal data: never cache them anywhere
_NO_STORE = ("Cache-Control", "no-store")


def _security_headers(response: Response) -> Response:
    """The headers above, those the view did not set: what ``headers.setdefault`` does for
    each, from one pass over the response's headers instead of a search (and a KeyError) a
    header."""
    headers = response.headers
    present = {key.lower() for key, _value in headers}
    wanted = [*_HEADERS]
    if request.is_secure:
        wanted.append(_HSTS)
    if request.endpoint != "static":
        wanted.append(_NO_STORE)
    for key, value in wanted:
        if key.lower() not in present:
            headers.add(key, value)
    return response


# The one-time enrolment link is a credential until it is used: keep it out of access logs.
_ENROL_TOKEN = re.compile(r"(/staf/daftar/)[^\s/?\"]+")


def scrub_line(text: str) -> str:
    """A log line without NIK-like numbers or enrolment tokens."""
    return _ENROL_TOKEN.sub(r"\1[token]", scrub(text))


class ScrubNIKFilter(logging.Filter):
    """Masks any 16-digit run and any enrolment token in log records, whatever logger
    wrote them (gunicorn's access log included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub_line(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        # A traceback may quote a library's input (int(), a driver, a parser): format it now
        # and scrub it; formatters use exc_text when it is already set.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_line(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub_line(record.stack_info)
        return True


def install_log_scrubber() -> None:
    """Attach the scrubber to every handler of the root logger and to the loggers we own."""
    scrubber = ScrubNIKFilter()
    for name in ("", "portal", "gunicorn.error", "gunicorn.access", "werkzeug", "flask_limiter"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubNIKFilter) for f in logger.filters):
            logger.addFilter(scrubber)
        for handler in logger.handlers:
            if not any(isinstance(f, ScrubNIKFilter) for f in handler.filters):
                handler.addFilter(scrubber)


def init_app(app: Flask) -> None:
    hops = app.config["PROXY_FIX_X_FOR"]
    if hops:
        # wrapping app.wsgi_app is how Flask documents ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.after_request(_security_headers)
    install_log_scrubber()
