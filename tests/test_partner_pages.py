"""The enterprise's and the organiser's pages over HTTP (#13 items 7–11): the need form's
Chinese errors, posting, editing and closing a need, the review status and the contact after
an approval, event creation, saved shortlist versions and their exports."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.application import Application
from api.service.app import create_app
from api.service.auth import ensure_demo_accounts
from api.services import review
from api.services.event_versions import CONTROLS
from data.records import Need

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@pytest.fixture(scope="module")
def env(prepared: Application) -> Iterator[tuple[TestClient, Application, dict[str, Any]]]:
    accounts = {a["username"]: a for a in ensure_demo_accounts(prepared)}
    with TestClient(create_app(application=prepared)) as client:
        yield client, prepared, accounts


def _login(client: TestClient, account: dict[str, Any]) -> str:
    client.cookies.clear()
    token = CSRF.search(client.get("/login").text)
    assert token
    answer = client.post("/login", data={"username": account["username"],
                                         "password": account["password"],
                                         "csrf": token.group(1)}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    page = client.get(answer.headers["location"])
    found = CSRF.search(page.text)
    assert found
    return found.group(1)


GOOD = {"title": "尼龙66改性工艺攻关", "kind": "tech", "description": "注塑件强度不足，寻求改性方案",
        "required_expertise": "高分子材料、注塑成型", "chain": "", "county": "", "budget": "80",
        "deadline": "", "min_title": "", "min_level": "", "contact_person": "王经理"}


def test_need_form_errors_are_chinese_next_to_their_field(env: Any) -> None:
    client, _, accounts = env
    csrf = _login(client, accounts["enterprise"])
    bad = {**GOOD, "title": "   ", "budget": "很多", "deadline": "2020-01-01",
           "contact_person": "  ", "csrf": csrf}
    answer = client.post("/enterprise/needs", data=bad, follow_redirects=False)
    assert answer.status_code == 422
    html = answer.text
    for field in ("title", "budget", "deadline", "contact_person"):
        assert f'id="err-{field}"' in html or f"{field}" in html
    errors = re.findall(r'class="field-error"[^>]*>([^<]+)<', html)
    assert len(errors) == 4, errors
    assert all(re.search(r"[\u4e00-\u9fff]", e) for e in errors)
    assert "需求名称不能只填空格" in html and "联系人不能只填空格" in html
    assert "预算（万元）须为数字" in html and "截止日期不能早于今天" in html
    assert "validation error" not in html.lower() and "Input should" not in html
    assert 'value="很多"' in html  # what was typed stays in the form


def test_the_county_defaults_to_the_enterprises(env: Any) -> None:
    client, app, accounts = env
    _login(client, accounts["enterprise"])
    enterprise = app.store.get("enterprises", accounts["enterprise"]["enterprise_id"])
    html = client.get("/enterprise").text
    if enterprise is not None and enterprise.county:
        assert re.search(rf'<option value="{re.escape(enterprise.county)}" selected>', html)
    for label in ("所在县区", "截止日期", "预算（万元）", "职称要求", "层次要求", "联系人"):
        assert label in html


def test_posted_need_enters_the_queue_and_shows_status_then_contact(env: Any) -> None:
    client, app, accounts = env
    csrf = _login(client, accounts["enterprise"])
    answer = client.post("/enterprise/needs", data={**GOOD, "csrf": csrf},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    need_id = answer.headers["location"].split("/")[-1].split("?")[0]
    need = app.store.get("needs", need_id)
    assert isinstance(need, Need) and need.contact_person == "王经理" and need.budget == 80
    queued = app.store.suggestions(need_id=need_id)
    assert queued and all(str(s.work_group.value) == "tech_return" for s in queued)
    assert all(s.status.value == "proposed" for s in queued)
    html = client.get(f"/enterprise/needs/{need_id}").text
    assert "待审核" in html and not MOBILE.search(html)
    first = queued[0]
    reviewer = app.store.get_user("tech")
    review.decide(app, reviewer, first.id, "approved", "方向吻合（测试）", first.version)
    contact = app.store.get_contact("talents", first.talent_id)
    html = client.get(f"/enterprise/needs/{need_id}").text
    row = re.search(rf'data-talent="{re.escape(first.talent_id)}".*?</tr>', html, re.S)
    assert row and "已批准" in row.group(0)
    if contact is not None and contact.phone:
        assert contact.phone in row.group(0)
    others = [s for s in queued[1:]]
    if others:
        other = re.search(rf'data-talent="{re.escape(others[0].talent_id)}".*?</tr>', html, re.S)
        assert other and "待审核" in other.group(0) and not MOBILE.search(other.group(0))


def test_edit_and_close_a_need(env: Any) -> None:
    client, app, accounts = env
    csrf = _login(client, accounts["enterprise"])
    answer = client.post("/enterprise/needs", data={**GOOD, "title": "待修改的需求", "csrf": csrf},
                         follow_redirects=False)
    need_id = answer.headers["location"].split("/")[-1].split("?")[0]
    form = client.get(f"/enterprise/needs/{need_id}/edit").text
    assert 'value="待修改的需求"' in form
    bad = client.post(f"/enterprise/needs/{need_id}/edit",
                      data={**GOOD, "title": "\u3000 ", "csrf": csrf})
    assert bad.status_code == 422 and "需求名称不能只填空格" in bad.text
    ok = client.post(f"/enterprise/needs/{need_id}/edit",
                     data={**GOOD, "title": "已修改的需求", "budget": "120", "csrf": csrf},
                     follow_redirects=False)
    assert ok.status_code == 303
    changed = app.store.get("needs", need_id)
    assert isinstance(changed, Need) and changed.title == "已修改的需求" and changed.budget == 120
    closed = client.post(f"/enterprise/needs/{need_id}/close", data={"csrf": csrf},
                         follow_redirects=False)
    assert closed.status_code == 303
    after = app.store.get("needs", need_id)
    assert isinstance(after, Need) and after.status.value == "closed"


def test_another_enterprises_need_cannot_be_edited(env: Any) -> None:
    client, app, accounts = env
    csrf = _login(client, accounts["enterprise"])
    own = accounts["enterprise"]["enterprise_id"]
    other = next(n for n in app.store.iter("needs") if n.enterprise_id != own)
    assert client.get(f"/enterprise/needs/{other.id}/edit").status_code == 404
    answer = client.post(f"/enterprise/needs/{other.id}/close", data={"csrf": csrf})
    assert answer.status_code == 404
    still = app.store.get("needs", other.id)
    assert isinstance(still, Need) and still.status.value == "open"


def _wait_for_version(client: TestClient, location: str) -> str:
    for _ in range(600):
        html = client.get(location).text
        found = re.search(r'id="version" data-version="([^"]+)"', html)
        if found and "正在后台生成" not in html:
            return found.group(1)
        assert "名单生成失败" not in html, html
        time.sleep(0.2)
    raise AssertionError("the shortlist job did not finish")


def test_organiser_creates_event_generates_and_downloads_the_version(env: Any) -> None:
    from openpyxl import load_workbook

    client, app, accounts = env
    csrf = _login(client, accounts["organizer"])
    bad = client.post("/event/new", data={"name": "  ", "capacity": "0", "csrf": csrf})
    assert bad.status_code == 422
    assert "活动名称不能只填空格" in bad.text and "名单容量须为 1 到 10000 之间的整数" in bad.text
    chain = next(n.chain for n in app.store.iter("needs") if n.chain)
    made = client.post("/event/new", data={
        "name": "测试对接会", "date": "2026-12-20", "venue": "市人才大厦三楼", "theme": "新材料",
        "capacity": "30", "time_slots": "09:00-09:30、09:30-10:00、10:00-10:30",
        "theme_chains": [chain], "csrf": csrf}, follow_redirects=False)
    assert made.status_code == 303, made.text
    event_id = made.headers["location"].split("event_id=")[1]
    started = client.post("/event/shortlist", data={"event_id": event_id, "m": "2",
                                                    "meeting_cap": "3", "csrf": csrf},
                          follow_redirects=False)
    assert started.status_code == 303
    version = _wait_for_version(client, started.headers["location"])
    page = client.get(f"/event?event_id={event_id}&version={version}").text
    assert f"{CONTROLS['m']} 2" in page and f"{CONTROLS['meeting_cap']} 3" in page
    base = f"/event/{event_id}/versions/{version}/export"
    first = client.get(f"{base}?format=xlsx")
    second = client.get(f"{base}?format=xlsx")
    assert first.status_code == 200 and first.content == second.content
    book = load_workbook(io.BytesIO(first.content))
    names = book["名单"]
    assert names.auto_filter.ref and names.page_setup.orientation == "landscape"
    assert names.sheet_properties.pageSetUpPr.fitToPage and names.page_setup.fitToWidth == 1
    header = [c.value for c in names[1]]
    reason = header.index("推荐理由") + 1
    assert names.max_row >= 2 and names.cell(2, reason).alignment.wrap_text
    params = {r[0]: r[1] for r in book["参数"].iter_rows(min_row=2, values_only=True)}
    assert params[CONTROLS["m"]] == "2" and params[CONTROLS["meeting_cap"]] == "3"
    assert params["地点"] == "市人才大厦三楼"
    plain = load_workbook(io.BytesIO(client.get(f"{base}?format=xlsx&contacts=0").content))
    phones = [r[10] for r in plain["名单"].iter_rows(min_row=2, values_only=True) if r[10]]
    assert all("****" in p for p in phones)
    csv = client.get(f"{base}?format=csv").content.decode("utf-8-sig")
    assert "\n日程" in csv and "时段,对接企业" in csv
    sheet = client.get(f"{base}?format=html&contacts=0")
    assert sheet.headers["content-disposition"].startswith("inline")
    assert "2026-12-20" in sheet.text and "市人才大厦三楼" in sheet.text
    body = sheet.text.split("<body>")[1]
    assert "A4 landscape" in sheet.text and not MOBILE.search(body)
    assert re.search(r"1[3-9]\d\*{4}\d{4}", body), "masked mobiles (138****1234) expected"
    # a second version with other parameters leaves the first one's files as they were
    again = client.post("/event/shortlist", data={"event_id": event_id, "m": "1",
                                                  "meeting_cap": "1", "csrf": csrf},
                        follow_redirects=False)
    newer = _wait_for_version(client, again.headers["location"])
    assert newer != version
    assert client.get(f"{base}?format=xlsx").content == first.content
    api = client.get(f"/api/v1/events/{event_id}/export?format=xlsx&version={version}")
    assert api.status_code == 200 and api.content == first.content


def test_shortlist_warnings_name_controls_of_the_form(env: Any) -> None:
    client, _, accounts = env
    csrf = _login(client, accounts["organizer"])
    started = client.post("/event/shortlist", data={"event_id": "EV-sample", "m": "20",
                                                    "meeting_cap": "1", "strong": "0.99",
                                                    "csrf": csrf}, follow_redirects=False)
    version = _wait_for_version(client, started.headers["location"])
    page = client.get(f"/event?event_id=EV-sample&version={version}").text
    notes = re.findall(r'<p class="note">([^<]+)</p>', page)
    assert notes, "expected warnings with m=20"
    named = {n for note in notes for n in re.findall(r"「([^」]+)」", note)}
    suggested = {n for n in named if n in CONTROLS.values()}
    assert suggested, notes
    new_form = client.get("/event/new").text
    for label in suggested:
        assert label in page or label in new_form
    for note in notes:
        if "可" in note and ("调高" in note or "降低" in note or "增加" in note):
            assert re.search(r"「[^」]+」", note), note


def _wait_for_map(client: TestClient) -> str:
    for _ in range(900):
        answer = client.get("/demand-map")
        if answer.status_code == 200:
            return answer.text
        assert "失败" not in answer.text, answer.text
        time.sleep(0.2)
    raise AssertionError("the demand map was not computed")


TALENT_ID = re.compile(r"\bT\d{6}\b")


def test_demand_map_reads_the_snapshot_names_talents_and_downloads(env: Any) -> None:
    from openpyxl import load_workbook

    client, app, accounts = env
    _login(client, accounts["admin"])
    html = _wait_for_map(client)
    assert "产业链 × 专业方向" not in html
    assert not TALENT_ID.search(html.split("<h2>单元格</h2>")[1]), "raw talent ids shown"
    before = len(app.store.jobs(kind="demand_map", limit=200))
    again = client.get("/demand-map")  # its ≤ 1 s goal: benchmarks.bench_partners
    assert again.status_code == 200
    assert len(app.store.jobs(kind="demand_map", limit=200)) == before  # nothing computed
    book = load_workbook(io.BytesIO(client.get("/demand-map/download?format=xlsx").content))
    assert book.sheetnames == ["单元格", "紧缺需求", "高精尖"]
    csv = client.get("/demand-map/download?format=csv")
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    csrf = CSRF.search(html)
    assert csrf and "重新计算" in html
    queued = client.post("/demand-map/recompute", data={"csrf": csrf.group(1)},
                         follow_redirects=False)
    assert queued.status_code == 303 and "job=" in queued.headers["location"]
    progress = client.get(queued.headers["location"]).text
    assert "高精尖缺人才需求分布图" in progress  # the last map stays on the page
    # enterprises: masked names, their own needs only in the 紧缺 list
    _login(client, accounts["enterprise"])
    mine = client.get("/demand-map").text
    assert "重新计算（管理员）" not in mine
    assert not TALENT_ID.search(mine)
    own = {n.title for n in app.store.iter("needs")
           if n.enterprise_id == accounts["enterprise"]["enterprise_id"]}
    scarce = mine.split('id="scarce"')[1].split("</table>")[0]
    titles = re.findall(r"<tr>\s*<td>([^<]+)</td>", scarce)
    assert all(t.strip() in own for t in titles), titles
    names = re.findall(r"([^\s；>（]+)（0\.\d+）缺", scarce)
    assert all("*" in n or n == "—" for n in names), names


def test_a_weak_best_match_is_marked(env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.services import matching

    client, app, accounts = env
    _login(client, accounts["enterprise"])
    own = next(n for n in app.store.iter("needs")
               if n.enterprise_id == accounts["enterprise"]["enterprise_id"])
    real = matching.need_matches

    def weak(*args: Any, **kwargs: Any) -> Any:
        return {**real(*args, **kwargs), "strength": "weak", "strength_zh": "匹配较弱",
                "top10_chance": 0.31}

    monkeypatch.setattr(matching, "need_matches", weak)
    html = client.get(f"/enterprise/needs/{own.id}").text
    first = re.search(r"<tbody>\s*<tr data-talent.*?</tr>", html, re.S)
    assert first and "匹配较弱" in first.group(0)
    assert "约 31%" in html
    monkeypatch.setattr(matching, "need_matches", real)
    html = client.get(f"/enterprise/needs/{own.id}").text
    strength = real(client.app.state.service, app.store.get_user("enterprise"), own.id, 20)
    assert ("匹配较弱" in html) == (strength.get("strength_zh") == "匹配较弱")
