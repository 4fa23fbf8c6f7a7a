"""The evaluator: any methods over exchange-format needs, talents and qrels.

``evaluate`` returns exactly::

    {"n_needs": int, "n_talents": int,
     "methods": {"<name>": {"ndcg@10": float, "recall@10": float, "recall@50": float,
                            "mrr": float, "map": float, "pairwise_loss": float,
                            "ece": float | None}}}

with floats rounded to 4 places (``None`` where undefined, see below).

* Every need counts in ``n_needs``; the ranking metrics are averaged only over needs with at
  least one relevant talent (relevance > 0). A mean with no such need is ``None``.
* ``pairwise_loss`` uses every labelled (need, talent) pair, explicit 0 labels included (see
  :func:`evaluation.metrics.pairwise_loss`); ``None`` when no talent has two different labels.
* ``ece`` (expected calibration error, :func:`ranking_ece`) only for methods whose scores are
  calibrated probabilities (``method.calibrated``), else ``None``; such methods also report
  ``flagged_share``, ``mrr_flagged``, ``mrr_unflagged`` and ``chance_ece``
  (:func:`strength_split`: how often the 匹配较弱 flag fires, how much worse the flagged
  needs really are, and the ECE of the need's "one of the best ten is right" chance).
* qrels entries naming a need or talent that is not in the input are dropped and counted
  (:func:`check_qrels`); they are logged as a warning, never an error.
* The ``random`` baseline is always evaluated (added first when not asked for), so the report
  shows how far each method is above chance.
* Memory is ``O(needs × k_max + labelled pairs)``: methods return per-need top-k lists and
  scores for the labelled pairs only, never a dense needs × talents table.
"""

from __future__ import annotations

import json as _json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evaluation import metrics
from evaluation.methods import Method, RandomMethod, Ranking, Row, make_methods

log = logging.getLogger(__name__)

METRIC_KEYS = ("ndcg@10", "recall@10", "recall@50", "mrr", "map", "pairwise_loss", "ece")
ECE_DEPTH = 10
"""Calibration (ECE) is measured on each need's top ``ECE_DEPTH`` pairs."""
"""The metrics of each method, in report order."""

MIN_K_MAX = 50
"""The smallest ranking depth that supports every metric (recall@50)."""

CHUNK = 256
"""Needs per ``rank`` call (one progress step)."""

DEFAULT_ENCODER = "use-multilingual"

Qrels = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class QrelsCheck:
    """qrels restricted to known ids, and what was dropped."""

    qrels: dict[str, dict[str, float]]
    unknown_needs: int
    """Entries whose need id is not among the needs."""
    unknown_talents: int
    """Entries (with a known need) whose talent id is not among the talents."""

    @property
    def n_dropped(self) -> int:
        """All dropped entries."""
        return self.unknown_needs + self.unknown_talents


def check_qrels(qrels: Qrels, need_ids: set[str], talent_ids: set[str]) -> QrelsCheck:
    """Keep the qrels entries whose need and talent are known; count the others.

    Args:
        qrels: ``need_id -> {talent_id -> relevance}``.
        need_ids: ids of the needs evaluated.
        talent_ids: ids of the talents ranked.

    Returns:
        The clean qrels and the counts of dropped entries.
    """
    clean: dict[str, dict[str, float]] = {}
    unknown_needs = unknown_talents = 0
    for need_id, judgement in qrels.items():
        if need_id not in need_ids:
            unknown_needs += len(judgement)
            continue
        kept = {t: float(r) for t, r in judgement.items() if t in talent_ids}
        unknown_talents += len(judgement) - len(kept)
        if kept:
            clean[need_id] = kept
    return QrelsCheck(clean, unknown_needs, unknown_talents)


