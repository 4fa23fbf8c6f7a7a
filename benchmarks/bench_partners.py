"""The organiser's and the demand map's acceptance figures (#13 items 9 and 12).

Run: ``python -m benchmarks.bench_partners [--talents 2000] [--needs 300] [--root DIR]``.

It prepares the sample (default: the sample size, 2,000 talents and 300 needs; an existing
``--root`` is reused), then, in process through the ASGI app (no network):

* makes sure the latest pairing run's ranked edges are reusable (a run younger than a day,
  over the current index, scorer and data: :mod:`api.edges`); when they are not (a sample
  prepared by an older version, a day later, data changed), it runs a pairing run first and
  reports its time (``pairing_run_s``);
* generates the 百名鹰才鹰商 sample event's shortlist as a background job and times it from
  the POST to the saved version (acceptance: ≤ 10 s), with how many needs were reused from
  the run and how many ranked (``shortlist_ranking``);
* times the same shortlist with every need ranked afresh, in process
  (``shortlist_ranked_s``: what it costs without a current pairing run);
* downloads each export of that version (xlsx with and without contacts, csv, the 签到表)
  several times and reports the slowest (acceptance: ≤ 2 s each, read from the saved files);
* computes the demand map once (a job), then times ``GET /demand-map`` (acceptance: ≤ 1 s).

It prints JSON with the figures and the machine's load average (other processes slow every
figure).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.application import Application
from api.service.app import create_app
from api.service.auth import ensure_demo_accounts
from api.settings import Settings

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _login(client: TestClient, account: dict[str, Any]) -> str:
    client.cookies.clear()
    token = CSRF.search(client.get("/login").text)
    assert token
    client.post("/login", data={"username": account["username"],
                                "password": account["password"], "csrf": token.group(1)})
    found = CSRF.search(client.get("/event").text if account["role"] == "organizer"
                        else client.get("/").text)
    assert found
    return found.group(1)


def _app(root: Path, talents: int, needs: int) -> Application:
    if (root / "tm.db").exists():
        return Application(Settings(database_url=f"sqlite:///{root / 'tm.db'}",
                                    index_dir=root / "index"))
    from api.service.demo import prepare

    root.mkdir(parents=True, exist_ok=True)
    return prepare(root, talents=talents, needs=needs)


def _current_run(app: Application) -> float | None:
    """Run a pairing run when the latest one's edges are not reusable; its seconds (None:
    the latest run was reusable)."""
    from api.edges import enterprises_of, reusable_edges
    from api.events import SAMPLE_EVENT
    from api.workflow_rows import in_event

    workflows = app.workflows()
    needs = [n for n in workflows.open_needs() if in_event(n, SAMPLE_EVENT)]
    _, reused = reusable_edges(workflows, needs, 20, enterprises_of(workflows, needs))
    if len(reused) == len(needs):
        return None
    t = time.perf_counter()
    workflows.pair_run(started_by="bench")
    return round(time.perf_counter() - t, 1)


def _ranked_afresh(app: Application, root: Path) -> float:
    """Seconds of the sample event's shortlist (same exports) with every need ranked."""
    from api.events import SAMPLE_EVENT

    workflows = app.workflows()
    _ = workflows.index, workflows.matcher  # loaded, as the service's are
    folder = Path(tempfile.mkdtemp(prefix="ranked-", dir=root))
    exports = [(fmt, folder / f"shortlist{'-contacts' if c else ''}.{fmt}", c)
               for fmt in ("xlsx", "csv", "html") for c in (False, True)]
    t = time.perf_counter()
    workflows.event_shortlist(SAMPLE_EVENT, m=3, meeting_cap=4, exports=exports, reuse=False)
    return round(time.perf_counter() - t, 2)


def run(root: Path, talents: int, needs: int, repeats: int = 5) -> dict[str, Any]:
    """Prepare (or reuse) the sample at ``root`` and measure; returns the figures."""
    t0 = time.perf_counter()
    app = _app(root, talents, needs)
    prepare_s = time.perf_counter() - t0
    accounts = {a["username"]: a for a in ensure_demo_accounts(app)}
    out: dict[str, Any] = {"talents": app.store.count("talents"),
                           "needs": app.store.count("needs"), "prepare_s": round(prepare_s, 1)}
    out["pairing_run_s"] = _current_run(app)
    with TestClient(create_app(application=app)) as client:
        csrf = _login(client, accounts["organizer"])
        client.get("/event?event_id=EV-sample")  # warm the index and the encoder
        started = time.perf_counter()
        answer = client.post("/event/shortlist", data={"event_id": "EV-sample", "m": "3",
                                                       "meeting_cap": "4", "csrf": csrf},
                             follow_redirects=False)
        location = answer.headers["location"]
        version = None
        while time.perf_counter() - started < 600:
            html = client.get(location).text
            found = re.search(r'id="version" data-version="([^"]+)"', html)
            if found and "正在后台生成" not in html:
                version = found.group(1)
                break
            time.sleep(0.1)
        out["shortlist_s"] = round(time.perf_counter() - started, 2)
        assert version, "the shortlist did not finish"
        job = app.store.get_job(version)
        out["shortlist_ranking"] = None if job is None else (job.result or {}).get("ranking")
        base = f"/event/EV-sample/versions/{version}/export"
        downloads: dict[str, float] = {}
        for name, query in (("xlsx", "format=xlsx"), ("xlsx_plain", "format=xlsx&contacts=0"),
                            ("csv", "format=csv"), ("signin_html", "format=html&contacts=0")):
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                assert client.get(f"{base}?{query}").status_code == 200
                times.append(time.perf_counter() - t)
            downloads[name] = round(max(times), 3)
        out["download_max_s"] = downloads
        _login(client, accounts["admin"])
        t = time.perf_counter()
        while client.get("/demand-map").status_code != 200:
            time.sleep(0.2)
        out["demand_map_compute_s"] = round(time.perf_counter() - t, 1)
        page_times = []
        for _ in range(repeats):
            t = time.perf_counter()
            assert client.get("/demand-map").status_code == 200
            page_times.append(time.perf_counter() - t)
        out["demand_map_page_max_s"] = round(max(page_times), 3)
    out["shortlist_ranked_s"] = _ranked_afresh(app, root)
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    out["cpus"] = os.cpu_count()
    return out


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--talents", type=int, default=2000)
    parser.add_argument("--needs", type=int, default=300)
    parser.add_argument("--root", type=Path, default=None)
    args = parser.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="tm-bench-partners-"))
    print(json.dumps(run(root, args.talents, args.needs), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
