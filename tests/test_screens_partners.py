"""The enterprise's and the organiser's pages in real Chromium (#13 acceptance).

* An enterprise posts a need, sees 待审核, a work group approves one pairing (through the
  service), and the enterprise then sees 已批准 and the talent's contact.
* An organiser creates an event, generates a shortlist, and downloads the same version
  twice: byte-identical.
* Every page these two roles can reach (and the demand map) is screenshot at 1440×900, and
  the main table must not overflow horizontally.

Screenshots go to ``TALENTMATCH_SCREENS`` (default: a temporary folder); docs/img/ holds a
committed copy of each (see docs/service.md).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from api.application import Application
from api.services import review

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1440, "height": 900}
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
SHOTS = Path(os.environ.get("TALENTMATCH_SCREENS") or tempfile.mkdtemp(prefix="tm-screens-"))


def _page(browser: Any, base: str, account: dict[str, Any]) -> Any:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", account["username"])
    page.fill("input[name=password]", account["password"])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def _shoot(page: Any, name: str, table: str | None = "main table") -> None:
    """Screenshot the viewport; assert the page and its main table fit the width."""
    page.wait_for_load_state()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    doc = page.evaluate("[document.documentElement.scrollWidth,"
                        " document.documentElement.clientWidth]")
    assert doc[0] <= doc[1], f"{name}: the page overflows horizontally {doc}"
    if table is not None:
        found = page.locator(table)
        assert found.count() > 0, f"{name}: no {table}"
        box = page.evaluate(
            "(sel) => { const t = document.querySelector(sel);"
            " return [t.scrollWidth, t.clientWidth, t.getBoundingClientRect().right,"
            " document.documentElement.clientWidth]; }", table)
        assert box[0] <= box[1] + 1, f"{name}: the main table overflows {box}"
        assert box[2] <= box[3] + 1, f"{name}: the main table leaves the window {box}"


def test_enterprise_posts_sees_review_status_and_then_the_contact(
        server: tuple[str, dict[str, Any], Application], browser: Any) -> None:
    base, accounts, app = server
    page = _page(browser, base, accounts["enterprise"])
    assert "/enterprise" in page.url
    page.fill("input[name=title]", "   ")
    page.click("form.need-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".field-error").first.inner_text() == "需求名称不能只填空格"
    _shoot(page, "enterprise-form-errors", "table.needs")
    page.fill("input[name=title]", "尼龙新材料改性工艺技术攻关")
    page.select_option("select[name=kind]", value="tech")
    page.fill("input[name=budget]", "60")
    page.fill("input[name=contact_person]", "李工")
    page.fill("input[name=required_expertise]", "高分子材料、材料工程")
    page.fill("textarea[name=description]", "寻求尼龙改性与注塑工艺方面的专家指导")
    page.click("form.need-form button[type=submit]")
    page.wait_for_load_state()
    assert "/enterprise/needs/" in page.url
    need_id = page.url.split("/enterprise/needs/")[1].split("?")[0]
    assert "待审核" in page.locator("table.matches").inner_text()
    assert not MOBILE.search(page.content())
    suggestions = app.store.suggestions(need_id=need_id)
    assert suggestions
    chosen = suggestions[0]
    review.decide(app, app.store.get_user("tech"), chosen.id, "approved",
                  "研究方向与需求吻合（浏览器测试）", chosen.version)
    page.reload()
    page.wait_for_load_state()
    row = page.locator(f'tr[data-talent="{chosen.talent_id}"]').first
    assert "已批准" in row.inner_text()
    contact = app.store.get_contact("talents", chosen.talent_id)
    if contact is not None and contact.phone:
        assert contact.phone in row.inner_text()
    _shoot(page, "enterprise-need-matches", "table.matches")
    page.goto(f"{base}/enterprise")
    _shoot(page, "enterprise-home", "table.needs")
    page.goto(f"{base}/enterprise/needs/{need_id}/edit")
    assert page.locator("input[name=title]").input_value() == "尼龙新材料改性工艺技术攻关"
    _shoot(page, "enterprise-need-edit", None)
    page.goto(f"{base}/demand-map", timeout=180_000)
    page.wait_for_selector("img#heatmap", timeout=180_000)
    _shoot(page, "enterprise-demand-map", "table#cells")
    page.context.close()


def test_organiser_creates_event_generates_and_downloads_one_version_twice(
        server: tuple[str, dict[str, Any], Application], browser: Any) -> None:
    base, accounts, _ = server
    page = _page(browser, base, accounts["organizer"])
    assert "/event" in page.url
    page.click("text=＋ 新建活动")
    page.wait_for_load_state()
    _shoot(page, "organiser-event-new", None)
    page.fill("input[name=name]", "新材料产业人才对接会")
    page.fill("input[name=date]", "2026-12-20")
    page.fill("input[name=venue]", "市人才大厦三楼报告厅")
    page.fill("input[name=theme]", "尼龙新材料")
    page.fill("input[name=capacity]", "40")
    page.click("form.event-form button[type=submit]")
    page.wait_for_load_state()
    assert "event_id=EV-" in page.url
    page.fill("input[name=m]", "2")
    page.click("form#generate button[type=submit]")
    page.wait_for_load_state()
    page.wait_for_selector("#version", timeout=180_000)
    assert page.locator("form#generate button").is_enabled()
    params = page.locator("p.params").inner_text()
    assert "每家企业强候选数 2" in params
    _shoot(page, "organiser-event", "#version table.list")
    link = page.locator("a.dl[data-format=xlsx]")
    with page.expect_download() as first_info:
        link.click()
    with page.expect_download() as second_info:
        link.click()
    first = Path(first_info.value.path()).read_bytes()
    second = Path(second_info.value.path()).read_bytes()
    assert first == second and first.startswith(b"PK")
    href = page.locator("a.dl[data-format=html]").get_attribute("href")
    page.goto(f"{base}{href}")
    assert "签到表" in page.title() and "市人才大厦三楼报告厅" in page.content()
    _shoot(page, "organiser-signin-print", "table")
    page.goto(f"{base}/demand-map", timeout=180_000)
    page.wait_for_selector("img#heatmap", timeout=180_000)
    _shoot(page, "organiser-demand-map", "table#cells")
    page.context.close()


def test_the_generate_button_is_disabled_while_a_version_is_being_generated(
        server: tuple[str, dict[str, Any], Application], browser: Any) -> None:
    base, accounts, _ = server
    page = _page(browser, base, accounts["organizer"])
    page.goto(f"{base}/event?event_id=EV-sample")
    page.click("form#generate button[type=submit]")
    page.wait_for_load_state()
    if page.locator("section.job progress").count():  # still running: disabled, with progress
        assert page.locator("form#generate button").is_disabled()
    page.wait_for_selector("#version", timeout=180_000)
    page.context.close()
