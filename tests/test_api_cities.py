"""Several cities on one installation (issue #14, item 3): the authorisation matrix across
cities.

The prepared environment is 平顶山's sample; this module adds a small 南阳 library (talents
that are twins of 平顶山 talents — so that both cities' talents rank for both cities' needs
and a missing filter shows —, an enterprise with needs, a challenge, a project, an event),
rebuilds the index, runs a province-wide pairing run, and creates accounts of every role in
each city plus an unscoped province admin. For each role a 南阳 account must not list,
search, read, match, review or export 平顶山 data, and the other way round; a province admin
sees both.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.application import Application
from api.service.app import create_app
from api.service.auth import create_user
from api.services import accounts, cities, need_form
from api.services.errors import Forbidden, Invalid
from data.records import Need, Talent

PDS, NY = "平顶山", "南阳"
ROLES = ("admin", "reviewer", "enterprise", "organizer")
NY_ONLY = "卧龙独有光电研究院"
"""A value that only a 南阳 record holds (a twin talent's employer and a need's title)."""


@dataclass
class Env:
    application: Application
    client: TestClient
    tokens: dict[str, str]  # "<role>@<city>" and "province"
    ids: dict[str, dict[str, list[str]]]  # city → entity → ids
    pds_need: str
    ny_need: str
    ny_talent: str
    run_id: str  # the province-wide pairing run

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, who: str, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.h(who))


def _nanyang(app: Application, pds_need: Need) -> dict[str, list[str]]:
    """Write the 南阳 library; returns its ids per entity."""
    store = app.store
    top = app.workflows().match_need(pds_need.id, k=10)["matches"]
    twins: list[dict[str, Any]] = []
    for i, m in enumerate(top[:6]):
        talent = store.get("talents", m["talent_id"])
        assert isinstance(talent, Talent)
        data = talent.model_dump(mode="json")
        data.update(id=f"NY-T{i:04d}", city=NY, hometown_county="卧龙区", ties=[],
                    organisation=NY_ONLY if i == 0 else data.get("organisation"))
        twins.append(data)
    store.upsert("talents", twins)
    store.upsert("enterprises", [{"id": "NY-E0001", "name": "南阳卧龙光电科技有限公司",
                                  "city": NY, "county": "卧龙区", "chains": ["数字光电"]}])
    need = pds_need.model_dump(mode="json")
    need.update(id="NY-N0001", city=NY, county="卧龙区", chain="数字光电",
                enterprise_id="NY-E0001", title=f"{NY_ONLY}光学镀膜需求")
    second = {**need, "id": "NY-N0002", "title": "南阳光电检测需求"}
    store.upsert("needs", [need, second])
    challenge = store.get("challenges", "C0001")
    assert challenge is not None
    store.upsert("challenges", [{**challenge.model_dump(mode="json"), "id": "NY-C0001",
                                 "city": NY, "county": "卧龙区", "enterprise_id": "NY-E0001",
                                 "chain": "数字光电"}])
    store.upsert("projects", [{"id": "NY-P0001", "name": "南阳光电归根项目", "status": "intended",
                               "city": NY, "county": "卧龙区"}])
    store.put_event({"id": "EV-ny", "name": "南阳光电对接会", "city": NY,
                     "time_slots": ["09:00-09:30"], "need_ids": ["NY-N0001", "NY-N0002"]})
    return {"talents": [t["id"] for t in twins], "enterprises": ["NY-E0001"],
            "needs": ["NY-N0001", "NY-N0002"], "challenges": ["NY-C0001"],
            "projects": ["NY-P0001"]}


@pytest.fixture(scope="module")
def env(prepared: Application) -> Env:
    app = prepared
    store = app.store
    needs = [n for n in store.iter("needs") if n.enterprise_id and n.status.value == "open"]
    pds_need = needs[0]
    ny_ids = _nanyang(app, pds_need)
    app.index_update(progress=False)
    run_id = str(app.workflows().pair_run(started_by="cities-test")["run_id"])
    ids = {NY: ny_ids, PDS: {e: [r.id for r in store.iter(e) if r.city == PDS]
                             for e in ny_ids}}
    tokens: dict[str, str] = {}
    for city, enterprise in ((PDS, pds_need.enterprise_id), (NY, "NY-E0001")):
        for role, extra in (("admin", {}), ("reviewer", {"work_group": "tech_return"}),
                            ("enterprise", {"enterprise_id": enterprise}), ("organizer", {})):
            _, tokens[f"{role}@{city}"] = create_user(store, f"c-{role}-{city}", role,
                                                       city=city, **extra)
    _, tokens["province"] = create_user(store, "c-province", "admin")
    client = TestClient(create_app(application=app))
    return Env(app, client, tokens, ids, pds_need.id, "NY-N0001", ny_ids["talents"][0], run_id)


def other(city: str) -> str:
    return NY if city == PDS else PDS


CITY_ROLES = [(role, city) for role in ROLES for city in (PDS, NY)]


def _items(env: Env, who: str, entity: str, **params: Any) -> list[dict[str, Any]]:
    r = env.get(who, f"/api/v1/{entity}", limit=500, **params)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


# -- accounts --------------------------------------------------------------------------------

def test_account_city_is_checked_against_the_taxonomy(env: Env) -> None:
    app = env.application
    user, _ = accounts.add(app, f"c-{uuid.uuid4().hex[:6]}", "organizer", city="nanyang")
    assert user.city == NY and user.public()["city"] == NY  # an alias is canonicalised
    assert app.store.get_user(user.username).city == NY  # type: ignore[union-attr]
    with pytest.raises(Invalid) as bad:
        accounts.add(app, "c-bad", "organizer", city="洛阳")
    assert "city" in bad.value.message and "洛阳" in bad.value.message
    assert "所属城市" in bad.value.message and "平顶山" in bad.value.message
    assert app.store.get_user("c-bad") is None


def test_city_scoped_admin_creates_accounts_of_its_city_only(env: Env) -> None:
    app = env.application
    admin = app.store.get_user(f"c-admin-{NY}")
    assert admin is not None and admin.city == NY
    made, _ = accounts.add(app, f"c-{uuid.uuid4().hex[:6]}", "organizer", creator=admin)
    assert made.city == NY  # none given: the creator's city
    with pytest.raises(Forbidden):
        accounts.add(app, "c-elsewhere", "organizer", city=PDS, creator=admin)
    province = app.store.get_user("c-province")
    assert province is not None and province.city is None
    unscoped, _ = accounts.add(app, f"c-{uuid.uuid4().hex[:6]}", "admin", creator=province)
    assert unscoped.city is None


def test_me_names_the_city(env: Env) -> None:
    assert env.get(f"reviewer@{NY}", "/api/v1/me").json()["city"] == NY
    assert env.get("province", "/api/v1/me").json()["city"] is None


# -- records: list, search, read -------------------------------------------------------------

STAFF_ENTITIES = ("talents", "enterprises", "needs", "challenges")


@pytest.mark.parametrize(("role", "city"), CITY_ROLES)
def test_lists_hold_only_the_callers_city(env: Env, role: str, city: str) -> None:
    who = f"{role}@{city}"
    for entity in (*STAFF_ENTITIES, *(("projects",) if role != "enterprise" else ())):
        items = _items(env, who, entity)
        assert {i["city"] for i in items} <= {city}, (who, entity)
        if role != "enterprise" or entity in ("talents", "enterprises"):
            assert items, f"{who} sees its own city's {entity}"


def test_province_admin_sees_both_cities(env: Env) -> None:
    for entity in (*STAFF_ENTITIES, "projects"):
        assert {i["city"] for i in _items(env, "province", entity)} == {PDS, NY}, entity


@pytest.mark.parametrize(("role", "city"), CITY_ROLES)
def test_another_citys_record_answers_like_a_missing_one(env: Env, role: str,
                                                        city: str) -> None:
    who = f"{role}@{city}"
    entities = ["talents", "enterprises"] if role == "enterprise" else [
        *STAFF_ENTITIES, *(("projects",) if role != "enterprise" else ())]
    for entity in entities:
        foreign = env.ids[other(city)][entity][0]
        got = env.get(who, f"/api/v1/{entity}/{foreign}")
        missing = env.get(who, f"/api/v1/{entity}/NO-SUCH-ID")
        assert got.status_code == missing.status_code == 404, (who, entity, got.text)
        assert got.json()["message"].replace(foreign, "<id>") == \
            missing.json()["message"].replace("NO-SUCH-ID", "<id>")
        own = env.ids[city][entity][0]
        assert env.get(who, f"/api/v1/{entity}/{own}").status_code == 200, (who, entity)


@pytest.mark.parametrize(("role", "city"), CITY_ROLES)
def test_search_never_finds_another_citys_record(env: Env, role: str, city: str) -> None:
    who = f"{role}@{city}"
    talents = _items(env, who, "talents", q=NY_ONLY)
    needs = _items(env, who, "needs", q=NY_ONLY)
    if city == PDS:
        assert talents == [] and needs == [], f"{who} finds a 南阳 record by its value"
        r = env.get(who, "/api/v1/talents", q=NY_ONLY)
        assert r.json()["total"] == 0  # the count neither
    else:
        assert env.ny_talent in {t["id"] for t in talents} or role == "enterprise"
        if role != "enterprise":
            assert [n["id"] for n in needs] == ["NY-N0001"]


def test_search_by_a_value_of_the_other_city_finds_it_for_the_province(env: Env) -> None:
    assert env.ny_talent in {t["id"] for t in _items(env, "province", "talents", q=NY_ONLY)}
    assert "NY-N0001" in {n["id"] for n in _items(env, "province", "needs", q=NY_ONLY)}
    pds_employer = next(t["organisation"] for t in _items(env, "province", "talents")
                        if t["city"] == PDS and t.get("organisation"))
    found = _items(env, f"reviewer@{NY}", "talents", q=pds_employer)
    assert {t["city"] for t in found} <= {NY}


# -- writes ----------------------------------------------------------------------------------

def test_scoped_writes_stay_in_the_callers_city(env: Env) -> None:
    made = env.client.post("/api/v1/projects", headers=env.h(f"admin@{NY}"), json={
        "id": f"NY-P-{uuid.uuid4().hex[:6]}", "name": "新项目", "status": "intended"})
    assert made.status_code == 201, made.text
    assert made.json()["city"] == NY
    refused = env.client.post("/api/v1/projects", headers=env.h(f"admin@{NY}"), json={
        "id": f"NY-P-{uuid.uuid4().hex[:6]}", "name": "新项目", "status": "intended",
        "city": PDS})
    assert refused.status_code == 422 and "city" in refused.json()["message"]
    foreign = env.ids[PDS]["projects"][0]
    patched = env.client.patch(f"/api/v1/projects/{foreign}", headers=env.h(f"admin@{NY}"),
                               json={"name": "改名"})
    assert patched.status_code == 404
    deleted = env.client.delete(f"/api/v1/projects/{foreign}", headers=env.h(f"admin@{NY}"))
    assert deleted.status_code == 404
    need = env.client.post("/api/v1/needs", headers=env.h(f"enterprise@{NY}"), json={
        "id": "N-probe", "kind": "tech", "title": "南阳企业的新需求", "chain": "数字光电",
        "county": "宛城"})
    assert need.status_code == 201, need.text
    assert need.json()["city"] == NY and need.json()["county"] == "宛城区"


def test_the_need_form_offers_the_enterprises_city_vocabularies(env: Env) -> None:
    app = env.application
    ny = app.store.get_user(f"c-enterprise-{NY}")
    pds = app.store.get_user(f"c-enterprise-{PDS}")
    assert ny is not None and pds is not None
    form = need_form.form_page(app, ny, {})
    assert "数字光电" in form.chains and "卧龙区" in form.counties
    assert "钧瓷文旅" not in form.chains
    assert "数字光电" not in need_form.form_page(app, pds, {}).chains
    values = {"title": "镀膜", "kind": "tech", "chain": "数字光电", "county": "卧龙"}
    checked = need_form.check(app, values, city=need_form.city_of(app, ny))
    assert checked.ok, checked.errors
    assert checked.body["county"] == "卧龙区"
    assert not need_form.check(app, values, city=need_form.city_of(app, pds)).ok


# -- matches ---------------------------------------------------------------------------------

def _match_cities(env: Env, rows: list[dict[str, Any]], key: str = "talent_id") -> set[str]:
    store = env.application.store
    out = set()
    for row in rows:
        record = (store.get("talents", row[key]) or store.get("needs", row[key])
                  or store.get("challenges", row[key]) or store.get("projects", row[key]))
        assert record is not None
        out.add(str(getattr(record, "city", "")))
    return out


def test_unscoped_matches_mix_cities_so_the_checks_can_fail(env: Env) -> None:
    for need_id in (env.pds_need, env.ny_need):
        r = env.get("province", f"/api/v1/needs/{need_id}/matches", k=20)
        assert _match_cities(env, r.json()["matches"]) == {PDS, NY}, need_id


@pytest.mark.parametrize(("role", "city"), CITY_ROLES)
def test_need_matches_keep_to_the_callers_city(env: Env, role: str, city: str) -> None:
    who = f"{role}@{city}"
    own, foreign = (env.pds_need, env.ny_need) if city == PDS else (env.ny_need, env.pds_need)
    assert env.get(who, f"/api/v1/needs/{foreign}/matches", k=20).status_code == 404
    r = env.get(who, f"/api/v1/needs/{own}/matches", k=20)
    if role == "enterprise" and city == PDS:
        assert r.status_code in (200, 404)  # its own enterprise's need only
        if r.status_code == 404:
            return
    assert r.status_code == 200, r.text
    matches = r.json()["matches"]
    assert matches and _match_cities(env, matches) == {city}


@pytest.mark.parametrize("who", [f"admin@{PDS}", f"reviewer@{PDS}"])
def test_a_scoped_caller_still_gets_k_matches_of_its_city(env: Env, who: str) -> None:
    """The top 20 over both cities holds 南阳 twins; a 平顶山 caller gets 20 of its own,
    in the province's order."""
    province = env.get("province", f"/api/v1/needs/{env.pds_need}/matches", k=100).json()
    top20 = province["matches"][:20]
    assert NY in _match_cities(env, top20)  # so the shortfall would show
    own = [m["talent_id"] for m in province["matches"]
           if _match_cities(env, [m]) == {PDS}][:20]
    got = env.get(who, f"/api/v1/needs/{env.pds_need}/matches", k=20).json()["matches"]
    assert [m["talent_id"] for m in got] == own and len(own) == 20


