"""The anti-scam page (/waspada, issue 13): what the portal never asks for, the official
channels, how to tell a fake, what to do; linked from the fraud notice on every public page.
It names the portal's address only from PUBLIC_BASE_URL, never from the request's Host: a copy
served by a fake site must not show the fake's address as the official one."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.helpers import Client, Page


def main_text(page: Page) -> str:
    assert page.soup.main is not None
    return page.soup.main.get_text(" ", strip=True)


def test_the_page_says_what_is_never_asked_for_and_what_to_do(client: Client) -> None:
    page = client.page("/waspada?lang=en")
    text = main_text(page)

    assert page.h1 == "Beware of fraud"
    headings = [h.get_text(strip=True) for h in page.soup.main.select("h2")]
    assert headings == [
        "What we never ask for",
        "The official channels",
        "How to recognise a fake site, message or app",
        "If it happened to you, or you see a fake",
    ]
    for promise in ("Money, for any reason", "A PIN, an OTP code", ".apk"):
        assert promise in text
    assert "call 110" in text
    links = {a["href"] for a in page.soup.main.select("a")}
    assert {"/cara-lain", "/cara-lain#dinsos"} <= links


def test_the_page_is_in_indonesian_by_default(client: Client) -> None:
    page = client.page("/waspada")

    assert page.lang == "id"
    assert page.h1 == "Waspada penipuan"
    assert "Uang, untuk alasan apa pun" in main_text(page)


@pytest.mark.parametrize("url", ["/", "/ajukan", "/lacak", "/cara-lain", "/sanggahan"])
def test_the_fraud_notice_of_every_public_page_links_here(client: Client, url: str) -> None:
    notice = client.page(url).soup.select_one("aside.scam-notice")

    assert notice is not None
    assert [a["href"] for a in notice.select("a")] == ["/waspada"]


def test_the_official_address_comes_from_the_settings(client: Client, app: Flask) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://cekdtsen.example.go.id"

    text = main_text(client.page("/waspada?lang=en"))

    assert "This portal: cekdtsen.example.go.id . Type the address yourself" in text


def test_without_the_setting_no_address_is_vouched_for(client: Client, app: Flask) -> None:
    app.config["PUBLIC_BASE_URL"] = None

    page = client.get("/waspada?lang=en", headers={"Host": "cekdtsen-bansos.example.com"})
    text = " ".join(page.get_data(as_text=True).split())

    assert "cekdtsen-bansos.example.com" not in text
    assert "This portal, at the address printed by your Dinas Sosial." in text
