"""Security headers on every kind of response, static files, and the health endpoints."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from werkzeug.test import TestResponse

from tests.helpers import Client, Page

GOOD_NIK, GOOD_KK = "3216014506880002", "3216012005190001"


def _csrf_post(client: Client, data: dict[str, str]) -> TestResponse:
    return client.post("/", data={"csrf_token": client.csrf_token("/"), **data})


REQUESTS: dict[str, tuple[Callable[[Client], TestResponse], int]] = {
    "form": (lambda c: c.get("/"), 200),
    # a refused form answers 303 to the GET that shows it again (Post/Redirect/Get)
    "validation-error": (lambda c: _csrf_post(c, {"nik": "1", "no_kk": "2"}), 303),
    "validation-error-shown": (
        lambda c: c.get(_csrf_post(c, {"nik": "1", "no_kk": "2"}).headers["Location"]),
        200,
    ),
    "no-data-published": (lambda c: _csrf_post(c, {"nik": GOOD_NIK, "no_kk": GOOD_KK}), 503),
    "csrf-missing": (lambda c: c.post("/", data={"nik": GOOD_NIK}), 303),
    "no-result-to-show": (lambda c: c.get("/hasil"), 302),
    "not-found": (lambda c: c.get("/no-such-page"), 404),
    "wrong-method": (lambda c: c.delete("/"), 405),
    "too-large": (lambda c: _csrf_post(c, {"nik": "1" * 100_000}), 413),
    "honeypot": (lambda c: _csrf_post(c, {"website": "x"}), 429),
}


def csp_directives(response: TestResponse) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy")
    assert header, "no Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value.strip()
    return directives


def assert_security_headers(response: TestResponse) -> None:
    csp = csp_directives(response)
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert csp["frame-ancestors"] == "'none'"
    assert csp["default-src"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("no-referrer", "same-origin")


@pytest.mark.parametrize("name", list(REQUESTS))
def test_every_page_and_error_page_sends_the_security_headers(client: Client, name: str) -> None:
    make, status = REQUESTS[name]
    response = make(client)
    assert response.status_code == status
    Page(response).check()
    assert_security_headers(response)
    assert "no-store" in response.headers["Cache-Control"]


def test_result_page_sends_the_security_headers(client: Client, factory) -> None:
    house = factory.household()
    factory.publish("2026Q3", [house])
    data = {"nik": house.members[0].nik, "no_kk": house.no_kk}
    page = client.post_form("/", data, status=200, follow_redirects=True)
    assert page.path == "/hasil"
    assert_security_headers(page.response)


@pytest.mark.parametrize("name", ["form", "validation-error-shown", "not-found"])
def test_pages_need_no_inline_script_or_style_that_the_csp_would_block(
    client: Client, name: str
) -> None:
    page = Page(REQUESTS[name][0](client))
    for script in page.soup.find_all("script"):
        assert script.get("src"), "inline <script>"
    assert not page.soup.find_all("style"), "inline <style>"
    assert not page.soup.find_all(style=True), "style= attribute"
    assert not [
        (tag.name, attr)
        for tag in page.soup.find_all(True)
        for attr in tag.attrs
        if attr.startswith("on")
    ], "inline event handler"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/static/css/portal.css", "text/css"), ("/static/img/favicon.svg", "image/svg+xml")],
)
def test_static_files_are_served(client: Client, path: str, content_type: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == content_type
    assert response.data
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_every_static_file_the_layout_links_to_exists(client: Client) -> None:
    page = client.page("/")
    urls = [tag["href"] for tag in page.soup.find_all("link", href=True)]
    urls += [tag["src"] for tag in page.soup.find_all(src=True)]
    assert urls
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()


def test_missing_static_file_is_a_404(client: Client) -> None:
    assert client.get("/static/css/nope.css").status_code == 404


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_endpoints_answer_json_ok(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ok"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
