"""The analyze() contract: one test per taxonomy label, the fields, bad inputs, threads, import hygiene."""

from __future__ import annotations

import json
import math
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

import cs_sentiment
from cs_sentiment import (
    Analysis,
    Analyzer,
    CsSentimentError,
    Emotion,
    Intent,
    InvalidInputError,
    Need,
    Polarity,
    StrategyId,
    analyze,
    analyze_many,
)
from cs_sentiment.labels import NEED_BY_INTENT

# --- the enums are the taxonomy ---------------------------------------------------
TAXONOMY = {
    Emotion: ("neutral", "satisfied", "angry", "disappointed", "anxious", "impatient", "confused", "hesitant"),
    Intent: ("product_info", "price_promotion", "order_status", "return_refund", "product_quality",
             "payment_invoice", "account_tech", "usage_help", "complaint", "praise", "other"),
    Need: ("information", "transaction", "service", "experience", "none"),
    StrategyId: ("apologize_compensate", "explain_clarify", "assist_guide", "reassure", "inform", "thank",
                 "escalate"),
    Polarity: ("positive", "neutral", "negative"),
}


@pytest.mark.parametrize("enum", list(TAXONOMY), ids=lambda e: e.__name__)
def test_enum_holds_exactly_the_taxonomy_labels(enum):
    assert {member.value for member in enum} == set(TAXONOMY[enum])
    assert all(member == member.value and str(member) == member.value for member in enum)


def test_need_of_every_intent_follows_the_taxonomy():
    assert {str(k): v.value for k, v in NEED_BY_INTENT.items()} == {
        "product_info": "information", "price_promotion": "information", "order_status": "service",
        "return_refund": "transaction", "product_quality": "service", "payment_invoice": "transaction",
        "account_tech": "experience", "usage_help": "service", "complaint": "service", "praise": "none",
        "other": "none",
    }


# --- one realistic message per label, from the shipped model -----------------------
EMOTION_EXAMPLES = [
    ("neutral", "请问这款冰箱有几种颜色可选？"),
    ("neutral", "請問這台冰箱有幾種顏色可以選？"),
    ("satisfied", "收到了，谢谢你们，服务非常好，下次还来买"),
    ("satisfied", "收到了，謝謝你們，服務很好，下次還會再來買"),
    ("angry", "你们这是什么破质量，用了两天就坏了，无法接受！"),
    ("angry", "你們這是什麼爛品質，用了兩天就壞了，完全無法接受！"),
    ("disappointed", "太失望了，白买了，算了吧"),
    ("disappointed", "真的太失望了，白買了，算了吧"),
    ("anxious", "我明天就要出国了，包裹今天到不了怎么办，急死了"),
    ("anxious", "我明天就要出國了，包裹今天到不了怎麼辦，急死了"),
    ("impatient", "都等了一个星期了，到底什么时候发货，快点行不行"),
    ("impatient", "已經等了一個禮拜了，到底什麼時候出貨，快一點好不好"),
    ("confused", "页面上显示已签收，可我根本没收到，看不懂是怎么回事"),
    ("confused", "頁面上顯示已簽收，可是我根本沒收到，看不懂是怎麼回事"),
    ("hesitant", "这款有点贵，我再考虑考虑，怕买了不合适"),
    ("hesitant", "這款有點貴，我再考慮看看，怕買了不適合"),
]
INTENT_EXAMPLES = [
    ("product_info", "这款手机支持5G吗，内存多大？"),
    ("product_info", "這款手機有支援5G嗎？記憶體多大？"),
    ("price_promotion", "现在买有优惠券吗？双十一还会降价吗？"),
    ("price_promotion", "現在買有折價券嗎？週年慶還會再降價嗎？"),
    ("order_status", "我的快递到哪了，单号查不到物流信息"),
    ("order_status", "我的包裹到哪裡了，單號查不到物流資訊"),
    ("return_refund", "我想申请退货退款，衣服尺码不合适"),
    ("return_refund", "我想申請退貨退款，衣服尺寸不合"),
    ("product_quality", "收到的杯子是碎的，质量太差了"),
    ("product_quality", "收到的杯子是破的，品質太差了"),
    ("payment_invoice", "付款的时候扣了两次钱，发票怎么开？"),
    ("payment_invoice", "付款的時候被扣了兩次錢，發票要怎麼開？"),
    ("account_tech", "登录不上，验证码一直收不到"),
    ("account_tech", "登入不了，驗證碼一直收不到"),
    ("usage_help", "这个净水器的滤芯怎么安装？"),
    ("usage_help", "這台淨水器的濾芯要怎麼安裝？"),
    ("complaint", "你们客服态度太差了，我要投诉，叫你们主管来"),
    ("complaint", "你們客服態度太差了，我要投訴，叫你們主管出來"),
    ("praise", "小王的服务特别耐心，非常感谢，给你们点赞"),
    ("praise", "小王的服務特別有耐心，非常感謝，給你們按讚"),
    ("other", "你好，在吗"),
    ("other", "你好，在嗎"),
]
NEED_EXAMPLES = [
    ("information", "这款手机支持5G吗，内存多大？"),
    ("transaction", "我想申请退货退款，衣服尺码不合适"),
    ("service", "我的快递到哪了，单号查不到物流信息"),
    ("experience", "登录不上，验证码一直收不到"),
    ("none", "小王的服务特别耐心，非常感谢，给你们点赞"),
]
STRATEGY_EXAMPLES = [
    ("apologize_compensate", "收到的杯子是碎的，质量太差了"),
    ("explain_clarify", "为什么我用了优惠券价格还是没变？看不懂你们的满减规则"),
    ("assist_guide", "这个净水器的滤芯怎么安装？"),
    ("reassure", "这款有点贵，我再考虑考虑，怕买了不合适"),
    ("inform", "请问这款冰箱有几种颜色可选？"),
    ("thank", "小王的服务特别耐心，非常感谢，给你们点赞"),
    ("escalate", "你们客服态度太差了，我要投诉，叫你们主管来"),
]


