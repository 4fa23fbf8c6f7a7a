"""Tokenisation for the lexical index: the one place jieba lives.

A text becomes a list of string tokens:

1. The text is folded: Unicode NFKC (full-width → half-width) and lower case.
2. jieba (its own ``jieba.Tokenizer`` instance, never the global one) cuts it into words,
   with the domain terms of the taxonomy (chain names, per-chain term lists, categories,
   titles: ``load_taxonomy().all_terms()``) and any ``user_terms`` added as user words, so
   「尼龙66」 or 「特高压」 stay one token. HMM new-word discovery is off by default (faster,
   and the bigrams below cover unknown words).
3. Word tokens are kept when they hold a letter, a digit or a CJK character and are not
   stop words (a small built-in Chinese and English list). English words get a trivial
   suffix stripper (``ies → y``, a plural ``s``), see :func:`light_stem`.
4. The **character field** (``chars=True``, the default): every maximal run of CJK
   characters also yields its characters and overlapping character bigrams, each marked with
   :data:`CHAR_PREFIX` (「~高」, 「~高压」), so a query word that jieba segmented differently
   (「高压」 in 「特高压」) still matches, and the two fields stay apart in one BM25 index
   (:func:`field_of`, :func:`split_fields`). Characters and bigrams holding a function
   character (的 了 和 与 …: ``STOP_CHARS``) are dropped. On the real Chinese grant data
   (docs/quality.md) BM25 over words + characters + bigrams beats words alone and bigrams
   alone: titles are short and full of compounds that jieba cuts differently on each side.
   ``chars=False, bigrams=True`` keeps the older single field (words + unmarked bigrams that
   do not repeat a two-character word).

jieba is initialised lazily (on the first call) and its logger is silenced.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
HAS_WORD_CHAR = re.compile(r"[0-9a-z\u4e00-\u9fff]")
ASCII_WORD = re.compile(r"^[0-9a-z][0-9a-z+#&._%-]*$")

STOP_WORDS_ZH = frozenset([
    "的", "了", "和", "与", "及", "以及", "或", "或者", "等", "等等", "在", "是", "为", "对", "从", "由", "被", "把",
    "将", "向", "于", "之", "其", "而", "并", "且", "也", "都", "就", "还", "又", "所", "以", "及其", "有关", "相关",
    "进行", "开展", "通过", "一个", "一些", "这个", "那个", "这些", "那些", "我们", "他们", "本", "该", "此", "其他", "其它",
    "我", "你", "他", "她", "它", "着", "过", "上", "下", "中", "内", "外", "可", "能", "要", "会", "具有", "具备",
    "能够", "可以", "需要",
])
STOP_WORDS_EN = frozenset([
    "a", "an", "the", "and", "or", "of", "in", "on", "at", "to", "for", "with", "by", "from",
    "as", "is", "are", "was", "were", "be", "been", "this", "that", "these", "those", "it", "its",
    "into", "via", "we", "our", "their", "not", "no",
])
STOP_WORDS = STOP_WORDS_ZH | STOP_WORDS_EN
CHAR_PREFIX = "~"
"""Marks a token of the character field (never the first character of a word token)."""
FIELDS = ("words", "chars")
# function characters: a CJK bigram holding one of them is dropped (能, 中, 上 … stay: 储能)
STOP_CHARS = frozenset([
    "的", "了", "和", "与", "及", "或", "等", "在", "是", "为", "对", "从", "由", "被", "把", "将", "向", "于", "之",
    "而", "并", "且", "也", "都", "就", "还", "又", "着", "过",
])


def fold(text: str) -> str:
    """NFKC-normalise and lower-case a text.

    Args:
        text: any text.

    Returns:
        The folded text.
    """
    return unicodedata.normalize("NFKC", text).lower()


def light_stem(word: str) -> str:
    """A trivial English suffix stripper (PyStemmer is not a dependency).

    ``ies → y`` (studies → study) and a plural ``s`` is dropped when the word is longer than
    three letters and does not end in ``ss``, ``us`` or ``is`` (materials → material,
    process stays). Nothing else: it must never make two unrelated words collide.

    Args:
        word: a lower-case ASCII word.

    Returns:
        The stripped word.
    """
    if not word.isalpha() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class Tokenizer:
    """jieba words + CJK character bigrams + lower-cased English, stop words dropped."""

    def __init__(
        self,
        user_terms: Iterable[str] = (),
        *,
        taxonomy: bool = True,
        bigrams: bool = True,
        hmm: bool = False,
        chars: bool = True,
    ) -> None:
        """Prepare a tokenizer; jieba itself loads on first use.

        Args:
            user_terms: extra domain terms kept as single tokens.
            taxonomy: also add every term of the bundled taxonomy (``all_terms()``).
            bigrams: emit character bigrams of CJK runs (unmarked, when ``chars`` is off).
            hmm: let jieba discover unknown words with its HMM (slower).
            chars: emit the character field (marked characters and bigrams, see the module
                doc); it replaces the unmarked bigrams.
        """
        self.user_terms = [fold(t).strip() for t in user_terms if t and t.strip()]
        self.taxonomy = taxonomy
        self.bigrams = bigrams
        self.hmm = hmm
        self.chars = chars
        self._jieba: Any = None
        self._lock = threading.Lock()

    @property
    def id(self) -> str:
        """Stable id of this tokenizer's behaviour (jieba version, options, user terms)."""
        import hashlib

        import jieba

        terms = hashlib.sha256("\n".join(self._terms()).encode("utf-8")).hexdigest()[:16]
        return (f"jieba-{jieba.__version__}:bigrams={int(self.bigrams)}:hmm={int(self.hmm)}"
                f":chars={int(self.chars)}:stop={len(STOP_WORDS)}:terms={terms}")

    def _terms(self) -> list[str]:
        terms = list(self.user_terms)
        if self.taxonomy:
            from data.taxonomy import load_taxonomy

            terms.extend(fold(t).strip() for t in load_taxonomy().all_terms())
        return list(dict.fromkeys(t for t in terms if t))

    def _ensure(self) -> Any:
        if self._jieba is None:
            with self._lock:
                if self._jieba is None:
                    import jieba

                    jieba.setLogLevel(logging.WARNING)
                    logging.getLogger("jieba").setLevel(logging.WARNING)
                    jt = jieba.Tokenizer()
                    jt.initialize()
                    for term in self._terms():
                        jt.add_word(term, freq=max(jt.suggest_freq(term, False), 1000))
                    self._jieba = jt
        return self._jieba

    def tokenize(self, text: str) -> list[str]:
        """Tokens of one text.

        Args:
            text: any text (Chinese, English or mixed); empty gives ``[]``.

        Returns:
            Tokens in text order: words first, then the character field (or the bigrams).
        """
        if not text:
            return []
        folded = fold(text)
        jt = self._ensure()
        tokens: list[str] = []
        word_spans: set[int] = set()
        pos = 0
        for word in jt.cut(folded, HMM=self.hmm):
            start = pos
            pos += len(word)
            word = word.strip()
            if not word or word in STOP_WORDS or not HAS_WORD_CHAR.search(word):
                continue
            if ASCII_WORD.match(word):
                word = light_stem(word.strip("._-"))
                if not word or word in STOP_WORDS:
                    continue
            elif len(word) == 2:
                word_spans.add(start)
            tokens.append(word)
        if self.chars:
            tokens.extend(self._char_field(folded))
        elif self.bigrams:
            tokens.extend(self._bigrams(folded, word_spans))
        return tokens

    @staticmethod
    def _char_field(folded: str) -> list[str]:
        out: list[str] = []
        for run in CJK_RUN.finditer(folded):
            s = run.group()
            out.extend(CHAR_PREFIX + c for c in s if c not in STOP_CHARS)
            for i in range(len(s) - 1):
                if s[i] not in STOP_CHARS and s[i + 1] not in STOP_CHARS:
                    out.append(CHAR_PREFIX + s[i : i + 2])
        return out

    @staticmethod
    def _bigrams(folded: str, word_spans: set[int]) -> list[str]:
        out: list[str] = []
        for run in CJK_RUN.finditer(folded):
            s, base = run.group(), run.start()
            for i in range(len(s) - 1):
                if base + i in word_spans:
                    continue
                pair = s[i : i + 2]
                if pair[0] in STOP_CHARS or pair[1] in STOP_CHARS:
                    continue
                out.append(pair)
        return out

    def tokenize_many(self, texts: Sequence[str]) -> list[list[str]]:
        """Tokens of many texts.

        Args:
            texts: the texts.

        Returns:
            One token list per text, in order.
        """
        self._ensure()
        return [self.tokenize(t) for t in texts]



def field_of(token: str) -> str:
    """The field a token belongs to: ``"chars"`` for marked tokens, else ``"words"``.

    Args:
        token: a token of :meth:`Tokenizer.tokenize`.

    Returns:
        One of :data:`FIELDS`.
    """
    return "chars" if token.startswith(CHAR_PREFIX) else "words"


def split_fields(tokens: Sequence[str]) -> dict[str, list[str]]:
    """Split a token list by field.

    Args:
        tokens: tokens of :meth:`Tokenizer.tokenize`.

    Returns:
        ``{"words": [...], "chars": [...]}`` in token order.
    """
    out: dict[str, list[str]] = {f: [] for f in FIELDS}
    for tok in tokens:
        out[field_of(tok)].append(tok)
    return out
