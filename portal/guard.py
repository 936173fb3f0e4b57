"""What a request must be before a view sees it: one ``before_request`` hook for every POST.

In order, for any method that changes something:

1. **Body size per view.** The site-wide ``MAX_CONTENT_LENGTH`` stays small (a look-up is a
   few hundred bytes). A view marked ``@accepts_photos`` takes ``UPLOAD_MAX_BODY_BYTES``, set
   here *before* anything parses the body, and each file in it is kept only up to
   ``PHOTO_MAX_BYTES + 1`` bytes (the rest is read and dropped), so a phone photo that is too
   large is refused by name with the other answers kept, never a 413 mid-send.
2. **Body shape.** Only HTML form encodings are accepted (415 otherwise), and multipart only
   where photos are expected, so a JSON body or a file in place of a NIK never reaches a form.
3. **Same origin.** Our own check replaces Flask-WTF's ``WTF_CSRF_SSL_STRICT`` Referer check,
   which refuses every POST over HTTPS from a browser told not to send a Referer. We read what
   browsers send and pages cannot forge: ``Sec-Fetch-Site``, then ``Origin``, then
   ``Referer``; a request that carries none of them (an old browser) still needs the token.
4. **The CSRF token.** Checked here, except for views marked ``@csrf_in_form``: those validate
   a FlaskForm, whose ``csrf_token`` field is the same check, before they change anything, and
   re-render the form with its answers and a kind message when the token has expired.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from typing import IO, Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from flask.wrappers import Request
from flask_wtf.csrf import CSRFError
from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded"})
UPLOAD_TYPES = FORM_TYPES | {"multipart/form-data"}
DEFAULT_PORTS = {"http": 80, "https": 443}

V = TypeVar("V", bound=Callable[..., Any])


def accepts_photos(view: V) -> V:
    """Mark a view whose POST may carry photos (multipart, UPLOAD_MAX_BODY_BYTES)."""
    view.accepts_photos = True  # type: ignore[attr-defined]  # a marker the guard reads
    return view


def csrf_in_form(view: V) -> V:
    """Mark a view that validates its FlaskForm (token included) before changing anything."""
    view.csrf_in_form = True  # type: ignore[attr-defined]  # a marker the guard reads
    return view


def photo_too_large() -> bool:
    """True when the body of a photo view was over UPLOAD_MAX_BODY_BYTES (form not parsed)."""
    return bool(g.get("photo_body_too_large"))


class _CappedFile(tempfile.SpooledTemporaryFile[bytes]):
    """A file part kept up to ``cap`` bytes; the rest is read from the wire and dropped.

    Memory up to 512 KB, then a temporary file: a 64 MB body costs at most ``cap`` of disk
    per part, and the view still learns that the part was too large (it holds cap bytes).
    """

    def __init__(self, cap: int) -> None:
        super().__init__(max_size=512 * 1024, mode="w+b")
        self._left = cap

    # narrower than IO.write (bytes only): Werkzeug writes the bytes of a file part
    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self._left > 0:
            kept = data[: self._left]
            super().write(kept)
            self._left -= len(kept)
        return len(data)


class PortalRequest(Request):
    """Flask's request, with file parts capped for photo views (see module docstring)."""

    file_part_cap: int = 0

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        part = _CappedFile(self.file_part_cap)
        self.__dict__.setdefault("_parts", []).append(part)
        return part

    def close_parts(self) -> None:
        """Close the file parts of a body whose parsing failed half-way (nothing else will)."""
        for part in self.__dict__.pop("_parts", []):
            part.close()


def _origin_of(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        port = parts.port or DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        return None
    if not scheme or not host:
        return None
    return scheme, host, port


def same_origin() -> bool:
    """Whether the browser says this request comes from our own pages.

    ``request.host_url`` is our origin as the client addressed it (scheme from the TLS
    connection or, behind PROXY_FIX_X_FOR proxies, X-Forwarded-Proto).
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        # set by the browser, not by page script; "none" is a user action (reload, bookmark)
        return site in ("same-origin", "none")
    ours = _origin_of(request.host_url)
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return _origin_of(origin) == ours
    referrer = request.headers.get("Referer")
    if referrer:
        return _origin_of(referrer) == ours
    # "Origin: null" with no Referer is a page that hid where it comes from (a sandboxed or
    # no-referrer document elsewhere); no header at all is an old browser or a script, which
    # the token and the SameSite cookie still stop.
    return origin != "null"


def _guard() -> None:
    if request.method in SAFE_METHODS or request.routing_exception is not None:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    photos = bool(getattr(view, "accepts_photos", False))
    if photos:
        request.max_content_length = int(current_app.config["UPLOAD_MAX_BODY_BYTES"])
        # Werkzeug's multipart decoder buffers up to one 64 KB read plus what it holds, and
        # refuses the body when that exceeds max_form_memory_size: the site-wide 64 KB limit
        # would refuse any photo. Text fields of a photo page stay far below this.
        request.max_form_memory_size = 512 * 1024
        request.max_form_parts = 64
        cap = int(current_app.config["PHOTO_MAX_BYTES"]) + 1
        cast(PortalRequest, request).file_part_cap = cap  # init_app sets the request class
    has_body = bool(request.content_length or request.mimetype)
    if has_body and request.mimetype not in (UPLOAD_TYPES if photos else FORM_TYPES):
        raise UnsupportedMediaType()
    if not same_origin():
        raise CSRFError("The request did not come from this site.")
    if photos:
        try:
            request.form  # noqa: B018 (parse now, under the photo limits)
        except RequestEntityTooLarge:
            cast(PortalRequest, request).close_parts()
            if not getattr(view, "csrf_in_form", False):
                raise
            # The view answers (its page, the limit, the way on without photos); it must not
            # act, and cannot: the form is left empty, so its token does not validate.
            g.photo_body_too_large = True
            empty = request.parameter_storage_class()
            request.__dict__.update(form=empty, files=empty)
            return
    if not getattr(view, "csrf_in_form", False):
        from portal.extensions import csrf

        csrf.protect()


class PortalSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, its serializer built once per key set instead of on
    every request (twice when the session changes): the same cookie, the same keys, the same
    checks. A new SECRET_KEY or SECRET_KEY_FALLBACKS builds a new one.

    SHA-1 by OpenSSL's constructor itself, not Flask's lazy wrapper of it (kept for FIPS
    builds without SHA-1, where the session could not be signed either): ``hmac`` recognises
    the constructor and keys its HMAC in C, where for a wrapper it builds the inner and outer
    hashes in Python. The same signatures."""

    digest_method = staticmethod(hashlib.sha1)

    def __init__(self) -> None:
        self._signing: tuple[tuple[Any, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self._signing
        if cached is None or cached[0] != keys:
            cached = self._signing = (keys, super().get_signing_serializer(app))
        return cached[1]


def init_app(app: Flask) -> None:
    app.request_class = PortalRequest
    app.session_interface = PortalSessionInterface()
    # Our guard replaces Flask-WTF's automatic check (and its Referer-only HTTPS rule); it
    # must run before any other hook reads the body (the limiter's sign-in key reads the form).
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config["WTF_CSRF_SSL_STRICT"] = False
    app.before_request(_guard)