def _ids(examples):
    return [f"{label}-{i % 2}" for i, (label, _) in enumerate(examples)]


def test_examples_cover_every_label():
    assert {label for label, _ in EMOTION_EXAMPLES} == set(TAXONOMY[Emotion])
    assert {label for label, _ in INTENT_EXAMPLES} == set(TAXONOMY[Intent])
    assert {label for label, _ in NEED_EXAMPLES} == set(TAXONOMY[Need])
    assert {label for label, _ in STRATEGY_EXAMPLES} == set(TAXONOMY[StrategyId])


@pytest.mark.parametrize(("emotion", "message"), EMOTION_EXAMPLES, ids=_ids(EMOTION_EXAMPLES))
def test_message_yields_its_emotion(analyzer, check_analysis, emotion, message):
    result = analyzer.analyze(message)
    check_analysis(result, message)
    assert result.emotion is Emotion(emotion)


@pytest.mark.parametrize(("intent", "message"), INTENT_EXAMPLES, ids=_ids(INTENT_EXAMPLES))
def test_message_yields_its_intent(analyzer, check_analysis, intent, message):
    result = analyzer.analyze(message)
    check_analysis(result, message)
    assert result.intent == Intent(intent)


@pytest.mark.parametrize(("need", "message"), NEED_EXAMPLES, ids=[n for n, _ in NEED_EXAMPLES])
def test_message_yields_its_need(analyzer, need, message):
    assert analyzer.analyze(message).need is Need(need)


@pytest.mark.parametrize(("strategy", "message"), STRATEGY_EXAMPLES, ids=[s for s, _ in STRATEGY_EXAMPLES])
def test_message_yields_its_strategy(analyzer, strategy, message):
    assert analyzer.analyze(message).strategy.id is StrategyId(strategy)


@pytest.mark.parametrize(("message", "polarity"), [
    ("不满意", "negative"),
    ("很不满意", "negative"),
    ("我对这次服务很不满意", "negative"),
    ("一点也不失望", "positive"),
    ("我一点也不失望，东西很好", "positive"),
])
def test_negation_carries_through_to_polarity(analyzer, message, polarity):
    assert analyzer.analyze(message).polarity.value == polarity


