"""Cue rules (VADER's idea for Chinese), one minimal example per rule.

Most tests read :func:`cs_sentiment.cues.scan_text` directly; a few check that
the rule carries through to the full analysis.
"""

from __future__ import annotations

import math

import pytest

from cs_sentiment.cues import CUE_FEATURE_NAMES, scan_text
from cs_sentiment.normalize import normalize
from cs_sentiment.scoring import bounded, lexicon_valence

NEGATIVE = ("angry", "disappointed", "anxious", "impatient", "confused", "hesitant")


@pytest.fixture
def scan(lexicon):
    """Scan one raw message with the packaged lexicon."""
    return lambda message: scan_text(normalize(message), lexicon)


def _cues(text_cues, kind):
    return [c for c in text_cues.cues if c.kind == kind]


def _keyword(text_cues, text):
    found = [c for c in text_cues.cues if c.kind == "keyword" and c.text == text]
    assert found, f"no keyword cue {text!r} in {text_cues.cues}"
    return found[0]


def _valence(text_cues):
    """The cues' own valence (the formula lives in :mod:`cs_sentiment.scoring`)."""
    return lexicon_valence(text_cues.emotion_strength, text_cues.emphasis)


def _negative_strength(text_cues):
    return sum(text_cues.emotion_strength[e] for e in NEGATIVE)


# --- negation ---------------------------------------------------------------------
@pytest.mark.parametrize("message", ["不满意", "并不满意", "没有让人满意", "一点都不开心", "我對這次服務不滿意"])
def test_negated_satisfaction_reads_negative(scan, message):
    cues = scan(message)
    assert _valence(cues) < 0
    assert cues.emotion_strength["satisfied"] == 0
    assert _negative_strength(cues) > 0


@pytest.mark.parametrize("message", ["一点也不失望", "我一点也不失望", "並不失望"])
def test_negated_disappointment_reads_positive(scan, message):
    cues = scan(message)
    assert _cues(cues, "negation")
    assert _valence(cues) > 0
    assert cues.emotion_strength["disappointed"] == 0
    assert cues.emotion_strength["satisfied"] > 0


@pytest.mark.parametrize("message", ["不是不喜欢", "不是不开心", "没有不开心", "并非不满意", "没有不满意"])
def test_double_negation_does_not_read_negative(scan, message):
    cues = scan(message)
    assert _valence(cues) >= 0
    assert _negative_strength(cues) == 0


@pytest.mark.parametrize(("message", "survivor"), [
    ("我并不着急，就是对质量很失望", "disappointed"),
    ("这次并不生气，但是很失望", "disappointed"),
    ("我並不著急，只是對品質很失望", "disappointed"),
    ("我并不生气只是很失望", "disappointed"),
    ("並非我著急是你們太慢了", "impatient"),
])
def test_negation_is_scoped_so_a_later_emotion_survives(scan, message, survivor):
    cues = scan(message)
    assert _cues(cues, "negation")
    assert cues.emotion_strength[survivor] > 0
    assert _valence(cues) < 0


@pytest.mark.parametrize(("message", "keyword", "emotion"), [
    ("不能退款很失望", "很失望", "disappointed"),
    ("新版不能用很難用", "難用", "disappointed"),
    ("没法发货真的很生气", "很生气", "angry"),
    ("不给换货太失望了", "太失望了", "disappointed"),
])
def test_a_negator_governs_only_its_own_predicate(scan, message, keyword, emotion):
    cues = scan(message)
    assert not _cues(cues, "negation"), "the negator governs the verb after it, not the later emotion word"
    assert _keyword(cues, keyword).label == emotion
    assert _valence(cues) < 0


@pytest.mark.parametrize("message", ["不是很满意", "不会太满意", "没能让我满意", "不觉得开心"])
def test_a_negator_reaches_over_copulas_adverbs_and_pronouns(scan, message):
    cues = scan(message)
    assert _cues(cues, "negation")
    assert cues.emotion_strength["satisfied"] == 0
    assert _valence(cues) < 0


