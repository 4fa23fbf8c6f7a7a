"""The authorisation matrix: every role × every endpoint against the table in
``api.service.authz``, and no phone number or e-mail in any enterprise response."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.application import Application
from api.service.app import create_app
from api.service.auth import create_user
from api.service.authz import TABLE, allowed

ROLES = ("anonymous", "admin", "reviewer", "enterprise", "organizer")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[A-Za-z]{2,}")


@dataclass
class Env:
    application: Application
    client: TestClient
    tokens: dict[str, str]
    enterprise_id: str
    own_need: str
    other_need: str
    enterprise_texts: list[str] = field(default_factory=list)

    def headers(self, role: str) -> dict[str, str]:
        return {} if role == "anonymous" else {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture(scope="module")
def env(prepared: Application) -> Env:
    application = prepared
    store = application.store
    needs = [n for n in store.iter("needs") if n.enterprise_id]
    enterprise_id = needs[0].enterprise_id
    other = next(n for n in needs if n.enterprise_id != enterprise_id)
    tokens = {}
    for role, extra in (("admin", {}), ("reviewer", {"work_group": "tech_return"}),
                        ("enterprise", {"enterprise_id": enterprise_id}), ("organizer", {})):
        _, tokens[role] = create_user(store, f"m-{role}", role, **extra)
    client = TestClient(create_app(application=application))
    built = client.post("/api/v1/events/EV-sample/shortlist", json={"m": 2},
                        headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert built.status_code == 202, built.text
    _wait(client, built.json()["id"])
    return Env(application, client, tokens, enterprise_id, needs[0].id, other.id)


def _wait(client: TestClient, job_id: str) -> Any:
    """Block until the job has ended (long work answers 202 with a job)."""
    job = client.app.state.service.jobs.wait(job_id, timeout=300)  # type: ignore[attr-defined]
    assert job is not None and job.status == "succeeded", job
    return job


def _suggestion(env: Env) -> Any:
    return env.application.store.suggestions(work_group="tech_return", status="proposed")[0]


def _temp_project(env: Env) -> str:
    pid = f"P-{uuid.uuid4().hex[:8]}"
    env.application.store.upsert("projects", [{"id": pid, "name": "临时项目", "status": "intended"}])
    return pid


@dataclass
class Call:
    action: str
    method: str
    path: Callable[[Env], str]
    body: Callable[[Env], Any] | None = None
    files: dict[str, Any] | None = None


def _p(path: str) -> Callable[[Env], str]:
    return lambda env: path.format(own=env.own_need, ent=env.enterprise_id)


CALLS = [
    Call("me", "GET", _p("/api/v1/me")),
    Call("talents.read", "GET", _p("/api/v1/talents?limit=5")),
    Call("talents.read", "GET", _p("/api/v1/talents/T000001")),
    Call("talents.write", "PATCH", _p("/api/v1/talents/T000002"),
         lambda env: {"position": "总工程师"}),
    Call("enterprises.read", "GET", _p("/api/v1/enterprises?limit=3")),
    Call("enterprises.write", "PATCH", _p("/api/v1/enterprises/{ent}"),
         lambda env: {"description": "更新的简介"}),
    Call("needs.read", "GET", _p("/api/v1/needs")),
    Call("needs.read", "GET", _p("/api/v1/needs/{own}")),
    Call("needs.write", "POST", _p("/api/v1/needs"),
         lambda env: {"id": f"N-{uuid.uuid4().hex[:8]}", "kind": "tech", "title": "新需求",
                      "enterprise_id": env.enterprise_id}),
    Call("challenges.read", "GET", _p("/api/v1/challenges")),
    Call("challenges.write", "PATCH", _p("/api/v1/challenges/C0001"),
         lambda env: {"funding": 100}),
    Call("projects.read", "GET", _p("/api/v1/projects")),
    Call("projects.write", "POST", _p("/api/v1/projects"),
         lambda env: {"id": f"P-{uuid.uuid4().hex[:8]}", "name": "新项目", "status": "intended"}),
    Call("projects.write", "DELETE", lambda env: f"/api/v1/projects/{_temp_project(env)}"),
    Call("events.read", "GET", _p("/api/v1/events")),
    Call("events.write", "POST", _p("/api/v1/events"),
         lambda env: {"id": "EV-test", "name": "测试对接会", "time_slots": ["09:00-09:30"]}),
    Call("import", "POST", _p("/api/v1/import/projects"),
         files={"file": ("p.csv", "项目编号,项目名称,项目状态\nPX1,导入项目,意向\n".encode(),
                         "text/csv")}),
    Call("import", "GET", _p("/api/v1/imports")),
    Call("export", "GET", _p("/api/v1/export/projects?format=csv")),
    Call("matches.need", "GET", _p("/api/v1/needs/{own}/matches?k=5")),
    Call("matches.talent", "GET", _p("/api/v1/talents/T000001/matches?k=5")),
    Call("leads", "GET", _p("/api/v1/challenges/C0001/leads")),
    Call("runs.create", "POST", _p("/api/v1/pairing-runs"), lambda env: {"max_load": 2}),
    Call("runs.read", "GET", lambda env: f"/api/v1/pairing-runs/{_suggestion(env).run_id}"),
    Call("suggestions.read", "GET", _p("/api/v1/suggestions")),
    Call("suggestions.read", "GET", lambda env: f"/api/v1/suggestions/{_suggestion(env).id}"),
    Call("suggestions.decide", "POST",
         lambda env: f"/api/v1/suggestions/{_suggestion(env).id}/decision",
         lambda env: {"status": "deferred", "reason": "矩阵测试", "version":
                      _suggestion(env).version}),
    Call("audit.read", "GET", _p("/api/v1/audit")),
    Call("events.shortlist", "POST", _p("/api/v1/events/EV-sample/shortlist"),
         lambda env: {"m": 2}),
    Call("events.export", "GET", _p("/api/v1/events/EV-sample/export?format=csv")),
    Call("jobs.read", "GET", _p("/api/v1/jobs")),
    Call("index.update", "POST", _p("/api/v1/index/update")),
    Call("demand_map.compute", "POST", _p("/api/v1/demand-map/recompute")),
]


def test_every_action_of_the_table_is_exercised() -> None:
    assert {c.action for c in CALLS} == set(TABLE)


def _send(env: Env, call: Call, role: str) -> Any:
    path = call.path(env)
    kwargs: dict[str, Any] = {"headers": env.headers(role)}
    if call.body is not None:
        kwargs["json"] = call.body(env)
    if call.files is not None:
        kwargs["files"] = call.files
    response = env.client.request(call.method, path, **kwargs)
    if response.status_code == 202:  # a job: let it end before the next call of its kind
        _wait(env.client, response.json()["id"])
    return response


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.method} {c.action}")
def test_matrix(env: Env, call: Call, role: str) -> None:
    response = _send(env, call, role)
    if role == "anonymous":
        expected: Any = 401
    elif allowed(role, call.action):
        expected = "2xx"
    else:
        expected = 403
    got = response.status_code
    assert (200 <= got < 300) if expected == "2xx" else got == expected, (
        f"{role} {call.method} {call.path(env)} → {got}: {response.text[:300]}")
    body = response.json() if response.headers.get("content-type", "").startswith(
        "application/json") else None
    if got >= 400:
        assert body is not None and body["message"], response.text
    if role == "enterprise":
        assert not MOBILE.search(response.text), response.text[:500]
        assert not EMAIL.search(response.text), response.text[:500]


def test_healthz_needs_no_auth(env: Env) -> None:
    assert env.client.get("/healthz").json() == {"status": "ok"}


def test_contacts_exist_so_the_pii_check_can_fail(env: Env) -> None:
    admin = env.client.get("/api/v1/export/talents?format=csv&contacts=true",
                           headers=env.headers("admin"))
    assert admin.status_code == 200
    assert MOBILE.search(admin.text) or EMAIL.search(admin.text)
    plain = env.client.get("/api/v1/export/talents?format=csv", headers=env.headers("admin"))
    assert not MOBILE.search(plain.text) and not EMAIL.search(plain.text)
    organizer = env.client.get("/api/v1/export/talents?format=csv&contacts=true",
                               headers=env.headers("organizer"))
    assert organizer.status_code == 403


def test_event_export_contacts_by_role(env: Env) -> None:
    got = {role: env.client.get("/api/v1/events/EV-sample/export?format=csv",
                                headers=env.headers(role)).text
           for role in ("admin", "organizer")}
    assert all(MOBILE.search(t) or EMAIL.search(t) for t in got.values())


def test_enterprise_sees_own_needs_only(env: Env) -> None:
    h = env.headers("enterprise")
    items = env.client.get("/api/v1/needs?limit=500", headers=h).json()["items"]
    assert items and {n["enterprise_id"] for n in items} == {env.enterprise_id}
    assert env.client.get(f"/api/v1/needs/{env.other_need}", headers=h).status_code == 404
    assert env.client.get(f"/api/v1/needs/{env.other_need}/matches",
                          headers=h).status_code == 404


def test_enterprise_matches_hide_employer_until_approved(env: Env) -> None:
    h = env.headers("enterprise")
    masked = env.client.get(f"/api/v1/needs/{env.own_need}/matches?k=5", headers=h).json()
    full = env.client.get(f"/api/v1/needs/{env.own_need}/matches?k=5",
                          headers=env.headers("admin")).json()
    orgs = {m["organisation"] for m in full["matches"] if m["organisation"]}
    assert orgs, "the sample talents have employers"
    text = str(masked)
    assert not any(o in text for o in orgs)
    talent = masked["matches"][0]["talent_id"]
    talent_view = env.client.get(f"/api/v1/talents/{talent}", headers=h).json()
    assert "对接批准后可见" in str(talent_view.get("organisation")) and "contact" not in talent_view
    # approve a pairing of this talent with the enterprise's need: the employer shows
    from data.records import Suggestion, WorkGroup

    sid = f"S-{uuid.uuid4().hex[:8]}"
    env.application.store.add_suggestions([Suggestion(
        id=sid, need_id=env.own_need, talent_id=talent, score=0.5,
        work_group=WorkGroup.tech_return)])
    decided = env.client.post(f"/api/v1/suggestions/{sid}/decision", headers=env.headers("admin"),
                              json={"status": "approved", "reason": "对接成功", "version": 1})
    assert decided.status_code == 200, decided.text
    shown = env.client.get(f"/api/v1/talents/{talent}", headers=h).json()
    assert shown["organisation"] and "对接批准后可见" not in shown["organisation"]


def test_unknown_token_is_401_and_disabled_account_loses_access(env: Env,
                                                                tmp_path: Path) -> None:
    bad = env.client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and "令牌" in bad.json()["message"]
    _, token = create_user(env.application.store, "m-gone", "organizer")
    h = {"Authorization": f"Bearer {token}"}
    assert env.client.get("/api/v1/me", headers=h).status_code == 200
    env.application.store.set_user_disabled("m-gone")
    env.client.app.state.service.forget_users()  # type: ignore[attr-defined]
    assert env.client.get("/api/v1/me", headers=h).status_code == 401


# -- issue #11: what an enterprise (or a reviewer) must not learn ---------------------------

def _masked_talents(env: Env) -> list[Any]:
    """Talents whose employer the enterprise does not see (no approved pairing)."""
    from api.service.masking import approved_talents
    from data.store.users import User

    user = User(id="x", username="x", role="enterprise", enterprise_id=env.enterprise_id)
    approved = approved_talents(env.application.store, user)
    return [t for t in env.application.store.iter("talents") if t.id not in approved]


def _found(env: Env, role: str, q: str) -> set[str]:
    r = env.client.get("/api/v1/talents", params={"q": q, "limit": 500},
                       headers=env.headers(role))
    assert r.status_code == 200, r.text
    return {t["id"] for t in r.json()["items"]}


def test_search_does_not_reveal_masked_fields(env: Env) -> None:
    """A guessed employer, relative or 回避 entry plus a talent id must confirm nothing."""
    env.application.store.upsert("talents", [{
        "id": "T-SECRET", "name": "测试人才", "category": "专业技术",
        "organisation": "隐秘研究院甲", "parent_organisation": "保密控股乙",
        "relatives": ["欧阳秘亲"], "avoid": ["回避公司丙"]}])
    probes: list[tuple[str, str]] = [
        ("T-SECRET", v) for v in ("隐秘研究院甲", "保密控股乙", "欧阳秘亲", "回避公司丙")]
    for t in _masked_talents(env):
        hidden = [t.organisation, t.parent_organisation, *t.relatives, *t.avoid]
        probes += [(t.id, v) for v in hidden if v and len(v) >= 2]
    leaked, checked = [], 0
    for talent_id, value in probes[:80]:
        shown = env.client.get(f"/api/v1/talents/{talent_id}", headers=env.headers("enterprise"))
        if value in shown.text:  # visible elsewhere in the masked record: fair to find
            continue
        assert talent_id in _found(env, "admin", value), f"admin search misses {value}"
        checked += 1
        if talent_id in _found(env, "enterprise", value):
            leaked.append((talent_id, value))
    assert checked >= 4
    assert not leaked, f"search confirms masked values: {leaked[:5]}"


def _demand_map(env: Env, role: str) -> dict[str, Any]:
    r = env.client.get("/api/v1/demand-map", headers=env.headers(role))
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def test_enterprise_demand_map_is_own_needs_plus_aggregates(env: Env) -> None:
    store = env.application.store
    own = {n.id for e in ("needs", "challenges") for n in store.iter(e)
           if n.enterprise_id == env.enterprise_id}
    full = _demand_map(env, "admin")
    others = {i for c in full["cells"] for i in c["need_ids"]} - own
    assert others, "the map holds other enterprises' needs, so the check can fail"
    mine = _demand_map(env, "enterprise")
    cell_ids = {i for c in mine["cells"] for i in c["need_ids"]}
    assert cell_ids <= own, f"other enterprises' need ids: {sorted(cell_ids - own)[:5]}"
    assert {s["need_id"] for s in mine["scarce"]} <= own
    titles = {n.title for e in ("needs", "challenges") for n in store.iter(e)
              if n.id in others}
    text = str(mine["scarce"]) + str(mine["cells"])
    assert not [t for t in titles if t in text]
    assert mine["totals"] == full["totals"]  # the aggregates stay
    assert [c["scarcity"] for c in mine["cells"]] == [c["scarcity"] for c in full["cells"]]
    assert "talent_ids" not in str(mine)


def test_reviewer_sees_only_its_groups_alternates(env: Env) -> None:
    run_id = _suggestion(env).run_id
    full = env.client.get(f"/api/v1/pairing-runs/{run_id}", headers=env.headers("admin")).json()
    mine = env.client.get(f"/api/v1/pairing-runs/{run_id}",
                          headers=env.headers("reviewer")).json()
    store = env.application.store

    def group(need_id: str) -> str:
        need = store.get("needs", need_id) or store.get("challenges", need_id)
        assert need is not None
        return str(need.work_group.value)

    groups = {group(n) for n in full["alternates"]}
    assert len(groups) > 1, "the run has alternates of several groups, so the check can fail"
    assert mine["alternates"], "the reviewer still sees its own group's alternates"
    assert {group(n) for n in mine["alternates"]} == {"tech_return"}
    assert all(mine["alternates"][n] == full["alternates"][n] for n in mine["alternates"])
    others = {n for n in full["alternates"] if group(n) != "tech_return"}
    assert not [m for m in mine["messages"] if any(f"「{n}」" in m for n in others)]


def test_need_ids_of_other_enterprises_cannot_be_probed(env: Env) -> None:
    h = env.headers("enterprise")
    body = {"id": env.other_need, "kind": "tech", "title": "探测编号"}
    r = env.client.post("/api/v1/needs", headers=h, json=body)
    assert r.status_code == 201, r.text  # not 409 "已存在"
    created = r.json()
    assert created["id"] != env.other_need and created["enterprise_id"] == env.enterprise_id
    other = env.application.store.get("needs", env.other_need)
    assert other is not None and other.title != "探测编号"  # untouched
    fresh = env.client.post("/api/v1/needs", headers=h, json={**body, "id": "N-NEVER-USED"})
    assert fresh.status_code == 201 and fresh.json()["id"] != "N-NEVER-USED"
    # reading, changing or deleting: the same 404 as for an id that does not exist
    for method, suffix, payload in (("GET", "", None), ("PATCH", "", {"title": "x"}),
                                    ("DELETE", "", None), ("GET", "/matches", None)):
        answers = []
        for need_id in (env.other_need, "N-DOES-NOT-EXIST"):
            got = env.client.request(method, f"/api/v1/needs/{need_id}{suffix}", headers=h,
                                     json=payload)
            answers.append((got.status_code, got.json()["error"],
                            got.json()["message"].replace(need_id, "<id>")))
        assert answers[0] == answers[1] and answers[0][0] == 404, (method, suffix, answers)