@pytest.mark.parametrize("city", [PDS, NY])
def test_talent_matches_and_leads_keep_to_the_callers_city(env: Env, city: str) -> None:
    who = f"admin@{city}"
    foreign = env.ids[other(city)]["talents"][0]
    assert env.get(who, f"/api/v1/talents/{foreign}/matches").status_code == 404
    own = env.ids[city]["talents"][0]
    r = env.get(who, f"/api/v1/talents/{own}/matches", k=50)
    assert r.status_code == 200, r.text
    body = r.json()
    assert _match_cities(env, body["needs"], "id") <= {city}
    assert _match_cities(env, body["projects"], "id") <= {city}
    challenge = "NY-C0001" if city == PDS else "C0001"
    assert env.get(who, f"/api/v1/challenges/{challenge}/leads").status_code == 404
    mine = "C0001" if city == PDS else "NY-C0001"
    leads = env.get(who, f"/api/v1/challenges/{mine}/leads").json()
    assert _match_cities(env, leads["leads"] + leads["team"]) <= {city}


# -- review ----------------------------------------------------------------------------------

def _need_city(env: Env, need_id: str) -> str:
    store = env.application.store
    need = store.get("needs", need_id) or store.get("challenges", need_id)
    assert need is not None
    return str(need.city)


def test_the_province_run_has_suggestions_in_both_cities(env: Env) -> None:
    items = _items(env, "province", "suggestions")
    assert {_need_city(env, s["need_id"]) for s in items} == {PDS, NY}


