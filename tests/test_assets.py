"""Static files under content-hashed names: cached for a year, never stale after a release.
And what the stylesheet promises on a 360 px phone: contrast of control edges, spacing, room
above a field reached from the error summary, tables that scroll on their own."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
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


# --- what the stylesheet promises at 360 px: a small cascade over portal.css ------------------
# Enough CSS to answer "what does this element get": rules and @media blocks, simple selectors
# (tag, classes, :hover/:focus-visible) ranked by specificity then order, custom properties,
# shorthands. A selector with a combinator, an attribute or a pseudo-element matches nothing.

PHONE_PX = 360
SIMPLE = re.compile(r"^(?P<tag>[a-z]+|\*)?(?P<rest>(?:[.:][a-z][\w-]*)*)$")
HEX = re.compile(r"#(?:[0-9a-f]{6}|[0-9a-f]{3})\b", re.I)
SIDES = ("top", "right", "bottom", "left")


@dataclass(frozen=True)
class Rule:
    selectors: tuple[str, ...]
    declarations: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Element:
    tag: str
    classes: frozenset[str]
    states: frozenset[str] = frozenset()

    @classmethod
    def of(cls, tag: str, classes: str, *states: str) -> Element:
        return cls(tag, frozenset(classes.split()), frozenset(states))


def media_applies(query: str) -> bool:
    """A screen PHONE_PX wide: min-/max-width in rem, never print."""
    if "print" in query:
        return False
    for kind, rems in re.findall(r"(min|max)-width:\s*([\d.]+)rem", query):
        width = float(rems) * 16
        if (kind == "min" and width > PHONE_PX) or (kind == "max" and width < PHONE_PX):
            return False
    return True


def parse_rules(css: str) -> list[Rule]:
    """The rules that apply on the phone, in source order."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules: list[Rule] = []
    pos = 0
    while (brace := css.find("{", pos)) != -1:
        prelude = css[pos:brace].strip()
        if prelude.startswith("@media"):
            depth, end = 1, brace + 1
            while depth:
                depth += {"{": 1, "}": -1}.get(css[end], 0)
                end += 1
            if media_applies(prelude):
                rules += parse_rules(css[brace + 1 : end - 1])
            pos = end
            continue
        end = css.index("}", brace)
        body = css[brace + 1 : end]
        declarations = tuple(
            (name.strip(), value.strip())
            for name, _, value in (d.partition(":") for d in body.split(";") if ":" in d)
        )
        rules.append(Rule(tuple(s.strip() for s in prelude.split(",")), declarations))
        pos = end + 1
    return rules


def specificity(selector: str, element: Element) -> tuple[int, int] | None:
    """(classes and pseudo-classes, tags) if SELECTOR matches ELEMENT, else None."""
    match = SIMPLE.match(selector)
    if not match:
        return None
    tag = match["tag"]
    if tag not in (None, "*", element.tag):
        return None
    parts = re.findall(r"([.:])([\w-]+)", match["rest"])
    for kind, name in parts:
        if name not in (element.classes if kind == "." else element.states):
            return None
    return (len(parts), int(tag not in (None, "*")))


class Stylesheet:
    def __init__(self, css: str) -> None:
        self.rules = parse_rules(css)
        self.custom = {
            name: value
            for rule in self.rules
            if ":root" in rule.selectors
            for name, value in rule.declarations
            if name.startswith("--")
        }

    def resolve(self, value: str) -> str:
        return re.sub(r"var\((--[\w-]+)\)", lambda m: self.custom[m[1]], value)

    def winner(self, element: Element, names: tuple[str, ...]) -> tuple[str, str] | None:
        """The declaration among NAMES (a longhand and its shorthands) the cascade picks."""
        best: tuple[tuple[int, int], int, tuple[str, str]] | None = None
        for order, rule in enumerate(self.rules):
            ranks = [s for s in (specificity(sel, element) for sel in rule.selectors) if s]
            if not ranks:
                continue
            for index, (name, value) in enumerate(rule.declarations):
                if name in names:
                    key = (max(ranks), order * 1000 + index, (name, self.resolve(value)))
                    if best is None or key[:2] >= best[:2]:
                        best = key
        return best[2] if best else None

    def value(self, element: Element, longhand: str, *shorthands: str) -> str:
        found = self.winner(element, (longhand, *shorthands))
        assert found is not None, f"nothing sets {longhand} on {element}"
        return found[1]

    def colour(self, element: Element, prop: str) -> str:
        names = {"color": ("color",), "background": ("background-color", "background")}[prop]
        value = self.value(element, *names)
        found = HEX.search(value) or re.search(r"\b(white)\b", value)
        assert found, f"{prop} of {element} is {value!r}: no colour"
        return "#fff" if found[0] == "white" else found[0]

    def edge(self, element: Element, side: str) -> tuple[float, str | None]:
        """Width in px and colour of the border on SIDE."""
        width = self.winner(
            element, ("border", f"border-{side}", "border-width", f"border-{side}-width")
        )
        colour = self.winner(
            element, ("border", f"border-{side}", "border-color", f"border-{side}-color")
        )
        px = 0.0
        if width and (found := re.search(r"(?<![\w#-])([\d.]+)(px)?\b", width[1])):
            px = float(found[1])
        hex_colour = HEX.search(colour[1]) if colour else None
        return px, hex_colour[0] if hex_colour else None

    def light_surfaces(self) -> set[str]:
        """Every light background colour of the stylesheet (and the page's white): the
        surfaces a control may sit on (panels, notices, cards, the page)."""
        found = {"#fff"}
        for rule in self.rules:
            for name, value in rule.declarations:
                if name in ("background", "background-color"):
                    found |= {c for c in HEX.findall(self.resolve(value)) if luminance(c) > 0.5}
        return found


