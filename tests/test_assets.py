"""Static files under content-hashed names: cached for a year, never stale after a release."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import Flask

from tests.helpers import Client

ROOT_CSS = "css/portal.css"


def fetch(client: Client, url: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of URL; the file response is closed (it holds the file)."""
    with client.get(url) as response:
        return response.status_code, dict(response.headers), response.get_data()


def test_pages_link_the_stylesheet_by_a_name_that_carries_its_hash(
    app: Flask, client: Client
) -> None:
    page = client.page("/")
    href = page.soup.find("link", rel="stylesheet")["href"]
    assert app.static_folder is not None
    body = (Path(app.static_folder) / ROOT_CSS).read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:10]
    assert href == f"/static/css/portal.{digest}.css"


def test_a_hashed_name_is_cached_for_a_year_and_serves_the_file(client: Client) -> None:
    href = client.page("/").soup.find("link", rel="stylesheet")["href"]
    status, headers, body = fetch(client, href)
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["Content-Type"].startswith("text/css")
    assert body == fetch(client, "/static/css/portal.css")[2]


def test_the_plain_name_is_served_with_a_short_cache(client: Client) -> None:
    status, headers, _body = fetch(client, "/static/css/portal.css")
    assert status == 200
    assert re.search(r"max-age=3600\b", headers["Cache-Control"])
    assert "no-store" not in headers["Cache-Control"]


def test_a_stale_or_made_up_hash_is_not_found(client: Client) -> None:
    for url in ("/static/css/portal.0123456789.css", "/static/css/missing.css"):
        assert fetch(client, url)[0] == 404
    assert fetch(client, "/static/../portal/config.py")[0] == 404
