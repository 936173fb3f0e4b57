"""The browser suite: Debian's Chromium, driven by Playwright, at 360 x 740 with JavaScript
off, against the deployment that e2e/stack.py brought up (``make e2e`` does both).

Every page a test visits goes through ``Phone.visit``/``Phone.submit``, which (1) checks the
answer is not a server error, (2) runs axe-core on it (WCAG 2.2 A and AA: 0 violations), and
(3) saves a screenshot named after the step into the folder ``make e2e`` prints.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from e2e.stack import Stack
from tests.photos import phone_photo

E2E = Path(__file__).resolve().parent
AXE = E2E / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 740}
CHROMIUM_ARGS = [
    "--no-sandbox",  # runs as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # the closed network refuses Google's hosts
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")


@pytest.fixture(scope="session")
def stack() -> Stack:
    try:
        return Stack.load()
    except FileNotFoundError:
        pytest.fail("no deployment: run `python e2e/stack.py up` (make e2e does)", pytrace=False)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail("axe-core missing: run `npm ci --prefix e2e` (make e2e does)", pytrace=False)
    return AXE.read_text(encoding="utf-8")


@dataclass
class Phone:
    """One person's browser: a 360 x 740 phone with JavaScript off, in Bahasa Indonesia."""

    context: BrowserContext
    page: Page
    stack: Stack
    axe: str
    name: str
    twin: Page  # a scripted page of its own, where axe runs (see axe_violations)
    steps: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)  # every NIK / No. KK typed, in order

    # --- moving around ---------------------------------------------------------------------
    def visit(self, path: str, step: str, *, expect: int = 200) -> Page:
        response = self.page.goto(self.stack.url + path)
        assert response is not None
        self._arrived(step, response.status, expect)
        return self.page

    def submit(
        self, button: str, step: str, *, expect: int = 200, form: str = "form", exact: bool = False
    ) -> Page:
        """Click the button (by its visible name) and check the page it leads to."""
        with self.page.expect_navigation() as navigation:
            self.page.locator(form).get_by_role("button", name=button, exact=exact).first.click()
        response = navigation.value
        assert response is not None
        self._arrived(step, response.status, expect)
        return self.page

    def follow(self, link: str, step: str, *, expect: int = 200, exact: bool = False) -> Page:
        """Click the link (by its accessible name) and check the page it leads to."""
        with self.page.expect_navigation() as navigation:
            self.page.get_by_role("link", name=link, exact=exact).first.click()
        response = navigation.value
        assert response is not None
        self._arrived(step, response.status, expect)
        return self.page

    def _arrived(self, step: str, status: int, expect: int) -> None:
        self.statuses.append(status)
        assert status == expect, f"{step}: HTTP {status}, expected {expect} at {self.page.url}"
        self.check_page(step)

    # --- what every page must be -----------------------------------------------------------
    def check_page(self, step: str) -> None:
        self.steps.append(step)
        path = Path(self.stack.screenshots) / f"{self.name}-{len(self.steps):02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        html = self.page.content()
        assert not SIXTEEN_DIGITS.search(self.page.url), f"{step}: a 16-digit number in the URL"
        assert self.page.locator("html").get_attribute("lang") in ("id", "en")
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{step}: the page is {width} px wide at 360 px"
        violations = self.axe_violations()
        assert not violations, f"{step}: axe found {json.dumps(violations, indent=1)[:3000]}"
        assert "Traceback" not in html

    def axe_violations(self) -> list[dict[str, Any]]:
        """axe-core on the page as shown. With page scripts off, axe's promises never settle,
        so the rendered HTML is replayed at the same address in a scripted twin page (same
        viewport, same stylesheets from the server) and axe runs there."""
        html, url = self.page.content(), self.page.url
        twin = self.twin

        def serve_once(route: Any) -> None:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

        twin.route(url, serve_once, times=1)
        twin.goto(url)
        result = twin.evaluate(
            """async ([source, tags]) => {
                if (!window.axe) { (0, eval)(source); }
                const r = await window.axe.run(document, {runOnly: {type: 'tag', values: tags}});
                return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
            }""",
            [self.axe, AXE_TAGS],
        )
        return list(result)

    # --- forms -----------------------------------------------------------------------------
    def fill(self, label: str, value: str) -> None:
        self.page.get_by_label(label, exact=True).fill(value)
        digits = "".join(c for c in value if c.isdigit())
        if len(digits) == 16:
            self.typed.append(digits)

    def typed_once(self) -> int:
        """Assert no NIK or No. KK was typed twice on this phone; the digits typed."""
        twice = {n for n in self.typed if self.typed.count(n) > 1}
        assert not twice, f"typed more than once: {sorted(n[:4] + '...' for n in twice)}"
        return 16 * len(self.typed)

    def choose(self, label: str, *, group: str | None = None, exact: bool = True) -> None:
        """Tick the radio or checkbox LABEL (inside the fieldset whose legend is GROUP)."""
        scope = self.page.get_by_role("group", name=group) if group else self.page
        scope.get_by_label(label, exact=exact).check()

    def select(self, label: str, option_text: str) -> str:
        """Choose the option of the select LABEL whose text contains OPTION_TEXT, as a person
        reading the list would; returns the option's full text."""
        select = self.page.get_by_label(label, exact=True)
        option = select.locator("option", has_text=option_text).first
        text = option.inner_text().strip()
        select.select_option(label=text)
        return text

    def h1(self) -> str:
        return self.page.locator("h1").first.inner_text().strip()

    def main_text(self) -> str:
        return self.page.locator("main").inner_text()

    def notices(self) -> str:
        """The flashed messages and error summary of the page, as shown."""
        return " ".join(self.page.locator(".notice, .error-summary").all_inner_texts())


