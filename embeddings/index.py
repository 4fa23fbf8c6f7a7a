"""The search index: talents (searched for a need) and needs (searched for a talent).

Built from plain documents (id, profile text, item texts), saved as one version of a
:class:`~embeddings.persist.VersionedFolder`, loaded into two
:class:`~embeddings.hybrid.HybridRetriever` objects. Per direction a version holds::

    <direction>/docs.jsonl     # id, content hash and item count, sorted by id
    <direction>/tokens.npy, token_offsets.npy, vocab.json   # BM25 tokens as ids
    <direction>/profile.npy    # one vector per document (float32, L2-normalised)
    <direction>/items.npy      # the item vectors, grouped by document in docs order
    <direction>/summary.npy    # the dense candidate vector per document (profile + items)
    <direction>/summary.hnsw, graph.json   # above ann_threshold documents: embeddings.graph

Loading memory-maps the profile and item vectors (only candidates' rows are read per query)
and builds BM25 straight from the token id arrays (:mod:`embeddings.tokens`), so a served
index holds little beyond the summary vectors and the BM25 matrix in memory.

A rebuild reuses the vectors and tokens of every document whose content hash is unchanged
since the serving version (and the embedding cache covers texts seen in any earlier build),
so only new or changed texts are encoded and tokenized. An incremental update applies
changed and deleted documents to the serving version's arrays and writes a new version; it
yields the same arrays as a full rebuild of the same documents. :meth:`IndexBuilder.sync`
works out those changes itself from the full set of documents (by content hash).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from embeddings.aggregate import centroids
from embeddings.config import RetrievalConfig
from embeddings.graph import load_graph, write_graph
from embeddings.hybrid import (
    Corpus,
    Encoder,
    Hit,
    HybridRetriever,
    TokenizerLike,
    summary_vectors,
)
from embeddings.lexical import shared_index
from embeddings.persist import VersionedFolder
from embeddings.tokens import TokenCache, TokenTable, Vocabulary, assemble, merge_sorted

DIRECTIONS = ("talents", "needs")
FORMAT = 1


@dataclass(frozen=True)
class Doc:
    """One document to index: a talent (profile + achievements) or a need (profile only)."""

    id: str
    profile: str
    items: tuple[str, ...] = ()

    @property
    def hash(self) -> str:
        """sha256 of the texts: equal hashes mean nothing to re-encode."""
        h = hashlib.sha256(self.profile.encode("utf-8"))
        for item in self.items:
            h.update(b"\x1f" + item.encode("utf-8"))
        return h.hexdigest()


@dataclass
class DirectionData:
    """The arrays of one direction, sorted by id."""

    ids: list[str]
    hashes: list[str]
    counts: np.ndarray
    tokens: TokenTable
    profile: np.ndarray
    items: np.ndarray

    def offsets(self) -> np.ndarray:
        """Start of each document's items in ``items`` (length n + 1)."""
        return np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64)

    def save(self, folder: Path, profile_weight: float) -> None:
        """Write the arrays into ``folder`` (with the summary vectors for ``profile_weight``)."""
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "docs.jsonl").open("w", encoding="utf-8") as fh:
            for doc_id, h, c in zip(self.ids, self.hashes, self.counts.tolist(), strict=True):
                fh.write(json.dumps({"id": doc_id, "hash": h, "n_items": c},
                                    ensure_ascii=False) + "\n")
        self.tokens.save(folder)
        np.save(folder / "profile.npy", self.profile)
        np.save(folder / "items.npy", self.items)
        cents = centroids(np.asarray(self.items), self.offsets())
        np.save(folder / "summary.npy",
                summary_vectors(np.asarray(self.profile), cents, self.counts, profile_weight))

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> DirectionData:
        """Read arrays written by :meth:`save`."""
        rows = [json.loads(line) for line in (folder / "docs.jsonl").open(encoding="utf-8")]
        mode: Literal["r"] | None = "r" if mmap else None
        return cls(
            ids=[r["id"] for r in rows], hashes=[r["hash"] for r in rows],
            counts=np.array([r["n_items"] for r in rows], dtype=np.int64),
            tokens=TokenTable.load(folder),
            profile=np.load(folder / "profile.npy", mmap_mode=mode),
            items=np.load(folder / "items.npy", mmap_mode=mode),
        )

    def rows(self) -> dict[str, int]:
        """id → row."""
        return {d: i for i, d in enumerate(self.ids)}


