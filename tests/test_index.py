"""Index persistence: versions, manifest, atomic switch, incremental update, crash safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from embeddings.index import DIRECTIONS, DirectionData, Doc, IndexBuilder
from embeddings.persist import IndexNotBuilt, VersionedFolder
from tests.fakes import HashEncoder, SplitTokenizer

TOPICS = ["尼龙66 纺丝 工业丝", "特高压 断路器 绝缘", "宽厚板 轧制 钢铁", "煤化工 气化 甲醇",
          "光伏 储能 电池", "钧瓷 釉色 窑变", "中药 制剂 医药", "食品 加工 冷链"]


def talents(n: int, salt: str = "") -> list[Doc]:
    return [Doc(f"T{i:04d}", f"{TOPICS[i % 8]} 专家 {i}{salt}",
                tuple(f"成果 {TOPICS[(i + j) % 8]} {j}" for j in range(i % 3)))
            for i in range(n)]


def needs(n: int) -> list[Doc]:
    return [Doc(f"N{i:03d}", f"需求 {TOPICS[i % 8]}") for i in range(n)]


def builder(root: Path, enc: HashEncoder | None = None) -> IndexBuilder:
    return IndexBuilder(root, enc or HashEncoder(), SplitTokenizer())


def test_build_writes_manifest_and_serves(tmp_path: Path) -> None:
    b = builder(tmp_path)
    m = b.build({"talents": talents(40), "needs": needs(10)})
    for key in ("encoder", "dims", "counts", "data_hash", "config", "built_at", "version"):
        assert key in m
    assert m["counts"]["talents"] == 40 and m["counts"]["needs"] == 10
    idx = b.load()
    hits = idx.talents_for("特高压 断路器", k=5)
    assert hits and all(h.id.startswith("T") for h in hits)
    assert int(hits[0].id[1:]) % 8 == 1
    assert idx.needs_for("钧瓷 釉色", k=3)[0].id in {f"N{i:03d}" for i in range(5, 10, 8)}


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexNotBuilt, match="index build"):
        builder(tmp_path).load()


def test_rebuild_unchanged_encodes_nothing(tmp_path: Path) -> None:
    enc = HashEncoder()
    b = builder(tmp_path, enc)
    first = b.build({"talents": talents(30), "needs": needs(5)})
    before = enc.encoded
    second = b.build({"talents": talents(30), "needs": needs(5)})
    assert enc.encoded == before
    assert second["data_hash"] == first["data_hash"]
    assert second["version"] != first["version"]


def _arrays(root: Path) -> dict[str, DirectionData]:
    cur = VersionedFolder(root).current()
    return {d: DirectionData.load(cur / d) for d in DIRECTIONS}


def test_incremental_update_equals_full_rebuild(tmp_path: Path) -> None:
    base = talents(50)
    b = builder(tmp_path / "inc")
    b.build({"talents": base, "needs": needs(8)})
    changed = [Doc(d.id, d.profile + " 更新", (*d.items, "新成果 储能")) for d in base[10:15]]
    added = [Doc("T9999", "新人才 特高压", ("专利 绝缘",))]
    deleted = ["T0003", "T0020"]
    m = b.update({"talents": changed + added, "needs": []}, {"talents": deleted})
    assert m["stats"]["talents"] == {"changed": 6, "deleted": 2}
    final = [d for d in base if d.id not in deleted and d.id not in {c.id for c in changed}]
    final += changed + added
    full = builder(tmp_path / "full")
    full.build({"talents": final, "needs": needs(8)})
    inc, ref = _arrays(tmp_path / "inc"), _arrays(tmp_path / "full")
    for d in DIRECTIONS:
        assert inc[d].ids == ref[d].ids
        assert inc[d].hashes == ref[d].hashes
        assert [inc[d].tokens.doc(i) for i in range(len(inc[d].ids))] == \
            [ref[d].tokens.doc(i) for i in range(len(ref[d].ids))]
        np.testing.assert_array_equal(inc[d].counts, ref[d].counts)
        np.testing.assert_allclose(inc[d].profile, ref[d].profile)
        np.testing.assert_allclose(inc[d].items, ref[d].items)
    q = "特高压 绝缘 储能"
    assert [h.id for h in b.load().talents_for(q, k=10)] == \
        [h.id for h in full.load().talents_for(q, k=10)]


def test_prune_keeps_serving_version(tmp_path: Path) -> None:
    b = builder(tmp_path)
    for i in range(4):
        b.build({"talents": talents(5, salt=str(i)), "needs": needs(2)})
    folder = VersionedFolder(tmp_path)
    assert len(folder.list_versions()) == 2
    assert folder.current_name() == folder.list_versions()[-1]


KILL_SCRIPT = """
import sys
from pathlib import Path
from embeddings.index import IndexBuilder
from tests.fakes import HashEncoder, SplitTokenizer
from tests.test_index import talents, needs
b = IndexBuilder(Path(sys.argv[1]), HashEncoder(delay=0.01), SplitTokenizer())
print("building", flush=True)
b.build({"talents": talents(5000, salt="v2"), "needs": needs(5)})
print("finished", flush=True)
"""


def test_sigkill_mid_build_keeps_previous_version(tmp_path: Path) -> None:
    b = builder(tmp_path)
    first = b.build({"talents": talents(20), "needs": needs(4)})
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(tmp_path)], cwd=root,
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "building"
    time.sleep(1.0)  # encoding 5,000 slow texts: well inside the build
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    folder = VersionedFolder(tmp_path)
    assert folder.manifest()["version"] == first["version"]
    assert folder.list_versions() == [first["version"]]
    assert json.loads((folder.current() / "manifest.json").read_text())["counts"]["talents"] == 20
    assert builder(tmp_path).load().talents_for("尼龙66 纺丝", k=3)


def test_failure_while_writing_keeps_previous_version(tmp_path: Path) -> None:
    folder = VersionedFolder(tmp_path)
    b = builder(tmp_path)
    first = b.build({"talents": talents(10), "needs": needs(2)})
    with pytest.raises(RuntimeError), folder.build({"counts": {}}) as work:
        (work / "talents").mkdir()
        raise RuntimeError("disk full")
    assert folder.manifest()["version"] == first["version"]
    assert not list(tmp_path.glob(".building-*"))


def test_stale_build_folder_of_dead_process_is_removed(tmp_path: Path) -> None:
    b = builder(tmp_path)
    b.build({"talents": talents(10), "needs": needs(2)})
    stale = tmp_path / ".building-crashed"
    stale.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (stale / ".builder.pid").write_text(dead)
    b.build({"talents": talents(10), "needs": needs(2)})
    assert not stale.exists()


class CountingTokenizer(SplitTokenizer):
    """A tokenizer with an id that counts the texts it tokenizes."""

    id = "split-v1"

    def __init__(self) -> None:
        self.calls = 0

    def tokenize(self, text: str) -> list[str]:
        self.calls += 1
        return super().tokenize(text)


def test_token_cache_spares_tokenizing_on_a_cold_index(tmp_path: Path) -> None:
    from embeddings.tokens import TokenCache

    cache = TokenCache(tmp_path / "cache")
    tok = CountingTokenizer()
    first = IndexBuilder(tmp_path / "a", HashEncoder(), tok, token_cache=cache)
    first.build({"talents": talents(30), "needs": needs(5)})
    assert tok.calls > 0
    tok.calls = 0
    second = IndexBuilder(tmp_path / "b", HashEncoder(), tok, token_cache=cache)
    second.build({"talents": talents(30), "needs": needs(5)})
    assert tok.calls == 0
    a, b = _arrays(tmp_path / "a"), _arrays(tmp_path / "b")
    assert [a["talents"].tokens.doc(i) for i in range(30)] == \
        [b["talents"].tokens.doc(i) for i in range(30)]


def test_character_field_round_trips_through_build_and_update(tmp_path: Path) -> None:
    """The word and character fields of the real tokenizer survive persistence (#10).

    A query that shares only characters with a document (jieba cuts 「高压电缆」 and 「特高压」
    differently) finds it through the character field after a build, and a document added
    by an incremental update is found the same way; the per-field shares are reported.
    """
    from embeddings.tokenize import CHAR_PREFIX, Tokenizer

    tok = Tokenizer(taxonomy=False)
    docs = [Doc("T0001", "特高压断路器绝缘研究", ("高端装备制造",)),
            Doc("T0002", "钧瓷釉色窑变工艺", ()), Doc("T0003", "中药制剂质量控制", ())]
    b = IndexBuilder(tmp_path, HashEncoder(), tok)
    b.build({"talents": docs, "needs": needs(2)})
    data = _arrays(tmp_path)["talents"]
    stored = data.tokens.doc(0)
    assert any(t.startswith(CHAR_PREFIX) for t in stored) and "断路器" in stored
    hits = b.load().talents_for("高压电缆", k=3)
    assert hits[0].id == "T0001"
    assert hits[0].raw["bm25_chars"] > 0 and 0 <= hits[0].raw["bm25_words"] <= 1
    b.update({"talents": [Doc("T0004", "压电陶瓷传感器", ())], "needs": []}, {"talents": []})
    after = b.load().talents_for("压电材料", k=2)
    assert after[0].id == "T0004" and after[0].raw["bm25_chars"] > 0
    assert any(t == CHAR_PREFIX + "压电" for t in _arrays(tmp_path)["talents"].tokens.doc(3))


def test_item_rows_and_centroids_equal_their_loop_definitions() -> None:
    from embeddings.aggregate import centroids
    from embeddings.index import item_rows

    rng = np.random.default_rng(0)
    counts = rng.integers(0, 4, 300)
    off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    docs = rng.permutation(300)[:200]
    loop = [r for d in docs for r in range(off[d], off[d + 1])]
    assert item_rows(off, docs).tolist() == loop
    assert item_rows(off, np.zeros(0, dtype=np.int64)).size == 0
    items = rng.standard_normal((int(off[-1]), 16)).astype(np.float32)
    got = centroids(items, off)
    for d in range(300):
        if counts[d] == 0:
            assert not got[d].any()
        else:
            mean = items[off[d]:off[d + 1]].sum(axis=0)
            np.testing.assert_allclose(got[d], mean / np.linalg.norm(mean), rtol=1e-5, atol=1e-6)


def test_loaded_versions_share_one_saved_bm25_matrix(tmp_path: Path) -> None:
    b = builder(tmp_path)
    b.build({"talents": talents(40), "needs": needs(10)})
    version = b.folder.current()
    assert not (version / "talents" / "bm25.json").exists()  # written by the first load
    first = b.load()
    assert (version / "talents" / "bm25.json").exists()
    assert (version / "needs" / "bm25.json").exists()
    second = b.load()  # another worker: maps the saved matrix
    for idx in (first, second):
        lexical = idx.retrievers["talents"]._lexical
        assert lexical._csc is not None and not lexical._csc.data.flags.writeable
    assert [h.id for h in first.talents_for("特高压 断路器", k=5)] == \
        [h.id for h in second.talents_for("特高压 断路器", k=5)]
    b.update({"talents": talents(41, salt="x")[-3:]}, {})
    changed = b.load()  # a new version: its own matrix, not the old one's
    assert b.folder.current() != version and len(changed.talents_for("光伏", k=50)) > 0
    assert (b.folder.current() / "talents" / "bm25.json").exists()