def ranking_metrics(ranking: Ranking, qrels: Qrels, need_ids: Sequence[str]) -> dict[str, Any]:
    """Mean nDCG@10, Recall@10/50, MRR and MAP over needs with a relevant talent.

    Args:
        ranking: ``need_id -> [(talent_id, score), ...]``, best first.
        qrels: clean qrels.
        need_ids: every evaluated need (needs missing from ``ranking`` rank nothing).

    Returns:
        ``{"ndcg@10", "recall@10", "recall@50", "mrr", "map"}`` → mean or ``None``.
    """
    per_need: dict[str, list[float | None]] = {k: [] for k in METRIC_KEYS[:5]}
    for need_id in need_ids:
        judgement = qrels.get(need_id, {})
        ranked = [t for t, _ in ranking.get(need_id, [])]
        per_need["ndcg@10"].append(metrics.ndcg_at_k(ranked, judgement, 10))
        per_need["recall@10"].append(metrics.recall_at_k(ranked, judgement, 10))
        per_need["recall@50"].append(metrics.recall_at_k(ranked, judgement, 50))
        per_need["mrr"].append(metrics.reciprocal_rank(ranked, judgement))
        per_need["map"].append(metrics.average_precision(ranked, judgement))
    return {k: metrics.mean_defined(v) for k, v in per_need.items()}


def method_pairwise_loss(method: Method, qrels: Qrels) -> float | None:
    """The pairwise loss of ``method`` on every labelled pair (call after ``rank``).

    Args:
        method: a method that has ranked the needs.
        qrels: clean qrels.

    Returns:
        The loss, or ``None`` when undefined.
    """
    pairs = [(n, t) for n, judgement in qrels.items() for t in judgement]
    scores = method.score_pairs(pairs)
    if len(scores) != len(pairs):
        raise ValueError(f"{method.name}: score_pairs returned {len(scores)} for {len(pairs)}")
    return metrics.pairwise_loss(qrels, dict(zip(pairs, scores.tolist(), strict=True)))


def _with_random(methods: Sequence[Method]) -> list[Method]:
    """``methods`` with the seeded random baseline first when it is missing."""
    if any(m.name == "random" for m in methods):
        return list(methods)
    return [RandomMethod(seed=0), *methods]


def _rank_all(
    method: Method, needs: Sequence[Row], talents: Sequence[Row], k: int, bar: Progress, task: Any
) -> Ranking:
    """Rank the needs in chunks, advancing the progress bar."""
    ranking: Ranking = {}
    bar.update(task, description=method.name)
    for start in range(0, len(needs), CHUNK):
        chunk = needs[start : start + CHUNK]
        ranking.update(method.rank(chunk, talents, k))
        bar.advance(task, len(chunk))
    return ranking


def _rounded(values: Mapping[str, float | None]) -> dict[str, float | None]:
    """Values rounded to 4 places, ``None`` kept."""
    return {k: (None if v is None else round(float(v), 4)) for k, v in values.items()}


