"""The CLI end to end on a temporary SQLite file: sample → import → stats → export."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'tm.db'}")
    monkeypatch.setenv("TALENTMATCH_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_command_has_help() -> None:
    for cmd in (["--help"], ["init", "--help"], ["import", "--help"], ["export", "--help"],
                ["sample", "--help"], ["stats", "--help"], ["demo", "--help"],
                ["evaluate", "--help"], ["index", "--help"], ["index", "build", "--help"],
                ["index", "update", "--help"], ["index", "info", "--help"]):
        result = runner.invoke(app, cmd)
        assert result.exit_code == 0, (cmd, result.output)
        assert "Usage" in result.output


def test_docs_cli_lists_every_command() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    for name in ("init", "import", "export", "sample", "stats", "demo", "evaluate",
                 "index build", "index update", "index info", "match need", "match talent",
                 "leads", "ranker train", "ranker info", "pair run", "pair show",
                 "event shortlist", "demand-map", "bench retrieval"):
        assert f"talentmatch {name}" in doc, name


def test_stats_json_on_empty_store(env: Path) -> None:
    result = runner.invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"talents": 0, "enterprises": 0, "needs": 0,
                                         "challenges": 0, "projects": 0,
                                         "incomplete_imports": []}


def test_gbk_import_reports_bad_rows_and_is_idempotent(env: Path) -> None:
    src = FIXTURES / "talents_gbk.csv"
    first = runner.invoke(app, ["import", "talents", str(src), "--json"])
    assert first.exit_code == 1  # rejected rows make the exit code 1
    report = json.loads(first.stdout)
    assert report["inserted"] == 10 and report["rejected"] == 3
    assert all(e["row"] and e["field"] for e in report["errors"])
    again = json.loads(runner.invoke(app, ["import", "talents", str(src), "--json"]).stdout)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 10)
    stats = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    assert stats["talents"] == 10


def test_national_id_column_is_refused(env: Path) -> None:
    bad = env / "ids.csv"
    bad.write_text("姓名,人才类别,人才编号,身份证号\n张三,专业技术,T1,410400199001011234\n",
                   encoding="utf-8")
    result = runner.invoke(app, ["import", "talents", str(bad)])
    assert result.exit_code == 2
    assert "身份证" in result.output
    assert json.loads(runner.invoke(app, ["stats", "--json"]).stdout)["talents"] == 0


def test_sample_load_then_export_masks_contacts(env: Path) -> None:
    result = runner.invoke(app, ["sample", "--talents", "60", "--needs", "20", "--out",
                                 str(env / "s"), "--load"])
    assert result.exit_code == 0, result.output
    stats = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    assert stats["talents"] == 60 and stats["needs"] + stats["challenges"] >= 20
    out = env / "t.csv"
    assert runner.invoke(app, ["export", "talents", str(out)]).exit_code == 0
    text = out.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    assert not re.search(r"1[3-9]\d{9}", text.decode("utf-8-sig")), "phone numbers leaked"
    with_contacts = env / "tc.csv"
    runner.invoke(app, ["export", "talents", str(with_contacts), "--contacts"])
    assert re.search(r"1[3-9]\d{9}", with_contacts.read_text(encoding="utf-8-sig"))


def test_data_format_doc_holds_the_column_table() -> None:
    from data.columns_doc import BEGIN, END, render

    doc = (Path(__file__).parents[1] / "docs" / "data-format.md").read_text(encoding="utf-8")
    table = doc.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert table == render().strip(), "run `python -m data.columns_doc` into docs/data-format.md"


def test_demo_runs_end_to_end_and_is_idempotent(env: Path) -> None:
    sample = env / "small"
    assert runner.invoke(app, ["sample", "--talents", "80", "--needs", "12", "--out",
                               str(sample)]).exit_code == 0
    first = runner.invoke(app, ["demo", "--sample-dir", str(sample)])
    assert first.exit_code == 0, first.output
    assert "资智结对" in first.output and "推荐理由" in first.output
    second = runner.invoke(app, ["demo", "--sample-dir", str(sample)])
    assert second.exit_code == 0, second.output
    assert "新增待审建议 0 条" in second.output
    stats = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    assert stats["talents"] == 80


def test_training_that_finds_no_usable_model_says_so_in_chinese(
        env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Self-supervised training that cannot keep the fused order (seen on the 114k sample)
    ends with the Chinese reason and exit code 2, not a traceback; nothing is saved."""
    from api.application import Application
    from matching.calibration import CalibrationFailed

    def failing(self: Application, **_: object) -> dict[str, object]:
        raise CalibrationFailed("自监督训练未得到保序的校准模型：融合得分的系数不为正")

    monkeypatch.setattr(Application, "ranker_train_self_supervised", failing)
    result = runner.invoke(app, ["ranker", "train", "--self-supervised"])
    assert result.exit_code == 2, result.output
    assert "融合得分的系数不为正" in result.output and "Traceback" not in result.output


def test_self_supervised_feature_flags_exclude_each_other(env: Path) -> None:
    help_text = runner.invoke(app, ["ranker", "train", "--help"]).output
    assert "--keep-order" in help_text and "--learn-weights" in help_text
    result = runner.invoke(app, ["ranker", "train", "--self-supervised", "--keep-order",
                                 "--learn-weights"])
    assert result.exit_code == 2, result.output
    assert "只能选一个" in result.output and "Traceback" not in result.output


def test_adapter_without_pseudo_needs_says_so_in_chinese(env: Path) -> None:
    lone = env / "talents.jsonl"
    lone.write_text('{"id": "T1", "name": "甲", "text": "", "items": [{"title": "煤矿安全"}]}\n',
                    encoding="utf-8")
    result = runner.invoke(app, ["encoder", "adapt", "--talents", str(lone)])
    assert result.exit_code == 2, result.output
    assert "自监督样本不足" in result.output
