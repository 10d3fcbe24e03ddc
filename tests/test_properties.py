"""Property tests: any string, with any valid context, gives a valid Analysis."""

from __future__ import annotations

from importlib.resources import files

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_sentiment import Context, InvalidContextError
from cs_sentiment.context import CONTEXT_KEYS

SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _terms(name: str) -> list[str]:
    lines = (files("cs_sentiment.lexicons") / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[0] for line in lines[1:] if line.strip()]


#: Pieces that exercise the rules: lexicon terms of every kind, in both scripts, next to each other.
LEXICON_PIECES = sorted({term for name in ("emotion.tsv", "degree.tsv", "softener.tsv", "negation.tsv",
                                           "contrast.tsv", "sarcasm.tsv", "escalation.tsv", "emoji.tsv",
                                           "question.tsv") for term in _terms(name)})
NOISE = ["！！！", "???", "。。。", "…", "，", " ", "\n", "\t", "😡", "👍🏽", "🤦🏻\u200d♂️", "❤️", "\u200d", "\ufe0f",
         "<b>", "</p>", "&amp;", "&#x1F621;", "\x00", "\x1b", "\ud800", "\udfff", "ＡＢＣ", "order #123", "快快快",
         "到底", "[微笑]", "呵呵", "訂單", "什麼時候", "退款", "12315", "http://x.cn/a?b=1"]
ANY_TEXT = st.text(max_size=60)
SURROGATE_TEXT = st.text(st.one_of(st.characters(), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)),
                         max_size=30)
RULE_TEXT = st.lists(st.one_of(st.sampled_from(LEXICON_PIECES), st.sampled_from(NOISE), st.text(max_size=3)),
                     max_size=12).map("".join)
MESSAGES = st.one_of(ANY_TEXT, SURROGATE_TEXT, RULE_TEXT)


@SETTINGS
@given(message=MESSAGES)
def test_any_string_gives_a_valid_analysis(analyzer, check_analysis, message):
    check_analysis(analyzer.analyze(message), message)


@SETTINGS
@given(message=RULE_TEXT)
def test_analysis_is_a_pure_function_of_the_message(analyzer, message):
    assert analyzer.analyze(message) == analyzer.analyze(message)


POSITIVE = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False)
NON_NEGATIVE = st.floats(min_value=0.0, max_value=1e12, allow_nan=False, allow_infinity=False)
TIMESTAMP = st.one_of(st.none(), st.integers(0, 4_102_444_800), st.floats(0, 4.1e9, allow_nan=False))
HISTORY_ITEM = st.one_of(MESSAGES, st.fixed_dictionaries({"text": MESSAGES}, optional={"ts": TIMESTAMP}))
CONTEXTS = st.fixed_dictionaries({}, optional={
    "history": st.lists(HISTORY_ITEM, max_size=6),
    "typing_seconds": POSITIVE,
    "seconds_since_last": NON_NEGATIVE,
    "previous_complaints": st.integers(0, 10_000),
    "customer_baseline_cps": POSITIVE,
})


@SETTINGS
@given(message=MESSAGES, context=CONTEXTS)
def test_any_valid_context_gives_a_valid_analysis(analyzer, check_analysis, message, context):
    result = analyzer.analyze(message, context)
    check_analysis(result, message)
    assert result == analyzer.analyze(message, Context.from_value(context))


@SETTINGS
@given(key=st.text(min_size=1, max_size=20).filter(lambda k: k not in CONTEXT_KEYS), value=st.integers())
def test_any_unknown_context_key_is_an_error_naming_it(analyzer, key, value):
    with pytest.raises(InvalidContextError) as info:
        analyzer.analyze("在吗", {"typing_seconds": 2.0, key: value})
    assert repr(key) in str(info.value)


@SETTINGS
@given(messages=st.lists(RULE_TEXT, max_size=5))
def test_analyze_many_equals_analyze_one_by_one(analyzer, same, messages):
    # one product for the batch: every label, text and cue the same, floats to rounding
    many = [a.to_dict() for a in analyzer.analyze_many(messages)]
    assert same(many, [analyzer.analyze(m).to_dict() for m in messages])

