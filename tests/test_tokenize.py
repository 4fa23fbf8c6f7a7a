"""The jieba + bigram tokenizer."""

from __future__ import annotations

import pytest

from embeddings.tokenize import CHAR_PREFIX, Tokenizer, field_of, fold, light_stem, split_fields


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer(["尼龙66", "特高压"])


def test_user_terms_stay_one_token(tok: Tokenizer) -> None:
    tokens = tok.tokenize("尼龙66切片与特高压输电")
    assert "尼龙66" in tokens
    assert "特高压" in tokens


def test_without_user_terms_they_split() -> None:
    plain = Tokenizer(taxonomy=False, bigrams=False, chars=False)
    assert "尼龙66" not in plain.tokenize("尼龙66切片")


def test_character_field_of_cjk_runs(tok: Tokenizer) -> None:
    tokens = tok.tokenize("特高压输电")
    assert "~高压" in tokens and "~特高" in tokens and "~特" in tokens
    assert "特高压" in tokens  # the word field keeps the whole term


def test_fields_are_split_by_marker(tok: Tokenizer) -> None:
    tokens = tok.tokenize("储能的材料")
    fields = split_fields(tokens)
    assert fields["words"] == ["储能", "材料"]
    assert all(t.startswith(CHAR_PREFIX) for t in fields["chars"])
    assert "~的" not in fields["chars"] and "~能的" not in fields["chars"]
    assert field_of("~储能") == "chars" and field_of("储能") == "words"


def test_old_single_field_bigrams_do_not_repeat_two_char_words() -> None:
    t = Tokenizer(["特高压"], taxonomy=False, chars=False)
    assert t.tokenize("材料").count("材料") == 1
    assert "高压" in t.tokenize("特高压输电")


def test_bigrams_and_chars_can_be_switched_off() -> None:
    t = Tokenizer(["特高压"], taxonomy=False, bigrams=False, chars=False)
    assert t.tokenize("特高压") == ["特高压"]


def test_tokenizer_id_names_the_character_field() -> None:
    assert Tokenizer(taxonomy=False).id != Tokenizer(taxonomy=False, chars=False).id


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