# --- the fields -------------------------------------------------------------------
def test_scores_cover_every_label_and_sum_to_one(analyzer):
    result = analyzer.analyze("你们这是什么破质量，用了两天就坏了，无法接受！")
    assert list(result.emotion_scores) == list(TAXONOMY[Emotion])
    assert len(result.intent_scores) == 11 and set(result.intent_scores) == set(TAXONOMY[Intent])
    assert math.isclose(sum(result.emotion_scores.values()), 1.0, abs_tol=1e-9)
    assert math.isclose(sum(result.intent_scores.values()), 1.0, abs_tol=1e-9)


def test_fields_are_typed_and_in_range(analyzer, check_analysis):
    for _, message in EMOTION_EXAMPLES + INTENT_EXAMPLES:
        check_analysis(analyzer.analyze(message), message)


def test_to_dict_is_json_ready_with_every_field(analyzer):
    result = analyzer.analyze("你们这是什么破质量，用了两天就坏了，无法接受！",
                              {"typing_seconds": 3.1, "history": ["在吗", "东西坏了"]})
    data = result.to_dict()
    assert set(data) == {"emotion", "emotion_scores", "polarity", "valence", "intensity", "intensity_level",
                         "intent", "intent_scores", "secondary_intent", "need", "emotional_support",
                         "escalation_risk", "confidence", "needs_human", "strategy", "evidence", "script"}
    assert json.loads(json.dumps(data, ensure_ascii=False, allow_nan=False)) == data
    assert type(data["emotion"]) is str and type(data["strategy"]["id"]) is str
    assert all(set(cue) == {"kind", "text", "start", "end", "weight", "label"} for cue in data["evidence"])


def test_issue_example_reads_angry_about_quality(check_analysis):
    message = "你们这是什么破质量，用了两天就坏了，无法接受！"
    result = analyze(message, {"typing_seconds": 3.1, "history": ["在吗", "东西坏了"]})
    check_analysis(result, message)
    assert (result.emotion, result.polarity, result.need) == (Emotion.ANGRY, Polarity.NEGATIVE, Need.SERVICE)
    assert result.emotional_support
    assert {"keyword", "typing_speed"} <= {c.kind for c in result.evidence}


def test_traditional_message_is_reported_as_traditional(analyzer):
    assert analyzer.analyze("請問我的訂單什麼時候出貨？").script.value == "traditional"
    assert analyzer.analyze("请问我的订单什么时候发货？").script.value == "simplified"


def test_confidence_threshold_flags_unsure_analyses(analyzer, check_analysis):
    message = "这款手机支持5G吗，内存多大？"
    always_unsure = Analyzer(model=analyzer.model, confidence_threshold=1.0)
    never_unsure = Analyzer(model=analyzer.model, confidence_threshold=0.0, intent_margin=0.0)
    unsure, sure = always_unsure.analyze(message), never_unsure.analyze(message)
    check_analysis(unsure, message)
    assert unsure.needs_human and "clarify" in unsure.strategy.steps
    assert not sure.needs_human and "clarify" not in sure.strategy.steps


@pytest.mark.parametrize("value", [-0.1, 1.5, "0.3", True])
def test_confidence_threshold_outside_zero_one_is_a_value_error(analyzer, value):
    with pytest.raises(ValueError, match="confidence_threshold"):
        Analyzer(model=analyzer.model, confidence_threshold=value)


# --- blank and bad input ----------------------------------------------------------
@pytest.mark.parametrize("message", ["", " ", "   \n\t ", "\u3000\u3000", "\u200b"])
def test_empty_or_blank_message_is_neutral_with_zero_intensity(analyzer, check_analysis, message):
    result = analyzer.analyze(message)
    check_analysis(result, message)
    assert result.emotion is Emotion.NEUTRAL
    assert result.polarity is Polarity.NEUTRAL
    assert result.intensity == 0.0 and result.intensity_level.value == "low"
    assert result.evidence == ()
    assert not result.emotional_support