@pytest.mark.parametrize(("role", "city"), [(r, c) for r in ("admin", "reviewer")
                                            for c in (PDS, NY)])
def test_review_queue_detail_decision_and_audit_keep_to_the_city(env: Env, role: str,
                                                                 city: str) -> None:
    who = f"{role}@{city}"
    mine = _items(env, who, "suggestions")
    assert mine and {_need_city(env, s["need_id"]) for s in mine} == {city}
    foreign = next(s for s in _items(env, "province", "suggestions", group="tech_return")
                   if _need_city(env, s["need_id"]) == other(city))
    assert env.get(who, f"/api/v1/suggestions/{foreign['id']}").status_code == 404
    decided = env.client.post(f"/api/v1/suggestions/{foreign['id']}/decision",
                              headers=env.h(who), json={"status": "deferred", "reason": "跨城",
                                                        "version": foreign["version"]})
    assert decided.status_code == 404
    own = next(s for s in mine if s["work_group"] == "tech_return")
    ok = env.client.post(f"/api/v1/suggestions/{own['id']}/decision", headers=env.h(who),
                         json={"status": "deferred", "reason": "本城审核",
                               "version": own["version"]})
    assert ok.status_code == 200, ok.text
    trail = env.get(who, "/api/v1/audit").json()["items"]
    assert trail and {_need_city(env, d["need_id"]) for d in trail} == {city}


