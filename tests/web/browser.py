"""Headless Debian Chromium through Playwright's sync API, and screenshots
at desktop and phone widths into a scratch folder (var/screenshots/, or
SCREENSHOT_DIR): a test run never rewrites the committed ones;
`make screenshots` refreshes docs/screenshots/. The `browser` fixture
and the signed-in `session` fixture reach every test through tests/conftest.py's `pytest_plugins`; the helpers
(Session, make_png, needs_chromium) are plain imports."""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR") or _ROOT / "var" / "screenshots")
if not SCREENSHOTS.is_absolute():
    SCREENSHOTS = _ROOT / SCREENSHOTS
WIDTHS = {"desktop": (1280, 800), "phone": (360, 740)}
# A page taller than this is cut: the screenshots illustrate, they need not be whole.
MAX_HEIGHT = {"desktop": 1400, "phone": 2400}

needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"{CHROMIUM} is missing: apt-get install -y chromium (CI installs it, see .ci/run)")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM
    # refuses to run where a loop is running unless told that it is safe,
    # which it is here: the test itself is synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


class Session:
    """One person's browser tab against the live server."""

    def __init__(self, browser, base_url: str, **context):
        self.base_url = base_url
        # **context: more of Playwright's context options (a time zone, say).
        self.context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB", **context)
        self.context.set_default_timeout(15000)
        self.page = self.context.new_page()
        # What the Content-Security-Policy refused on any page of this tab
        # (Chromium reports each refusal on the console): close() fails on any.
        self.csp_violations: list[str] = []
        self.page.on("console", self._watch_console)

    def _watch_console(self, message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.csp_violations.append(f"{self.page.url}: {message.text}")

    def go(self, path: str):
        self.page.goto(self.base_url + path)
        return self.page

    def sign_in(self, username: str, password: str):
        page = self.go("/signin/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(self.base_url + "/")
        return page

    def shoot(self, name: str) -> None:
        """<SCREENSHOTS>/<name>-desktop.png and <name>-phone.png of the current page."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page = self.page
        for kind, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            full = page.evaluate("document.documentElement.scrollHeight")
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{kind}.png"), full_page=True,
                            clip={"x": 0, "y": 0, "width": width, "height": min(full, MAX_HEIGHT[kind])})
        page.set_viewport_size({"width": 1280, "height": 800})

    def close(self):
        self.context.close()
        assert not self.csp_violations, "refused by the Content-Security-Policy:\n" + "\n".join(self.csp_violations)


def make_png(width: int = 240, height: int = 150, rgb=(176, 58, 46)) -> bytes:
    """A small solid-colour PNG (a visible stand-in for a field photo)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height, 9)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@pytest.fixture
def session(browser, live_server):
    """session(username) -> a Session signed in as that user (demo password),
    closed at the end of the test."""
    opened = []

    def open_as(username: str) -> Session:
        from tests.conftest import PASSWORD

        s = Session(browser, live_server.url)
        s.sign_in(username, PASSWORD)
        opened.append(s)
        return s

    yield open_as
    for s in opened:
        s.close()