@pytest.mark.parametrize("message", ["不太满意", "不怎么好用", "不大满意"])
def test_a_negating_softener_negates_and_softens(scan, message):
    cues = scan(message)
    assert _valence(cues) < 0
    assert cues.emotion_strength["satisfied"] == 0
    assert {c.label for c in _cues(cues, "degree")} == {"softener"}
    assert scan(message).emotion_strength["disappointed"] < scan("很失望").emotion_strength["disappointed"]


@pytest.mark.parametrize(("message", "emotion"), [
    ("這app真的很爛欸", "angry"), ("客服棒棒", "satisfied"), ("網路卡卡的", "impatient"), ("搞掂，唔該晒你", "satisfied"),
    ("傻眼了", "angry"), ("很瞎欸", "angry"),
])
def test_taiwan_and_hong_kong_wording_carries_a_cue(scan, message, emotion):
    assert scan(message).emotion_strength[emotion] > 0


def test_contrast_records_the_feeling_after_the_last_contrast_word(scan):
    from cs_sentiment.cues import CUE_FEATURE_NAMES

    features = dict(zip(CUE_FEATURE_NAMES, scan("客服态度很好，不过物流太慢了").features))
    assert features["after_contrast_negative"] > 0 and features["after_contrast_positive"] == 0
    features = dict(zip(CUE_FEATURE_NAMES, scan("物流太慢了，不过客服态度很好").features))
    assert features["after_contrast_positive"] > 0 and features["after_contrast_negative"] == 0


@pytest.mark.parametrize(("negated", "alone"), [
    ("不👍", "👍"), ("没有😡", "😡"), ("一点也不😭", "😭"), ("不🤦🏻\u200d♂️", "🤦🏻\u200d♂️"), ("不[强]", "[强]"),
])
def test_negation_never_flips_an_emoji(scan, negated, alone):
    with_negator, without = scan(negated), scan(alone)
    assert with_negator.emotion_strength == without.emotion_strength
    assert [c.label for c in _cues(with_negator, "emoji")] == [c.label for c in _cues(without, "emoji")]


# --- degree and softeners ---------------------------------------------------------
@pytest.mark.parametrize(("plain", "stronger", "keyword"), [
    ("生气", "特别生气", "生气"),
    ("担心", "十分担心", "担心"),
    ("失望", "极其失望", "失望"),
    ("很失望", "真的很失望", "很失望"),
])
def test_degree_adverb_raises_the_keyword_weight(scan, plain, stronger, keyword):
    base, boosted = scan(plain), scan(stronger)
    assert _keyword(boosted, keyword).weight > _keyword(base, keyword).weight
    assert _cues(boosted, "degree")
    assert abs(_valence(boosted)) > abs(_valence(base))


@pytest.mark.parametrize(("plain", "softened"), [
    ("失望", "有点失望"),
    ("担心", "稍微担心"),
    ("生气", "有点生气"),
])
def test_softener_lowers_the_keyword_weight(scan, plain, softened):
    base, soft = scan(plain), scan(softened)
    assert _keyword(soft, plain).weight < _keyword(base, plain).weight
    assert soft.softening < 1.0
    assert abs(_valence(soft)) < abs(_valence(base))


# --- contrast ---------------------------------------------------------------------
@pytest.mark.parametrize("word", ["但是", "不过", "可是", "只不过"])
def test_contrast_weighs_the_second_clause_more(scan, word):
    praise_first = scan(f"服务很好，{word}物流太慢")
    complaint_first = scan(f"物流太慢，{word}服务很好")
    assert _valence(praise_first) < 0 < _valence(complaint_first)
    assert _keyword(praise_first, "太慢").weight > _keyword(scan("物流太慢"), "太慢").weight
    assert _keyword(praise_first, "太慢").label == "impatient"
    assert _keyword(praise_first, "服务很好").weight < _keyword(scan("服务很好"), "服务很好").weight


@pytest.mark.parametrize("word", ["但是", "不过", "可是", "只不过"])
def test_contrast_word_is_not_read_as_a_negator(scan, word):
    assert not _cues(scan(f"服务很好，{word}物流太慢"), "negation")


