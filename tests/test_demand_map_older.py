"""After an index update the demand-map page shows the last computed map — the older index
version's, with a note saying so and (for an admin) the recompute button — and queues no
computation (#13: the page reads the last computed snapshot and never computes on request)."""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi.testclient import TestClient

from api.application import Application
from api.demand_export import compute, save_cached
from api.demand_service import index_version
from api.service.app import create_app
from api.service.auth import ensure_demo_accounts

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _login(client: TestClient, account: dict[str, Any]) -> str:
    client.cookies.clear()
    token = CSRF.search(client.get("/login").text)
    assert token
    client.post("/login", data={"username": account["username"],
                                "password": account["password"], "csrf": token.group(1)})
    found = CSRF.search(client.get("/event" if account["role"] == "organizer" else "/").text)
    assert found
    return found.group(1)


def test_the_page_shows_the_older_versions_map_and_offers_a_recompute(
        prepared_fresh: Application) -> None:
    app = prepared_fresh
    accounts = {a["username"]: a for a in ensure_demo_accounts(app)}
    save_cached(app, compute(app, by=("chain", "county")).to_dict(), None)
    computed_for = index_version(app)
    app.index_build(progress=False)  # a new index version: its map is not computed
    assert index_version(app) != computed_for
    with TestClient(create_app(application=app)) as client:
        csrf = _login(client, accounts["admin"])
        page = client.get("/demand-map")
        assert page.status_code == 200, page.text
        note = page.text.split('id="older-map"')[1].split("</section>")[0]
        assert f"索引版本 {computed_for} 上次计算" in note
        assert 'action="/demand-map/recompute"' in note and "重新计算" in note
        assert "单元格" in page.text  # the map itself is shown
        assert app.store.jobs(kind="demand_map", limit=10) == []  # nothing computed or queued
        assert client.get("/demand-map/download?format=csv").status_code == 200

        _login(client, accounts["organizer"])
        seen = client.get("/demand-map").text
        assert f"索引版本 {computed_for} 上次计算" in seen and "管理员可在本页" in seen
        assert 'action="/demand-map/recompute"' not in seen
        assert app.store.jobs(kind="demand_map", limit=10) == []

        csrf = _login(client, accounts["admin"])
        queued = client.post("/demand-map/recompute", data={"csrf": csrf},
                             follow_redirects=False)
        assert queued.status_code == 303 and "job=" in queued.headers["location"]
        [job] = app.store.jobs(kind="demand_map", limit=10)
        for _ in range(600):  # the job computes the serving version's map; then no note
            job = app.store.get_job(job.id) or job
            if not job.active:
                break
            time.sleep(0.2)
        assert job.status == "succeeded", job.error
        now = client.get("/demand-map")
        assert now.status_code == 200 and 'id="older-map"' not in now.text
