"""The evaluator and its methods (evaluation/evaluator.py, evaluation/methods.py).

Fake methods (an oracle reading the qrels, a reversed oracle) stand in for the retrievers,
so these tests run without the embeddings package; one slow test runs bm25/dense/hybrid on
the tiny fixtures when the embeddings modules import.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from evaluation import evaluator
from evaluation.methods import (
    FLOOR_SCORE,
    CandidateListMethod,
    ConstantMethod,
    Method,
    RandomMethod,
    Ranking,
    RetrieverBackend,
    RetrieverMethod,
    Row,
    UnknownMethodError,
    make_methods,
)

FIXTURES = Path(__file__).parent / "fixtures" / "eval_tiny"
METRIC_KEYS = {"ndcg@10", "recall@10", "recall@50", "mrr", "map", "pairwise_loss", "ece"}


def load(lang: str) -> tuple[list[dict], list[dict], dict[str, dict[str, float]]]:
    """Read a tiny fixture, with data.io.exchange when it imports, else a plain reader."""
    folder = FIXTURES / lang
    try:
        from data.io import exchange
    except ImportError:
        pass
    else:
        return (
            exchange.read_needs(folder / "needs.jsonl"),
            exchange.read_talents(folder / "talents.jsonl"),
            exchange.read_qrels(folder / "qrels.tsv"),
        )
    needs = [json.loads(x) for x in (folder / "needs.jsonl").read_text("utf-8").splitlines()]
    talents = [json.loads(x) for x in (folder / "talents.jsonl").read_text("utf-8").splitlines()]
    qrels: dict[str, dict[str, float]] = {}
    with (folder / "qrels.tsv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            qrels.setdefault(row["need_id"], {})[row["talent_id"]] = float(row["relevance"])
    return needs, talents, qrels


class Oracle:
    """Scores a pair by its label (``sign`` = -1 reverses it); unlabelled pairs score -1."""

    def __init__(self, qrels: dict[str, dict[str, float]], name: str = "oracle", sign: int = 1):
        self.name, self.qrels, self.sign = name, qrels, sign

    def _score(self, need_id: str, talent_id: str) -> float:
        return self.sign * self.qrels.get(need_id, {}).get(talent_id, -1.0)

    def rank(self, needs: Sequence[Row], talents: Sequence[Row], k: int) -> Ranking:
        out: Ranking = {}
        for n in needs:
            scored = [(t["id"], self._score(n["id"], t["id"])) for t in talents]
            out[n["id"]] = sorted(scored, key=lambda x: -x[1])[:k]
        return out

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        return np.array([self._score(n, t) for n, t in pairs], dtype=float)


def synthetic(n_needs: int, n_talents: int, seed: int = 1) -> tuple[list, list, dict]:
    """Needs with 1–5 graded relevant talents each among many talents."""
    rng = np.random.default_rng(seed)
    needs = [{"id": f"n{i}"} for i in range(n_needs)]
    talents = [{"id": f"t{i}"} for i in range(n_talents)]
    qrels = {}
    for n in needs:
        chosen = rng.choice(n_talents, size=6, replace=False)
        qrels[n["id"]] = {f"t{j}": float(r) for j, r in zip(chosen, [3, 2, 2, 1, 1, 0], strict=True)}
    return needs, talents, qrels


# ------------------------------------------------------------------------- the schema


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_output_schema_exact(lang: str) -> None:
    needs, talents, qrels = load(lang)
    result = evaluator.evaluate(needs, talents, qrels, [Oracle(qrels), ConstantMethod()])
    assert set(result) == {"n_needs", "n_talents", "methods"}
    assert (result["n_needs"], result["n_talents"]) == (5, 10)
    assert list(result["methods"]) == ["random", "oracle", "constant"]
    for values in result["methods"].values():
        assert set(values) == METRIC_KEYS
        assert values["ece"] is None  # none of these scores are calibrated probabilities
        for k, v in values.items():
            if k != "ece":
                assert isinstance(v, float) and v == round(v, 4)
    json.dumps(result)  # plain JSON types only


def test_ece_reported_for_calibrated_methods() -> None:
    needs, talents, qrels = load("en")

    class Calibrated(Oracle):
        calibrated = True

    result = evaluator.evaluate(needs, talents, qrels, [Calibrated(qrels)])
    ece = result["methods"]["oracle"]["ece"]
    assert isinstance(ece, float) and 0.0 <= ece <= 1.0


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_oracle_perfect_and_far_above_random(lang: str) -> None:
    needs, talents, qrels = load(lang)
    reverse = Oracle(qrels, "reverse", sign=-1)
    got = evaluator.evaluate(needs, talents, qrels, [Oracle(qrels), reverse])["methods"]
    assert got["oracle"] == {k: ({"pairwise_loss": 0.0, "ece": None}.get(k, 1.0))
                             for k in METRIC_KEYS}
    assert got["reverse"]["pairwise_loss"] == 1.0
    for key in ("ndcg@10", "mrr", "map"):
        assert got["random"][key] < got["oracle"][key]
    assert 0.0 < got["random"]["pairwise_loss"] < 1.0


def test_random_far_below_oracle_on_many_talents() -> None:
    needs, talents, qrels = synthetic(40, 2000)
    got = evaluator.evaluate(needs, talents, qrels, [Oracle(qrels)])["methods"]
    assert got["oracle"]["ndcg@10"] == 1.0
    assert got["random"]["ndcg@10"] < 0.1
    assert got["random"]["recall@50"] < 0.2
    assert got["oracle"]["pairwise_loss"] == 0.0


def test_constant_pairwise_is_half() -> None:
    needs, talents, qrels = load("en")
    got = evaluator.evaluate(needs, talents, qrels, [ConstantMethod()])["methods"]
    assert got["constant"]["pairwise_loss"] == 0.5


def test_needs_without_relevant_are_counted_but_excluded() -> None:
    needs = [{"id": "a"}, {"id": "b"}]
    talents = [{"id": "x"}, {"id": "y"}]
    qrels = {"a": {"x": 1.0}, "b": {"y": 0.0}}  # b has only a 0 label
    result = evaluator.evaluate(needs, talents, qrels, [Oracle(qrels)])
    assert result["n_needs"] == 2
    assert result["methods"]["oracle"]["ndcg@10"] == 1.0  # not 0.5


def test_undefined_means_are_none() -> None:
    needs, talents = [{"id": "a"}], [{"id": "x"}]
    result = evaluator.evaluate(needs, talents, {"a": {"x": 0.0}}, [ConstantMethod()])
    assert all(v is None for v in result["methods"]["constant"].values())


def test_unknown_qrels_ids_warn_not_crash(caplog: pytest.LogCaptureFixture) -> None:
    needs, talents, qrels = load("en")
    dirty = {**qrels, "N99": {"T01": 1.0}, "N1": {**qrels["N1"], "T99": 2.0, "T98": 1.0}}
    with caplog.at_level(logging.WARNING, logger="evaluation.evaluator"):
        dirty_result = evaluator.evaluate(needs, talents, dirty, [Oracle(qrels)])
    assert "1 条未知需求" in caplog.text and "2 条未知人才" in caplog.text
    assert dirty_result == evaluator.evaluate(needs, talents, qrels, [Oracle(qrels)])
    check = evaluator.check_qrels(dirty, {"N1", "N2"}, {"T01", "T02"})
    assert (check.unknown_needs, check.unknown_talents) == (3 + 4 + 2 + 1, 4 + 3)


def test_bad_arguments() -> None:
    needs, talents, qrels = load("en")
    with pytest.raises(ValueError, match="k_max"):
        evaluator.evaluate(needs, talents, qrels, [], k_max=10)
    with pytest.raises(ValueError, match="unique"):
        evaluator.evaluate(needs, talents, qrels, [ConstantMethod(), ConstantMethod()])


def test_unknown_method_name_lists_known() -> None:
    with pytest.raises(UnknownMethodError) as err:
        make_methods(["bm25", "magic"], "use-multilingual")
    message = str(err.value)
    assert "magic" in message
    for known in ("random", "bm25", "dense", "hybrid"):
        assert known in message


def test_make_methods_shares_one_backend_and_imports_nothing() -> None:
    built = make_methods(["random", "bm25", "dense", "hybrid", "bm25"], "x")
    assert [m.name for m in built] == ["random", "bm25", "dense", "hybrid"]
    assert len({id(m.backend) for m in built[1:]}) == 1  # type: ignore[attr-defined]
    assert all(isinstance(m, Method) for m in built)


# --------------------------------------------------------------------------- methods


def test_random_is_seeded_and_consistent() -> None:
    needs, talents, _ = synthetic(3, 500)
    a, b, c = RandomMethod(seed=5), RandomMethod(seed=5), RandomMethod(seed=6)
    ra, rb, rc = (m.rank(needs, talents, 20) for m in (a, b, c))
    assert ra == rb and ra != rc
    assert ra == a.rank(needs, list(reversed(talents)), 20)  # order of rows does not matter
    pairs = [(n, t) for n, hits in ra.items() for t, _ in hits]
    expected = [s for hits in ra.values() for _, s in hits]
    assert np.array_equal(a.score_pairs(pairs), expected)
    for hits in ra.values():
        scores = [s for _, s in hits]
        assert scores == sorted(scores, reverse=True) and len(hits) == 20
        assert all(0.0 <= s < 1.0 for s in scores)


class FixedCandidates(CandidateListMethod):
    """Candidate lists given in advance; records the depth asked for."""

    def __init__(self, lists: Ranking, pair_depth: int) -> None:
        super().__init__("fixed", pair_depth)
        self.lists = lists
        self.depths: list[int] = []

    def candidates(self, needs: Sequence[Any], talents: Sequence[Any], depth: int) -> Ranking:
        self.depths.append(depth)
        return {n["id"]: self.lists[n["id"]][:depth] for n in needs}


def test_candidate_list_floor_and_depth() -> None:
    lists = {"a": [("x", 0.9), ("y", 0.5), ("z", 0.1)], "b": [("y", 0.7)]}
    talents = [{"id": t} for t in "xyz"]
    method = FixedCandidates(lists, pair_depth=2)
    ranked = method.rank([{"id": "a"}, {"id": "b"}], talents, 1)
    assert ranked == {"a": [("x", 0.9)], "b": [("y", 0.7)]}
    assert method.depths == [2]  # 3 talents > pair_depth: max(k, pair_depth)
    got = method.score_pairs([("a", "y"), ("a", "z"), ("b", "x")])
    assert got.tolist() == [0.5, FLOOR_SCORE, FLOOR_SCORE]
    method.rank([{"id": "a"}], talents[:2], 1)  # a new talent set: at most pair_depth → all
    assert method.depths[-1] == 2 and method.score_pairs([("b", "y")])[0] == FLOOR_SCORE


def test_candidate_method_in_evaluator_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluator, "CHUNK", 2)
    needs, talents, qrels = load("en")
    oracle = Oracle(qrels)
    lists = oracle.rank(needs, talents, 1)  # only the best candidate per need
    got = evaluator.evaluate(needs, talents, qrels, [FixedCandidates(lists, 1000), oracle])
    fixed = got["methods"]["fixed"]
    assert fixed["mrr"] == got["methods"]["oracle"]["mrr"] == 1.0
    assert fixed["recall@50"] < 1.0
    assert 0.0 < fixed["pairwise_loss"] < 0.5  # floor ties cost half, the rest is right


# ------------------------------------------------------------------ rendering and CLI


def test_render_table_mentions_methods_and_ratio() -> None:
    needs, talents, qrels = load("zh")
    result = evaluator.evaluate(needs, talents, qrels, [Oracle(qrels)], progress=True)
    console = Console(record=True, width=160)
    evaluator.render_table(result, console)
    text = console.export_text()
    assert "random" in text and "oracle" in text and "×" in text and "pair loss" in text


def test_run_evaluation_json(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("data.io.exchange")
    folder = FIXTURES / "zh"
    result = evaluator.run_evaluation(
        folder / "needs.jsonl", folder / "talents.jsonl", folder / "qrels.tsv",
        methods=["constant"], encoder="unused", json=True,
    )  # fmt: skip
    assert json.loads(capsys.readouterr().out) == result
    assert list(result["methods"]) == ["random", "constant"]


def test_run_evaluation_table(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("data.io.exchange")
    folder = FIXTURES / "en"
    result = evaluator.run_evaluation(
        folder / "needs.jsonl", folder / "talents.jsonl", folder / "qrels.tsv",
        methods=["random", "constant"], encoder="unused",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "constant" in out and "nDCG@10" in out
    assert (result["n_needs"], result["n_talents"]) == (5, 10)


def test_run_evaluation_unknown_method_before_reading() -> None:
    with pytest.raises(UnknownMethodError):
        evaluator.run_evaluation("missing", "missing", "missing", methods=["nope"], encoder="x")


def _retriever_ready(with_encoders: bool = False) -> bool:
    """Whether the embeddings pieces the retriever adapter uses import."""
    try:
        from embeddings.hybrid import Corpus, HybridRetriever  # noqa: F401
        from embeddings.render import exchange_need_text, exchange_talent_texts  # noqa: F401
        from embeddings.tokenize import Tokenizer  # noqa: F401

        if with_encoders:
            from embeddings.encoders import make_encoder  # noqa: F401
    except ImportError:
        return False
    return True


class HashingEncoder:
    """A fake encoder: hashed character bigrams, L2-normalised (no model)."""

    id, dim = "hashing-bigrams", 256

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            low = text.lower()
            for a, b in itertools.pairwise(low):
                h = hashlib.blake2b((a + b).encode(), digest_size=4).digest()
                out[row, int.from_bytes(h, "little") % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def retriever_methods(encoder: Any) -> list[Method]:
    backend = RetrieverBackend(encoder)
    return [RetrieverMethod(mode, backend) for mode in ("bm25", "dense", "hybrid")]


@pytest.mark.skipif(not _retriever_ready(), reason="embeddings modules not available yet")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_retriever_adapter_with_fake_encoder(lang: str) -> None:
    needs, talents, qrels = load(lang)
    methods = retriever_methods(HashingEncoder())
    got = evaluator.evaluate(needs, talents, qrels, methods)["methods"]
    assert list(got) == ["random", "bm25", "dense", "hybrid"]
    for name in ("bm25", "dense", "hybrid"):
        assert got[name]["ndcg@10"] > got["random"]["ndcg@10"]
        assert got[name]["mrr"] > got["random"]["mrr"]
        assert got[name]["pairwise_loss"] < 0.5


@pytest.mark.skipif(not _retriever_ready(), reason="embeddings modules not available yet")
def test_bm25_only_loads_no_encoder() -> None:
    needs, talents, qrels = load("zh")
    (bm25,) = make_methods(["bm25"], "no-such-encoder")  # never made: bm25 needs no vectors
    got = evaluator.evaluate(needs, talents, qrels, [bm25])["methods"]
    assert got["bm25"]["mrr"] > got["random"]["mrr"]


@pytest.mark.slow
@pytest.mark.skipif(not _retriever_ready(True), reason="embeddings modules not available yet")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_retrievers_on_tiny_fixture(lang: str) -> None:
    needs, talents, qrels = load(lang)
    methods = make_methods(["bm25", "dense", "hybrid"], evaluator.DEFAULT_ENCODER)
    got = evaluator.evaluate(needs, talents, qrels, methods)["methods"]
    for name in ("bm25", "dense", "hybrid"):
        assert got[name]["ndcg@10"] > got["random"]["ndcg@10"]
        assert got[name]["mrr"] >= 0.5