@pytest.mark.parametrize("word", ["但是", "不过", "可是", "只不过"])
def test_praise_then_complaint_after_contrast_reads_negative_end_to_end(analyzer, word):
    result = analyzer.analyze(f"客服态度很好，{word}物流太慢了")
    assert result.polarity.value == "negative"
    assert result.emotion.value == "impatient"  # the later clause decides: 太慢了
    assert not any(c.kind == "model" for c in result.evidence)  # and the evidence agrees with the label


# --- punctuation ------------------------------------------------------------------
@pytest.mark.parametrize(("run", "label"), [
    ("！！！", "exclamation"), ("!!!", "exclamation"),
    ("？？？", "question_run"), ("???", "question_run"), ("?!", "question_run"), ("！？", "question_run"),
    ("。。。", "ellipsis"), ("...", "ellipsis"), ("……", "ellipsis"),
])
def test_punctuation_run_is_a_cue_pointing_at_the_run(scan, run, label):
    message = "怎么还没到" + run
    found = [c for c in _cues(scan(message), "punctuation") if c.label == label]
    assert len(found) == 1
    assert (found[0].start, found[0].end, found[0].text) == (5, 5 + len(run), run)


@pytest.mark.parametrize("run", ["！！！", "!!!", "？？？", "???"])
def test_emphatic_punctuation_adds_emphasis_and_intensity(scan, analyzer, run):
    assert scan("物流太慢了" + run).emphasis > scan("物流太慢了").emphasis
    assert analyzer.analyze("物流太慢了" + run).intensity > analyzer.analyze("物流太慢了").intensity


def test_more_exclamation_marks_add_more_emphasis(scan):
    assert scan("太慢了！").emphasis < scan("太慢了！！").emphasis < scan("太慢了！！！").emphasis


# --- repetition -------------------------------------------------------------------
def test_character_repetition_is_a_cue_and_adds_emphasis(scan):
    cues = scan("快快快")
    assert [(c.start, c.end) for c in _cues(cues, "repetition")] == [(0, 3)]
    assert cues.emphasis > scan("快").emphasis


def test_longer_character_run_adds_more_emphasis(scan):
    assert scan("快快快快快").emphasis > scan("快快快").emphasis


@pytest.mark.parametrize("message", ["到底行不行啊到底要等多久", "到底什么时候发货？到底什么时候发货？"])
def test_phrase_repetition_is_a_cue(scan, message):
    cues = scan(message)
    repeats = _cues(cues, "repetition")
    assert repeats and repeats[0].label.startswith("到底")
    assert cues.emphasis > 0


# --- emoji ------------------------------------------------------------------------
@pytest.mark.parametrize(("message", "emotion"), [
    ("😡😡😡", "angry"),
    ("👍👍", "satisfied"),
    ("😭😭", "disappointed"),
    ("[怒][怒]", "angry"),
    ("[强]", "satisfied"),
    ("(╬▔皿▔)╯", "angry"),
])
def test_emoji_only_message_reads_the_emoji_emotion(scan, analyzer, message, emotion):
    cues = scan(message)
    assert cues.emoji_only
    assert max(cues.emotion_strength, key=cues.emotion_strength.get) == emotion
    assert analyzer.analyze(message).emotion.value == emotion


def test_text_with_an_emoji_is_not_emoji_only(scan):
    assert not scan("物流太慢了😡").emoji_only


@pytest.mark.parametrize("grapheme", [
    "🤦\u200d♂️",          # ZWJ sequence with a variation selector
    "🤦🏻\u200d♂️",        # ... with a skin tone
    "👍🏽",                 # skin tone
    "❤️",                  # variation selector
    "👨\u200d👩\u200d👧",   # family ZWJ sequence
])
def test_emoji_is_matched_as_one_whole_grapheme(scan, grapheme):
    message = f"这也太离谱了{grapheme}吧"
    emoji = _cues(scan(message), "emoji")
    assert len(emoji) == 1
    assert (emoji[0].start, emoji[0].end, emoji[0].text) == (6, 6 + len(grapheme), grapheme)


