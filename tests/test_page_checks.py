"""The checks every page of the suite passes (tests/helpers.Page.check) catch what they name:
a page that breaks one of them fails whichever test requested it."""

from __future__ import annotations

import pytest
from werkzeug.wrappers import Response

from tests.helpers import Page

GOOD = (
    '<!doctype html><html lang="id"><head><title>Cek desil</title></head><body>'
    '<form method="post"><input type="hidden" name="csrf_token" value="x">'
    '<label for="nik">NIK</label><input id="nik" name="nik"></form></body></html>'
)
CSRF = '<input type="hidden" name="csrf_token" value="x">'


def page(body: str) -> Page:
    return Page(Response(body, content_type="text/html"))  # type: ignore[arg-type]


def test_a_good_page_passes_and_is_read_by_the_assertions() -> None:
    checked = page(GOOD).check()
    assert checked.h1 == ""
    assert checked.lang == "id"
    assert checked.soup.title is not None
    assert checked.soup.title.string == "Cek desil"


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("<p>no document</p>", "no <html>"),
        (GOOD.replace(' lang="id"', ""), "<html lang> missing"),
        (GOOD.replace(' lang="id"', ' lang="fr"'), "<html lang> missing"),
        (GOOD.replace("<title>Cek desil</title>", ""), "<title> missing"),
        (GOOD.replace("Cek desil", " "), "<title> empty"),
        (GOOD.replace(CSRF, ""), "POST form without csrf_token"),
        (GOOD.replace('method="post"', 'method="POST"').replace(CSRF, ""), "without csrf"),
        (GOOD.replace("<body>", '<body><p id="nik">'), "duplicate ids: ['nik']"),
        (GOOD.replace('<label for="nik">NIK</label>', ""), "'nik' has no label"),
        (GOOD.replace('id="nik" ', ""), "'nik' has no id"),
        (GOOD.replace("</form>", '<select id="s" name="s"></select></form>'), "'s' has no label"),
        (GOOD.replace("<body>", "<body>3216014506880002"), "16-digit number"),
    ],
)
def test_a_page_that_breaks_a_rule_fails_with_its_reason(broken: str, message: str) -> None:
    with pytest.raises(AssertionError, match=message.replace("[", r"\[").replace("]", r"\]")):
        page(broken).check()
