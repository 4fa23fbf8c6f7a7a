"""The jieba + bigram tokenizer."""

from __future__ import annotations

import pytest

from embeddings.tokenize import Tokenizer, fold, light_stem


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer(["尼龙66", "特高压"])


def test_user_terms_stay_one_token(tok: Tokenizer) -> None:
    tokens = tok.tokenize("尼龙66切片与特高压输电")
    assert "尼龙66" in tokens
    assert "特高压" in tokens


def test_without_user_terms_they_split() -> None:
    plain = Tokenizer(taxonomy=False, bigrams=False)
    assert "尼龙66" not in plain.tokenize("尼龙66切片")


def test_bigrams_of_cjk_runs(tok: Tokenizer) -> None:
    tokens = tok.tokenize("特高压输电")
    assert "高压" in tokens and "特高" in tokens


def test_two_char_words_are_not_repeated_as_bigrams(tok: Tokenizer) -> None:
    assert tok.tokenize("材料").count("材料") == 1


def test_bigrams_can_be_switched_off() -> None:
    t = Tokenizer(["特高压"], taxonomy=False, bigrams=False)
    assert t.tokenize("特高压") == ["特高压"]


def test_english_lowercased_and_stemmed(tok: Tokenizer) -> None:
    tokens = tok.tokenize("Deep Learning for Battery Materials, PA66 studies")
    assert tokens == ["deep", "learning", "battery", "material", "pa66", "study"]


def test_stop_words_and_punctuation_dropped(tok: Tokenizer) -> None:
    tokens = tok.tokenize("研究的方法，和技术！")
    assert "的" not in tokens and "和" not in tokens
    assert not any(t in "，！" for t in tokens)
    assert "研究" in tokens and "技术" in tokens


def test_full_width_folded(tok: Tokenizer) -> None:
    assert "pa66" in tok.tokenize("ＰＡ６６")


def test_taxonomy_terms_loaded_by_default() -> None:
    t = Tokenizer()
    assert "党政军群及事业单位" in t.tokenize("党政军群及事业单位人才")


def test_empty_and_many(tok: Tokenizer) -> None:
    assert tok.tokenize("") == []
    assert tok.tokenize_many(["储能", "", "煤化工"]) == [
        tok.tokenize("储能"), [], tok.tokenize("煤化工")
    ]


def test_helpers() -> None:
    assert fold("ＡＢＣ　１") == "abc 1"
    assert light_stem("process") == "process"
    assert light_stem("bus") == "bus"
    assert light_stem("batteries") == "battery"
    assert light_stem("alloys") == "alloy"
