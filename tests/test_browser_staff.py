"""Browser tests of the work groups' and admins' main tasks (issue #13 acceptance), in
Debian's Chromium through Playwright against the service on loopback:

* a 技术回归 reviewer approves 10 suggestions in at most 15 clicks, exports the 资智结对名单
  from the queue page, and the XLSX read back with openpyxl holds exactly those pairs with
  the decision, the reason and the Beijing time;
* an admin starts a pairing run from 「发起结对」, watches its progress, and opens the new
  run's suggestions in the queue.

Skipped loudly without chromium; failing instead under ``CI`` / ``TALENTMATCH_REQUIRE_BROWSER``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from api.application import Application
from tests.browser_support import login as _login

pytestmark = pytest.mark.browser


class Clicks:
    """Counts the clicks (and drop-down choices) a person makes on a page."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.n = 0

    def click(self, selector: str) -> None:
        self.n += 1
        self.page.click(selector)

    def choose(self, selector: str, label: str) -> None:
        self.n += 1  # opening the drop-down and picking an item: one choice
        self.page.select_option(selector, label=label)


def test_reviewer_bulk_approves_ten_and_exports_the_list(
        server: tuple[str, dict[str, Any], Application], browser: Any, tmp_path: Path) -> None:
    base, accounts, app = server
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    _login(page, base, accounts["tech"])
    assert "/review" in page.url
    clicks = Clicks(page)
    boxes = page.locator("input[name=ids]")
    assert boxes.count() >= 10
    picked = [boxes.nth(i).get_attribute("value").split(":")[0] for i in range(10)]
    for i in range(10):
        clicks.click(f"input[name=ids] >> nth={i}")
    assert page.inner_text("#picked") == "10"
    clicks.choose("#bulk select[name=preset]", "研究方向与需求吻合，同意对接")
    with page.expect_navigation():
        clicks.click("#bulk button.approve")
    assert clicks.n <= 15, clicks.n
    assert "已处理 10 条推荐" in page.content()
    assert "status=proposed" in page.url  # the queue keeps its filters
    for sid in picked:
        assert app.store.get_suggestion(sid).status.value == "approved"  # type: ignore[union-attr]
    # export the approved pairs from the queue page (its export form defaults to 已同意)
    with page.expect_download() as info:
        clicks.click("#export button.export-xlsx")
    target = tmp_path / "list.xlsx"
    info.value.save_as(target)
    wb = load_workbook(target)
    assert wb.sheetnames == ["封面", "名单"]
    cover = {r[0]: r[1] for r in wb["封面"].iter_rows(min_row=3, values_only=True)}
    assert cover["城市"] == app.settings.city and cover["工作小组"] == "技术回归"
    assert cover["已同意（条）"] == "10" and cover["导出人"] == "tech"
    sheet = wb["名单"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2,
                                                                      values_only=True)]
    assert len(rows) == 10
    expected = {(s.need_id, s.talent_id): s for s in
                (app.store.get_suggestion(sid) for sid in picked) if s is not None}
    assert {(r["需求编号"], r["人才编号"]) for r in rows} == set(expected)
    when = "决定时间（北京时间（Asia/Shanghai））"
    for r in rows:
        s = expected[(r["需求编号"], r["人才编号"])]
        assert r["审核决定"] == "已同意" and r["理由"] == "研究方向与需求吻合，同意对接"
        assert r["工作小组"] == "技术回归" and r["审核人"] == "tech"
        assert abs(float(r["得分"]) - s.score) < 1e-3
        decided = app.store.decisions(s.id)[-1].at.astimezone(dt.UTC).replace(microsecond=0)
        shown = dt.datetime.strptime(r[when], "%Y-%m-%d %H:%M:%S")
        assert shown - decided.replace(tzinfo=None) == dt.timedelta(hours=8)
        need = app.store.get("needs", s.need_id) or app.store.get("challenges", s.need_id)
        assert r["需求"] == need.title
    context.close()


def test_admin_starts_a_pairing_run_from_the_page(
        server: tuple[str, dict[str, Any], Application], browser: Any) -> None:
    base, accounts, app = server
    before = {r["id"] for r in app.store.runs("pairing")}
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _login(page, base, accounts["admin"])
    page.click("nav >> text=发起结对")
    page.wait_for_load_state()
    assert page.url.endswith("/admin/pairing")
    page.select_option("select[name=solver]", value="greedy")
    page.fill("input[name=max_load]", "2")
    page.fill("input[name=k]", "10")
    page.click("#pairing-form button[type=submit]")
    page.wait_for_load_state()
    assert "job=" in page.url
    # the page shows the job's progress and refreshes itself until the run is done
    page.wait_for_selector("#job[data-status=succeeded], #job[data-status=failed]",
                           timeout=240_000)
    assert page.get_attribute("#job", "data-status") == "succeeded", page.inner_text("#job")
    new = [r for r in app.store.runs("pairing") if r["id"] not in before]
    assert len(new) == 1
    run = new[0]
    assert run["solver"] == "greedy" and run["params"]["max_load"] == 2
    assert run["params"]["k"] == 10 and run["started_by"] == "admin"
    assert run["id"] in page.inner_text("#job")
    page.click("#job a")
    page.wait_for_load_state()
    assert re.search(rf"run={re.escape(run['id'])}", page.url)
    shown = page.locator("input[name=ids]").count()
    stored = [s for s in app.store.suggestions(run_id=run["id"]) if s.status.value == "proposed"]
    assert shown == min(20, len(stored))
    page.close()
