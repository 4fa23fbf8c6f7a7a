"""A query's dense stage runs on the query pool beside BM25 (embeddings.overlap)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from embeddings import overlap
from embeddings.hybrid import HybridRetriever
from embeddings.tokenize import Tokenizer
from tests.test_hybrid import TALENTS, FakeEncoder


class ThreadNoting(FakeEncoder):
    """The fake encoder, noting which thread encoded each query."""

    def __init__(self) -> None:
        self.threads: list[str] = []

    def encode_query(self, text: str) -> np.ndarray:
        self.threads.append(threading.current_thread().name)
        return super().encode_query(text)


class Failing(FakeEncoder):
    """An encoder whose queries fail (documents still encode)."""

    def encode_query(self, text: str) -> np.ndarray:
        raise RuntimeError("encoder down")


def _retriever(encoder: FakeEncoder) -> HybridRetriever:
    r = HybridRetriever(encoder, Tokenizer(["尼龙66", "特高压"], taxonomy=False))
    r.build(TALENTS)
    return r


def test_query_encoded_on_the_pool_with_the_same_hits() -> None:
    enc = ThreadNoting()
    r = _retriever(enc)
    queries: Sequence[str] = ["尼龙66 聚合", "特高压输电线路", "小麦育种"]
    one = [r.search(q, k=4) for q in queries]
    assert enc.threads and all(t.startswith("tm-query") for t in enc.threads)
    assert set(r.last_timings) >= {"bm25", "wait", "fuse", "encode", "dense"}
    batch = r.search_batch(list(queries), k=4)  # encodes on the caller: the reference
    assert [[(h.id, round(h.score, 6)) for h in hs] for hs in one] == \
        [[(h.id, round(h.score, 6)) for h in hs] for hs in batch]


def test_bm25_alone_does_not_encode() -> None:
    enc = ThreadNoting()
    r = _retriever(enc)
    assert r.search("尼龙66", k=3, method="bm25")
    assert enc.threads == []


def test_an_encoder_failure_reaches_the_caller() -> None:
    r = _retriever(Failing())
    with pytest.raises(RuntimeError, match="encoder down"):
        r.search("尼龙66", k=3)
    assert r.search("尼龙66", k=3, method="bm25")  # the pool is still usable


def test_a_forked_child_gets_its_own_pool() -> None:
    overlap.submit(int, "1").result()
    parent = overlap._state["pool"]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        ok = overlap.submit(int, "2").result() == 2 and overlap._state["pool"] is not parent
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.waitpid(pid, 0)
