"""The matching workflows end to end through the CLI, on a small sample and the real encoder."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wf")
    mp = pytest.MonkeyPatch()
    mp.setenv("TALENTMATCH_DATABASE_URL", f"sqlite:///{root / 'tm.db'}")
    mp.setenv("TALENTMATCH_INDEX_DIR", str(root / "index"))
    mp.chdir(root)
    out = runner.invoke(app, ["sample", "--talents", "150", "--needs", "30", "--out",
                              str(root / "s"), "--load"])
    assert out.exit_code == 0, out.output
    built = runner.invoke(app, ["index", "build", "--json"])
    assert built.exit_code == 0, built.output
    yield root
    mp.undo()


def _json(args: list[str]) -> dict:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_index_info_and_update(env: Path) -> None:
    info = _json(["index", "info", "--json"])
    assert info["counts"]["talents"] == 150 and info["dims"] == 512
    upd = _json(["index", "update", "--json"])
    assert upd["mode"] == "incremental"
    assert upd["stats"]["talents"] == {"changed": 0, "deleted": 0}
    assert upd["data_hash"] == info["data_hash"]


def test_match_need_is_explained_and_has_no_contacts(env: Path) -> None:
    result = runner.invoke(app, ["match", "need", "N0001", "-k", "5", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert 0 < len(data["matches"]) <= 5
    assert all(m["explanation"] for m in data["matches"])
    scores = [m["score"] for m in data["matches"]]
    assert scores == sorted(scores, reverse=True)
    assert "phone" not in result.stdout and "@" not in result.stdout


def test_match_unknown_need_is_a_clear_error(env: Path) -> None:
    result = runner.invoke(app, ["match", "need", "N9999"])
    assert result.exit_code == 2 and "N9999" in result.output


def test_match_talent_lists_needs(env: Path) -> None:
    data = _json(["match", "talent", "T000001", "--json"])
    assert data["talent"]["id"] == "T000001"
    assert isinstance(data["needs"], list) and isinstance(data["projects"], list)


def test_pair_run_respects_loads_and_is_not_duplicated(env: Path) -> None:
    first = _json(["pair", "run", "--max-load", "1", "--json"])
    assert set(first) == {"run_id", "solver", "objective", "partial", "messages", "pairs",
                          "alternates"}
    loads = Counter(p["talent_id"] for p in first["pairs"])
    assert max(loads.values()) == 1
    assert len({p["need_id"] for p in first["pairs"]}) == len(first["pairs"])
    shown = _json(["pair", "show", first["run_id"], "--json"])
    assert len(shown["pairs"]) == len(first["pairs"])
    assert all(p["status"] == "proposed" for p in shown["pairs"])
    again = _json(["pair", "run", "--max-load", "1", "--json"])
    again_shown = _json(["pair", "show", again["run_id"], "--json"])
    assert len(again_shown["pairs"]) == 0, "open suggestions must not be duplicated"


def test_unknown_solver_is_an_error(env: Path) -> None:
    result = runner.invoke(app, ["pair", "run", "--solver", "magic"])
    assert result.exit_code == 2 and "flow" in result.output


def test_infeasible_demand_is_partial_with_messages(env: Path) -> None:
    data = _json(["pair", "run", "--demand", "5", "--max-load", "1", "--min-score", "0.5",
                  "--json"])
    assert data["partial"] is True and data["messages"]


def test_event_shortlist_exports(env: Path) -> None:
    for fmt in ("xlsx", "csv", "html"):
        out = env / f"ev.{fmt}"
        data = _json(["event", "shortlist", "sample", "--export", fmt, "--out", str(out),
                      "--json"])
        assert out.exists() and data["talents"] > 0
    wb = load_workbook(env / "ev.xlsx")
    assert wb.sheetnames[0] == "名单" and wb["名单"].freeze_panes == "A2"
    assert (env / "ev.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert "签到" in (env / "ev.html").read_text(encoding="utf-8")


def test_leads_for_a_challenge(env: Path) -> None:
    data = _json(["leads", "C0001", "--json"])
    assert data["challenge"]["id"] == "C0001"
    assert data["team"] and data["team"][0]["role"] == "揭榜人"
    assert len({t["talent_id"] for t in data["team"]}) == len(data["team"])


def test_ranker_info_falls_back_to_fused(env: Path) -> None:
    assert _json(["ranker", "info"])["scorer"] == "fused"


def test_fused_weights_come_from_settings(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALENTMATCH_RANKING_WEIGHTS", '{"same_chain": 1.0}')
    data = _json(["match", "need", "N0001", "-k", "5", "--json"])
    for m in data["matches"]:
        nonzero = {k for k, v in m["contributions"].items() if v}
        assert nonzero <= {"same_chain"}
        assert m["score"] in (0.0, 1.0) or m["flags"]