@pytest.mark.parametrize(("value", "type_name"), [(None, "NoneType"), (1, "int"), (b"bytes", "bytes"),
                                                   (3.5, "float"), (["太差了"], "list")])
def test_message_that_is_not_a_str_is_a_type_error_naming_what_was_given(analyzer, value, type_name):
    for call in (analyzer.analyze, analyze):
        with pytest.raises(TypeError) as info:
            call(value)
        assert isinstance(info.value, InvalidInputError) and isinstance(info.value, CsSentimentError)
        assert type_name in str(info.value)


def test_analyze_many_rejects_a_single_string(analyzer):
    with pytest.raises(TypeError, match="str"):
        analyzer.analyze_many("太差了")


def test_analyze_many_rejects_a_non_str_item_naming_its_type(analyzer):
    with pytest.raises(TypeError, match="NoneType"):
        analyzer.analyze_many(["太差了", None])


@pytest.mark.parametrize("message", [
    "退\x00款\x07进\x1b[31m度\x7f",
    "\ud800退款\udfff",
    "\udc80\udcff",
    "<script>alert('x')</script>你们太差了",
    "<p>我要退款&amp;退货</p><br/>&nbsp;&#x1F621;&#0;&#xD800;&bogus;",
    "<div class=\"msg\"><b>請問</b>什麼時候出貨</div",
    "my order #A12345 hasn't arrived yet, 太慢了!!! refund please",
    "iPhone 15 Pro Max 256G 有货吗? thx",
    "\U0010ffff\ue000\ufffe\uffff",
    "🏻🏼\u200d\ufe0f\u20e3",
    "\u202e反转文字\u202c",
    "a" * 5000,
])
def test_hostile_input_never_crashes(analyzer, check_analysis, message):
    check_analysis(analyzer.analyze(message), message)


def test_million_character_message_completes_in_process(analyzer, check_analysis):
    message = ("abc 123 " * 125_000)[:1_000_000]
    check_analysis(analyzer.analyze(message), message)


HUGE = r"""
import json, signal, time
from cs_sentiment import analyze

def too_slow(signum, frame):
    raise TimeoutError
signal.signal(signal.SIGALRM, too_slow)
analyze("预热")
units = {
    "rant": "你们这是什么破质量，用了两天就坏了，无法接受！太失望了，快点给我退款！！！",
    "questions": "请问在吗？我的订单什么时候发货？",
    "traditional": "請問這個東西到底什麼時候到？太慢了吧😡",
    "letters": "a",
}
for name, unit in units.items():
    message = (unit * (1_000_000 // len(unit) + 1))[:1_000_000]
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, LIMIT)
    try:
        analyze(message)
    except TimeoutError:
        print(json.dumps({name: None}), flush=True)
        break
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    print(json.dumps({name: time.perf_counter() - start}), flush=True)
"""
LIMIT_SECONDS = 5.0


def test_million_character_messages_each_complete_in_under_five_seconds(python_runner):
    # given four kinds of 1,000,000-character pastes, analysed warm in a fresh interpreter
    # that gives up on the first one still running after 5 s (so a regression costs seconds, not minutes)
    done = python_runner(f"LIMIT = {LIMIT_SECONDS}\n" + HUGE, timeout=120)
    assert done.returncode == 0, done.stderr
    times = {k: v for line in done.stdout.splitlines() for k, v in json.loads(line).items()}
    slow = {k: v for k, v in times.items() if v is None or v >= LIMIT_SECONDS}
    assert not slow, f"not analysed within {LIMIT_SECONDS} s: {sorted(slow)}; times: {times}"
    assert len(times) == 4


# --- reuse and threads ------------------------------------------------------------
THREAD_MESSAGES = [message for _, message in EMOTION_EXAMPLES + INTENT_EXAMPLES] + [
    "", "😡😡😡", "呵呵，你们效率真高", "服务很好但是物流太慢", "快快快", "我要去12315投诉你们",
]
THREAD_CONTEXTS = [None, {"typing_seconds": 2.0}, {"history": ["在吗", "东西坏了"], "previous_complaints": 1}]


