"""`talentmatch demand-map` end to end on a small sample, snapshots, and the web router.

One sample (150 talents, 30 needs) is loaded and indexed per module in a temporary folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from api.cli import app
from api.demand_export import FILES

runner = CliRunner()


@pytest.fixture(scope="module")
def sample_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("demand")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TALENTMATCH_DATABASE_URL", f"sqlite:///{root / 'tm.db'}")
        mp.setenv("TALENTMATCH_INDEX_DIR", str(root / "index"))
        mp.chdir(root)
        done = runner.invoke(app, ["sample", "--talents", "150", "--needs", "30", "--out",
                                   str(root / "s"), "--load"])
        assert done.exit_code == 0, done.output
        built = runner.invoke(app, ["index", "build", "--json"])
        assert built.exit_code == 0, built.output
        yield root


@pytest.fixture(scope="module")
def first_run(sample_env: Path) -> dict:
    out = sample_env / "out1"
    result = runner.invoke(app, ["demand-map", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _application():  # type: ignore[no-untyped-def]
    from api.application import Application
    from api.settings import get_settings

    return Application(get_settings())


def test_writes_every_file(sample_env: Path, first_run: dict) -> None:
    out = sample_env / "out1"
    for name in FILES:
        assert (out / name).stat().st_size > 0, name
    assert (out / "demand_map.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert json.loads((out / "demand_map.json").read_text(encoding="utf-8")) == first_run
    image = Image.open(out / "heatmap.png")
    assert image.size == (1800, 1200)  # 9 × 6 in at 200 dpi: twice the screen's resolution


def test_totals_equal_open_needs(sample_env: Path, first_run: dict) -> None:
    application = _application()
    open_needs = [n for e in ("needs", "challenges") for n in application.store.iter(e)
                  if str(n.status.value) == "open" and n.city == application.settings.city]
    assert first_run["totals"]["needs"] == len(open_needs) > 0
    assert sum(c["needs"] for c in first_run["cells"]) == len(open_needs)
    ids = sorted(i for c in first_run["cells"] for i in c["need_ids"])
    assert ids == sorted(n.id for n in open_needs)


def test_scarce_needs_have_no_talent_above_threshold(sample_env: Path, first_run: dict) -> None:
    threshold = first_run["threshold"]
    wf = _application().workflows()
    scarce = {s["need_id"] for s in first_run["scarce"]}
    assert scarce, "the sample should have some 紧缺 needs at the default threshold"
    every = {i for c in first_run["cells"] for i in c["need_ids"]}
    for need_id in every:
        scores = [m["score"] for m in wf.match_need(need_id, k=20)["matches"]]
        if need_id in scarce:
            assert all(s < threshold + 1e-4 for s in scores), (need_id, scores)
        else:
            assert any(s >= threshold - 1e-4 for s in scores), (need_id, scores)
    for item in first_run["scarce"]:
        for cand in item["nearest"]:
            assert cand["score"] < threshold + 1e-4


def test_second_run_compares_with_the_snapshot(sample_env: Path, first_run: dict) -> None:
    runs = _application().store.runs("demand_map")
    assert any(r["id"] == first_run["totals"]["snapshot"] for r in runs)
    result = runner.invoke(app, ["demand-map", "--out", str(sample_env / "out2"),
                                 "--threshold", "0.6"])
    assert result.exit_code == 0, result.output
    assert "较上期快照" in result.output
    again = json.loads((sample_env / "out2" / "demand_map.json").read_text(encoding="utf-8"))
    assert again["previous"] == first_run["totals"]["snapshot"]
    assert again["totals"]["scarcity_change"] == pytest.approx(
        again["totals"]["scarcity"] - first_run["totals"]["scarcity"], abs=1e-3)
    assert again["totals"]["scarcity"] >= first_run["totals"]["scarcity"]


def test_bad_options_are_refused(sample_env: Path) -> None:
    result = runner.invoke(app, ["demand-map", "--out", str(sample_env / "x"), "--by", "省份"])
    assert result.exit_code == 2
    assert "--by" in result.output
    result = runner.invoke(app, ["demand-map", "--out", str(sample_env / "x"), "--city", "火星"])
    assert result.exit_code == 2
    assert "--city" in result.output and "平顶山" in result.output
    assert "Usage" in runner.invoke(app, ["demand-map", "--help"]).output


def test_router_by_role(sample_env: Path, first_run: dict) -> None:
    pytest.importorskip("api.service.app")
    from fastapi.testclient import TestClient

    from api.service.app import create_app
    from api.service.auth import create_user

    application = _application()
    _, admin = create_user(application.store, "dm_admin", "admin")
    enterprise_id = next(iter(application.store.iter("enterprises"))).id
    _, ent = create_user(application.store, "dm_ent", "enterprise", enterprise_id=enterprise_id)
    client = TestClient(create_app(application=application))
    full = client.get("/api/v1/demand-map", headers={"Authorization": f"Bearer {admin}"})
    assert full.status_code == 200, full.text
    assert full.json()["totals"]["needs"] == first_run["totals"]["needs"]
    talent_ids = {t for c in full.json()["cells"] for t in c["talent_ids"]}
    assert talent_ids
    seen = client.get("/api/v1/demand-map", headers={"Authorization": f"Bearer {ent}"})
    assert seen.status_code == 200
    assert not any(t in seen.text for t in talent_ids)
    page = client.get("/demand-map", headers={"Authorization": f"Bearer {admin}"})
    assert page.status_code == 200 and "/demand-map/heatmap.png" in page.text
    picture = client.get("/demand-map/heatmap.png", headers={"Authorization": f"Bearer {ent}"})
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
    assert client.get("/api/v1/demand-map").status_code == 401
