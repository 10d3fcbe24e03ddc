"""Strategy: the rule table (data), reachability, escalation, steps, priority and openings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cs_sentiment import LexiconFormatError, Priority, Script, Step, StrategyId
from cs_sentiment.normalize import detect_script
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
    clarify = {s for pairs in (v for k, v in table.openings.items() if k[0] == "clarify") for s, _ in pairs}
    assert chosen.opening in clarify


def test_secondary_intent_is_covered_with_its_step(table):
    chosen = _choose(table, emotion="disappointed", intensity=0.5, intent="product_quality",
                     secondary_intent="return_refund")
    assert chosen.covers == ("product_quality", "return_refund")
    assert Step.OFFER_REMEDY in chosen.steps


# --- openings ---------------------------------------------------------------------
def test_every_strategy_has_several_openings_in_both_scripts(table):
    for strategy in StrategyId:
        groups = {k: v for k, v in table.openings.items() if k[0] == strategy.value}
        assert (strategy.value, "*") in groups, strategy
        for key, variants in groups.items():
            assert len(variants) >= 2, key
            for simplified, traditional in variants:
                assert detect_script(simplified) is Script.SIMPLIFIED, simplified
                assert detect_script(traditional) is Script.TRADITIONAL, traditional


@pytest.mark.parametrize(("script", "column"), [("simplified", 0), ("traditional", 1)])
def test_opening_is_in_the_customers_script(table, script, column):
    for strategy in StrategyId:
        opening = table.opening(strategy.value, "angry", script, seed="我要投诉")
        variants = table.openings.get((strategy.value, "angry")) or table.openings[(strategy.value, "*")]
        assert opening in [v[column] for v in variants]


def test_opening_is_deterministic_and_varies_between_messages(table):
    seeds = [f"订单{i}什么时候到" for i in range(40)]
    first = [table.opening("inform", "neutral", "simplified", seed) for seed in seeds]
    assert first == [StrategyTable.load().opening("inform", "neutral", "simplified", s) for s in seeds]
    assert len(set(first)) > 1


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


OPENING_CASES = [("inform", "neutral", "simplified", "请问这款冰箱有几种颜色可选？"),
                 ("apologize_compensate", "disappointed", "traditional", "收到的杯子是破的，品質太差了"),
                 ("escalate", "angry", "traditional", "你們客服態度太差了，我要投訴"),
                 ("thank", "satisfied", "simplified", "谢谢你们")]
OPENINGS_IN_A_FRESH_PROCESS = r"""
import json
from cs_sentiment.strategy import StrategyTable
table = StrategyTable.load()
print(json.dumps([table.opening(*case) for case in json.loads(CASES)]))
"""


def test_opening_is_the_same_in_another_process(table, python_runner):
    import json

    code = f"CASES = {json.dumps(json.dumps(OPENING_CASES))}\n" + OPENINGS_IN_A_FRESH_PROCESS
    done = python_runner(code, env={"PYTHONHASHSEED": "12345"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [table.opening(*case) for case in OPENING_CASES]


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
