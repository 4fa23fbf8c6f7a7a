"""Browser tests in real Chromium (Debian's /usr/bin/chromium through Playwright) against
the service on loopback: the reviewer's approval flow and the enterprise's masked matches.

Without chromium the tests are skipped, loudly; with ``CI`` or ``TALENTMATCH_REQUIRE_BROWSER``
set (``make test`` sets it, after installing chromium) they fail instead.
``TALENTMATCH_CHROMIUM`` points at another chromium binary.
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

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[A-Za-z]{2,}")
SCREENSHOT = Path(os.environ.get("TALENTMATCH_SCREENSHOT", "/tmp/tm_detail.png"))


def test_reviewer_filters_approves_and_audit_shows_it(server: tuple[str, dict[str, Any], Application],
                                                      browser: Any) -> None:
    base, accounts, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    _login(page, base, accounts["tech"])
    assert "/review" in page.url
    page.select_option("select[name=group]", label="技术回归")
    page.select_option("select[name=status]", value="proposed")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert "group=tech_return" in page.url
    rows = page.locator("table.list tbody tr")
    assert rows.count() > 0
    assert all("技术回归" in rows.nth(i).inner_text() for i in range(rows.count()))
    page.locator("a.open").first.click()
    page.wait_for_load_state()
    assert page.locator(".bar").count() > 0
    assert page.locator(".bar").first.bounding_box()["width"] > 0
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    suggestion_id = page.url.rsplit("/", 1)[-1].split("?")[0]  # the URL keeps the queue filters
    page.fill("textarea[name=reason]", "研究方向与需求高度吻合，同意对接（浏览器测试）")
    page.click("button.approve")
    page.wait_for_load_state()
    assert "已同意" in page.content()
    page.goto(f"{base}/audit")
    audit = page.content()
    assert suggestion_id in audit and "同意对接（浏览器测试）" in audit
    assert "已同意" in audit and "待审核" in audit
    page.close()


def test_enterprise_posts_need_and_sees_masked_matches(server: tuple[str, dict[str, Any], Application],
                                                       browser: Any) -> None:
    base, accounts, _ = server
    page = browser.new_page()
    _login(page, base, accounts["enterprise"])
    assert "/enterprise" in page.url
    page.fill("input[name=title]", "尼龙新材料改性工艺技术攻关")
    page.select_option("select[name=kind]", value="tech")
    page.fill("input[name=required_expertise]", "高分子材料、材料工程")
    page.fill("textarea[name=description]", "寻求尼龙改性与注塑工艺方面的专家指导")
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()
    assert "/enterprise/needs/" in page.url
    rows = page.locator("table.matches tbody tr")
    assert rows.count() > 0 and "暂无匹配" not in rows.first.inner_text()
    html = page.content()
    assert not MOBILE.search(html), MOBILE.search(html)
    assert not EMAIL.search(html), EMAIL.search(html)
    page.close()


def test_demand_map_page_renders_with_its_picture(server: tuple[str, dict[str, Any], Application],
                                                  browser: Any) -> None:
    base, accounts, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    _login(page, base, accounts["admin"])
    page.goto(f"{base}/demand-map", timeout=180_000)
    # a fresh server computes the map in a background job; the page refreshes itself
    page.wait_for_selector("img#heatmap", timeout=180_000)
    page.wait_for_load_state()
    img = page.locator("img#heatmap")
    assert img.count() == 1
    img.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('img#heatmap').complete", timeout=120_000)
    width = page.evaluate("document.querySelector('img#heatmap').naturalWidth")
    assert width > 0, "the heatmap picture did not load"
    assert "紧缺" in page.content()
    page.screenshot(path="/tmp/tm_demand_map.png", full_page=False)
    page.close()
