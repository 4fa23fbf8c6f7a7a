"""Review decisions and audit, errors and limits, settings, sessions/CSRF and the pages,
through the in-process client over a small sample with a real index."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.application import Application
from api.service.app import create_app
from api.service.auth import SecretKeyError, create_user, ensure_demo_accounts
from api.settings import Settings


@pytest.fixture(scope="module")
def application(prepared: Application) -> Application:
    return prepared


@pytest.fixture(scope="module")
def client(application: Application) -> TestClient:
    return TestClient(create_app(application=application))


@pytest.fixture(scope="module")
def tokens(application: Application) -> dict[str, str]:
    out = {}
    for name, role, extra in (("r-admin", "admin", {}),
                              ("r-tech", "reviewer", {"work_group": "tech_return"}),
                              ("r-talent", "reviewer", {"work_group": "talent_return"})):
        _, out[name] = create_user(application.store, name, role, **extra)
    return out


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_decision_flow_and_audit(client: TestClient, tokens: dict[str, str]) -> None:
    h = _h(tokens["r-tech"])
    queue = client.get("/api/v1/suggestions", headers=h).json()
    assert queue["total"] > 0
    assert {s["work_group"] for s in queue["items"]} == {"tech_return"}  # own group by default
    s = next(i for i in queue["items"] if i["status"] == "proposed")
    before = dt.datetime.now(dt.UTC)
    ok = client.post(f"/api/v1/suggestions/{s['id']}/decision", headers=h,
                     json={"status": "approved", "reason": "方向吻合，同意对接", "version": s["version"]})
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "approved" and ok.json()["version"] == s["version"] + 1
    stale = client.post(f"/api/v1/suggestions/{s['id']}/decision", headers=h,
                        json={"status": "rejected", "reason": "迟到的决定", "version": s["version"]})
    assert stale.status_code == 409 and "刷新" in stale.json()["message"]
    audit = client.get(f"/api/v1/audit?suggestion_id={s['id']}", headers=h).json()["items"]
    assert len(audit) == 1
    record = audit[0]
    assert record["actor"] == "r-tech" and record["reason"] == "方向吻合，同意对接"
    assert (record["from_status"], record["to_status"]) == ("proposed", "approved")
    assert dt.datetime.fromisoformat(record["at"]) >= before - dt.timedelta(seconds=1)


def test_queue_pages_from_sql_equal_slices_of_the_whole_queue(
        client: TestClient, tokens: dict[str, str], application: Application) -> None:
    from api.services import review

    for name, params in (("r-admin", {}), ("r-tech", {}), ("r-admin", {"status": "proposed"}),
                         ("r-admin", {"group": "tech_return"})):
        user = application.store.accounts.get_user(name)
        assert user is not None
        whole = review.queue(application, user, **params)
        assert len(whole) > 7, "the queue is long enough for pages to differ"
        for limit, offset in ((5, 0), (7, 3), (50, len(whole) - 2), (5, len(whole) + 1)):
            r = client.get("/api/v1/suggestions", headers=_h(tokens[name]),
                           params={**params, "limit": limit, "offset": offset})
            assert r.status_code == 200, r.text
            got = r.json()
            assert got["total"] == len(whole), (name, params)
            assert got["items"] == whole[offset:offset + limit], (name, params, limit, offset)


def test_reviewer_is_held_to_own_group(client: TestClient, tokens: dict[str, str],
                                       application: Application) -> None:
    other = application.store.suggestions(work_group="talent_return")
    h = _h(tokens["r-tech"])
    assert client.get("/api/v1/suggestions?group=talent_return", headers=h).status_code == 403
    if other:
        s = other[0]
        r = client.post(f"/api/v1/suggestions/{s.id}/decision", headers=h,
                        json={"status": "approved", "reason": "越权", "version": s.version})
        assert r.status_code == 403
    admin = client.get("/api/v1/suggestions?group=talent_return", headers=_h(tokens["r-admin"]))
    assert admin.status_code == 200


def test_decision_needs_a_reason_and_a_known_status(client: TestClient,
                                                    tokens: dict[str, str]) -> None:
    h = _h(tokens["r-tech"])
    s = client.get("/api/v1/suggestions?status=proposed", headers=h).json()["items"][0]
    for body in ({"status": "approved", "reason": "", "version": s["version"]},
                 {"status": "maybe", "reason": "x", "version": s["version"]}):
        r = client.post(f"/api/v1/suggestions/{s['id']}/decision", headers=h, json=body)
        assert r.status_code == 422 and r.json()["message"].startswith("请求参数无效")


def test_errors_are_json_with_chinese_messages(client: TestClient,
                                               tokens: dict[str, str]) -> None:
    h = _h(tokens["r-admin"])
    missing = client.get("/api/v1/needs/N9999/matches", headers=h)
    assert missing.status_code == 404 and "N9999" in missing.json()["message"]
    bad_chain = client.post("/api/v1/needs", headers=h,
                            json={"id": "NX-1", "kind": "tech", "title": "t", "chain": "火星产业"})
    assert bad_chain.status_code == 422 and "chain" in bad_chain.json()["message"]
    invalid = client.post("/api/v1/needs", headers=h, json={"id": "NX-2", "kind": "nope"})
    assert invalid.status_code == 422 and "kind" in invalid.json()["message"]
    dup = client.post("/api/v1/projects", headers=h,
                      json={"id": "PD-1", "name": "项目", "status": "intended"})
    assert dup.status_code == 201
    again = client.post("/api/v1/projects", headers=h,
                        json={"id": "PD-1", "name": "项目", "status": "intended"})
    assert again.status_code == 409


def test_import_upload_reports_rows_and_limits(client: TestClient,
                                               tokens: dict[str, str]) -> None:
    h = _h(tokens["r-admin"])
    csv = "项目编号,项目名称,项目状态\nPI-1,好项目,意向\nPI-2,坏项目,不知道\n".encode()
    r = client.post("/api/v1/import/projects", headers=h, files={"file": ("p.csv", csv)})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["inserted"] == 1 and report["rejected"] == 1
    assert report["errors"][0]["row"] == 3
    wrong = client.post("/api/v1/import/projects", headers=h, files={"file": ("p.pdf", b"x")})
    assert wrong.status_code == 400 and "格式" in wrong.json()["message"]
    big = client.post("/api/v1/import/projects", headers=h,
                      files={"file": ("p.csv", b"a" * (21 * 1024 * 1024))})
    assert big.status_code == 413 and "20 MB" in big.json()["message"]
    body = client.post("/api/v1/projects", headers={**h, "content-type": "application/json"},
                       content=b"[" + b"1," * 600_000 + b"1]")
    assert body.status_code == 413 and "1 MB" in body.json()["message"]


def test_production_refuses_the_default_secret(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", environment="production")
    with pytest.raises(SecretKeyError, match="TALENTMATCH_SECRET_KEY"):
        create_app(settings)
    ok = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", environment="production",
                  secret_key="a-long-random-production-secret-of-48-characters")
    assert create_app(ok) is not None


def _login(client: TestClient, username: str, password: str) -> str:
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text
    r = client.post("/login", data={"username": username, "password": password,
                                    "csrf": csrf.group(1)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf.group(1)


def test_session_login_csrf_and_pages(application: Application) -> None:
    accounts = {a["role"] + (a["work_group"] or ""): a for a in ensure_demo_accounts(application)}
    assert ensure_demo_accounts(application)  # idempotent
    client = TestClient(create_app(application=application))
    assert client.get("/review", headers={"accept": "text/html"},
                      follow_redirects=False).headers["location"] == "/login"
    tech = accounts["reviewertech_return"]
    bad = client.post("/login", data={"username": "tech", "password": "x", "csrf": "forged"})
    assert bad.status_code == 403
    _login(client, tech["username"], tech["password"])
    cookie = client.cookies.get("tm_session")
    assert cookie
    queue = client.get("/review?group=&status=proposed")
    assert queue.status_code == 200 and "审核队列" in queue.text
    sid = re.search(r'href="/review/([^"?]+)', queue.text)
    assert sid
    detail = client.get(f"/review/{sid.group(1)}")
    assert "各项特征贡献" in detail.text and 'class="bar' in detail.text
    # a cookie-authenticated API write without the CSRF header is refused
    s = application.store.get_suggestion(sid.group(1))
    assert s is not None
    r = client.post(f"/api/v1/suggestions/{s.id}/decision",
                    json={"status": "deferred", "reason": "x", "version": s.version})
    assert r.status_code == 403 and "CSRF" in r.json()["message"]
    csrf = re.search(r'name="csrf" value="([^"]+)"', detail.text)
    assert csrf
    form = client.post(f"/review/{s.id}/decision", data={
        "status": "deferred", "reason": "需补充材料", "version": s.version, "csrf": csrf.group(1)},
        follow_redirects=False)
    assert form.status_code == 303
    assert "需补充材料" in client.get("/audit").text
    forged = client.post(f"/review/{s.id}/decision", data={
        "status": "approved", "reason": "伪造", "version": s.version + 1, "csrf": "bad"})
    assert forged.status_code == 403


def test_enterprise_page_posts_need_and_masks(application: Application) -> None:
    accounts = {a["role"]: a for a in ensure_demo_accounts(application)}
    client = TestClient(create_app(application=application))
    ent = accounts["enterprise"]
    _login(client, ent["username"], ent["password"])
    page = client.get("/enterprise")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    r = client.post("/enterprise/needs", data={
        "title": "锂电池隔膜涂覆工艺攻关", "kind": "tech", "description": "需要涂覆工艺专家",
        "required_expertise": "材料工程、化学工程", "chain": "", "csrf": csrf.group(1)})
    assert r.status_code == 200 and "匹配理由" in r.text
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", r.text) and "@" not in r.text


def test_demand_map_slot_is_optional() -> None:
    from api.service import deps

    assert callable(deps.current_user) and callable(deps.get_application)




def test_event_page_builds_shortlist_and_downloads(application: Application) -> None:
    accounts = {a["role"]: a for a in ensure_demo_accounts(application)}
    client = TestClient(create_app(application=application))
    org = accounts["organizer"]
    _login(client, org["username"], org["password"])
    page = client.get("/event")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert page.status_code == 200 and csrf
    r = client.post("/event/shortlist", data={"event_id": "EV-sample", "m": "2",
                                              "csrf": csrf.group(1)}, follow_redirects=False)
    assert r.status_code == 303 and "job=" in r.headers["location"]
    job_id = r.headers["location"].split("job=")[1]
    client.app.state.service.jobs.wait(job_id, timeout=300)  # type: ignore[attr-defined]
    r = client.get(r.headers["location"])
    assert r.status_code == 200 and "入选人才" in r.text
    links = re.findall(r'href="(/event/[^"]+/versions/[^"]+/export\?format=(\w+)[^"]*)"',
                       r.text)
    assert {fmt for _, fmt in links} == {"xlsx", "csv", "html"}
    xlsx = client.get(links[0][0])
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get("/review").status_code == 403


def test_matches_are_cached_per_need_and_k(client: TestClient, tokens: dict[str, str],
                                           application: Application) -> None:
    state = client.app.state.service  # type: ignore[attr-defined]
    h = _h(tokens["r-admin"])
    need = next(iter(application.store.iter("needs"))).id
    first = client.get(f"/api/v1/needs/{need}/matches?k=7", headers=h)
    hits = state.hits
    second = client.get(f"/api/v1/needs/{need}/matches?k=7", headers=h)
    assert first.json() == second.json() and len(first.json()["matches"]) == 7
    assert state.hits == hits + 1
    client.patch(f"/api/v1/needs/{need}", headers=h, json={"description": "新的描述"})
    misses = state.misses
    client.get(f"/api/v1/needs/{need}/matches?k=7", headers=h)
    assert state.misses == misses + 1  # the need changed: its hash is part of the key


def test_search_filters_and_paging(client: TestClient, tokens: dict[str, str],
                                   application: Application) -> None:
    h = _h(tokens["r-admin"])
    page = client.get("/api/v1/talents?limit=10&offset=5", headers=h).json()
    assert page["total"] == application.store.count("talents") and len(page["items"]) == 10
    assert page["items"][0]["id"] == application.store.ids("talents")[5]
    chain = next(t.chains[0] for t in application.store.iter("talents") if t.chains)
    hits = client.get("/api/v1/talents", params={"chain": chain, "limit": 500}, headers=h).json()
    assert hits["total"] == sum(chain in t.chains for t in application.store.iter("talents"))
    assert all(chain in t["chains"] for t in hits["items"])
    name = hits["items"][0]["name"]
    by_name = client.get("/api/v1/talents", params={"q": name}, headers=h).json()
    assert any(t["name"] == name for t in by_name["items"])


def test_warm_precomputes_every_open_need(client: TestClient, tokens: dict[str, str]) -> None:
    state = client.app.state.service  # type: ignore[attr-defined]
    state.clear_cache()
    warmed = state.warm()
    assert warmed == len(state.workflows.open_needs()) > 0
    misses = state.misses
    need_id = state.workflows.open_needs()[0].id
    r = client.get(f"/api/v1/needs/{need_id}/matches?k=20", headers=_h(tokens["r-admin"]))
    assert r.status_code == 200
    assert state.misses == misses, "a warmed need is served from the cache"


def test_search_filters_are_applied(client: TestClient, tokens: dict[str, str],
                                    application: Application) -> None:
    talents = list(application.store.iter("talents"))
    county = talents[0].hometown_county
    chain = talents[0].chains[0]
    r = client.get("/api/v1/talents", params={"county": county, "chain": chain, "limit": 500},
                   headers=_h(tokens["r-admin"]))
    assert r.status_code == 200
    want = {t.id for t in talents if t.hometown_county == county and chain in t.chains}
    assert {i["id"] for i in r.json()["items"]} == want and r.json()["total"] == len(want)
    needs = list(application.store.iter("needs"))
    r = client.get("/api/v1/needs", params={"kind": "tech", "limit": 500},
                   headers=_h(tokens["r-admin"]))
    assert r.json()["total"] == sum(1 for n in needs if n.kind == "tech")
