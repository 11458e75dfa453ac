"""The browser suite: Debian's Chromium, driven by Playwright, against the production server.

``make test-browser`` runs it (never ``make test``). The server is ``config.settings.prod`` under
gunicorn (tests/support/prod_server.py) on ``BROWSER_DATABASE_URL`` / ``BROWSER_REDIS_URL``
(CI: PostgreSQL ``parecer_browser`` + Redis; default: a throwaway SQLite file, local memory).
Every page is screenshotted into ``.artifacts/browser/``; any console error, page error, failed
request or response >= 400 fails the page that caused it.
"""

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.prod_server import ROOT, ProdServer, production_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / ".artifacts" / "browser"
VIEWPORT = {"width": 1280, "height": 900}  # the width the list columns are chosen for


@dataclass
class Seed:
    password: str
    emails: dict[str, str]
    ids: dict[str, str]
    api_key_id: str
    refresh_token_id: str
    access_token: str


@dataclass
class WatchedPage:
    """A Playwright page that records everything a person would see go wrong."""

    page: object
    base_url: str
    role: str
    problems: list[str] = field(default_factory=list)

    def attach(self) -> None:
        self.page.on(
            "console",
            lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"),
        )
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on(
            "requestfailed",
            lambda r: self.problems.append(f"request failed: {r.url} {r.failure}"),
        )
        self.page.on(
            "response",
            lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"),
        )

    def visit(self, path: str, shot: str) -> None:
        self.page.goto(self.base_url + path, wait_until="networkidle")
        self.check(shot)

    def check(self, shot: str) -> None:
        """Screenshot the page as it is now and fail on anything recorded since the last check."""
        self.page.wait_for_load_state("networkidle")
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{self.role}-{shot}").strip("_")
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        problems, self.problems = self.problems, []
        assert not problems, f"{self.role} {shot} ({self.page.url}): {problems}"

    def sign_in(self, email: str, password: str) -> None:
        self.page.goto(self.base_url + "/admin/login/", wait_until="networkidle")
        self.page.fill("input[name=username]", email)
        self.page.fill("input[name=password]", password)
        self.page.click("#login-form button[type=submit]")
        self.page.wait_for_url(self.base_url + "/admin/")
        self.check("dashboard")


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[ProdServer]:
    tmp = tmp_path_factory.mktemp("browser-server")
    database_url = os.environ.get("BROWSER_DATABASE_URL") or f"sqlite:///{tmp / 'db.sqlite3'}"
    with production_server(
        tmp,
        database_url=database_url,
        redis_url=os.environ.get("BROWSER_REDIS_URL", ""),
        migrate=True,
    ) as running:
        yield running


@pytest.fixture(scope="session")
def seed(server) -> Seed:
    code = f"exec(open({str(Path(__file__).with_name('seed.py'))!r}).read())"
    output = server.manage("shell", "-c", code).stdout.strip().splitlines()[-1]
    return Seed(**json.loads(output))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, server):
    contexts = []

    def open_as(role: str) -> WatchedPage:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(15_000)
        contexts.append(context)
        watched = WatchedPage(page=context.new_page(), base_url=server.base_url, role=role)
        watched.attach()
        return watched

    yield open_as
    for context in contexts:
        context.close()
