"""The e5-small domain adapter (#10, item 2): training on the library's pseudo-needs, the
content-addressed file, the encoder that loads it, the leakage guard and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from api.encoder_adapt import adapt, pseudo_pairs
from data.records import Achievement, Talent
from embeddings.encoders import make_encoder
from embeddings.encoders.e5_adapt import (
    ADAPTER_PREFIX,
    AdaptConfig,
    load_adapter,
    save_adapter,
    train_adapter,
)

_FIELDS = [
    ("煤矿智能化开采", "综采工作面液压支架", "瓦斯抽采监测预警"),
    ("尼龙新材料", "己二胺合成工艺", "高分子纤维改性"),
    ("中药活性成分", "道地药材种植", "方剂药理作用"),
    ("刑事政策", "司法解释适用", "犯罪预防体系"),
    ("碳排放权交易", "绿色金融工具", "低碳转型路径"),
    ("乡村振兴", "农村集体经济", "县域城镇化"),
    ("特种钢焊接", "中厚板轧制", "金属疲劳断裂"),
    ("公共卫生应急", "传染病流行病学", "疫苗接种策略"),
    ("非物质文化遗产", "民间戏曲传承", "传统手工技艺"),
    ("供应链金融", "应收账款融资", "中小企业信贷"),
    ("动力电池", "锂离子正极材料", "电池热管理"),
    ("高等教育治理", "大学章程建设", "学科评估制度"),
]


def _library() -> list[Talent]:
    talents = []
    for i, phrases in enumerate(_FIELDS * 3):
        items = [Achievement(title=f"{p}研究", year=2010 + k)
                 for k, p in enumerate(phrases[: 2 + i % 2])]
        talents.append(Talent(id=f"T{i:03d}", name=f"专家{i}", category="A",
                              achievements=items))
    return talents


@pytest.fixture(scope="module")
def trained() -> tuple[list[tuple[str, str]], object]:
    found = pseudo_pairs(_library())
    result = train_adapter([(q, p) for q, p, _ in found],
                           AdaptConfig(layers=2, epochs=4, batch=8, lr=1e-4),
                           groups=[g for _, _, g in found])
    return found, result


def test_pairs_come_from_held_out_items(trained: tuple[list[tuple[str, str]], object]) -> None:
    pairs, _ = trained
    library = _library()
    # every item of every talent is held out in turn (2 or 3 per talent)
    assert len(pairs) == sum(len(t.achievements) for t in library)
    for query, passage, talent_id in pairs:
        # the held-out item is the query; it never stays in its own passage
        assert query.endswith("研究") and query not in passage
        assert query.removesuffix("研究") in "".join(
            a.title for a in next(t for t in library if t.id == talent_id).achievements)
    assert pseudo_pairs(library, per_talent=1) == [
        p for p in pairs if p[0] == max((a for a in next(
            t for t in library if t.id == p[2]).achievements), key=lambda a: a.year or 0).title]


def test_training_runs_and_only_last_layers_are_saved(trained: tuple[list[tuple[str, str]],
                                                                     object]) -> None:
    _, result = trained
    assert result.steps >= 4 and result.held_out >= 1  # type: ignore[attr-defined]
    assert result.loss_last < result.loss_first  # type: ignore[attr-defined]
    layers = {key.split(".")[0] for key in result.state}  # type: ignore[attr-defined]
    assert layers == {"10", "11"}


def test_adapter_file_is_content_addressed_and_checked(tmp_path: Path,
                                                       trained: tuple[list[tuple[str, str]],
                                                                      object]) -> None:
    _, result = trained
    path = save_adapter(tmp_path, result.state)  # type: ignore[attr-defined]
    assert path.name.startswith(ADAPTER_PREFIX)
    first = path.read_bytes()
    path.unlink()
    import time

    time.sleep(1.1)  # a zip entry's time would change the bytes, and so the name
    assert save_adapter(tmp_path, result.state) == path  # type: ignore[attr-defined]
    assert path.read_bytes() == first
    state, digest = load_adapter(path)
    assert digest in path.name and set(state) == set(result.state)  # type: ignore[attr-defined]
    moved = tmp_path / f"{ADAPTER_PREFIX}0000000000000000.npz"
    moved.write_bytes(path.read_bytes())
    with pytest.raises(ValueError, match="content changed"):
        load_adapter(moved)


def test_encoder_with_adapter_has_its_own_id_and_vectors(
        tmp_path: Path, trained: tuple[list[tuple[str, str]], object]) -> None:
    _, result = trained
    path = save_adapter(tmp_path, result.state)  # type: ignore[attr-defined]
    base = make_encoder("e5-small:precision=fp32", threads=1)
    adapted = make_encoder(f"e5-small:precision=fp32:adapter={path}", threads=1)
    assert base.id != adapted.id and path.stem.removeprefix(ADAPTER_PREFIX) in adapted.id
    texts = ["煤矿智能化开采的理论研究", "刑事政策的评价体系研究"]
    a, b = base.encode(texts), adapted.encode(texts)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert float(np.abs(a - b).max()) > 1e-3
    # the adapted encoder is the trained model: the same vectors as the training forward
    import torch

    from embeddings.encoders.e5 import PASSAGE_PREFIX, _load_model
    from embeddings.encoders.e5_torch import TorchE5Forward

    weights, tok = _load_model("0.3.0")
    ref = TorchE5Forward(weights, torch.float32, result.state)  # type: ignore[attr-defined]
    expected = ref.encode_ids(tok.encode([PASSAGE_PREFIX + t for t in texts[:1]]))
    assert np.allclose(b[:1], expected, atol=1e-5)


def test_adapter_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    path = save_adapter(tmp_path, {"11.qkv.weight": np.zeros((3, 3), dtype=np.float32)})
    with pytest.raises(Exception, match="does not fit"):
        make_encoder(f"e5-small:adapter={path}", threads=1)


def test_training_reads_only_talents(tmp_path: Path) -> None:
    """The leakage guard: adapting from an exchange file reads its talents and nothing else;
    needs and qrels beside it are never opened."""
    talents = tmp_path / "talents.jsonl"
    with talents.open("w", encoding="utf-8") as fh:
        for t in _library()[:12]:
            fh.write(json.dumps({"id": t.id, "name": t.name, "text": "",
                                 "items": [{"title": a.title, "year": a.year}
                                           for a in t.achievements]}, ensure_ascii=False) + "\n")
    (tmp_path / "needs.jsonl").write_text('{"id": "N1", "title": "煤矿", "text": "煤矿"}\n',
                                          encoding="utf-8")
    (tmp_path / "qrels.tsv").write_text("N1\tT000\t1\n", encoding="utf-8")
    opened: list[str] = []
    import builtins

    real_open = builtins.open

    def spy(file: object, *args: object, **kwargs: object) -> object:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    from api.encoder_adapt import exchange_talents

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(builtins, "open", spy)
        library = exchange_talents(talents)
    seen = {Path(f).name for f in opened if Path(f).parent == tmp_path}
    assert seen == {"talents.jsonl"}
    assert len(library) == 12
    info = adapt(library, tmp_path / "adapters", epochs=1, layers=1)
    assert info["pairs"] + info["held_out"] == len(pseudo_pairs(library))
    assert (info["saved"] is None) == (not info["improved"])


def test_cli_help_names_every_flag() -> None:
    from api.cli import app

    out = CliRunner().invoke(app, ["encoder", "adapt", "--help"]).output
    for flag in ("--talents", "--out", "--limit", "--seed", "--epochs", "--layers"):
        assert flag in out
