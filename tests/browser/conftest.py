"""Browser test fixtures: a live server on a free port (temp SQLite, processes deployed, demo users) and
Debian's Chromium driven by Playwright; every page visited is checked with axe-core and photographed."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from werkzeug.serving import make_server

from engine import services
from engine.bootstrap import WorkflowEngine, bootstrap
from engine.catalog import load_catalog
from engine.config import Settings
from engine.migrate import upgrade
from engine.model import Actor

ROOT = Path(__file__).resolve().parents[2]
# pytest puts tests/ on sys.path, where tests/web would be found as a namespace package `web` before the
# editable install's hook is asked; the project root must come first (as in tests/web/conftest.py).
sys.path.insert(0, str(ROOT))
from web import create_app  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--lang=en-GB"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
USERS = {"olivia": ("organiser",), "evan": ("events_office",), "sam": ("security",)}


class LiveServer:
    """The app served by werkzeug in a thread; `engine` is the same engine the app uses."""

    def __init__(self, engine: WorkflowEngine) -> None:
        self.engine = engine
        self.server = make_server("127.0.0.1", 0, create_app(engine=engine), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the browser tests: SQLite file, processes and forms deployed, users `pw-<name>`."""
    folder = tmp_path_factory.mktemp("browser")
    settings = Settings(database_url=f"sqlite:///{folder / 'campusflow.db'}", processes_dir=ROOT / "processes",
                        forms_dir=ROOT / "forms", secret_key="browser-test-secret")
    upgrade(settings.database_url)
    engine = bootstrap(settings)
    services.deploy(engine, load_catalog(settings.processes_dir, settings.forms_dir, settings.roles),
                    Actor("admin", frozenset({"admin"})))
    for name, roles in USERS.items():
        services.add_user(engine, name, list(roles), password=f"pw-{name}", email=f"{name}@example.ac.uk")
    with LiveServer(engine) as server:
        yield server
    engine.db.dispose()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium (never a downloaded browser); `make browser-deps` installs it and axe-core."""
    if not CHROMIUM.exists() or not AXE.exists():
        pytest.fail("browser tests need /usr/bin/chromium and tests/browser/node_modules: run `make browser-deps`")
    instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield instance
    instance.close()


class UI:
    """One signed-in (or anonymous) browser session with helpers that audit every page they land on."""

    def __init__(self, browser: Browser, server: LiveServer) -> None:
        # axe is injected as a script tag, which the app's strict CSP would refuse; the CSP has its own test.
        self.context = browser.new_context(base_url=server.url, bypass_csp=True, locale="en-GB",
                                           viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(15_000)
        self.page: Page = self.context.new_page()
        self.audited: list[str] = []

    def goto(self, path: str, shot: str | None = None) -> Page:
        """Open a path, then check and photograph the page."""
        self.page.goto(path)
        return self.check(shot)

    def check(self, shot: str | None = None) -> Page:
        """Run axe-core on the current page (WCAG 2.0/2.1/2.2 A and AA) and save a screenshot."""
        self.page.add_script_tag(path=str(AXE))
        violations: list[dict[str, Any]] = self.page.evaluate(
            """async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))""", AXE_TAGS)
        self.audited.append(self.page.url)
        if shot:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)
        assert violations == [], f"axe found problems on {self.page.url}:\n{json.dumps(violations, indent=2)}"
        return self.page

    def login(self, username: str) -> Page:
        """Sign in through the login page (itself audited)."""
        self.goto("/login", "login")
        self.page.get_by_label("User name").fill(username)
        self.page.get_by_label("Password").fill(f"pw-{username}")
        self.page.get_by_role("button", name="Sign in").click()
        return self.check()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def ui_factory(browser: Browser, live_server: LiveServer) -> Iterator[Any]:
    """Make independent browser sessions (one per user in a test); all are closed afterwards."""
    made: list[UI] = []

    def make() -> UI:
        made.append(UI(browser, live_server))
        return made[-1]

    yield make
    for ui in made:
        ui.close()
