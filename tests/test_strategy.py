"""Strategy: the rule table (data), reachability, escalation, steps, priority and openings."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_sentiment import LexiconFormatError, Priority, Script, Step, StrategyId
from cs_sentiment.normalize import detect_script
from cs_sentiment.openings import OpeningParts, Policy
from cs_sentiment.strategy import StrategyTable

REPO_ROOT = Path(__file__).resolve().parents[1]
EMOTIONS = ("neutral", "satisfied", "angry", "disappointed", "anxious", "impatient", "confused", "hesitant")
INTENTS = ("product_info", "price_promotion", "order_status", "return_refund", "product_quality", "payment_invoice",
           "account_tech", "usage_help", "complaint", "praise", "other")
TAXONOMY_STEPS = {"acknowledge_emotion", "apologize", "explain", "guide", "offer_remedy", "offer_compensation",
                  "reassure", "answer", "recommend", "express_care", "follow_up", "handoff"}


@pytest.fixture(scope="module")
def table(analyzer) -> StrategyTable:
    return analyzer.strategies


def _choose(table, emotion="neutral", intensity=0.1, intent="product_info", risk=0.05, script="simplified",
            seed="x", **extra):
    return table.choose(emotion=emotion, intensity=intensity, intent=intent, escalation_risk=risk, script=script,
                        seed=seed, **extra)


# --- the table --------------------------------------------------------------------
def test_rule_table_loads_from_data_and_ends_with_a_catch_all():
    table = StrategyTable.load()
    assert len(table.rules) >= 7
    assert table.rules[-1].emotions is None and table.rules[-1].intents is None


def test_every_strategy_has_a_rule(table):
    assert {rule.strategy for rule in table.rules} == set(StrategyId)


def test_rule_steps_come_from_the_taxonomy_step_list(table):
    for rule in table.rules:
        assert rule.steps and {step.value for step in rule.steps} <= TAXONOMY_STEPS, rule.name


@pytest.mark.parametrize(("strategy", "inputs"), [
    ("escalate", {"emotion": "angry", "intensity": 0.9, "intent": "product_quality"}),
    ("apologize_compensate", {"emotion": "disappointed", "intensity": 0.5, "intent": "product_quality"}),
    ("explain_clarify", {"emotion": "confused", "intensity": 0.4, "intent": "price_promotion"}),
    ("assist_guide", {"emotion": "neutral", "intensity": 0.1, "intent": "usage_help"}),
    ("reassure", {"emotion": "anxious", "intensity": 0.5, "intent": "product_info"}),
    ("reassure", {"emotion": "hesitant", "intensity": 0.3, "intent": "product_info"}),
    ("inform", {"emotion": "neutral", "intensity": 0.1, "intent": "product_info"}),
    ("thank", {"emotion": "satisfied", "intensity": 0.5, "intent": "praise"}),
])
def test_every_strategy_is_reachable(table, strategy, inputs):
    assert _choose(table, **inputs).id is StrategyId(strategy)


@pytest.mark.parametrize("intent", INTENTS)
def test_high_anger_escalates_whatever_the_intent(table, intent):
    chosen = _choose(table, emotion="angry", intensity=0.8, intent=intent, risk=0.1)
    assert chosen.id is StrategyId.ESCALATE
    assert chosen.priority is Priority.URGENT
    assert Step.HANDOFF in chosen.steps


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_high_escalation_risk_escalates_whatever_the_emotion(table, emotion):
    chosen = _choose(table, emotion=emotion, intensity=0.1, intent="product_info", risk=0.85)
    assert chosen.id is StrategyId.ESCALATE
    assert chosen.priority is Priority.URGENT


def test_mild_anger_is_not_escalated(table):
    assert _choose(table, emotion="angry", intensity=0.2, intent="product_quality", risk=0.1).id is not \
        StrategyId.ESCALATE


def test_escalation_risk_raises_priority(table):
    assert _choose(table, risk=0.05).priority is Priority.NORMAL
    assert _choose(table, risk=0.55).priority is Priority.HIGH


def test_emotional_support_starts_with_acknowledging_and_adds_care(table):
    chosen = _choose(table, emotion="disappointed", intensity=0.6, intent="product_info", emotional_support=True)
    assert chosen.steps[0] is Step.ACKNOWLEDGE_EMOTION
    assert Step.EXPRESS_CARE in chosen.steps


def test_unsure_analysis_asks_a_clarifying_question(table):
    chosen = _choose(table, unsure=True)
    assert Step.CLARIFY in chosen.steps
    assert chosen.opening.endswith(("吗？", "吗?", "嗎？", "？"))


def test_secondary_intent_is_covered_with_its_step(table):
    chosen = _choose(table, emotion="disappointed", intensity=0.5, intent="product_quality",
                     secondary_intent="return_refund")
    assert chosen.covers == ("product_quality", "return_refund")
    assert Step.OFFER_REMEDY in chosen.steps


# --- openings (issue 9, part 1) ------------------------------------------------------
#: Words that promise something concrete (compensation, refunds, time frames, policy terms) or claim an
#: action already taken. No opening may hold one unless a business policy allowed it.
PROMISE = re.compile(r"补偿|補償|赔|賠|优惠券|優惠券|券|红包|紅包|返现|返現|\d+\s*(天|日|小时|小時|分钟|分鐘)|"
                     r"今天之内|今天內|马上到账|馬上到帳|保证|保證|承诺|承諾|一定会|一定會|七天|7天")
CLAIM = re.compile(r"已经|已經|已为|已為|已上报|已上報|已升级|已升級|已安排|已记录|已記錄|已提交|查过了|查過了|整理好了|"
                   r"已转|已轉|搞掂咗|處理咗|查咗|帮您处理好|幫您處理好")
EMPATHY = re.compile(r"理解|明白|感受|久等|着急|著急|心急|担心|擔心|气愤|氣憤|愤怒|憤怒|失望|失落|疑惑|疑問|不满|不滿|"
                     r"嬲|考虑|考慮|比较|比較|難以接受|难以接受|唔開心|唔耐煩|咁耐")
PARTS = Path(__file__).resolve().parents[1] / "data" / "lexicons" / "opening_parts.tsv"


def _parts_rows() -> list[dict[str, str]]:
    with PARTS.open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


@pytest.mark.parametrize("column", ["simplified", "taiwan", "hongkong"])
def test_every_written_part_passes_the_checklist(column):
    for row in _parts_rows():
        text = row[column]
        if text == "-" or row["slot"] in ("topic", "handler", "outline"):
            continue
        if row["needs"] == "-":
            assert not PROMISE.search(text), (row["slot"], row["key"], text)
        assert not CLAIM.search(text), (row["slot"], row["key"], text)
        assert not re.search(r"你自己|您自己|规定|規定|没办法|沒辦法|不归|不歸", text), text
        if row["slot"] == "ack":
            assert EMPATHY.search(text), (row["key"], text)
        if row["slot"] == "clarify":
            assert text.endswith(("？", "?")), text


def test_every_part_is_written_in_its_script():
    for row in _parts_rows():
        for column, script in (("simplified", Script.SIMPLIFIED), ("taiwan", Script.TRADITIONAL),
                               ("hongkong", Script.TRADITIONAL)):
            if row[column] != "-":
                assert detect_script(re.sub(r"\{[a-z_]+\}", "", row[column])) is script, (column, row[column])


def test_every_negative_emotion_strategy_and_intent_has_its_parts(table):
    keys = set(table.parts.parts)
    for emotion in ("angry", "disappointed", "anxious", "impatient", "confused", "hesitant"):
        assert ("ack", f"{emotion}:*") in keys
    for strategy in StrategyId:
        assert ("action", f"{strategy.value}:-") in keys
    for intent in ("product_info", "price_promotion", "order_status", "return_refund", "product_quality",
                   "payment_invoice", "account_tech", "usage_help", "complaint"):
        assert ("topic", intent) in keys
    for step in Step:
        assert ("outline", step.value) in keys


MESSAGES_FOR_OPENINGS = [
    "好的", "嗯嗯", "没有了", "好的谢谢", "辛苦了", "在吗", "快递到哪了", "发票怎么开", "我要退款", "这个值不值得买",
    "你们这是什么破质量，用了两天就坏了，无法接受！", "等了一周还没发货，到底怎么回事？", "我要投诉你们的客服",
    "请问我的订单什么时候出货？已经等一周了", "請問我的訂單什麼時候出貨？已經等一週了", "這app真的很爛欸，一直閃退",
    "唔該幫我查下張單去咗邊", "你哋搞錯咗我個地址，好嬲", "帳號登不進去怎麼辦", "客服棒棒", "几点?", "？？？",
]


@pytest.mark.parametrize("message", MESSAGES_FOR_OPENINGS)
def test_without_a_policy_an_opening_promises_nothing_and_claims_no_action(analyzer, message):
    for context in (None, {"previous_complaints": 5}):
        opening = analyzer.analyze(message, context).strategy.opening
        assert opening
        assert not PROMISE.search(opening), opening
        assert not CLAIM.search(opening), opening


@settings(max_examples=300, deadline=None, database=None)
@given(strategy=st.sampled_from([s.value for s in StrategyId]),
       emotion=st.sampled_from(["neutral", "satisfied", "angry", "disappointed", "anxious", "impatient", "confused",
                                "hesitant"]),
       level=st.sampled_from(["low", "medium", "high"]),
       intent=st.sampled_from(["product_info", "price_promotion", "order_status", "return_refund", "product_quality",
                               "payment_invoice", "account_tech", "usage_help", "complaint", "praise", "other", "mine"]),
       steps=st.lists(st.sampled_from([s.value for s in Step]), max_size=6).map(tuple),
       variant=st.sampled_from(["simplified", "taiwan", "hongkong"]), seed=st.text(max_size=8),
       unsure=st.booleans())
def test_property_no_opening_without_a_policy_holds_a_promise_or_a_claim(strategy, emotion, level, intent, steps,
                                                                         variant, seed, unsure):
    opening = OpeningParts.load().compose(strategy=strategy, emotion=emotion, level=level, intent=intent,
                                          steps=steps, variant=variant, seed=seed, unsure=unsure)
    assert not PROMISE.search(opening) and not CLAIM.search(opening), opening
    if emotion in ("neutral", "satisfied"):
        assert not re.search(r"抱歉|對唔住|唔好意思", opening), opening
        assert not EMPATHY.search(opening) or "理解" not in opening, opening


def test_a_policy_allows_exactly_its_promises(table):
    policy = Policy(compensation="10元无门槛券", return_window_days=7, escalation_contact="售后主管")
    sorry = _choose(table, emotion="angry", intensity=0.5, intent="product_quality", policy=policy)
    assert "10元无门槛券" in sorry.opening and Step.OFFER_COMPENSATION in sorry.steps
    unsure_buyer = _choose(table, emotion="hesitant", intensity=0.3, intent="product_info", policy=policy)
    assert "7天" in unsure_buyer.opening
    escalated = _choose(table, emotion="angry", intensity=0.9, intent="complaint", policy=policy)
    assert "售后主管" in escalated.opening
    calm = _choose(table, emotion="neutral", intensity=0.1, intent="order_status", policy=policy)
    assert not PROMISE.search(calm.opening)


def test_a_traditional_policy_value_is_written_in_the_customers_script(table):
    chosen = _choose(table, emotion="angry", intensity=0.5, intent="product_quality", script="traditional",
                     seed="東西壞了", policy=Policy(compensation="10元无门槛优惠券"))
    assert "優惠券" in chosen.opening


@pytest.mark.parametrize(("value", "message"), [
    ({"refund_days": 3}, "unknown policy key 'refund_days'"),
    ({"return_window_days": "7"}, "return_window_days"),
    ({"return_window_days": 0}, "return_window_days"),
    ({"compensation": ""}, "compensation"),
    ([1, 2], "must be a mapping"),
])
def test_a_bad_policy_is_an_error_naming_the_key(value, message):
    from cs_sentiment import PolicyError

    with pytest.raises(PolicyError, match=message):
        Policy.from_value(value)


def test_a_policy_loads_from_a_toml_file(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text('[policy]\ncompensation = "5元券"\nreturn_window_days = 7\n', encoding="utf-8")
    assert Policy.from_value(path) == Policy(compensation="5元券", return_window_days=7)


@pytest.mark.parametrize(("message", "expected"), [("好的谢谢", "close"), ("好的", "close"), ("在吗", "close")])
def test_acknowledgements_and_thanks_get_a_short_closing_reply(analyzer, table, message, expected):
    opening = analyzer.analyze(message).strategy.opening
    closings = {v[c] for (slot, _), vs in table.parts.parts.items() if slot == expected for v in vs
                for c in ("simplified", "taiwan", "hongkong")}
    assert opening in closings


def test_the_opening_names_the_customers_topic(analyzer):
    assert "物流" in analyzer.analyze("我的快递到哪了").strategy.opening
    assert "发票" in analyzer.analyze("发票怎么开").strategy.opening
    assert analyzer.analyze("我的快递到哪了").strategy.opening != analyzer.analyze("发票怎么开").strategy.opening


def test_an_upset_customer_is_acknowledged_and_a_calm_one_is_not(analyzer):
    upset = analyzer.analyze("等了一周还没发货，到底怎么回事？！").strategy.opening
    calm = analyzer.analyze("请问这款冰箱有几种颜色").strategy.opening
    assert EMPATHY.search(upset) and not EMPATHY.search(calm)


def test_hong_kong_customers_get_hong_kong_wording(analyzer):
    opening = analyzer.analyze("唔該幫我查下張單去咗邊").strategy.opening
    assert re.search(r"[你嘅呢吓咗我哋係]", opening) and detect_script(opening) is Script.TRADITIONAL


def test_the_outline_has_one_line_per_step_in_the_customers_script(analyzer):
    for message in ("你们这是什么破质量，用了两天就坏了，无法接受！", "請問這台冰箱有幾種顏色可以選？"):
        strategy = analyzer.analyze(message).strategy
        assert len(strategy.outline) == len(strategy.steps)
        assert all(detect_script(line) is analyzer.analyze(message).script for line in strategy.outline)
        assert strategy.to_dict()["outline"] == list(strategy.outline)


@pytest.mark.parametrize(("message", "script"), [
    ("请问这款冰箱有几种颜色可选？", Script.SIMPLIFIED),
    ("請問這台冰箱有幾種顏色可以選？", Script.TRADITIONAL),
    ("你們客服態度太差了，我要投訴，叫你們主管出來", Script.TRADITIONAL),
    ("收到的杯子是碎的，质量太差了", Script.SIMPLIFIED),
])
def test_analysis_opening_is_written_in_the_customers_script(analyzer, message, script):
    result = analyzer.analyze(message)
    assert result.script is script
    assert detect_script(result.strategy.opening) is script


def test_opening_is_deterministic_and_varies_between_messages(analyzer):
    from cs_sentiment import Analyzer

    seeds = [f"订单{i}什么时候到" for i in range(40)]
    first = [analyzer.analyze(s).strategy.opening for s in seeds]
    assert first == [Analyzer().analyze(s).strategy.opening for s in seeds]
    assert len(set(first)) > 1


OPENINGS_IN_A_FRESH_PROCESS = r"""
import json
from cs_sentiment import analyze
print(json.dumps([analyze(m).strategy.opening for m in json.loads(CASES)]))
"""


def test_opening_is_the_same_in_another_process(analyzer, python_runner):
    import json

    cases = MESSAGES_FOR_OPENINGS[:12]
    code = f"CASES = {json.dumps(json.dumps(cases))}\n" + OPENINGS_IN_A_FRESH_PROCESS
    done = python_runner(code, env={"PYTHONHASHSEED": "12345"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [analyzer.analyze(m).strategy.opening for m in cases]


# --- end to end -------------------------------------------------------------------
@pytest.mark.parametrize("message", [
    "我要去12315投诉你们，再不处理就找媒体曝光",
    "你们客服态度太差了，我要投诉，叫你们主管来",
    "你們這是詐騙吧，我已經找律師了，準備起訴你們",
])
def test_angry_or_threatening_message_is_escalated(analyzer, message):
    result = analyzer.analyze(message)
    assert result.strategy.id is StrategyId.ESCALATE
    assert result.strategy.priority is Priority.URGENT


def test_calm_question_is_answered_not_escalated(analyzer):
    result = analyzer.analyze("请问这款冰箱有几种颜色可选？")
    assert result.strategy.id is StrategyId.INFORM
    assert result.escalation_risk < 0.3


# --- errors -----------------------------------------------------------------------
@pytest.fixture
def lexicon_copy(tmp_path: Path) -> Path:
    target = tmp_path / "lexicons"
    shutil.copytree(REPO_ROOT / "data" / "lexicons", target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def _replace_rule(folder: Path, old: str, new: str) -> int:
    path = folder / "strategy_rules.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if old in line)
    lines[number] = lines[number].replace(old, new, 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return number + 1


@pytest.mark.parametrize(("old", "new", "message"), [
    ("\treassure\t", "\tcalm_down\t", "unknown strategy 'calm_down'"),
    ("\tnormal\t", "\tsoonish\t", "unknown priority 'soonish'"),
    ("acknowledge_emotion,", "hug,", "unknown step 'hug'"),
    ("\tangry\t", "\tfurious\t", "unknown emotion 'furious'"),
])
def test_malformed_rule_is_an_error_naming_file_and_line(lexicon_copy, old, new, message):
    number = _replace_rule(lexicon_copy, old, new)
    with pytest.raises(LexiconFormatError) as info:
        StrategyTable.load(lexicon_copy)
    assert f"strategy_rules.tsv:{number}:" in str(info.value)
    assert message in str(info.value)


def test_table_without_a_catch_all_rule_is_an_error(lexicon_copy):
    path = lexicon_copy / "strategy_rules.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(LexiconFormatError, match="strategy_rules.tsv"):
        StrategyTable.load(lexicon_copy)


def test_a_chosen_strategy_writes_its_opening_when_first_read_and_behaves_as_a_plain_one():
    import dataclasses
    import pickle

    from cs_sentiment import Analyzer, Strategy

    # given
    chosen = Analyzer.default().analyze("等了一个星期还没发货，太失望了").strategy
    # when
    plain = Strategy(chosen.id, chosen.steps, chosen.priority, chosen.opening, chosen.covers, chosen.outline)
    # then
    assert chosen.opening and chosen.outline
    assert chosen == plain and plain == chosen and hash(chosen) == hash(plain)
    assert repr(chosen) == repr(plain) and repr(chosen).startswith("Strategy(id=")
    assert pickle.loads(pickle.dumps(chosen)) == plain
    assert dataclasses.asdict(chosen) == dataclasses.asdict(plain)
    assert chosen.to_dict() == plain.to_dict()
    with pytest.raises(dataclasses.FrozenInstanceError):
        chosen.opening = "x"  # type: ignore[misc]


def test_many_threads_reading_one_unwritten_opening_all_see_the_same_sentence():
    from concurrent.futures import ThreadPoolExecutor

    from cs_sentiment import Analyzer

    strategies = [Analyzer.default().analyze(m).strategy for m in ("在吗", "怎么还没到？？", "唔該幫我查下單")]
    with ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(lambda s: (s.opening, s.outline), strategies * 50))
    assert {x for x in seen} == {(s.opening, s.outline) for s in strategies}
