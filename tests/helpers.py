"""Page: a parsed response with the checks every page must pass. Client: a test client
that fills forms like a browser (GET the form, read its csrf_token, POST)."""

from __future__ import annotations

import functools
import re
from typing import Any

import lxml.html
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from lxml import etree
from werkzeug.datastructures import Headers
from werkzeug.test import TestResponse

HTML_TAG = re.compile(r"<html[\s>]", re.IGNORECASE)
SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")
# the hidden CSRF input of a form, attributes in any order (parsing the page for it cost
# more than the request)
CSRF_INPUT = re.compile(
    r"<input(?=[^>]*\sname=\"csrf_token\")[^>]*\svalue=\"(?P<value>[^\"]+)\"", re.IGNORECASE
)


class Page:
    """A response and its HTML. ``check()`` reads the page with lxml's own tree (a tenth of a
    millisecond a page); ``soup``, the BeautifulSoup tree the assertions select from, is built
    only when a test reads the page (a few milliseconds a page, which for the many pages a
    journey only passes through was a large part of the suite)."""

    def __init__(self, response: TestResponse) -> None:
        self.response = response
        self.status = response.status_code
        self.text = response.get_data(as_text=True)

    @functools.cached_property
    def soup(self) -> BeautifulSoup:
        return BeautifulSoup(self.text, "lxml")

    @functools.cached_property
    def tree(self) -> Any:
        """lxml's tree of the page: for the checks and for finding a form to send."""
        return lxml.html.document_fromstring(self.text)

    # --- what every HTML page must satisfy -------------------------------------------------
    def check(self) -> Page:
        assert HTML_TAG.search(self.text), "no <html>"
        root = self.tree
        assert root.get("lang") in ("id", "en"), "<html lang> missing"
        title = root.find("head/title")
        assert title is not None, "<title> missing"
        assert title.text_content().strip(), "<title> empty"
        # one walk over the elements, then set look-ups (a label search per field was quadratic)
        tags = list(root.iter(etree.Element))
        for form in (tag for tag in tags if tag.tag == "form"):
            if "post" in (form.get("method") or "").lower():
                assert form.xpath(".//input[@name='csrf_token']"), "POST form without csrf_token"
        ids = [tag.get("id") for tag in tags if tag.get("id") is not None]
        assert len(ids) == len(set(ids)), (
            f"duplicate ids: {sorted({i for i in ids if ids.count(i) > 1})}"
        )
        labelled = {tag.get("for") for tag in tags if tag.tag == "label"}
        for field in tags:
            if field.tag not in ("input", "select", "textarea"):
                continue
            if field.get("type") in ("hidden", "submit", "button"):
                continue
            field_id = field.get("id")
            assert field_id, f"input {field.get('name')!r} has no id"
            assert field_id in labelled, f"input {field.get('name')!r} has no label"
        assert not SIXTEEN_DIGITS.search(self.text), "a 16-digit number appears in the page"
        # every hop of a followed redirect (Post/Redirect/Get) too
        for hop in (*self.redirects, self.response):
            location = hop.headers.get("Location", "")
            assert not SIXTEEN_DIGITS.search(location), "a 16-digit number appears in Location"
        return self

    @property
    def redirects(self) -> list[TestResponse]:
        """The redirects followed to reach this page (``follow_redirects=True``), in order."""
        return list(getattr(self.response, "history", ()) or ())

    @property
    def path(self) -> str:
        """The path of the page shown (after any redirect followed)."""
        return self.response.request.path

    # --- reading ---------------------------------------------------------------------------
    @property
    def h1(self) -> str:
        return self.soup.h1.get_text(" ", strip=True) if self.soup.h1 else ""

    @property
    def lang(self) -> str:
        return str(self.soup.html.get("lang")) if self.soup.html else ""

    def texts(self, selector: str) -> list[str]:
        return [el.get_text(" ", strip=True) for el in self.soup.select(selector)]

    def error_summary(self) -> list[str]:
        return self.texts(".error-summary__list a")

    def error_summary_text(self) -> list[str]:
        """Every message of the error summary, linked to a field or about the whole form."""
        return self.texts(".error-summary__list li")

    def __contains__(self, needle: str) -> bool:
        return needle in self.soup.get_text(" ", strip=True)


class Client(FlaskClient):
    def choose_language(self, lang: str) -> Client:
        """Pick the page language as a person does, with the switch link (``?lang=``): the
        choice is kept in the session. The browser's Accept-Language is ignored by design."""
        response = self.get(f"/?lang={lang}")
        assert response.status_code == 200, response.status_code
        return self

    def page(self, url: str, status: int = 200, **kwargs: Any) -> Page:
        page = Page(self.get(url, **kwargs))
        assert page.status == status, f"GET {url}: {page.status}, expected {status}"
        return page.check() if "html" in page.response.content_type else page

    def csrf_token(self, url: str) -> str:
        token = CSRF_INPUT.search(self.get(url).get_data(as_text=True))
        assert token, f"no csrf_token on {url}"
        return token["value"]

    def post_form(
        self, url: str, data: dict[str, Any], status: int | None = None, **kwargs: Any
    ) -> Page:
        """GET URL for its csrf_token, then POST DATA to it like a browser would."""
        payload = {"csrf_token": self.csrf_token(url), **data}
        page = Page(self.post(url, data=payload, **kwargs))
        if status is not None:
            assert page.status == status, f"POST {url}: {page.status}, expected {status}"
        if "html" in page.response.content_type:
            page.check()
        return page


class Browser(Client):
    """A client that talks to the portal as a current browser does where it is deployed: over
    HTTPS, either straight to the app (``behind_proxy=False``) or through a TLS proxy that
    forwards plain HTTP with ``X-Forwarded-Proto``/``-For`` (``behind_proxy=True``, for an app
    with PROXY_FIX_X_FOR=1). Every POST carries what a browser adds to a form sent from one of
    our pages under ``Referrer-Policy: same-origin``: ``Origin``, ``Sec-Fetch-Site`` and
    ``Referer``.
    """

    origin = "https://localhost"
    behind_proxy = False
    address = "203.0.113.7"

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        if args and isinstance(args[0], str):
            headers = Headers(kwargs.pop("headers", None) or {})
            if self.behind_proxy:
                kwargs.setdefault("base_url", self.origin.replace("https://", "http://", 1))
                headers.setdefault("X-Forwarded-Proto", "https")
                headers.setdefault("X-Forwarded-For", self.address)
            else:
                kwargs.setdefault("base_url", self.origin)
            if str(kwargs.get("method", "GET")).upper() == "POST":
                headers.setdefault("Origin", self.origin)
                headers.setdefault("Sec-Fetch-Site", "same-origin")
                headers.setdefault("Referer", self.origin + "/")
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)