def data_hash(data: dict[str, DirectionData]) -> str:
    """One hash over every direction's (id, content hash) pairs."""
    h = hashlib.sha256()
    for direction in DIRECTIONS:
        d = data.get(direction)
        for doc_id, doc_hash in zip(d.ids if d else [], d.hashes if d else [], strict=True):
            h.update(f"{direction}\t{doc_id}\t{doc_hash}\n".encode())
    return h.hexdigest()


@dataclass
class SearchIndex:
    """A loaded index version: one retriever per direction and its manifest."""

    manifest: dict[str, Any]
    retrievers: dict[str, HybridRetriever] = field(default_factory=dict)

    def talents_for(self, need_text: str, k: int = 50, method: str = "hybrid") -> list[Hit]:
        """Talents for a need's query text, best first."""
        return self.retrievers["talents"].search(need_text, k=k, method=method)

    def needs_for(self, profile: str, items: Sequence[str] = (), k: int = 50,
                  method: str = "hybrid") -> list[Hit]:
        """Needs for a talent (its profile text, plus item texts when given), best first."""
        query: str | list[str] = [profile, *items] if items else profile
        return self.retrievers["needs"].search(query, k=k, method=method)


ProgressFn = Callable[[str], None]


class IndexBuilder:
    """Builds, updates and loads index versions in one folder."""

    def __init__(self, root: Path, encoder: Encoder, tokenizer: TokenizerLike,
                 config: RetrievalConfig | None = None,
                 token_cache: TokenCache | None = None) -> None:
        """A builder.

        Args:
            root: the index folder.
            encoder: the encoder (wrap it in the embedding cache to reuse vectors).
            tokenizer: the BM25 tokenizer (one with an ``id`` can use the token cache).
            config: retrieval settings, saved with each version.
            token_cache: a token cache, so that rebuilds re-tokenize only unseen texts.
        """
        self.folder = VersionedFolder(root)
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.config = config or RetrievalConfig()
        self.token_cache = token_cache

    # -- building ---------------------------------------------------------------------------
    def build(self, docs: dict[str, Iterable[Doc]], *, progress: bool = False) -> dict[str, Any]:
        """Full build of every direction; switches to the new version atomically.

        Args:
            docs: documents per direction (``talents``, ``needs``).
            progress: show progress bars while encoding.

        Returns:
            The new version's manifest.
        """
        previous = self._previous()
        data = {d: self._direction(list(docs.get(d, [])), previous.get(d), progress)
                for d in DIRECTIONS}
        for d in data.values():  # drop tokens no document uses any more
            d.tokens = d.tokens.compact()
        return self._write(data, {"mode": "full"})

    def update(self, changed: Mapping[str, Iterable[Doc]],
               deleted: Mapping[str, Iterable[str]],
               *, progress: bool = False) -> dict[str, Any]:
        """Apply added/changed and deleted documents to the serving version.

        Args:
            changed: new or changed documents per direction.
            deleted: ids to remove per direction.
            progress: show progress bars while encoding.

        Returns:
            The new version's manifest (``stats`` says what changed).
        """
        previous = self._previous(required=True)
        data: dict[str, DirectionData] = {}
        stats: dict[str, dict[str, int]] = {}
        for direction in DIRECTIONS:
            prev = previous[direction]
            ch = {d.id: d for d in changed.get(direction, [])}
            gone = set(deleted.get(direction, [])) | set(ch)
            keep = [i for i, doc_id in enumerate(prev.ids) if doc_id not in gone]
            fresh = self._direction(sorted(ch.values(), key=lambda d: d.id), prev, progress)
            data[direction] = _merge(_subset(prev, keep), fresh)
            stats[direction] = {"changed": len(ch), "deleted": len(gone - set(ch))}
        return self._write(data, {"mode": "incremental", "stats": stats})

    def sync(self, docs: Mapping[str, Sequence[Doc]], *, progress: bool = False) -> dict[str, Any]:
        """Incremental update to a full set of documents: only the difference is applied.

        Compares ``docs`` with the serving version by content hash; documents that are new or
        whose hash changed are re-encoded, ids no longer present are deleted (:meth:`update`).

        Args:
            docs: every document per direction, as a full build would take them.
            progress: show progress bars while encoding.

        Returns:
            The new version's manifest (``stats`` says what changed).

        Raises:
            IndexNotBuilt: no version is serving yet (run a full build first).
        """
        current = self.folder.current()
        changed: dict[str, list[Doc]] = {}
        deleted: dict[str, list[str]] = {}
        for direction in DIRECTIONS:
            old = DirectionData.load(current / direction, mmap=True)
            old_hash = dict(zip(old.ids, old.hashes, strict=True))
            wanted = docs.get(direction, [])
            changed[direction] = [d for d in wanted if old_hash.get(d.id) != d.hash]
            alive = {d.id for d in wanted}
            deleted[direction] = [i for i in old.ids if i not in alive]
        return self.update(changed, deleted, progress=progress)

    def _previous(self, required: bool = False) -> dict[str, DirectionData]:
        if self.folder.current_name() is None:
            if required:
                self.folder.current()  # raises IndexNotBuilt
            return {}
        cur = self.folder.current()
        return {d: DirectionData.load(cur / d, mmap=True) for d in DIRECTIONS}

    def _direction(self, docs: list[Doc], previous: DirectionData | None,
                   progress: bool) -> DirectionData:
        docs = sorted({d.id: d for d in docs}.values(), key=lambda d: d.id)
        prev_rows = previous.rows() if previous is not None else {}
        prev_hashes = previous.hashes if previous is not None else []
        reuse = [_reusable(d, prev_rows, prev_hashes) for d in docs]
        todo = [i for i, r in enumerate(reuse) if r is None]
        counts = np.array([len(d.items) for d in docs], dtype=np.int64)
        dim = self.encoder.dim
        profile = np.zeros((len(docs), dim), dtype=np.float32)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        items = np.zeros((int(offsets[-1]), dim), dtype=np.float32)
        vocab = Vocabulary(previous.tokens.vocab if previous is not None else ())
        segments: list[np.ndarray] = [np.zeros(0, np.int32) for _ in docs]
        if previous is not None:
            _copy_reused(previous, reuse, profile, items, offsets, segments)
        self._encode_new([docs[i] for i in todo], todo, profile, items, offsets, progress)
        for i, toks in zip(todo, self._token_lists([docs[i] for i in todo]), strict=True):
            segments[i] = vocab.encode(toks)
        return DirectionData([d.id for d in docs], [d.hash for d in docs], counts,
                             assemble(segments, vocab.tokens), profile, items)

    def _token_lists(self, docs: list[Doc]) -> list[list[str]]:
        """Each document's tokens (profile, then items), through the token cache if any."""
        texts = [t for d in docs for t in (d.profile, *d.items)]
        tokenizer_id = getattr(self.tokenizer, "id", None)
        if self.token_cache is not None and tokenizer_id:
            lists = self.token_cache.tokenize_many(tokenizer_id, texts, self.tokenizer.tokenize)
        else:
            lists = [self.tokenizer.tokenize(t) for t in texts]
        out, pos = [], 0
        for d in docs:
            n = 1 + len(d.items)
            out.append([tok for toks in lists[pos:pos + n] for tok in toks])
            pos += n
        return out

    def _encode_new(self, docs: list[Doc], rows: list[int], profile: np.ndarray,
                    items: np.ndarray, offsets: np.ndarray, progress: bool) -> None:
        if not docs:
            return
        profile[rows] = self.encoder.encode([d.profile for d in docs], progress=progress)
        flat = [t for d in docs for t in d.items]
        if flat:
            vecs = self.encoder.encode(flat, progress=progress)
            pos = 0
            for d, row in zip(docs, rows, strict=True):
                n = len(d.items)
                items[offsets[row]:offsets[row] + n] = vecs[pos:pos + n]
                pos += n

    def _write(self, data: dict[str, DirectionData], extra: dict[str, Any]) -> dict[str, Any]:
        manifest = {
            "format": FORMAT,
            "encoder": self.encoder.id,
            "dims": self.encoder.dim,
            "counts": {d: len(data[d].ids) for d in DIRECTIONS}
            | {f"{d}_items": int(data[d].counts.sum()) for d in DIRECTIONS},
            "data_hash": data_hash(data),
            "config": self.config.model_dump(),
            **extra,
        }
        previous = self.folder.current() if self.folder.current_name() else None
        cfg = self.config
        with self.folder.build(manifest) as work:
            graphs = {}
            for direction in DIRECTIONS:
                d = data[direction]
                d.save(work / direction, cfg.profile_weight)
                graphs[direction] = write_graph(
                    work / direction, d.ids, d.hashes,
                    None if previous is None else previous / direction,
                    threshold=cfg.ann_threshold, m=cfg.hnsw_m,
                    ef_construction=cfg.hnsw_ef_construction, max_delta=cfg.ann_max_delta)
            manifest["graphs"] = graphs  # the manifest is written when the block ends
        self.folder.prune(keep=2)
        return self.folder.manifest()

    # -- loading ----------------------------------------------------------------------------
    def load(self) -> SearchIndex:
        """Load the serving version into retrievers (raises IndexNotBuilt if none)."""
        cur = self.folder.current()
        manifest = self.folder.manifest()
        if manifest.get("encoder") != self.encoder.id:
            raise ValueError(
                f"索引由编码器 {manifest.get('encoder')} 建立，当前设置为 {self.encoder.id}；"
                "请重新运行 `talentmatch index build`"
            )
        config = RetrievalConfig(**manifest.get("config", {}))
        index = SearchIndex(manifest)
        for direction in DIRECTIONS:
            d = DirectionData.load(cur / direction, mmap=True)
            retriever = HybridRetriever(self.encoder, self.tokenizer, config)
            items = [[""] * int(c) for c in d.counts]
            summary = np.load(cur / direction / "summary.npy", mmap_mode="r")
            lexical = shared_index(cur / direction,
                                   (config.bm25_k1, config.bm25_b, config.bm25_method),
                                   d.tokens.ids, d.tokens.offsets, d.tokens.vocab, d.ids)
            retriever.build(Corpus(d.ids, [""] * len(d.ids), items, d.profile, d.items,
                                   lexical=lexical, summary_vectors=summary))
            graph = load_graph(cur / direction, d.ids, d.hashes)
            if graph is not None:
                retriever.attach_graph(graph)
            index.retrievers[direction] = retriever
        return index


