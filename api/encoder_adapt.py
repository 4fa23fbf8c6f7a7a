"""``talentmatch encoder adapt``: the e5-small domain adapter from the library (#10, item 2).

Pairs come from :func:`matching.selfsup.pseudo_needs` (a talent's most recent item held out,
its near duplicates with it; the talent without them is the answer), rendered as the index
renders them: the pseudo-need's need text as the query, the reduced talent's profile text
(or, where a talent has no profile fields, its remaining item titles) as the passage. No
need and no relevance judgement is read. :func:`adapt` trains
(:func:`embeddings.encoders.e5_adapt.train_adapter`) and saves the adapter only when it
ranks held-out pseudo-needs better than the packaged model; the answer names the encoder
setting that uses it (``e5-small:adapter=<file>``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from data.records import Talent

DEFAULT_PAIRS = 1500
"""Pseudo-needs drawn at most (bounds training time at any library size)."""


PER_TALENT = 3
"""Items held out in turn per talent (most recent first), each a pseudo-need of its own."""


def pseudo_pairs(talents: Sequence[Talent], limit: int = DEFAULT_PAIRS, seed: int = 0,
                 per_talent: int = PER_TALENT) -> list[tuple[str, str, str]]:
    """(query, passage) texts of the library's pseudo-needs.

    Each talent gives up to ``per_talent`` of them: its items in recency order, each held out
    in turn with its near duplicates (:func:`matching.selfsup.hold_out`); an item that is a
    near duplicate of one already held out is skipped.

    Args:
        talents: the library.
        limit: at most this many pairs (a seeded draw).
        seed: the draw's seed.
        per_talent: items held out in turn per talent.

    Returns:
        (query, passage, talent id) of pairs whose query and passage are both non-empty.
    """
    import random

    from embeddings.render import item_text, profile_text
    from matching.selfsup import hold_out, near_duplicates, recency_order

    pairs: list[tuple[str, str, str]] = []
    for talent in talents:
        used: list[str] = []
        for index in recency_order(talent)[:per_talent]:
            title = talent.achievements[index].title
            if any(near_duplicates(title, u) for u in used):
                continue
            cut = hold_out(talent, index)
            if cut is None:
                continue
            reduced, item, titles = cut
            used.extend(titles)
            passage = profile_text(reduced) or "；".join(a.title for a in reduced.achievements)
            text = item.text if item.text and item.text != item.title else ""
            query = item_text(item.title, text)
            if query.strip() and passage.strip():
                pairs.append((query, passage, talent.id))
    if len(pairs) > limit:
        pairs = random.Random(seed).sample(pairs, limit)
    return pairs


def adapt(talents: Sequence[Talent], folder: Path, *, limit: int = DEFAULT_PAIRS,
          seed: int = 0, epochs: float = 3.0, layers: int = 12, threads: int = 2,
          progress: Callable[[int, int, float], None] | None = None) -> dict[str, Any]:
    """Train the adapter on ``talents`` and save it in ``folder`` when it helps.

    Args:
        talents: the library.
        folder: where adapters are kept.
        limit: pseudo-needs drawn at most.
        seed: seed of the draw, the held-out split and the batch order.
        epochs: passes over the training pairs.
        layers: the last this many encoder layers are trained.
        threads: torch threads.
        progress: called after each step with (step, steps, loss).

    Returns:
        The training figures, ``saved`` (the file, or None when the adapter did not rank the
        held-out pseudo-needs better) and ``encoder`` (the setting that uses it).
    """
    from embeddings.encoders.e5_adapt import AdaptConfig, save_adapter, train_adapter

    found = pseudo_pairs(talents, limit=limit, seed=seed)
    config = AdaptConfig(layers=layers, epochs=epochs, seed=seed, threads=threads)
    result = train_adapter([(q, p) for q, p, _ in found], config, progress,
                           groups=[g for _, _, g in found])
    path = save_adapter(folder, result.state) if result.improved else None
    return {
        "pairs": result.pairs, "held_out": result.held_out, "steps": result.steps,
        "seconds": result.seconds, "loss_first": round(result.loss_first, 4),
        "loss_last": round(result.loss_last, 4),
        "held_out_mrr_before": result.held_out_mrr_before,
        "held_out_mrr_after": result.held_out_mrr_after,
        "improved": result.improved,
        "saved": None if path is None else str(path),
        "encoder": None if path is None else f"e5-small:adapter={path}",
        "config": {"layers": layers, "epochs": epochs, "batch": config.batch, "lr": config.lr,
                   "temperature": config.temperature, "seed": seed},
    }


def exchange_talents(path: Path) -> list[Talent]:
    """The talents of an exchange ``talents.jsonl`` (evaluation data) as records."""
    from data.io.exchange import read_talents
    from evaluation.ranked import talent_record

    return [talent_record(row) for row in read_talents(path)]