@pytest.mark.parametrize("city", [PDS, NY])
def test_pairing_runs_show_the_callers_city(env: Env, city: str) -> None:
    runs = [str(r["id"]) for r in env.application.store.runs("pairing")]
    assert env.run_id in runs
    full: list[dict[str, Any]] = []
    for run_id in runs:
        full += env.get("province", f"/api/v1/pairing-runs/{run_id}").json()["pairs"]
    assert {_need_city(env, p["need_id"]) for p in full} == {PDS, NY}
    for role in ("admin", "reviewer"):
        pairs: list[dict[str, Any]] = []
        for run_id in runs:
            shown = env.get(f"{role}@{city}", f"/api/v1/pairing-runs/{run_id}").json()
            pairs += shown["pairs"]
            assert {_need_city(env, n) for n in shown["alternates"]} <= {city}
            assert _match_cities(env, [{"talent_id": t} for ids in shown["alternates"].values()
                                       for t in ids]) <= {city}
        assert pairs and {_need_city(env, p["need_id"]) for p in pairs} == {city}, role
        assert _match_cities(env, pairs) <= {city}


# -- events and exports ----------------------------------------------------------------------

@pytest.mark.parametrize("city", [PDS, NY])
def test_events_keep_to_the_callers_city(env: Env, city: str) -> None:
    who = f"organizer@{city}"
    listed = {e["id"] for e in env.get(who, "/api/v1/events").json()["items"]}
    own, foreign = ("EV-sample", "EV-ny") if city == PDS else ("EV-ny", "EV-sample")
    assert own in listed and foreign not in listed
    assert env.get(who, f"/api/v1/events/{foreign}").status_code == 404
    started = env.client.post(f"/api/v1/events/{foreign}/shortlist", headers=env.h(who),
                              json={"m": 2})
    assert started.status_code == 404
    assert {"EV-sample", "EV-ny"} <= {e["id"] for e in
                                      env.get("province", "/api/v1/events").json()["items"]}