@pytest.mark.parametrize(("variant", "base"), [("👍🏽", "👍"), ("👍🏿", "👍"), ("❤️", "❤"), ("🤦🏻\u200d♂️", "🤦\u200d♂️")])
def test_skin_tone_and_variation_selector_do_not_change_the_emoji_reading(scan, variant, base):
    assert scan(variant).emotion_strength == scan(base).emotion_strength
    assert _cues(scan(variant), "emoji")[0].label == _cues(scan(base), "emoji")[0].label != "unknown"


# --- sarcasm ----------------------------------------------------------------------
@pytest.mark.parametrize("message", [
    "你们服务真好[微笑]",
    "呵呵，你们效率真高",
    "你们可真行啊，呵呵",
    "你們的服務真好呵呵",
])
def test_praise_with_a_sarcasm_marker_reads_angry(scan, analyzer, message):
    cues = scan(message)
    assert _cues(cues, "sarcasm")
    assert cues.emotion_strength["satisfied"] == 0
    assert cues.emotion_strength["angry"] > 0
    assert _valence(cues) < 0
    assert analyzer.analyze(message).emotion.value == "angry"


def test_praise_without_a_sarcasm_marker_stays_positive(scan):
    cues = scan("你们服务真好，谢谢")
    assert not _cues(cues, "sarcasm")
    assert _valence(cues) > 0


# --- questions --------------------------------------------------------------------
@pytest.mark.parametrize(("message", "question"), [
    ("为什么扣我钱", True), ("請問怎麼退款", True), ("可以退款吗", True), ("发货了吗?", True),
    ("我要退款", False), ("谢谢", False),
])
def test_questions_are_recognised(scan, message, question):
    assert scan(message).question is question


# --- evidence spans ---------------------------------------------------------------
@pytest.mark.parametrize(("message", "kind", "text", "start"), [
    ("這個服務太爛了", "keyword", "太爛了", 4),
    ("ＡＰＰ太爛了！！", "keyword", "太爛了", 3),
    ("ＡＰＰ太爛了！！", "punctuation", "！！", 6),
    ("　ＡＰＰ　太爛了！！", "keyword", "太爛了", 5),
    ("<b>這個服務太爛了</b>！！！", "punctuation", "！！！", 14),
    ("&lt;太差了&gt;", "keyword", "太差了", 4),
    ("\x00\x07請問\u200b怎麼還沒到？？？", "punctuation", "？？？", 10),
    ("  我們真的很失望", "keyword", "很失望", 6),
    ("這也太離譜了🤦🏻\u200d♂️", "emoji", "🤦🏻\u200d♂️", 6),
])
def test_evidence_span_indexes_the_original_message(scan, analyzer, message, kind, text, start):
    for cues in (scan(message).cues, analyzer.analyze(message).evidence):
        found = [c for c in cues if c.kind == kind and c.text == text]
        assert found, f"no {kind} cue {text!r} in {cues}"
        assert (found[0].start, found[0].end) == (start, start + len(text))
        assert message[found[0].start:found[0].end] == text


def test_every_text_cue_is_a_slice_of_the_original(scan):
    message = "  <p>這個ＡＰＰ真的太爛了！！！</p>呵呵，你們效率真高[微笑]😡😡 到底什麼時候到？？？到底什麼時候到"
    cues = scan(message).cues
    assert {c.kind for c in cues} >= {"keyword", "punctuation", "sarcasm", "emoji", "repetition"}
    for cue in cues:
        assert message[cue.start:cue.end] == cue.text


# --- the bounded map and the feature vector ---------------------------------------
@pytest.mark.parametrize("score", [0.0, 0.1, 0.5, 1.0, 3.0, 100.0, 1e6])
def test_bounded_maps_smoothly_into_the_open_interval(score):
    assert -1.0 < bounded(score) < 1.0
    assert bounded(-score) == -bounded(score)
    assert bounded(score) <= bounded(score + 1.0)


def test_cue_features_have_one_value_per_name(scan):
    for message in ("", "太失望了！！！", "😡", "呵呵"):
        features = scan(message).features
        assert len(features) == len(CUE_FEATURE_NAMES)
        assert all(math.isfinite(f) for f in features)


def test_message_without_cues_is_neutral(scan):
    cues = scan("我的订单号是12345")
    assert _valence(cues) == 0.0
    assert not any(cues.emotion_strength.values())