def evaluate(
    needs: Sequence[Row],
    talents: Sequence[Row],
    qrels: Qrels,
    methods: Sequence[Method],
    k_max: int = 50,
    progress: bool = False,
) -> dict[str, Any]:
    """Evaluate each method (plus the random baseline) on the same needs and talents.

    Args:
        needs: need rows (dicts with an ``"id"``).
        talents: talent rows (dicts with an ``"id"``).
        qrels: ``need_id -> {talent_id -> relevance}``; unknown ids are dropped with a warning.
        methods: objects following :class:`evaluation.methods.Method`.
        k_max: ranking depth asked of each method (≥ 50); MRR and MAP use this depth.
        progress: show a progress bar (on stderr) across methods and needs.

    Returns:
        ``{"n_needs", "n_talents", "methods": {name: {metric: value}}}`` (module docstring).

    Raises:
        ValueError: when ``k_max`` < 50 or two methods share a name.
    """
    if k_max < MIN_K_MAX:
        raise ValueError(f"k_max must be at least {MIN_K_MAX} (recall@50), got {k_max}")
    methods = _with_random(methods)
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise ValueError(f"method names must be unique: {names}")
    need_ids = [str(n["id"]) for n in needs]
    check = check_qrels(qrels, set(need_ids), {str(t["id"]) for t in talents})
    if check.n_dropped:
        log.warning(
            "qrels: 忽略 %d 条未知需求 (need_id)、%d 条未知人才 (talent_id) 的标注 / dropped "
            "%d entries with an unknown need id and %d with an unknown talent id",
            check.unknown_needs,
            check.unknown_talents,
            check.unknown_needs,
            check.unknown_talents,
        )
    results: dict[str, Any] = {}
    with _progress_bar(progress) as bar:
        task = bar.add_task("", total=len(methods) * len(needs))
        for method in methods:
            ranking = _rank_all(method, needs, talents, k_max, bar, task)
            values = ranking_metrics(ranking, check.qrels, need_ids)
            values["pairwise_loss"] = method_pairwise_loss(method, check.qrels)
            calibrated = getattr(method, "calibrated", False)
            values["ece"] = ranking_ece(ranking, check.qrels) if calibrated else None
            if calibrated:
                model = getattr(method, "model", None)
                values.update(strength_split(ranking, check.qrels, need_ids,
                                             getattr(model, "head", ())))
            results[method.name] = _rounded(values)
    return {"n_needs": len(needs), "n_talents": len(talents), "methods": results}


def ranking_ece(ranking: Ranking, qrels: Qrels, depth: int = ECE_DEPTH) -> float:
    """Expected calibration error of a method whose scores are probabilities.

    Every need's top ``depth`` pairs count, labelled 1 when judged relevant (grade ≥ 1)
    and 0 otherwise (unjudged included), see
    :func:`matching.calibration.expected_calibration_error`.

    Args:
        ranking: the method's ranking (scores in [0, 1]).
        qrels: the judgements.
        depth: pairs per need.

    Returns:
        The ECE.
    """
    from matching.strength import expected_calibration_error

    probs, labels = [], []
    for need_id, pairs in ranking.items():
        judged = qrels.get(need_id, {})
        for talent_id, score in pairs[:depth]:
            probs.append(min(1.0, max(0.0, float(score))))
            labels.append(1.0 if judged.get(talent_id, 0) >= 1 else 0.0)
    return expected_calibration_error(np.array(probs), np.array(labels))


def strength_split(ranking: Ranking, qrels: Qrels, need_ids: Sequence[str],
                   head: Sequence[float] = ()) -> dict[str, float | None]:
    """How the weak-need flag does: share flagged, MRR of flagged vs other needs, and how
    well the need's chance (that one of its best ten is right) is calibrated.

    A need is flagged when :func:`matching.strength.strength` of its calibrated scores
    says ``weak`` or ``none``. Only needs with a relevant talent count.

    Args:
        ranking: the method's ranking (scores are probabilities).
        qrels: the judgements.
        need_ids: the needs in order.
        head: the method's head model (:func:`matching.strength.head_chance`).

    Returns:
        ``{"flagged_share", "mrr_flagged", "mrr_unflagged", "chance_ece"}`` (None where no
        need counts); ``chance_ece`` is the ECE of :func:`matching.strength.head_chance`
        against "a relevant talent is among the best ten".
    """
    from matching.strength import STRENGTH_DEPTH, expected_calibration_error, head_chance, strength

    groups: dict[bool, list[float]] = {True: [], False: []}
    chances, hits = [], []
    for nid in need_ids:
        judged = {t for t, g in qrels.get(nid, {}).items() if g > 0}
        if not judged:
            continue
        pairs = ranking.get(nid, [])
        flagged = strength([s for _, s in pairs], head) != "ok"
        rr = next((1.0 / (i + 1) for i, (t, _) in enumerate(pairs) if t in judged), 0.0)
        groups[flagged].append(rr)
        chances.append(head_chance([s for _, s in pairs], head))
        hits.append(float(any(t in judged for t, _ in pairs[:STRENGTH_DEPTH])))
    total = len(groups[True]) + len(groups[False])

    def mean(xs: list[float]) -> float | None:
        return sum(xs) / len(xs) if xs else None

    return {"flagged_share": len(groups[True]) / total if total else None,
            "mrr_flagged": mean(groups[True]), "mrr_unflagged": mean(groups[False]),
            "chance_ece": expected_calibration_error(np.array(chances), np.array(hits))
            if total else None}