def test_a_scoped_shortlist_ranks_its_citys_talents(env: Env) -> None:
    started = env.client.post("/api/v1/events/EV-ny/shortlist", headers=env.h(f"organizer@{NY}"),
                              json={"m": 2})
    assert started.status_code == 202, started.text
    job = env.client.app.state.service.jobs.wait(started.json()["id"], timeout=300)  # type: ignore[attr-defined]
    assert job is not None and job.status == "succeeded", job
    entries = job.result["entries"]
    assert entries and _match_cities(env, entries) == {NY}


@pytest.mark.parametrize(("role", "city"), [(r, c) for r in ("admin", "organizer")
                                            for c in (PDS, NY)])
def test_exports_keep_to_the_callers_city(env: Env, role: str, city: str) -> None:
    for entity in ("talents", "needs"):
        r = env.get(f"{role}@{city}", f"/api/v1/export/{entity}", format="csv")
        assert r.status_code == 200, r.text
        rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
        ids = {row[0] for row in rows[1:] if row}
        assert ids and ids <= set(env.ids[city][entity]) | {
            i for i in ids if i.startswith("NY-P-") or i.startswith("N-")}, (role, entity)
        assert not ids & set(env.ids[other(city)][entity])
    both = env.get("province", "/api/v1/export/talents", format="csv").text
    assert env.ny_talent in both and env.ids[PDS]["talents"][0] in both