def luminance(colour: str) -> float:
    """WCAG relative luminance of a #rgb or #rrggbb colour."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def box_side(value: str, side: str) -> str:
    """SIDE's value of a 1-4 value box shorthand (margin: 0 0 1rem)."""
    values = value.split()
    index = {1: (0, 0, 0, 0), 2: (0, 1, 0, 1), 3: (0, 1, 2, 1), 4: (0, 1, 2, 3)}[len(values)]
    return values[index[SIDES.index(side)]]


def rem(value: str) -> float:
    found = re.fullmatch(r"([\d.]+)(rem|px)?", value.strip())
    assert found, f"not a length in rem or px: {value!r}"
    assert found[2] or float(found[1]) == 0, f"a length without its unit: {value!r}"
    return float(found[1]) / (16 if found[2] == "px" else 1)


@pytest.fixture
def sheet(client: Client) -> Stylesheet:
    """portal.css as the pages load it."""
    href = client.page("/").soup.find("link", rel="stylesheet")["href"]
    return Stylesheet(fetch(client, href)[2].decode("utf-8"))


def test_the_contrast_ratio_is_wcags() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21)
    assert contrast("#fff", "#fff") == pytest.approx(1)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast("#b1b4b6", "#f3f5f6") == pytest.approx(1.9, abs=0.05)  # the old edge


def test_the_cascade_reads_the_stylesheet_as_a_browser_does() -> None:
    css = (
        ":root { --ink: #123456; } .b { border: 0; border-bottom: 3px solid #000; color: red; }"
        " .b--x { border: 2px solid var(--ink); } .b:focus-visible { color: #fff; }"
        " @media (min-width: 40rem) { .b--x { border-width: 0; } } p .b--x { color: #000; }"
    )
    sheet = Stylesheet(css)
    x = Element.of("button", "b b--x")
    assert sheet.edge(x, "top") == (2.0, "#123456")
    assert sheet.edge(Element.of("button", "b"), "top")[0] == 0
    assert sheet.edge(Element.of("button", "b"), "bottom") == (3.0, "#000")
    assert sheet.colour(Element.of("button", "b b--x", "focus-visible"), "color") == "#fff"


SECONDARY = Element.of("button", "button button--secondary")


@pytest.mark.parametrize("state", ["", "hover", "focus-visible"])
def test_a_secondary_button_shows_its_edge_on_every_panel(sheet: Stylesheet, state: str) -> None:
    """WCAG 1.4.11: the boundary of a control, 3:1 against what is around it. A secondary
    button sits on the grey panels (search, filters, panel forms, notices) and on white."""
    button = Element(SECONDARY.tag, SECONDARY.classes, frozenset({state} - {""}))
    surfaces = sheet.light_surfaces()
    assert sheet.resolve("var(--panel)") in surfaces
    for side in SIDES:
        width, colour = sheet.edge(button, side)
        assert width >= 1, f"no {side} edge"
        assert colour, f"no colour on the {side} edge"
        for surface in surfaces:
            assert contrast(colour, surface) >= 3, f"{side} edge {colour} on {surface}"
    text, ground = sheet.colour(button, "color"), sheet.colour(button, "background")
    assert contrast(text, ground) >= 4.5, f"text {text} on {ground}"


def test_a_notice_box_keeps_its_distance_from_what_follows(sheet: Stylesheet) -> None:
    """The wait notice (components/_wait.html) is a <div>: without a margin of its own it
    touched the next paragraph."""
    for tag in ("div", "section", "p"):
        notice = Element.of(tag, "notice notice--error")
        assert rem(box_side(sheet.value(notice, "margin-bottom", "margin"), "bottom")) > 0, tag


def test_a_field_linked_from_the_error_summary_keeps_its_label_in_view(
    sheet: Stylesheet,
) -> None:
    """Following "#nik" scrolls the control to the top edge; the label, hint and error above
    it (144 px for the look-up's NIK at 360 px) must stay on screen."""
    for control in (
        Element.of("input", "input input--16"),
        Element.of("select", "input select"),
        Element.of("textarea", "input textarea"),
        Element.of("input", "choice__input"),
    ):
        margin = sheet.value(control, "scroll-margin-top", "scroll-margin")
        assert rem(box_side(margin, "top")) >= 12, control


def test_a_wide_table_scrolls_in_its_region_and_shows_that_it_does(sheet: Stylesheet) -> None:
    wrap = Element.of("div", "table-wrap")
    assert sheet.value(wrap, "overflow-x", "overflow") == "auto"
    # the shadows at a clipped edge: covers that scroll with the content over fixed shadows
    background = sheet.value(wrap, "background", "background-image")
    assert " local" in background
    assert " scroll" in background
