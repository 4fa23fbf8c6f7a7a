"""Token tables: encode, take, compact, merge, save/load."""

from __future__ import annotations

from pathlib import Path

import pytest

from embeddings.tokens import TokenTable, Vocabulary, assemble, merge_sorted


def table(docs: list[list[str]], vocab: Vocabulary | None = None) -> TokenTable:
    vocab = vocab or Vocabulary()
    segs = [vocab.encode(d) for d in docs]
    return assemble(segs, vocab.tokens)


def test_round_trip_take_and_compact(tmp_path: Path) -> None:
    docs = [["尼龙66", "纺丝"], [], ["特高压", "尼龙66", "尼龙66"]]
    t = table(docs)
    assert [t.doc(i) for i in range(3)] == docs
    assert [t.take([2, 0]).doc(i) for i in range(2)] == [docs[2], docs[0]]
    small = t.take([2]).compact()
    assert small.vocab == ["尼龙66", "特高压"] and small.doc(0) == docs[2]
    t.save(tmp_path)
    back = TokenTable.load(tmp_path)
    assert [back.doc(i) for i in range(3)] == docs


def test_merge_requires_extended_vocabulary() -> None:
    v = Vocabulary()
    a = table([["a", "b"]], v)
    b = table([["c"], ["a"]], Vocabulary(v.tokens))
    merged = merge_sorted(["x"], a, ["y", "z"], b, [2, 0, 1])
    assert [merged.doc(i) for i in range(3)] == [["a"], ["a", "b"], ["c"]]
    with pytest.raises(ValueError, match="extend"):
        merge_sorted(["y", "z"], b, ["x"], table([["q"]]), [0])
