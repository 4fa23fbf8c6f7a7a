"""Does learning from review decisions help? A simulated reviewer on the sample.

``python -m evaluation.simulate_reviewer [--talents 2000 --needs 300 --decisions 200
--seed 42 --noise 0.1 --encoder use-multilingual] [--json]``

1. Generate the sample in memory (:func:`data.sample.generate`) and retrieve the top
   :data:`TOP_N` talents of every need (hybrid retrieval over talent records).
2. Split the needs by id into train and test halves (a seeded hash of the id, so the split
   does not depend on order).
3. Rank each train need's candidates with the fused weights; the reviewer looks at
   ``decisions`` suggestions drawn at random from the top :data:`REVIEW_DEPTH` of the train
   needs and approves a pair when its hidden qrels grade is ≥ 1, flipping the answer with
   probability ``noise``.
4. Train the ranker (:func:`matching.ranker.train_ranker`) on those decisions.
5. Report nDCG@10 and MRR on the **test** needs (never reviewed) with the fused weights
   (``before``) and with the ranker (``after``); ``hybrid`` is retrieval alone.

Rules (conflicts, eligibility) are not applied here: they are the same for both scorers and
the hidden qrels know nothing of them; the experiment measures ranking only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from data.records import Need, Talent
from data.sample import SampleData, generate
from evaluation import metrics
from matching.matcher import Candidate, Matcher
from matching.ranker import RankerModel, train_ranker
from matching.tables import MatchingTables

TOP_N = 200
REVIEW_DEPTH = 10
DEFAULT_ENCODER = "use-multilingual"

Ranked = dict[str, list[str]]


def build_retriever(data: SampleData, encoder: Any, tokenizer: Any = None) -> Any:
    """A hybrid retriever over the sample's talents.

    Args:
        data: the sample.
        encoder: an encoder object.
        tokenizer: the BM25 tokenizer (default: ``embeddings.tokenize.Tokenizer()``).

    Returns:
        A built ``HybridRetriever``.
    """
    from embeddings.hybrid import Corpus, HybridRetriever
    from embeddings.render import talent_texts
    from embeddings.tokenize import Tokenizer

    texts = [talent_texts(t) for t in data.talents]
    retriever = HybridRetriever(encoder, tokenizer or Tokenizer())
    retriever.build(Corpus([t.id for t in data.talents], [p for p, _ in texts],
                           [i for _, i in texts]))
    return retriever


def retrieve(retriever: Any, needs: Sequence[Need], top_n: int = TOP_N) -> dict[str, list[Any]]:
    """Hybrid hits of every need.

    Args:
        retriever: a built retriever.
        needs: the needs.
        top_n: hits per need.

    Returns:
        Hits by need id.
    """
    from embeddings.render import need_text

    results = retriever.search_batch([need_text(n) for n in needs], top_n, "hybrid")
    return {n.id: hits for n, hits in zip(needs, results, strict=True)}


def split_needs(need_ids: Sequence[str], seed: int) -> tuple[list[str], list[str]]:
    """Train and test halves by a seeded hash of each id.

    Args:
        need_ids: every need id.
        seed: the seed.

    Returns:
        ``(train ids, test ids)`` in input order.
    """
    def is_test(nid: str) -> bool:
        return hashlib.blake2b(f"{seed}:{nid}".encode(), digest_size=8).digest()[0] % 2 == 1

    return [n for n in need_ids if not is_test(n)], [n for n in need_ids if is_test(n)]


def candidates_by_need(matcher: Matcher, data: SampleData,
                       hits: Mapping[str, list[Any]]) -> dict[str, list[Candidate]]:
    """Features of every need's retrieved talents.

    Args:
        matcher: the matcher (its tables and reference time are used).
        data: the sample.
        hits: hits by need id.

    Returns:
        Candidates by need id.
    """
    talents: dict[str, Talent] = {t.id: t for t in data.talents}
    ents = {e.id: e for e in data.enterprises}
    return {n.id: matcher.candidates(n, hits[n.id], talents, ents.get(n.enterprise_id or ""))
            for n in data.all_needs()}


def rank_all(matcher: Matcher, cands: Mapping[str, list[Candidate]],
             need_ids: Sequence[str]) -> Ranked:
    """Talent ids of each need, best first, by the matcher's scorer (no rules).

    Args:
        matcher: the matcher.
        cands: candidates by need id.
        need_ids: the needs to rank.

    Returns:
        Ranked talent ids by need id.
    """
    out: Ranked = {}
    for nid in need_ids:
        scores = matcher.score_candidates(cands[nid])[0]
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        out[nid] = [cands[nid][i].talent_id for i in order]
    return out


def quality(ranked: Ranked, qrels: Mapping[str, Mapping[str, float]]) -> dict[str, float | None]:
    """Mean nDCG@10 and MRR over the ranked needs with a relevant talent.

    Args:
        ranked: talent ids by need id.
        qrels: the hidden grades.

    Returns:
        ``{"ndcg@10", "mrr"}`` rounded to 4 places.
    """
    ndcg = [metrics.ndcg_at_k(r, qrels.get(n, {}), 10) for n, r in ranked.items()]
    mrr = [metrics.reciprocal_rank(r, qrels.get(n, {})) for n, r in ranked.items()]
    return {k: None if v is None else round(v, 4) for k, v in
            (("ndcg@10", metrics.mean_defined(ndcg)), ("mrr", metrics.mean_defined(mrr)))}


def simulate_decisions(ranked: Ranked, cands: Mapping[str, list[Candidate]],
                       qrels: Mapping[str, Mapping[str, float]], n: int, noise: float,
                       seed: int) -> list[tuple[dict[str, float], int]]:
    """A reviewer's decisions on suggestions from the top of the given rankings.

    Args:
        ranked: the fused rankings of the train needs.
        cands: candidates by need id (for the feature values).
        qrels: the hidden grades.
        n: how many decisions.
        noise: probability that a decision is flipped.
        seed: the seed of the draw and of the flips.

    Returns:
        ``(features, label)`` pairs, label 1 = approved.
    """
    rng = random.Random(seed)
    values = {(nid, c.talent_id): c.values for nid, cs in cands.items() for c in cs}
    pool = [(nid, tid) for nid, tids in sorted(ranked.items()) for tid in tids[:REVIEW_DEPTH]]
    out = []
    for nid, tid in rng.sample(pool, min(n, len(pool))):
        label = int(qrels.get(nid, {}).get(tid, 0) >= 1)
        if rng.random() < noise:
            label = 1 - label
        out.append((dict(values[(nid, tid)]), label))
    return out


def run(n_talents: int = 2000, n_needs: int = 300, decisions: int = 200, seed: int = 42,
        noise: float = 0.1, encoder: Any = DEFAULT_ENCODER, tables: MatchingTables | None = None,
        tokenizer: Any = None, min_decisions: int = 50) -> dict[str, Any]:
    """The whole experiment (see the module doc).

    Args:
        n_talents: sample talents.
        n_needs: sample needs (challenges are added by the generator).
        decisions: simulated review decisions.
        seed: seed of the sample, the split, the draw and the noise.
        noise: probability that the reviewer's decision is flipped.
        encoder: an encoder name (``make_encoder``) or an encoder object.
        tables: matching tables (default: from the bundled taxonomy).
        tokenizer: the BM25 tokenizer (default: jieba).
        min_decisions: the ranker's training threshold.

    Returns:
        ``{"before", "after", "hybrid", "decisions", "approved", "noise", "seed", …}``.
    """
    data = generate(n_talents, n_needs, seed)
    if isinstance(encoder, str):
        from embeddings.encoders import make_encoder

        encoder = make_encoder(encoder, threads=2)
    if tables is None:
        from data.taxonomy import load_taxonomy

        tables = MatchingTables.from_taxonomy(load_taxonomy())
    hits = retrieve(build_retriever(data, encoder, tokenizer), data.all_needs())
    fused = Matcher(tables, now=_as_of())
    cands = candidates_by_need(fused, data, hits)
    train, test = split_needs(sorted(cands), seed)
    examples = simulate_decisions(rank_all(fused, cands, train), cands, data.qrels, decisions,
                                  noise, seed)
    ranker = train_ranker(examples, min_decisions)
    after = rank_all(Matcher(tables, ranker=ranker, now=_as_of()), cands, test) if ranker \
        else rank_all(fused, cands, test)
    return {
        "before": quality(rank_all(fused, cands, test), data.qrels),
        "after": quality(after, data.qrels),
        "hybrid": quality({n: [h.id for h in hits[n]] for n in test}, data.qrels),
        "decisions": len(examples), "approved": sum(y for _, y in examples),
        "noise": noise, "seed": seed, "n_train_needs": len(train), "n_test_needs": len(test),
        "n_talents": len(data.talents), "encoder": getattr(encoder, "id", str(encoder)),
        "ranker": _ranker_summary(ranker),
    }


def _as_of() -> Any:
    from data.sample.people import AS_OF

    return AS_OF


def _ranker_summary(ranker: RankerModel | None) -> dict[str, Any] | None:
    if ranker is None:
        return None
    return {"coefficients": {k: round(v, 3) for k, v in ranker.coefficients.items()},
            "metrics": ranker.metrics}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Command line entry point (see the module doc).

    Args:
        argv: arguments (default: ``sys.argv[1:]``).

    Returns:
        The result dict (also printed).
    """
    p = argparse.ArgumentParser(prog="python -m evaluation.simulate_reviewer",
                                description="simulated reviewer: fused weights vs learned ranker")
    p.add_argument("--talents", type=int, default=2000)
    p.add_argument("--needs", type=int, default=300)
    p.add_argument("--decisions", type=int, default=200)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--noise", type=float, default=0.1)
    p.add_argument("--encoder", default=DEFAULT_ENCODER)
    p.add_argument("--json", action="store_true", help="print JSON only")
    a = p.parse_args(argv)
    result = run(a.talents, a.needs, a.decisions, a.seed, a.noise, a.encoder)
    if a.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        b, f = result["before"], result["after"]
        print(f"decisions {result['decisions']} (approved {result['approved']}), "
              f"noise {result['noise']}, seed {result['seed']}, "
              f"test needs {result['n_test_needs']}")
        print(f"hybrid : nDCG@10 {result['hybrid']['ndcg@10']}  MRR {result['hybrid']['mrr']}")
        print(f"before : nDCG@10 {b['ndcg@10']}  MRR {b['mrr']}  (fused weights)")
        print(f"after  : nDCG@10 {f['ndcg@10']}  MRR {f['mrr']}  (learned ranker)")
    return result


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
