"""What the browser tests share: Debian's Chromium through Playwright, the service on
loopback over the session's prepared sample, and logging in.

Without chromium the tests are skipped, loudly; with ``CI`` or ``TALENTMATCH_REQUIRE_BROWSER``
set (``make test`` sets it, after installing chromium) they fail instead.
``TALENTMATCH_CHROMIUM`` points at another chromium binary. Test modules import the
``server`` and ``browser`` fixtures from here (module-scoped: one server and one browser per
test module).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.application import Application
from api.service.app import create_app
from api.service.auth import ensure_demo_accounts
from api.service.serving import running_server

CHROMIUM = Path(os.environ.get("TALENTMATCH_CHROMIUM") or "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def require_browser() -> None:
    """Skip (or, under ``make test``, fail) with the install command when chromium is absent."""
    if CHROMIUM.exists():
        return
    reason = (f"!!! 浏览器测试未运行：找不到 {CHROMIUM}（请运行 sudo apt-get update && "
              "sudo apt-get install -y chromium fonts-noto-cjk，或 make system-deps） !!!")
    if os.environ.get("CI") or os.environ.get("TALENTMATCH_REQUIRE_BROWSER"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, Any], Application]]:
    """(base URL, demo accounts by user name, the application) of a running service.

    The browser is checked first, so that a missing one fails at once, before the prepared
    environment is built."""
    require_browser()
    prepared: Application = request.getfixturevalue("prepared")
    accounts = {a["username"]: a for a in ensure_demo_accounts(prepared)}
    with running_server(create_app(application=prepared)) as base:
        yield base, accounts, prepared


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


def login(page: Any, base: str, account: dict[str, Any]) -> None:
    """Log in through the login form."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", account["username"])
    page.fill("input[name=password]", account["password"])
    page.click("button[type=submit]")
    page.wait_for_load_state()
