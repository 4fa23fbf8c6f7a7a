"""Tests of the evaluation exchange format (data/io/exchange.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data.io.exchange import (
    ExchangeFormatError,
    read_needs,
    read_qrels,
    read_talents,
    write_jsonl,
    write_qrels,
)


def _lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_round_trip(tmp_path: Path) -> None:
    needs = [{"id": "N1", "title": "尼龙切片黏度波动", "text": "…", "chain": "尼龙新材料"}]
    talents = [{"id": "T1", "name": "张三", "text": "聚酰胺", "items": [
        {"title": "PA66连续聚合工艺研究", "text": "第一作者", "year": 2020}]},
        {"id": "T2", "name": "李四", "text": "", "items": []}]
    qrels = {"N1": {"T1": 2, "T2": 0.5}}
    assert write_jsonl(tmp_path / "needs.jsonl", needs) == 1
    assert write_jsonl(tmp_path / "talents.jsonl", talents) == 2
    assert write_qrels(tmp_path / "qrels.tsv", qrels) == 2
    assert read_needs(tmp_path / "needs.jsonl") == needs
    assert read_talents(tmp_path / "talents.jsonl") == talents
    assert read_qrels(tmp_path / "qrels.tsv") == {"N1": {"T1": 2.0, "T2": 0.5}}
    assert (tmp_path / "qrels.tsv").read_text(encoding="utf-8") == "N1\tT1\t2\nN1\tT2\t0.5\n"
    assert "聚酰胺" in (tmp_path / "talents.jsonl").read_text(encoding="utf-8")  # no \u escapes


def test_items_are_optional_and_dates_are_written(tmp_path: Path) -> None:
    from datetime import date, datetime

    write_jsonl(tmp_path / "t.jsonl", [{"id": "T1", "name": "王五", "text": "x",
                                         "updated_at": datetime(2025, 1, 2, 3, 4, 5),
                                         "deadline": date(2025, 6, 30)}])
    row = read_talents(tmp_path / "t.jsonl")[0]
    assert row["items"] == [] and row["updated_at"] == "2025-01-02T03:04:05"
    assert row["deadline"] == "2025-06-30"


def test_blank_lines_header_and_trec_columns_are_accepted(tmp_path: Path) -> None:
    path = _lines(tmp_path / "q.tsv", "need_id\ttalent_id\trelevance", "", "N1\tT1\t1",
                  "N1 0 T2 0", "# comment")
    assert read_qrels(path) == {"N1": {"T1": 1.0, "T2": 0.0}}


@pytest.mark.parametrize(("lines", "line_no", "fragment"), [
    (['{"id": "N1", "title": "a", "text": "b"}', "{not json"], 2, "JSON"),
    (['["N1"]'], 1, "JSON 对象"),
    (['{"title": "a", "text": "b"}'], 1, "id"),
    (['{"id": "N1", "text": "b"}'], 1, "title"),
    (['{"id": "N1", "title": "a", "text": 3}'], 1, "text"),
    (['{"id": "N1", "title": "a", "text": ""}', "", '{"id": "N1", "title": "c", "text": ""}'],
     3, "重复"),
])
def test_malformed_needs_name_file_and_line(tmp_path: Path, lines: list[str], line_no: int,
                                            fragment: str) -> None:
    path = _lines(tmp_path / "needs.jsonl", *lines)
    with pytest.raises(ExchangeFormatError) as err:
        read_needs(path)
    assert f"needs.jsonl:{line_no}:" in str(err.value) and fragment in str(err.value)
    assert err.value.line == line_no


@pytest.mark.parametrize(("row", "fragment"), [
    ({"id": "T1", "text": "x"}, "name"),
    ({"id": "T1", "name": "n", "text": "x", "items": "论文"}, "items"),
    ({"id": "T1", "name": "n", "text": "x", "items": [{"text": "t"}]}, "title"),
    ({"id": "T1", "name": "n", "text": "x", "items": [{"title": "t", "year": "2020"}]}, "year"),
    ({"id": "T1", "name": "n", "text": "x", "items": [{"title": "t", "text": 5}]}, "text"),
])
def test_malformed_talents_name_file_and_line(tmp_path: Path, row: dict, fragment: str) -> None:
    path = _lines(tmp_path / "talents.jsonl", json.dumps({"id": "T0", "name": "a", "text": ""}),
                  json.dumps(row, ensure_ascii=False))
    with pytest.raises(ExchangeFormatError) as err:
        read_talents(path)
    assert "talents.jsonl:2:" in str(err.value) and fragment in str(err.value)


@pytest.mark.parametrize(("line", "fragment"), [
    ("N1\tT1", "三列"), ("N1\tT1\thigh", "不是数字"), ("N1\tT1\t-1", "非负"),
    ("N1\tT1\tnan", "非负"), ("\tT1\t1", "三列"),
])
def test_malformed_qrels_name_file_and_line(tmp_path: Path, line: str, fragment: str) -> None:
    path = _lines(tmp_path / "qrels.tsv", "N0\tT0\t1", line)
    with pytest.raises(ExchangeFormatError) as err:
        read_qrels(path)
    assert "qrels.tsv:2:" in str(err.value) and fragment in str(err.value)


def test_duplicate_qrels_pair_is_refused(tmp_path: Path) -> None:
    path = _lines(tmp_path / "qrels.tsv", "N1\tT1\t1", "N1\tT1\t2")
    with pytest.raises(ExchangeFormatError, match=r"qrels\.tsv:2:"):
        read_qrels(path)


def test_write_qrels_refuses_negative_relevance(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="非负"):
        write_qrels(tmp_path / "q.tsv", {"N1": {"T1": -1}})


def test_sample_files_read_back() -> None:
    from tests._sample_fixture import default_sample, default_sample_dir

    folder, data = default_sample_dir(), default_sample()
    needs = read_needs(folder / "needs.jsonl")
    talents = read_talents(folder / "talents.jsonl")
    assert len(needs) == len(data.needs) + len(data.challenges)
    assert len(talents) == len(data.talents)
    assert all(n["text"].startswith(n["title"]) for n in needs)
    assert any(t["items"] for t in talents)
    assert {n["id"] for n in needs} == set(read_qrels(folder / "qrels.tsv"))
