"""``benchmarks.bench_ann`` (issue #14 item 4): the dense-index comparison runs on a built
index and reports recall against its own exact baseline."""

from __future__ import annotations

from pathlib import Path

from benchmarks.bench_ann import main


def test_bench_ann_reports_each_index_against_exact(prepared_template: Path,
                                                     capsys: object) -> None:
    out = main(["--root", str(prepared_template), "--queries", "20", "--depth", "30",
                "--threads", "1"])
    assert out["talents"] > 30 and out["depth"] == 30
    assert out["baseline_exact"]["recall"] == 1.0
    runs = out["hnsw"]["runs"] + out["hnsw_sq8"]["runs"] + out["ivf"]["runs"]
    assert len(runs) == 7
    for run in runs:
        assert 0.0 <= run["recall"] <= 1.0 and run["p50_ms"] >= 0.0
    # a small library: HNSW with twice the candidates, re-scored exactly, finds the top 30
    assert out["hnsw"]["runs"][-1]["recall"] > 0.9
    assert out["hnsw_sq8"]["runs"][-1]["recall"] > 0.9
