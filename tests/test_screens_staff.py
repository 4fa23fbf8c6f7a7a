"""Screenshots at 1440×900 of every page the reviewer and admin roles can reach (issue #13
acceptance), each asserting that the page's main table (or, without one, the page) has no
horizontal overflow.

Pictures go to ``TALENTMATCH_SCREENS`` (default: a temporary folder); with
``TALENTMATCH_DOCS_IMG=docs/img`` the pictures docs/service.md shows are written there
(viewport only, so each stays small). The enterprise's and organiser's own pages are
screenshot in their own test file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from api.application import Application
from tests.browser_support import login as _login

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1440, "height": 900}
OVERFLOW_JS = """() => {
  const root = document.documentElement;
  const page = root.scrollWidth - root.clientWidth;
  const table = document.querySelector("main table");
  if (!table) return {page, table: 0, has_table: false};
  const box = table.getBoundingClientRect();
  const holder = table.parentElement.getBoundingClientRect();
  const main = document.querySelector("main").getBoundingClientRect();
  return {page, has_table: true,
          table: Math.max(box.right - holder.right, box.right - main.right,
                          table.scrollWidth - table.parentElement.clientWidth)};
}"""
DOCS_SHOTS = {("tech", "queue"): "reviewer_queue.png", ("tech", "detail"): "reviewer_detail.png",
              ("tech", "audit"): "reviewer_audit.png", ("tech", "print"): "reviewer_print.png",
              ("admin", "pairing"): "admin_pairing.png", ("admin", "import"): "admin_import.png",
              ("admin", "users"): "admin_users.png", ("admin", "index"): "admin_index.png",
              ("admin", "docs"): "admin_docs.png", ("admin", "error"): "admin_error.png"}


def _folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("TALENTMATCH_SCREENS") or tmp_path_factory.mktemp("screens"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _pages(app: Application, role: str) -> list[tuple[str, str]]:
    first = app.store.suggestions()[0]
    need = first.need_id
    pages = [("queue", "/review?status="), ("detail", f"/review/{first.id}?status="),
             ("audit", "/audit"), ("print", "/pair-list?format=html&status="),
             ("docs", "/docs"), ("demand-map", "/demand-map"),
             ("error", "/review/NO-SUCH-ID")]
    if role == "admin":
        pages += [("pairing", "/admin/pairing"), ("import", "/admin/import"),
                  ("users", "/admin/users"), ("index", "/admin/index"),
                  ("enterprise", "/enterprise"), ("enterprise-need", f"/enterprise/needs/{need}"),
                  ("event", "/event")]
    return pages


@pytest.mark.parametrize("role", ["tech", "admin"])
def test_every_staff_page_fits_1440(server: tuple[str, dict[str, Any], Application],
                                    browser: Any, role: str,
                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    base, accounts, app = server
    folder = _folder(tmp_path_factory)
    docs = os.environ.get("TALENTMATCH_DOCS_IMG")
    page = browser.new_page(viewport=VIEWPORT)
    _login(page, base, accounts[role])
    # a decision, so that the audit trail and the detail page's record are not empty
    if role == "tech":
        page.goto(f"{base}/review?status=proposed")
        page.locator("a.open").first.click()
        page.wait_for_load_state()
        page.select_option("select[name=preset]", label="需进一步核实人才意向")
        page.click("button[value=deferred]")
        page.wait_for_load_state()
    problems = []
    for name, path in _pages(app, role):
        response = page.goto(f"{base}{path}", timeout=120_000)
        assert response is not None
        expected = {404} if name == "error" else {200, 202} if name == "demand-map" else {200}
        assert response.status in expected, (name, response.status)  # 202: map being computed
        if name == "docs":
            page.wait_for_selector(".swagger-ui .info", timeout=60_000)
        page.wait_for_load_state()
        sizes = page.evaluate(OVERFLOW_JS)
        if sizes["page"] > 1 or sizes["table"] > 1:
            problems.append(f"{name} ({path}): {sizes}")
        page.screenshot(path=str(folder / f"{role}_{name}.png"), full_page=True)
        if docs and (role, name) in DOCS_SHOTS:
            target = Path(docs) / DOCS_SHOTS[(role, name)]
            page.screenshot(path=str(target), full_page=False)
        if name in ("queue", "audit", "users", "pairing", "import"):
            assert page.locator("main table").count() >= 1, name
        if name == "error":
            assert "页面不存在" in page.content() or "找不到" in page.content()
        assert not re.search(r"Internal Server Error|Traceback", page.content()), name
    # the check itself sees an overflowing table (a negative control)
    page.goto(f"{base}/audit")
    page.evaluate("document.querySelector('main table').style.minWidth = '3000px'")
    assert page.evaluate(OVERFLOW_JS)["table"] > 1
    page.close()
    assert not problems, "horizontal overflow at 1440×900:\n" + "\n".join(problems)
