"""/cara-lain names Cek Bansos, the Kemensos website and SP4N-LAPOR!: it links each by its
official address, written out as the link's text so a reader can check it against a fake and
type it by hand (the portal warns about fake sites everywhere), and adds no tracking."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.helpers import Client

# section heading id -> the official addresses that section links
OFFICIAL = {
    "kemensos-title": {
        "https://cekbansos.kemensos.go.id": "cekbansos.kemensos.go.id",
        "https://kemensos.go.id": "kemensos.go.id",
    },
    "lapor-title": {"https://www.lapor.go.id": "www.lapor.go.id"},
}


@pytest.mark.parametrize("lang", ["en", "id"])
def test_other_ways_links_each_official_site_by_its_written_out_address(
    client: Client, lang: str
) -> None:
    page = client.page(f"/cara-lain?lang={lang}")

    for heading, sites in OFFICIAL.items():
        section = page.soup.find(id=heading).find_parent("section")
        links = {a["href"]: a for a in section.select("a")}
        for href, address in sites.items():
            assert href in links, f"{href} not linked under #{heading}"
            assert links[href].get_text(strip=True) == address
            assert "noopener" in links[href].get("rel", [])
    for a in page.soup.main.select("a[href^='http']"):
        url = urlsplit(a["href"])
        assert url.scheme == "https"
        assert str(url.hostname).endswith(".go.id")
        assert not url.query, f"{a['href']}: nothing to track who followed it"
