"""50 concurrent decisions on one suggestion through the real HTTP server (uvicorn on
loopback): exactly one wins, the others get 409, and the audit holds exactly one record."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from api.application import Application
from api.service.app import create_app
from api.service.auth import create_user
from api.service.serving import running_server

N = 50


def test_fifty_concurrent_decisions_one_wins(prepared_fresh: Application) -> None:
    application = prepared_fresh
    _, token = create_user(application.store, "c-admin", "admin")
    target = application.store.suggestions(status="proposed")[0]
    headers = {"Authorization": f"Bearer {token}"}
    barrier = threading.Barrier(N)
    with running_server(create_app(application=application)) as base, \
            httpx.Client(base_url=base, headers=headers, timeout=60) as client:

        def decide(i: int) -> int:
            barrier.wait()
            r = client.post(f"/api/v1/suggestions/{target.id}/decision",
                            json={"status": "approved" if i % 2 else "rejected",
                                  "reason": f"并发决定 {i}", "version": target.version})
            return r.status_code

        with ThreadPoolExecutor(max_workers=N) as pool:
            statuses = Counter(pool.map(decide, range(N)))
        audit = client.get(f"/api/v1/audit?suggestion_id={target.id}").json()["items"]
    assert statuses == Counter({200: 1, 409: N - 1})
    assert len(audit) == 1 and audit[0]["from_status"] == "proposed"
    stored = application.store.get_suggestion(target.id)
    assert stored is not None and stored.version == target.version + 1