def test_the_scope_helpers_say_who_sees_what(env: Env) -> None:
    ny = env.application.store.get_user(f"c-reviewer-{NY}")
    province = env.application.store.get_user("c-province")
    assert ny is not None and province is not None
    assert cities.where(ny) == {"city": NY} and cities.where(province) == {}
    assert cities.home(env.application, province) == env.application.settings.city


def test_the_admin_page_adds_accounts_in_a_city(env: Env) -> None:
    from tests.test_review_pages import _login

    app = env.application
    password = "city-pass-123"
    create_user(app.store, "c-page-ny", "admin", password=password, city=NY)
    create_user(app.store, "c-page-all", "admin", password=password)
    with TestClient(create_app(application=app)) as client:
        csrf = _login(client, {"username": "c-page-ny", "password": password})
        page = client.get("/admin/users")
        assert "所属城市" in page.text and f'<option value="{PDS}">' not in page.text
        assert "c-province" not in page.text  # another scope's accounts are not listed
        made = client.post("/admin/users", data={"username": "c-page-made", "role": "organizer",
                                                 "password": password, "csrf": csrf})
        assert "已添加账号 c-page-made" in made.text
        assert app.store.get_user("c-page-made").city == NY  # type: ignore[union-attr]
        other_city = client.post("/admin/users", data={
            "username": "c-page-pds", "role": "organizer", "password": password,
            "city": PDS, "csrf": csrf})
        assert "只能创建「南阳」的账号" in other_city.text
        assert app.store.get_user("c-page-pds") is None
    with TestClient(create_app(application=app)) as client:
        csrf = _login(client, {"username": "c-page-all", "password": password})
        bad = client.post("/admin/users", data={"username": "c-page-bad", "role": "organizer",
                                                "password": password, "city": "火星",
                                                "csrf": csrf})
        assert "所属城市 city" in bad.text and "火星" in bad.text
        made = client.post("/admin/users", data={"username": "c-page-pds2", "role": "organizer",
                                                 "password": password, "city": PDS,
                                                 "csrf": csrf})
        assert "已添加账号" in made.text
        assert app.store.get_user("c-page-pds2").city == PDS  # type: ignore[union-attr]


def test_the_event_form_offers_and_stamps_the_organisers_city(env: Env) -> None:
    from api.services import event_form

    app = env.application
    ny = app.store.get_user(f"c-organizer-{NY}")
    assert ny is not None
    offered = event_form.choices(app, ny)
    assert "数字光电" in offered.chains
    assert offered.needs and {i for i, _ in offered.needs} <= set(env.ids[NY]["needs"]) | {
        i for i, _ in offered.needs if i.startswith("N-")} | set(env.ids[NY]["challenges"])
    assert env.pds_need not in {i for i, _ in offered.needs}
    checked = event_form.check(app, {"name": "南阳对接会", "time_slots": "09:00-09:30"},
                               ["数字光电"], [], ny)
    assert not checked.errors and checked.event is not None
    assert checked.event.city == NY
    assert event_form.check(app, {"name": "x", "time_slots": "09:00-09:30"}, [],
                            [env.pds_need], ny).errors.get("need_ids")


def _map(env: Env, who: str) -> dict[str, Any]:
    """The demand map as ``who`` gets it, waiting for its job when it is computed first."""
    r = env.get(who, "/api/v1/demand-map")
    if r.status_code == 202:
        job = env.client.app.state.service.jobs.wait(r.json()["job"]["id"], timeout=300)  # type: ignore[attr-defined]
        assert job is not None and job.status == "succeeded", job
        r = env.get(who, "/api/v1/demand-map")
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def test_the_demand_map_is_the_callers_citys(env: Env) -> None:
    ny = _map(env, f"reviewer@{NY}")
    pds = _map(env, f"reviewer@{PDS}")
    ny_ids = {i for c in ny["cells"] for i in c["need_ids"]}
    pds_ids = {i for c in pds["cells"] for i in c["need_ids"]}
    assert ny_ids and ny_ids <= set(env.ids[NY]["needs"]) | set(env.ids[NY]["challenges"]) | {
        i for i in ny_ids if i.startswith("N-")}
    assert pds_ids and not pds_ids & (set(env.ids[NY]["needs"]) | set(env.ids[NY]["challenges"]))
    assert {s["need_id"] for s in ny["scarce"]} <= ny_ids


