"""The work groups' and admins' pages of issue #13, through the in-process client: the
queue (choices, search, sort, pages), bulk decisions that keep the queue's place, the
detail page read from the run, re-deciding an approved pair, the 资智结对名单 (XLSX cover and
list sheets, CSV with BOM, A4 print view, contacts only for admins), the audit trail, the
Chinese error pages, the offline API docs, the admin pages and `talentmatch pair export`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.application import Application
from api.service.app import create_app
from api.service.auth import ensure_demo_accounts
from api.services.review_detail import sentence

HTML = {"accept": "text/html,application/xhtml+xml"}


@pytest.fixture(scope="module")
def accounts(prepared: Application) -> dict[str, dict[str, Any]]:
    return {a["username"]: a for a in ensure_demo_accounts(prepared)}


def _client(app: Application) -> TestClient:
    return TestClient(create_app(application=app))


def _login(client: TestClient, account: dict[str, Any]) -> str:
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text
    r = client.post("/login", data={"username": account["username"],
                                    "password": account["password"], "csrf": csrf.group(1)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    home = client.get(r.headers["location"])  # a new session has a new CSRF token
    fresh = re.search(r'name="csrf" value="([^"]+)"', home.text)
    assert fresh, home.text
    return fresh.group(1)


def _ids(html: str) -> list[str]:
    return re.findall(r'name="ids" value="([^"]+)"', html)


def test_queue_choices_search_sort_and_pages(prepared: Application,
                                             accounts: dict[str, dict[str, Any]]) -> None:
    client = _client(prepared)
    _login(client, accounts["admin"])
    page = client.get("/review?status=&sort=score")
    assert page.status_code == 200
    scores = [float(x) for x in re.findall(r'<td class="num">([-\d.]+)</td>', page.text)]
    assert len(scores) > 2 and scores == sorted(scores, reverse=True)
    asc = client.get("/review?status=&sort=score_asc").text
    low = [float(x) for x in re.findall(r'<td class="num">([-\d.]+)</td>', asc)]
    assert low == sorted(low) and low[0] <= scores[-1]
    # county and chain drop-downs come from the taxonomy, not from the rows shown
    counties = re.search(r'<select name="county">(.*?)</select>', page.text, re.S)
    assert counties and "宝丰县" in counties.group(1) and "高新区" in counties.group(1)
    chains = re.search(r'<select name="chain">(.*?)</select>', page.text, re.S)
    assert chains and "尼龙新材料" in chains.group(1)
    # the enterprise column and a search by a talent's name
    assert "<th>企业</th>" in page.text
    items = prepared.store.suggestions()
    talent = prepared.store.get("talents", items[0].talent_id)
    found = client.get("/review", params={"status": "", "q": talent.name})
    rows = re.findall(r"<tr>\s*<td class=\"pick\">.*?</tr>", found.text, re.S)
    assert rows and all(talent.name in r for r in rows)
    none = client.get("/review", params={"status": "", "q": "不存在的名字xyz"})
    assert "没有符合条件的推荐" in none.text
    # page numbers
    total = int(re.search(r"共 (\d+) 条", page.text).group(1))  # type: ignore[union-attr]
    if total > 20:
        assert re.search(r'href="/review\?[^"]*page=2">2</a>', page.text)


def test_bulk_approve_keeps_the_queue_place_and_exports(prepared: Application,
                                                        accounts: dict[str, dict[str, Any]]
                                                        ) -> None:
    client = _client(prepared)
    csrf = _login(client, accounts["tech"])
    queue = client.get("/review?status=proposed&sort=score")
    picked = _ids(queue.text)[:5]
    assert len(picked) == 5
    back = re.search(r'name="back" value="([^"]+)"', queue.text).group(1)  # type: ignore[union-attr]
    r = client.post("/review/bulk", data={"ids": picked, "status": "approved",
                                          "preset": "研究方向与需求吻合，同意对接",
                                          "note": "批量测试", "back": back.replace("&amp;", "&"),
                                          "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    where = parse_qs(urlparse(r.headers["location"]).query)
    assert where["status"] == ["proposed"] and where["sort"] == ["score"]
    assert where["page"] == ["1"] and where["done"] == ["5"]
    for token in picked:
        s = prepared.store.get_suggestion(token.split(":")[0])
        assert s is not None and s.status.value == "approved"
    assert "已处理 5 条推荐" in client.get(r.headers["location"]).text
    # a stale version is not decided; nothing is selected → a Chinese message
    again = client.post("/review/bulk", data={"ids": picked[:1], "status": "rejected",
                                              "preset": "专业方向不符", "back": back,
                                              "csrf": csrf}, follow_redirects=False)
    assert "需勾选" in parse_qs(urlparse(again.headers["location"]).query)["error"][0]
    empty = client.post("/review/bulk", data={"status": "approved", "preset": "x",
                                              "back": back, "csrf": csrf},
                        follow_redirects=False)
    assert "请先勾选" in parse_qs(urlparse(empty.headers["location"]).query)["error"][0]
    # the 资智结对名单: XLSX with a cover sheet and the list
    x = client.get("/pair-list", params={"format": "xlsx", "status": "approved"})
    assert x.status_code == 200
    wb = load_workbook(io.BytesIO(x.content))
    assert wb.sheetnames == ["封面", "名单"]
    cover = {r[0]: r[1] for r in wb["封面"].iter_rows(min_row=3, values_only=True)}
    assert cover["工作小组"] == "技术回归" and cover["导出人"] == "tech"
    assert cover["已同意（条）"] == str(len(wb["名单"]["A"]) - 1)
    header = [c.value for c in wb["名单"][1]]
    assert "决定时间（北京时间（Asia/Shanghai））" in header and "人才手机" not in header
    listed = {row[header.index("需求编号")]: row for row in
              wb["名单"].iter_rows(min_row=2, values_only=True)}
    approved = [s for s in prepared.store.suggestions(status="approved",
                                                      work_group="tech_return")]
    assert {s.need_id for s in approved} == set(listed)
    s0 = prepared.store.get_suggestion(picked[0].split(":")[0])
    assert s0 is not None
    row = next(r for r in wb["名单"].iter_rows(min_row=2, values_only=True)
               if r[header.index("人才编号")] == s0.talent_id and
               r[header.index("需求编号")] == s0.need_id)
    assert row[header.index("审核决定")] == "已同意"
    assert row[header.index("理由")] == "研究方向与需求吻合，同意对接；批量测试"
    decided = prepared.store.decisions(s0.id)[-1].at.replace(microsecond=0)
    shown = dt.datetime.strptime(str(row[header.index(header[14])]), "%Y-%m-%d %H:%M:%S")
    assert shown - decided.astimezone(dt.UTC).replace(tzinfo=None) == dt.timedelta(hours=8)
    # CSV with a UTF-8 BOM, the print view, contacts refused to a reviewer
    c = client.get("/pair-list", params={"format": "csv", "status": "approved"})
    assert c.content.startswith(b"\xef\xbb\xbf")
    assert len(list(csv.reader(io.StringIO(c.content.decode("utf-8-sig"))))) == len(listed) + 1
    h = client.get("/pair-list", params={"format": "html", "status": "approved"})
    assert "size: A4 landscape" in h.text and "签字" in h.text and s0.need_id in h.text
    refused = client.get("/pair-list", params={"format": "xlsx", "contacts": "true"},
                         headers=HTML)
    assert refused.status_code == 403 and "只有管理员" in refused.text and "<html" in refused.text


def test_admin_gets_contacts_only_when_asked(prepared: Application,
                                             accounts: dict[str, dict[str, Any]]) -> None:
    client = _client(prepared)
    _login(client, accounts["admin"])
    plain = load_workbook(io.BytesIO(client.get("/pair-list", params={
        "format": "xlsx", "status": ""}).content))
    assert "人才手机" not in [c.value for c in plain["名单"][1]]
    withc = load_workbook(io.BytesIO(client.get("/pair-list", params={
        "format": "xlsx", "status": "", "contacts": "true"}).content))
    header = [c.value for c in withc["名单"][1]]
    assert "人才手机" in header
    phones = [r[header.index("人才手机")] for r in withc["名单"].iter_rows(min_row=2,
                                                                        values_only=True)]
    assert any(p and re.fullmatch(r"1[3-9]\d{9}", str(p)) for p in phones)


def test_detail_reads_the_run_and_never_ranks(prepared: Application,
                                              accounts: dict[str, dict[str, Any]]) -> None:
    app = create_app(application=prepared)
    state = app.state.service

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("the detail page ranked the need again")

    state.match_need = refuse
    state.workflows.ranked = refuse
    client = TestClient(app)
    _login(client, accounts["tech"])
    queue = client.get("/review?status=proposed")
    first = _ids(queue.text)[0].split(":")[0]
    page = client.get(f"/review/{first}?status=proposed")
    assert page.status_code == 200
    s = prepared.store.get_suggestion(first)
    assert s is not None and s.contributions
    values = [float(v) for v in re.findall(r'<span class="bar-value">([-+\d.]+)</span>',
                                           page.text)]
    *parts, total = values
    assert abs(sum(parts) - total) < 0.002 and abs(total - s.score) < 0.0006
    assert "各项相加等于得分" in page.text and "合计 = 得分" in page.text
    shown = re.search(r'<p class="explanation">(.*?)</p>', page.text, re.S).group(1)  # type: ignore[union-attr]
    assert not re.search(r"语义相似度\d|关键词重合度\d", shown)
    assert "籍贯 / 乡情" in page.text and "回归意向" in page.text and "等级" in page.text
    nxt = re.search(r'href="/review/([^"?]+)\?[^"]*" class="next', page.text)
    assert nxt and nxt.group(1) != first
    run = prepared.store.get_run(s.run_id or "")
    alternates = (run or {}).get("result", {}).get("alternates", {}).get(s.need_id) or []
    for tid in alternates:
        assert re.search(rf'<a href="[^"]+">[^<]+</a> <span class="muted">{tid}', page.text)


def test_decision_goes_to_the_next_and_redeciding_needs_confirmation(
        prepared: Application, accounts: dict[str, dict[str, Any]]) -> None:
    client = _client(prepared)
    csrf = _login(client, accounts["tech"])
    ids = [i.split(":")[0] for i in _ids(client.get("/review?status=proposed").text)]
    s = prepared.store.get_suggestion(ids[0])
    assert s is not None
    r = client.post(f"/review/{s.id}/decision", data={
        "status": "approved", "preset": "具备相关成果与经验，同意推荐", "reason": "",
        "version": s.version, "back": "status=proposed", "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/review/{ids[1]}?")
    page = client.get(f"/review/{s.id}?status=")
    assert "确认更改已批准的决定" in page.text
    s = prepared.store.get_suggestion(s.id)
    assert s is not None and s.status.value == "approved"
    r = client.post(f"/review/{s.id}/decision", data={
        "status": "rejected", "reason": "改为驳回", "version": s.version, "back": "status=",
        "csrf": csrf}, follow_redirects=False)
    assert "确认" in parse_qs(urlparse(r.headers["location"]).query)["error"][0]
    assert prepared.store.get_suggestion(s.id).status.value == "approved"  # type: ignore[union-attr]
    r = client.post(f"/review/{s.id}/decision", data={
        "status": "rejected", "reason": "改为驳回", "version": s.version, "confirm": "1",
        "back": "status=", "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert prepared.store.get_suggestion(s.id).status.value == "rejected"  # type: ignore[union-attr]


def test_audit_names_filters_beijing_time_and_export(prepared: Application,
                                                     accounts: dict[str, dict[str, Any]]
                                                     ) -> None:
    client = _client(prepared)
    csrf = _login(client, accounts["tech"])
    ids = _ids(client.get("/review?status=proposed").text)[:1]
    client.post("/review/bulk", data={"ids": ids, "status": "deferred",
                                      "preset": "待工作专班会商", "back": "", "csrf": csrf})
    sid = ids[0].split(":")[0]
    s = prepared.store.get_suggestion(sid)
    assert s is not None
    need = prepared.store.get("needs", s.need_id) or prepared.store.get("challenges", s.need_id)
    page = client.get("/audit", params={"to_status": "deferred"})
    assert "北京时间（Asia/Shanghai）" in page.text and need.title in page.text
    assert "已同意" not in re.sub(r"<select.*?</select>", "", page.text, flags=re.S)
    at = prepared.store.decisions(sid)[-1].at.astimezone(dt.UTC)
    assert (at + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M") in page.text
    x = client.get("/audit/export", params={"format": "xlsx", "to_status": "deferred"})
    wb = load_workbook(io.BytesIO(x.content))
    sheet = wb["审计记录"]
    assert [c.value for c in sheet[1]][3] == "需求"
    assert all(r[7] == "暂缓" for r in sheet.iter_rows(min_row=2, values_only=True))
    c = client.get("/audit/export", params={"format": "csv"})
    assert c.content.startswith(b"\xef\xbb\xbf") and need.title in c.content.decode("utf-8-sig")


def test_pages_answer_chinese_html_errors_and_the_api_json(
        prepared: Application, accounts: dict[str, dict[str, Any]]) -> None:
    client = _client(prepared)
    _login(client, accounts["tech"])
    for path, method, status, words in (
            ("/review/NOPE-1", "GET", 404, "找不到推荐"),
            ("/no/such/page", "GET", 404, "页面不存在"),
            ("/admin/users", "GET", 403, "只有管理员"),
            ("/enterprise", "GET", 403, "无权访问"),
            ("/logout", "GET", 405, "不支持"),
            ("/admin/pairing", "PUT", 405, "不支持"),
            ("/review?page=abc", "GET", 422, "参数无效")):
        r = client.request(method, path, headers=HTML)
        assert r.status_code == status, (path, r.status_code)
        assert r.headers["content-type"].startswith("text/html"), path
        assert words in r.text and "<html" in r.text and "返回上一页" in r.text, path
    api = client.get("/api/v1/suggestions/NOPE-1", headers=HTML)
    assert api.status_code == 404 and api.json()["message"].startswith("找不到")
    bad = client.get("/api/v1/suggestions", params={"limit": "abc"})
    assert bad.status_code == 422
    assert all(re.search(r"[\u4e00-\u9fff]", d["message"]) for d in bad.json()["detail"])
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["message"] == "找不到该页面"


def test_api_docs_are_served_offline(prepared: Application) -> None:
    client = _client(prepared)
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower() and "http://" not in docs.text
    assert "https://" not in docs.text
    for src in re.findall(r'(?:src|href)="(/docs-static/[^"]+)"', docs.text):
        asset = client.get(src)
        assert asset.status_code == 200 and len(asset.content) > 1000, src
    assert client.get("/docs-static/swagger-ui-bundle.js").status_code == 200


def test_admin_pages_users_import_pairing_and_index(prepared_fresh: Application) -> None:
    accounts = {a["username"]: a for a in ensure_demo_accounts(prepared_fresh)}
    with TestClient(create_app(application=prepared_fresh)) as client:
        csrf = _login(client, accounts["admin"])
        r = client.post("/admin/users", data={"username": "new-rev", "role": "reviewer",
                                              "work_group": "talent_return",
                                              "password": "secret-123", "csrf": csrf})
        assert "已添加账号 new-rev" in r.text
        short = client.post("/admin/users", data={"username": "x2", "role": "admin",
                                                  "password": "short", "csrf": csrf})
        assert "至少 8 个字符" in short.text
        client.post("/admin/users/new-rev/disable", data={"csrf": csrf})
        assert prepared_fresh.store.get_user("new-rev").disabled  # type: ignore[union-attr]
        reset = client.post("/admin/users/new-rev/password", data={"csrf": csrf})
        password = re.search(r'<code id="new-password">([^<]+)</code>', reset.text)
        assert password and len(password.group(1)) >= 8
        # an import with one bad row: the row-error report names the row and the field
        data = ("编号,姓名,人才类别,手机\nT-web-1,张三,专业技术人才,13800138000\n"
                "T-web-2,李四,专业技术人才,12345\n").encode()
        imp = client.post("/admin/import", data={"entity": "talents", "csrf": csrf},
                          files={"file": ("人才.csv", data, "text/csv")})
        assert imp.status_code == 200 and 'class="list row-errors"' in imp.text
        assert re.search(r'<td class="num">3</td>', imp.text)
        assert prepared_fresh.store.get("talents", "T-web-1") is not None
        # 发起结对: the job's progress, then the run in the queue
        before = len(prepared_fresh.store.runs("pairing"))
        started = client.post("/admin/pairing", data={"solver": "greedy", "max_load": "2",
                                                      "demand": "1", "k": "10",
                                                      "min_score": "0", "csrf": csrf},
                              follow_redirects=False)
        job_id = parse_qs(urlparse(started.headers["location"]).query)["job"][0]
        for _ in range(600):
            page = client.get(f"/admin/pairing?job={job_id}")
            if 'data-status="succeeded"' in page.text or 'data-status="failed"' in page.text:
                break
            import time

            time.sleep(0.2)
        assert 'data-status="succeeded"' in page.text, page.text[-2000:]
        runs = prepared_fresh.store.runs("pairing")
        assert len(runs) == before + 1 and runs[0]["params"]["max_load"] == 2
        assert runs[0]["solver"] == "greedy" and runs[0]["id"] in page.text
        index = client.get("/admin/index")
        assert index.status_code == 200 and "编码器" in index.text


def test_cli_pair_export(prepared_fresh: Application, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    from api.cli import app as cli

    settings = prepared_fresh.settings
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", str(settings.database_url))
    monkeypatch.setenv("TALENTMATCH_INDEX_DIR", str(settings.index_dir))
    out = tmp_path / "名单.xlsx"
    r = CliRunner().invoke(cli, ["pair", "export", str(out), "--status", "proposed",
                                 "--group", "tech_return"])
    assert r.exit_code == 0, r.output
    wb = load_workbook(out)
    rows = list(wb["名单"].iter_rows(min_row=2, values_only=True))
    expected = prepared_fresh.store.suggestions(status="proposed", work_group="tech_return")
    assert len(rows) == len(expected) > 0
    bad = CliRunner().invoke(cli, ["pair", "export", str(tmp_path / "x.pdf")])
    assert bad.exit_code == 2 and ".xlsx" in bad.output
    csv_out = tmp_path / "all.csv"
    assert CliRunner().invoke(cli, ["pair", "export", str(csv_out)]).exit_code == 0
    assert csv_out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_sentence_drops_raw_numbers_only() -> None:
    assert sentence("研究方向匹配：尼龙66；语义相似度0.62；宝丰县籍；关键词重合度0.85") == \
        "研究方向匹配：尼龙66；宝丰县籍"
