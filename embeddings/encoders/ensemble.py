"""Several encoders combined into one vector whose inner product is a weighted cosine sum."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from embeddings.encoders.base import Encoder, EncoderError, l2_normalise


def parse_members(spec: str) -> list[tuple[str, float]]:
    """Parse ``name=weight,name=weight`` (the part after ``ensemble:``).

    Args:
        spec: the member list; names may contain ':' and '/', the weight follows the last '='.

    Returns:
        (name, weight) pairs.

    Raises:
        EncoderError: a member lacks a weight, a weight is not a positive number, or no member.
    """
    members = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, weight = part.rpartition("=")
        if not sep or not name:
            raise EncoderError(f"ensemble member {part!r} needs a weight: <name>=<weight>")
        try:
            value = float(weight)
        except ValueError as exc:
            raise EncoderError(f"ensemble weight {weight!r} of {name!r} is not a number") from exc
        if not value > 0 or not math.isfinite(value):
            raise EncoderError(f"ensemble weight of {name!r} must be positive, got {weight}")
        members.append((name.strip(), value))
    if not members:
        raise EncoderError("ensemble needs at least one member: ensemble:<name>=<weight>,…")
    return members


class EnsembleEncoder:
    """Concatenation of member embeddings, each scaled by sqrt(weight / Σ weights).

    For two texts a, b the inner product of the ensemble vectors is
    ``Σ_i w_i cos_i(a, b) / Σ_i w_i``; the rows are unit length because each member's are.

    Args:
        members: (encoder, weight) pairs, weights positive.
    """

    def __init__(self, members: Sequence[tuple[Encoder, float]]) -> None:
        if not members:
            raise EncoderError("ensemble needs at least one member")
        total = sum(w for _, w in members)
        self.members = [(enc, w) for enc, w in members]
        self.scales = [math.sqrt(w / total) for _, w in members]
        self.dim = sum(enc.dim for enc, _ in members)
        self.id = "ensemble:" + ",".join(f"{enc.id}={w:g}" for enc, w in members)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        """Embed texts with every member and concatenate (see ``Encoder.encode``).

        Args:
            texts: the texts.
            batch_size: passed to the members.
            progress: passed to the members.

        Returns:
            float32 array (len(texts), dim).
        """
        parts = [enc.encode(texts, batch_size=batch_size, progress=progress) * scale
                 for (enc, _), scale in zip(self.members, self.scales, strict=True)]
        return l2_normalise(np.concatenate(parts, axis=1))

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 64,
                       progress: bool = False) -> np.ndarray:
        """Embed queries with every member's query side and concatenate.

        Args:
            texts: the queries.
            batch_size: passed to the members.
            progress: passed to the members.

        Returns:
            float32 array (len(texts), dim).
        """
        parts = [enc.encode_queries(texts, batch_size=batch_size, progress=progress) * scale
                 for (enc, _), scale in zip(self.members, self.scales, strict=True)]
        return l2_normalise(np.concatenate(parts, axis=1))

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one text with every member (see ``Encoder.encode_query``).

        Args:
            text: the query.

        Returns:
            float32 array (dim,).
        """
        parts = [enc.encode_query(text) * scale
                 for (enc, _), scale in zip(self.members, self.scales, strict=True)]
        return l2_normalise(np.concatenate(parts)[None, :])[0]