def test_a_scoped_admin_imports_its_citys_rows_only(env: Env) -> None:
    foreign = env.ids[PDS]["projects"][-1]
    data = ("项目编号,项目名称,项目状态,所属城市\n"
            f"NY-PI-1,南阳导入项目,意向,\nNY-PI-2,越界项目,意向,平顶山\n{foreign},覆盖,意向,\n"
            ).encode()
    r = env.client.post("/api/v1/import/projects", headers=env.h(f"admin@{NY}"),
                        files={"file": ("p.csv", data, "text/csv")})
    assert r.status_code == 200, r.text
    errors = r.json()["errors"]
    assert [e["row"] for e in errors] == [3, 4], errors
    assert all("只能导入「南阳」" in e["reason"] for e in errors)
    assert errors[0]["field"] == "所属城市" and errors[1]["value"] == foreign
    before = env.application.store.get("projects", foreign)
    assert getattr(before, "city", None) == PDS and getattr(before, "name", "") != "覆盖"
    store = env.application.store
    assert getattr(store.get("projects", "NY-PI-1"), "city", None) == NY
    assert store.get("projects", "NY-PI-2") is None


def test_the_import_journal_shows_the_callers_citys_imports(env: Env) -> None:
    started = {}
    for city in (PDS, NY):
        data = f"项目编号,项目名称,项目状态\nJ-{city}-{uuid.uuid4().hex[:6]},{city}日志项目,意向\n"
        r = env.client.post("/api/v1/import/projects", headers=env.h(f"admin@{city}"),
                            files={"file": (f"{city}.csv", data.encode(), "text/csv")})
        assert r.status_code == 200, r.text
        started[city] = f"c-admin-{city}"
    for city in (PDS, NY):
        seen = env.get(f"admin@{city}", "/api/v1/imports", limit=1000).json()
        who = {i["started_by"] for i in seen["items"] + seen["incomplete"]}
        assert started[city] in who and started[other(city)] not in who, who
    everyone = env.get("province", "/api/v1/imports", limit=1000).json()["items"]
    assert {started[PDS], started[NY]} <= {i["started_by"] for i in everyone}


def test_jobs_of_another_city_are_not_shown(env: Env) -> None:
    made = env.client.post("/api/v1/events/EV-ny/shortlist", headers=env.h(f"organizer@{NY}"),
                           json={"m": 1})
    assert made.status_code == 202, made.text
    env.client.app.state.service.jobs.wait(made.json()["id"], timeout=300)  # type: ignore[attr-defined]
    shortlist = env.get("province", f"/api/v1/jobs/{made.json()['id']}").json()
    assert shortlist["params"]["city"] == NY
    assert env.get(f"admin@{PDS}", f"/api/v1/jobs/{shortlist['id']}").status_code == 404
    assert shortlist["id"] not in {j["id"] for j in env.get(
        f"admin@{PDS}", "/api/v1/jobs", limit=200).json()["items"]}
    assert env.get(f"admin@{NY}", f"/api/v1/jobs/{shortlist['id']}").status_code == 200
    assert env.get(f"organizer@{NY}", f"/api/v1/jobs/{shortlist['id']}").status_code == 200


def test_an_unscoped_enterprises_need_is_of_its_enterprises_city(env: Env) -> None:
    _, token = create_user(env.application.store, f"c-{uuid.uuid4().hex[:6]}", "enterprise",
                           enterprise_id="NY-E0001")
    r = env.client.post("/api/v1/needs", headers={"Authorization": f"Bearer {token}"},
                        json={"id": "N-x", "kind": "tech", "title": "无城市账号的需求",
                              "county": "卧龙"})
    assert r.status_code == 201, r.text
    assert r.json()["city"] == NY and r.json()["county"] == "卧龙区"