def test_default_analyzer_is_built_once_and_reused(analyzer):
    assert Analyzer.default() is Analyzer.default() is analyzer
    message = "太失望了，白买了"
    assert analyze(message) == analyzer.analyze(message)


def test_analyze_many_equals_one_by_one(analyzer, same):
    contexts = [THREAD_CONTEXTS[i % 3] for i in range(len(THREAD_MESSAGES))]
    one_by_one = [analyzer.analyze(m, c).to_dict() for m, c in zip(THREAD_MESSAGES, contexts, strict=True)]
    # one product for the batch: the same numbers to float rounding (1e-12), every label and text identical
    assert same([a.to_dict() for a in analyze_many(THREAD_MESSAGES, contexts)], one_by_one)
    with pytest.raises(ValueError, match="contexts"):
        analyzer.analyze_many(["a", "b"], [None])


def test_eight_threads_give_the_same_results_as_one(analyzer):
    jobs = [(m, c) for m in THREAD_MESSAGES for c in THREAD_CONTEXTS]
    expected = [analyzer.analyze(m, c).to_dict() for m, c in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            assert list(pool.map(lambda job: analyzer.analyze(*job).to_dict(), jobs)) == expected


COLD_THREADS = r"""
import json, threading
import cs_sentiment
messages = ["太失望了，白买了", "請問何時出貨？", "快快快", "你们服务真好[微笑]", "", "😡😡"] * 4
barrier = threading.Barrier(8)
results = [None] * 8
built = [None] * 8
def work(k):
    barrier.wait()
    results[k] = [cs_sentiment.analyze(m).to_dict() for m in messages]
    built[k] = id(cs_sentiment.Analyzer.default())
threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
for t in threads: t.start()
for t in threads: t.join()
one_thread = [cs_sentiment.analyze(m).to_dict() for m in messages]
print(json.dumps([len(set(built)), all(r == one_thread for r in results)]))
"""


def test_threads_racing_on_a_cold_start_build_one_default_analyzer(python_runner):
    done = python_runner(COLD_THREADS)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [1, True]


# --- import hygiene ---------------------------------------------------------------
def test_import_prints_nothing_and_loads_neither_pandas_nor_sklearn(python_runner):
    done = python_runner("import cs_sentiment, sys; print('pandas' in sys.modules, 'sklearn' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "False False\n"
    assert done.stderr == ""


def test_import_alone_has_no_side_effects(python_runner):
    code = textwrap.dedent("""
        import logging, sys, warnings
        import numpy  # numpy installs its own warning filters on import; cs_sentiment may not add any
        handlers, filters = list(logging.getLogger().handlers), list(warnings.filters)
        import cs_sentiment
        assert cs_sentiment.Analyzer._default is None, "a model was loaded at import"
        assert logging.getLogger().handlers == handlers, "root logger handlers changed"
        assert warnings.filters == filters, "warning filters changed"
        heavy = [m for m in ("jieba", "opencc", "sklearn", "pandas", "scipy", "pyspark") if m in sys.modules]
        assert not heavy, heavy
    """)
    done = python_runner(code)
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")


def test_first_analysis_prints_nothing(python_runner):
    done = python_runner("import cs_sentiment; cs_sentiment.analyze('太失望了')")
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")


def test_public_names_are_exported():
    for name in ("analyze", "analyze_many", "Analyzer", "Analysis", "Context", "Cue", "Strategy", "Emotion",
                 "Intent", "IntentClassifier", "EmotionClassifier", "train", "evaluate"):
        assert hasattr(cs_sentiment, name), name
    assert Analysis.__dataclass_params__.frozen


# --- decisions that agree with their evidence (issue 7) ------------------------------
@pytest.mark.parametrize("message", ["好的", "嗯嗯 好的", "没有了", "暂时没有了", "收到", "好吧", "行", "[订单x]",
                                     "咨询订单号:[订单x] 订单金额:[金额x]", "1234567890123", "我要转人工"])
def test_acknowledgements_closings_and_data_only_turns_read_calm(analyzer, message):
    result = analyzer.analyze(message)
    assert result.emotion is Emotion.NEUTRAL, result.emotion_scores
    assert result.intent == "other", result.intent_scores


@pytest.mark.parametrize("message", ["所以等短信通知就行对吧?", "明天能送到吗", "那我直接拒收就可以了是吧"])
def test_confirmation_questions_read_calm(analyzer, message):
    assert analyzer.analyze(message).polarity.value == "neutral"


def test_unsupported_feeling_on_a_short_message_is_read_calm_and_says_so(analyzer, monkeypatch):
    from cs_sentiment import scoring as module

    # Force the case: a short message, no cue, every unsupported feeling losing all its probability.
    monkeypatch.setattr(module, "SHORT_UNSUPPORTED_WEIGHT", 1.0)
    balanced = analyzer.with_priors("train")
    message = next((m for m in ("几点?", "好吧", "我的货到哪了", "那好吧", "余额吧。。", "怎么提交?")
                    if balanced.analyze(m).emotion is not Emotion.NEUTRAL), None)
    if message is None:
        pytest.skip("the model reads every probe calm on its own")
    monkeypatch.setattr(module, "SHORT_UNSUPPORTED_WEIGHT", 0.0)
    result = analyzer.with_priors("train").analyze(message)
    assert result.emotion is Emotion.NEUTRAL
    assert result.emotion_scores["neutral"] == max(result.emotion_scores.values())
    model_cues = [c for c in result.evidence if c.kind == "model"]
    assert model_cues and model_cues[0].label == "unsupported"


def test_a_feeling_with_a_cue_survives_on_a_short_message(analyzer):
    assert analyzer.analyze("快点！").emotion is Emotion.IMPATIENT
    assert analyzer.analyze("太失望了").emotion is Emotion.DISAPPOINTED


def test_evidence_never_contradicts_the_label_without_saying_so(analyzer, corpus_texts):
    from cs_sentiment.cues import scan_text
    from cs_sentiment.normalize import normalize
    from cs_sentiment.scoring import CONTRADICTION_VALENCE, lexicon_valence

    for text in corpus_texts[:600]:
        result = analyzer.analyze(text)
        cues = scan_text(normalize(text), analyzer.lexicon)
        valence = lexicon_valence(cues.emotion_strength, cues.emphasis)
        polarity = result.polarity.value
        against = ((polarity == "negative" and valence > CONTRADICTION_VALENCE)
                   or (polarity == "positive" and valence < -CONTRADICTION_VALENCE))
        if against:
            assert any(c.kind == "model" and c.label == "overrides_cues" for c in result.evidence), text


@pytest.mark.parametrize("message", ["好的", "请问什么时候发货", "我要投诉你们的快递员", "发票开错了，帮我重开一下",
                                     "好的谢谢", "在吗"])
def test_the_plan_for_a_calm_or_pleased_customer_never_apologises_or_compensates(analyzer, message):
    result = analyzer.analyze(message, {"previous_complaints": 9})
    if result.emotion.value not in ("neutral", "satisfied"):
        pytest.skip(f"read as {result.emotion.value}")
    steps = {str(s) for s in result.strategy.steps}
    assert not steps & {"apologize", "offer_compensation"}
    assert not any(w in result.strategy.opening for w in ("抱歉", "歉意", "补偿", "補償", "赔", "賠"))


def test_analyze_many_over_blank_odd_and_real_messages_matches_analyze(analyzer, corpus_texts, same):
    texts = ["", "   ", "好", "!!!", "[微笑]", "订单0000000到了吗", *corpus_texts[:300]]
    assert same([a.to_dict() for a in analyzer.analyze_many(texts)], [analyzer.analyze(t).to_dict() for t in texts])


def test_analyze_many_names_the_message_that_is_not_text(analyzer):
    with pytest.raises(InvalidInputError, match=r"messages\[1\] must be a str, got int"):
        analyzer.analyze_many(["在吗", 5])
