"""Small deterministic fakes shared by tests (no model, no jieba)."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence

import numpy as np


class HashEncoder:
    """Hashed character-bigram vectors: similar texts get similar vectors. Counts calls."""

    def __init__(self, dim: int = 64, delay: float = 0.0) -> None:
        self.dim = dim
        self.id = f"hash-bigram:{dim}"
        self.delay = delay
        self.encoded = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        grams = [text[i:i + 2] for i in range(max(1, len(text) - 1))]
        for g in grams:
            h = int.from_bytes(hashlib.md5(g.encode()).digest()[:4], "little")
            v[h % self.dim] += 1.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def encode(self, texts: Sequence[str], batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        """Vectors for texts; sleeps ``delay`` per text when set (to be killed mid-build)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            if self.delay:
                time.sleep(self.delay)
            out[i] = self._vec(t)
        self.encoded += len(texts)
        return out

    def encode_queries(self, texts: Sequence[str], batch_size: int = 64,
                       progress: bool = False) -> np.ndarray:
        """Query vectors: the same as ``encode`` (a symmetric fake)."""
        return self.encode(texts, batch_size, progress)

    def encode_query(self, text: str) -> np.ndarray:
        """One vector."""
        return self.encode([text])[0]


class SplitTokenizer:
    """Words and CJK characters, lower-cased."""

    def tokenize(self, text: str) -> list[str]:
        """Tokens of one text."""
        return re.findall(r"[a-z0-9]+|[\u4e00-\u9fff]", text.lower())
