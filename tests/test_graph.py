"""The persisted HNSW graph of an index version (issue #14 item 4, :mod:`embeddings.graph`):
written above the threshold, loaded by every worker, kept across small updates with the
changed documents scanned exactly, rebuilt after large ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from embeddings.config import RetrievalConfig
from embeddings.dense import DenseIndex
from embeddings.graph import GRAPH_FILE, GRAPH_META
from embeddings.index import Doc, IndexBuilder
from embeddings.persist import VersionedFolder
from tests.fakes import HashEncoder, SplitTokenizer
from tests.test_index import needs, talents

CONFIG = RetrievalConfig(ann_threshold=100, ann_max_delta=0.05)


def _builder(root: Path, config: RetrievalConfig = CONFIG) -> IndexBuilder:
    return IndexBuilder(root, HashEncoder(), SplitTokenizer(), config)


def _summary(b: IndexBuilder) -> DenseIndex:
    return b.load().retrievers["talents"]._summary


def _exact(dense: DenseIndex, q: np.ndarray, k: int) -> list[int]:
    s = np.asarray(dense.vectors) @ q
    return list(np.argsort(-s, kind="stable")[:k])


def test_a_large_direction_gets_a_graph_that_search_uses(tmp_path: Path) -> None:
    b = _builder(tmp_path)
    manifest = b.build({"talents": talents(400), "needs": needs(10)})
    assert manifest["graphs"]["talents"] == {"graph": "built", "delta": 0}
    assert manifest["graphs"]["needs"] == {"graph": "none", "delta": 0}
    folder = VersionedFolder(tmp_path).current()
    assert (folder / "talents" / GRAPH_FILE).is_file()
    assert not (folder / "needs" / GRAPH_FILE).exists()
    dense = _summary(b)
    assert dense.uses_ann and dense._graph is not None
    enc = HashEncoder()
    recalls = []
    for text in ("特高压 断路器 绝缘", "钧瓷 釉色", "光伏 储能 电池 专家 7", "煤化工 甲醇"):
        q = enc.encode([text])[0]
        rows, scores = dense.search(q, 20)
        np.testing.assert_allclose(scores, np.asarray(dense.vectors)[rows] @ q, rtol=1e-5)
        recalls.append(len(set(rows.tolist()) & set(_exact(dense, q, 20))) / 20)
    assert np.mean(recalls) >= 0.9, recalls


def test_a_small_update_keeps_the_graph_and_scans_what_changed(tmp_path: Path) -> None:
    b = _builder(tmp_path)
    base = talents(400)
    b.build({"talents": base, "needs": needs(10)})
    first = VersionedFolder(tmp_path).current() / "talents"
    new = Doc("T9999", "全新方向 量子 通信 卫星 激光", ("量子密钥分发",))
    changed = [Doc(d.id, "改写 量子 通信 " + d.profile) for d in base[:5]]
    manifest = b.update({"talents": [new, *changed], "needs": []},
                        {"talents": ["T0100", "T0101"]})
    assert manifest["graphs"]["talents"] == {"graph": "reused", "delta": 6}
    second = VersionedFolder(tmp_path).current() / "talents"
    assert (second / GRAPH_FILE).read_bytes() == (first / GRAPH_FILE).read_bytes()
    assert json.loads((second / GRAPH_META).read_text())["ids"] == [d.id for d in base]
    dense = _summary(b)
    graph = dense._graph
    assert graph is not None and len(graph.delta_rows) == 6
    ids = dense.ids
    assert {ids[r] for r in graph.delta_rows} == {"T9999", *(d.id for d in changed)}
    q = HashEncoder().encode([new.profile])[0]
    rows, _ = dense.search(q, 10)
    assert ids[rows[0]] == "T9999"  # found through the exact delta, not the graph
    everything = {ids[r] for r in dense.search(q, len(ids))[0]}
    assert not everything & {"T0100", "T0101"}
    hit_ids = [h.id for h in b.load().talents_for("量子 通信 卫星", k=10)]
    assert "T9999" in hit_ids


def test_a_large_update_builds_a_new_graph(tmp_path: Path) -> None:
    b = _builder(tmp_path)
    base = talents(400)
    b.build({"talents": base, "needs": needs(10)})
    changed = [Doc(d.id, d.profile + " 改") for d in base[:40]]  # 10 % > 5 %
    manifest = b.update({"talents": changed, "needs": []}, {})
    assert manifest["graphs"]["talents"] == {"graph": "built", "delta": 0}
    graph = _summary(b)._graph
    assert graph is not None and graph.delta_rows.size == 0


def test_below_the_threshold_no_graph_is_written(tmp_path: Path) -> None:
    b = _builder(tmp_path, RetrievalConfig())
    manifest = b.build({"talents": talents(120), "needs": needs(5)})
    assert manifest["graphs"]["talents"]["graph"] == "none"
    assert not _summary(b).uses_ann


def test_a_change_to_the_rows_drops_the_graph(tmp_path: Path) -> None:
    b = _builder(tmp_path)
    b.build({"talents": talents(400), "needs": needs(10)})
    dense = _summary(b)
    dense.add(["T-new"], HashEncoder().encode(["新"]))
    assert dense._graph is None