def _progress_bar(enabled: bool) -> Progress:
    """A rich progress bar on stderr (disabled when ``enabled`` is false)."""
    return Progress(
        TextColumn("[bold]{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not enabled,
    )


_HEADERS = {
    "ndcg@10": "nDCG@10",
    "recall@10": "R@10",
    "recall@50": "R@50",
    "mrr": "MRR",
    "map": "MAP",
    "pairwise_loss": "pair loss",
    "ece": "ECE",
}


def render_table(result: Mapping[str, Any], console: Console | None = None) -> Table:
    """Print the evaluation result as a table, with each method's nDCG@10 over random's.

    Args:
        result: the dict returned by :func:`evaluate`.
        console: where to print (stdout by default).

    Returns:
        The printed table.
    """
    console = console or Console()
    base = result["methods"].get("random", {}).get("ndcg@10")
    table = Table(
        title=f"评测结果 evaluation — {result['n_needs']} needs × {result['n_talents']} talents"
    )
    table.add_column("method", no_wrap=True)
    for key in METRIC_KEYS:
        table.add_column(_HEADERS[key], justify="right", no_wrap=True)
    table.add_column("×rand", justify="right", no_wrap=True)
    for name, values in result["methods"].items():
        cells = ["—" if values[k] is None else f"{values[k]:.4f}" for k in METRIC_KEYS]
        ndcg = values["ndcg@10"]
        ratio = "—" if not base or ndcg is None else f"{ndcg / base:.1f}×"
        table.add_row(name, *cells, ratio)
    console.print(table)
    console.print(
        "×rand: nDCG@10 over the random baseline's. pair loss (pairwise_loss): "
        "0 = perfect, 0.5 = constant scorer, lower is better. ECE: expected calibration "
        "error of calibrated scores on each need's top 10 (— for uncalibrated methods)."
    )
    return table


def run_evaluation(
    needs_path: str | Path,
    talents_path: str | Path,
    qrels_path: str | Path,
    methods: Sequence[str] = ("bm25", "dense", "hybrid", "talentmatch"),
    encoder: str = DEFAULT_ENCODER,
    json: bool = False,
    cache_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Read exchange files, evaluate the named methods and print the report (for the CLI).

    With ``json=True`` the result is printed to stdout as JSON and nothing else goes to
    stdout (the progress bar and warnings go to stderr); otherwise a table is printed.

    Args:
        needs_path: ``needs.jsonl``.
        talents_path: ``talents.jsonl``.
        qrels_path: ``qrels.tsv``.
        methods: method names (see ``evaluation.methods.METHODS``); ``random`` is added.
        encoder: encoder name for the dense and hybrid methods.
        json: print JSON instead of the table.
        cache_dir: embedding cache folder for the dense encoders (None: no cache).

    Returns:
        The result of :func:`evaluate`.

    Raises:
        evaluation.methods.UnknownMethodError: for an unknown method name (before any file
            is read).
    """
    built = make_methods(list(methods), encoder,  # unknown names fail before any reading
                         cache_dir=None if cache_dir is None else str(cache_dir))
    from data.io.exchange import read_needs, read_qrels, read_talents

    needs, talents = read_needs(needs_path), read_talents(talents_path)
    qrels = read_qrels(qrels_path)
    err = Console(stderr=True)
    result = evaluate(needs, talents, qrels, built, progress=err.is_terminal)
    if json:
        print(_json.dumps(result, ensure_ascii=False, indent=2))
    else:
        render_table(result)
    return result
