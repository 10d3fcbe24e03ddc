"""Reviewing an agent's reply: six named checks, evidence in the reply, suggestions, score and verdict (issue 9)."""

from __future__ import annotations

import json

import pytest

from cs_sentiment import InvalidInputError, review_reply
from cs_sentiment.cli import main
from cs_sentiment.normalize import detect_script
from cs_sentiment.review import CHECKS

UPSET = "等了一周还没发货，你们到底怎么回事？"
CALM = "请问发票怎么开？"


def test_a_review_has_every_named_check_a_score_and_a_verdict():
    rv = review_reply(UPSET, "这个不归我们管，你去问快递。")
    assert tuple(rv.checks) == CHECKS
    assert 0 <= rv.score <= 100 and rv.verdict in ("good", "acceptable", "poor")
    data = json.loads(json.dumps(rv.to_dict(), ensure_ascii=False))
    assert set(data["checks"]) == set(CHECKS) and data["verdict"] == rv.verdict


@pytest.mark.parametrize(("reply", "passed"), [
    ("理解您的着急，我马上帮您查。", True), ("让您久等了，我现在就催仓库。", True), ("我现在帮您查一下。", False)])
def test_acknowledges_emotion(reply, passed):
    assert review_reply(UPSET, reply).checks["acknowledges_emotion"].passed is passed


def test_acknowledges_emotion_does_not_apply_to_a_calm_customer():
    assert review_reply(CALM, "在订单详情点「申请开票」就可以。").checks["acknowledges_emotion"].passed is None


@pytest.mark.parametrize(("reply", "passed"), [("非常抱歉给您添麻烦了。", True), ("唔好意思，我即刻幫你查。", True),
                                               ("我帮您查一下物流。", False)])
def test_apologizes(reply, passed):
    assert review_reply(UPSET, reply).checks["apologizes"].passed is passed


@pytest.mark.parametrize(("customer", "reply", "passed"), [
    (UPSET, "我查到包裹在上海中转，预计明天送达。", True), ("我要退货，怎么弄？", "您在订单详情点「申请售后」就可以退货。", True),
    (UPSET, "请稍等。", False), (UPSET, "好的，稍后回复您。", False), (UPSET, "这个不归我们管，你去问快递。", False),
    ("我的快递到哪了", "本店全场满199减30，欢迎选购～", False)])
def test_next_step_needs_a_concrete_answer_or_action_on_the_topic(customer, reply, passed):
    assert review_reply(customer, reply).checks["next_step"].passed is passed


@pytest.mark.parametrize(("reply", "passed"), [("有任何问题随时找我。", True), ("请放心，我会一直跟进。", True),
                                               ("发货了。", False)])
def test_shows_care(reply, passed):
    assert review_reply(UPSET, reply).checks["shows_care"].passed is passed


@pytest.mark.parametrize(("reply", "passed"), [
    ("这个不归我们管，你去问快递。", False), ("说明书上都有，你自己看。", False), ("不可能，我们系统没问题。", False),
    ("规定就是这样。", False), ("不能退。", False), ("不能退，不过可以帮您换成别的尺码。", True),
    ("我帮您联系快递，今天给您回复。", True)])
def test_avoids_negative_language(reply, passed):
    assert review_reply(UPSET, reply).checks["avoids_negative_language"].passed is passed


@pytest.mark.parametrize(("reply", "passed"), [("您的包裹预计明天送达。", True),
                                               ("本店全场满199减30，欢迎选购～", False)])
def test_addresses_topic(reply, passed):
    assert review_reply("我的快递到哪了", reply).checks["addresses_topic"].passed is passed


def test_evidence_spans_index_the_reply():
    reply = "非常抱歉，让您久等了，包裹预计明天送达，有问题随时找我。"
    rv = review_reply(UPSET, reply)
    for check in rv.checks.values():
        for cue in check.evidence:
            assert reply[cue.start:cue.end] == cue.text


@pytest.mark.parametrize(("reply", "script"), [("你去问快递。", "simplified"), ("你自己去問物流。", "traditional")])
def test_every_failed_check_carries_one_suggestion_in_the_replys_script(reply, script):
    rv = review_reply(UPSET, reply)
    failed = [c for c in rv.checks.values() if c.passed is False]
    assert failed and all(c.suggestion for c in failed)
    assert all(detect_script(c.suggestion).value == script for c in failed)
    assert all(c.suggestion is None for c in rv.checks.values() if c.passed is not False)


def test_a_good_reply_scores_higher_than_a_poor_one():
    good = review_reply(UPSET, "非常抱歉让您久等了！我查到包裹在郑州中转，预计后天送达，我会帮您盯着，有变化第一时间告诉您。")
    poor = review_reply(UPSET, "这个不归我们管，你去问快递。")
    assert (good.verdict, poor.verdict) == ("good", "poor") and good.score > 80 > 40 >= poor.score


def test_wrong_types_name_the_argument():
    with pytest.raises(InvalidInputError, match="reply"):
        review_reply("在吗", None)


def test_cli_review_prints_the_json(capsys):
    assert main(["review", UPSET, "这个不归我们管，你去问快递。", "--compact"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "poor" and data["checks"]["avoids_negative_language"]["passed"] is False


def test_review_costs_about_one_analysis(analyzer):
    import time

    reply = "非常抱歉让您久等了！我查到包裹在郑州中转，预计后天送达，有变化第一时间告诉您。"
    review_reply(UPSET, reply)
    start = time.perf_counter()
    for _ in range(200):
        analyzer.analyze(UPSET)
    one = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(200):
        review_reply(UPSET, reply, analyzer=analyzer)
    assert time.perf_counter() - start < 2.5 * one + 0.05


def test_the_tone_model_catches_blame_no_phrase_list_names_and_shows_its_strongest_ngram():
    rv = review_reply("东西坏了", "你用法不对吧，我们的东西没毛病")
    check = rv.checks["avoids_negative_language"]
    assert check.passed is False
    (cue,) = check.evidence
    assert cue.kind == "model" and cue.label == "negative_tone" and 0.5 < cue.weight <= 1.0
    assert "你用法不对吧，我们的东西没毛病"[cue.start:cue.end] == cue.text


@pytest.mark.parametrize("reply", ["是的呢亲，电子发票已经发到您邮箱了哦", "在的呢亲", "是这个订单吗", "好的，这边帮您查一下哦"])
def test_ordinary_polite_agent_turns_are_not_read_as_negative(reply):
    assert review_reply("在吗", reply).checks["avoids_negative_language"].passed is True
