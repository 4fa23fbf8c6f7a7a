"""Demand-map snapshots are compared within one city (issue #14 item 3): on an installation
with several cities, 南阳's map never shows its change against 平顶山's last snapshot."""

from __future__ import annotations

from pathlib import Path

from api.application import Application
from api.demand_export import RUN_KIND, previous_snapshot, save_snapshot
from api.settings import Settings
from matching.demand_map import DemandMap

BY = ("chain", "county")


def _map() -> DemandMap:
    return DemandMap(by=list(BY), threshold=0.5, cells=[], totals={"scarcity": 1.0},
                     scarce=[], high_end=[])


def test_the_previous_snapshot_is_the_same_citys(tmp_path: Path) -> None:
    app = Application(Settings(database_url=f"sqlite:///{tmp_path / 'tm.db'}",
                               index_dir=tmp_path / "index"))
    assert previous_snapshot(app, BY, "南阳") == (None, None)
    ny = save_snapshot(app, _map(), city="南阳")
    pds = save_snapshot(app, _map())  # the settings' city
    assert app.settings.city == "平顶山"
    assert previous_snapshot(app, BY, "南阳")[0] == ny
    assert previous_snapshot(app, BY, "平顶山")[0] == pds
    assert previous_snapshot(app.for_city("南阳"), BY)[0] == ny  # what the map job reads
    assert previous_snapshot(app, ("chain",), "南阳") == (None, None)
    runs = {r["id"]: r for r in app.store.runs(RUN_KIND)}
    assert runs[ny]["params"]["city"] == "南阳" and runs[ny]["result"]["city"] == "南阳"


def test_a_snapshot_from_before_cities_counts_as_any_citys(tmp_path: Path) -> None:
    app = Application(Settings(database_url=f"sqlite:///{tmp_path / 'tm.db'}",
                               index_dir=tmp_path / "index"))
    app.store.add_run({"id": "D-old", "kind": RUN_KIND, "started_by": "cli",
                       "params": {"by": list(BY), "threshold": 0.5}, "solver": None,
                       "objective": 0.0, "duration_s": 0.0, "partial": False,
                       "result": {"by": list(BY), "threshold": 0.5, "totals": {},
                                  "cells": {}}}, [])
    assert previous_snapshot(app, BY, "南阳")[0] == "D-old"
    assert previous_snapshot(app, BY)[0] == "D-old"