def _reusable(doc: Doc, prev_rows: dict[str, int], prev_hashes: list[str]) -> int | None:
    """Row of ``doc`` in the previous version when its content is unchanged there."""
    row = prev_rows.get(doc.id)
    return row if row is not None and prev_hashes[row] == doc.hash else None


def _copy_reused(previous: DirectionData, reuse: list[int | None], profile: np.ndarray,
                 items: np.ndarray, offsets: np.ndarray, segments: list[np.ndarray]) -> None:
    rows = [i for i, r in enumerate(reuse) if r is not None]
    if not rows:
        return
    src = np.array([reuse[i] for i in rows], dtype=np.int64)
    profile[rows] = previous.profile[src]
    prev_off = previous.offsets()
    dst_idx = item_rows(offsets, np.asarray(rows, dtype=np.int64))
    src_idx = item_rows(prev_off, src)
    if dst_idx.size:
        items[dst_idx] = previous.items[src_idx]
    for i, j in zip(rows, src.tolist(), strict=True):
        segments[i] = previous.tokens.segment(j)


def item_rows(offsets: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """The item rows of ``docs`` (document rows, in that order), concatenated.

    Args:
        offsets: each document's first item row (length n + 1).
        docs: document rows.

    Returns:
        ``int64`` item rows: ``offsets[d] … offsets[d + 1] − 1`` for each ``d`` in turn.
    """
    docs = np.asarray(docs, dtype=np.int64)
    starts, counts = offsets[docs], offsets[docs + 1] - offsets[docs]
    before = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return (np.repeat(starts - before, counts) + np.arange(int(counts.sum()))).astype(np.int64)


def _subset(d: DirectionData, keep: list[int]) -> DirectionData:
    idx = item_rows(d.offsets(), np.asarray(keep, dtype=np.int64))
    return DirectionData([d.ids[i] for i in keep], [d.hashes[i] for i in keep], d.counts[keep],
                         d.tokens.take(keep), np.asarray(d.profile[keep]),
                         np.asarray(d.items[idx.astype(np.int64)]))


def _merge(a: DirectionData, b: DirectionData) -> DirectionData:
    """Union of two disjoint direction datas, sorted by id (``b``'s vocabulary extends ``a``'s).

    The vectors are written once, straight into their sorted places (no concatenated copy).
    """
    ids = a.ids + b.ids
    order = sorted(range(len(ids)), key=ids.__getitem__)
    na = len(a.ids)
    place = np.empty(len(ids), dtype=np.int64)  # where each of a's, then b's, docs goes
    place[np.asarray(order, dtype=np.int64)] = np.arange(len(ids))
    counts = np.concatenate([a.counts, b.counts]).astype(np.int64)[order]
    off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    hashes = a.hashes + b.hashes
    dim = a.profile.shape[1] if a.profile.ndim == 2 else b.profile.shape[1]
    profile = np.empty((len(ids), dim), dtype=np.float32)
    items = np.empty((int(off[-1]), dim), dtype=np.float32)
    for part, where in ((a, place[:na]), (b, place[na:])):
        profile[where] = np.asarray(part.profile).reshape(-1, dim)
        items[item_rows(off, where)] = np.asarray(part.items).reshape(-1, dim)
    return DirectionData([ids[i] for i in order], [hashes[i] for i in order], counts,
                         merge_sorted(a.ids, a.tokens, b.ids, b.tokens, order),
                         profile, items)
