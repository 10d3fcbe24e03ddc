"""Normalisation: NFKC, full-width forms, whitespace, OpenCC t2s, position map, script detection."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_sentiment import Script
from cs_sentiment.normalize import NormalizedText, detect_script, normalize, to_simplified, to_traditional


def test_full_width_letters_digits_and_punctuation_become_ascii():
    assert normalize("ＡＰＰ１２３！？，").text == "app123!?,"


def test_letters_are_lowercased():
    assert normalize("VIP会员ID").text == "vip会员id"


def test_whitespace_runs_become_one_space_and_ends_are_stripped():
    assert normalize("  退款 \t\n  进度  ").text == "退款 进度"


def test_ideographic_and_no_break_spaces_count_as_whitespace():
    assert normalize("\u3000退款\u3000\u00a0进度\u3000").text == "退款 进度"


def test_traditional_characters_are_converted_to_simplified_for_matching():
    assert normalize("帳號無法登入，請幫我處理").text == "帐号无法登入,请帮我处理"


@pytest.mark.parametrize(("message", "script"), [
    ("請問何時出貨", Script.TRADITIONAL),
    ("這個東西壞了，我要退貨", Script.TRADITIONAL),
    ("请问何时发货", Script.SIMPLIFIED),
    ("东西坏了，我要退货", Script.SIMPLIFIED),
    ("ok thanks", Script.SIMPLIFIED),
    ("12345", Script.SIMPLIFIED),
    ("", Script.SIMPLIFIED),
])
def test_script_is_detected(message, script):
    assert detect_script(message) is script
    assert normalize(message).script is script


def test_to_simplified_and_to_traditional_convert_between_scripts():
    assert to_simplified("帳號登入") == "帐号登入"
    assert to_traditional("请问这个东西") == "請問這個東西"


def test_control_characters_are_dropped_and_line_breaks_become_spaces():
    assert normalize("退\x00款\x07\x1b").text == "退款"
    assert normalize("退款\n进度\r\n查询").text == "退款 进度 查询"


def test_lone_surrogates_are_dropped():
    assert normalize("退\ud800款\udfff").text == "退款"


def test_zero_width_space_is_dropped_but_zero_width_joiner_is_kept():
    assert normalize("退\u200b款\ufeff").text == "退款"
    assert "\u200d" in normalize("🤦\u200d♂️").text


def test_html_tags_become_a_space_and_entities_their_character():
    assert normalize("<p>退款&amp;退货</p>").text == "退款&退货"
    assert normalize("<b>太差</b>了").text == "太差 了"
    assert normalize("价格&lt;100").text == "价格<100"


def test_ascii_message_without_changes_maps_one_to_one():
    n = normalize("你好")
    assert n.original_span(0, 2) == (0, 2)


def test_span_of_a_traditional_full_width_word_points_into_the_original():
    message = "這個  ＡＰＰ 太爛了！！"
    n = normalize(message)
    start = n.text.index("太烂了")
    o_start, o_end = n.original_span(start, start + 3)
    assert message[o_start:o_end] == "太爛了"
    app = n.text.index("app")
    assert message[slice(*n.original_span(app, app + 3))] == "ＡＰＰ"


def test_span_of_a_word_after_html_and_control_characters_points_into_the_original():
    message = "<div>\x00订单&amp;  太慢了</div>"
    n = normalize(message)
    start = n.text.index("太慢了")
    o_start, o_end = n.original_span(start, start + 3)
    assert message[o_start:o_end] == "太慢了"


def test_empty_span_maps_to_a_single_position():
    n = normalize("  退款")
    start, end = n.original_span(1, 1)
    assert start == end


def test_normalized_text_is_frozen():
    n = normalize("退款")
    assert isinstance(n, NormalizedText)
    with pytest.raises(AttributeError):
        n.text = "x"  # type: ignore[misc]


FRAGMENTS = st.one_of(
    st.characters(),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),  # lone surrogates
    st.sampled_from(list("這個帳號壞了，請問！？ＡＢ１\u3000\u00a0\u200b\u200d\ufe0f🏽&<>;#\t\n")),
    st.sampled_from(["&amp;", "&#x1F621;", "&nbsp;", "<br/>", "<p>", "</div>", "&#0;", "&#xD800;", "㍿"]),
)
MESSAGES = st.lists(FRAGMENTS, max_size=30).map("".join)


@settings(max_examples=150, deadline=None, database=None)
@given(MESSAGES)
def test_any_string_normalises_and_every_character_maps_back_into_the_original(message):
    n = normalize(message)
    assert n.original == message
    assert n.text == n.text.strip()
    assert "  " not in n.text
    assert not any("\ud800" <= ch <= "\udfff" or ch < " " for ch in n.text)
    previous = 0
    for i in range(len(n.text)):
        start, end = n.original_span(i, i + 1)
        assert 0 <= start < end <= len(message)
        assert start >= previous
        previous = start


def test_normalizing_many_texts_at_once_gives_what_one_by_one_gives():
    import csv
    from pathlib import Path

    from cs_sentiment.normalize import normalize_texts

    root = Path(__file__).resolve().parents[1]
    with (root / "data" / "samples" / "corpus.csv").open(encoding="utf-8") as f:
        texts = [r["text"] for r in csv.DictReader(f)]
    for path in sorted((root / "data" / "lexicons").glob("*.tsv")):
        texts += [line.split("\t")[0] for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    texts += ["a\nb", "", " x ", "&amp;", "<b>乾隆</b>", "頭髮", "皇后", "\u00ad退款", "ＡＰＰ"]
    assert normalize_texts(texts) == [normalize(t).text for t in texts]