@pytest.fixture
def phone_factory(
    chromium: Browser, stack: Stack, axe_source: str, request: pytest.FixtureRequest
) -> Iterator[Any]:
    contexts: list[BrowserContext] = []

    def make(name: str | None = None, *, locale: str = "id-ID", scripts: bool = False) -> Phone:
        """A phone; SCRIPTS=True for the one journey that checks the optional script."""
        context = chromium.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            java_script_enabled=scripts,
            ignore_https_errors=True,  # e2e/stack.py's throwaway certificate
            locale=locale,
            user_agent=(
                "Mozilla/5.0 (Linux; Android 12; SM-A135F) AppleWebKit/537.36 "
                "(KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
            ),
        )
        twin = chromium.new_context(
            viewport=PHONE,
            device_scale_factor=1,
            is_mobile=True,
            java_script_enabled=True,
            bypass_csp=True,  # axe is evaluated into the page
            ignore_https_errors=True,
        )
        contexts.extend([context, twin])
        test = request.node.name.removeprefix("test_")[:40]
        return Phone(context, context.new_page(), stack, axe_source, name or test, twin.new_page())

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def phone(phone_factory: Any) -> Phone:
    return phone_factory()


def totp_code(secret: str, *, after: str | None = None) -> str:
    """The current code of SECRET; a different one than AFTER (the portal refuses replays)."""
    import time

    totp = pyotp.TOTP(secret)
    code = totp.now()
    while after is not None and code == after:
        time.sleep(1)
        code = totp.now()
    return code


# --- phone photos ---------------------------------------------------------------------------

PHOTO_MAX_BYTES = 5 * 1024 * 1024  # PHOTO_MAX_BYTES, the portal's default


@pytest.fixture(scope="session")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Files on the phone: two 12 MP photos of 3-5 MB and one 16 MP photo over 5 MB."""
    folder = tmp_path_factory.mktemp("DCIM")
    made = {
        "rumah": ("IMG_20260714_101502.jpg", phone_photo(1)),
        "lapangan": ("IMG_20260715_083011.jpg", phone_photo(2)),
        "besar": ("IMG_20260714_101733.jpg", phone_photo(3, (4600, 3450), quality=95)),
    }
    paths = {}
    for key, (name, body) in made.items():
        path = folder / name
        path.write_bytes(body)
        paths[key] = path
    for key in ("rumah", "lapangan"):
        assert 3_000_000 < paths[key].stat().st_size < PHOTO_MAX_BYTES, key
    assert paths["besar"].stat().st_size > PHOTO_MAX_BYTES
    return paths


# --- the stack's command line ---------------------------------------------------------------


def stack_flask(stack: Stack, *args: str) -> str:
    """``flask --app portal ARGS`` of the deployed release, with its environment."""
    import subprocess

    result = subprocess.run(
        [str(Path(stack.venv) / "bin" / "flask"), "--app", "portal", *args],
        env=stack.env,
        cwd=Path(stack.venv).parent,
        check=True,
        text=True,
        capture_output=True,
    )
    return result.stdout


def deployed_config(stack: Stack, *names: str) -> dict[str, Any]:
    """Settings as the deployed release reads them (its defaults and the stack's env)."""
    import subprocess

    code = (
        "import json, sys\n"
        "from portal import create_app\n"
        "config = create_app().config\n"
        "print(json.dumps({n: config.get(n) for n in sys.argv[1:]}, default=str))\n"
    )
    result = subprocess.run(
        [str(Path(stack.venv) / "bin" / "python"), "-c", code, *names],
        env=stack.env,
        cwd=Path(stack.venv).parent,
        check=True,
        text=True,
        capture_output=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))
