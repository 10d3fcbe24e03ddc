"""Review an agent's reply to a customer: :func:`review_reply`.

Six checks, named as a support lead names them (issue 9), read from phrase
lists kept as data (``data/lexicons/reply_phrases.tsv``, terms in either
script, matched after normalisation in one Aho-Corasick pass):

``acknowledges_emotion``
    The reply recognises the feeling (理解, 久等, 着急 …); ``None`` when the customer is calm.
``apologizes``
    The reply says sorry (抱歉, 不好意思, 唔好意思 …).
``next_step``
    A concrete answer or action (查到, 为您申请, 点「…」, a date or a number), or a direct answer
    to the customer's question that stays on its topic; not a bare 请稍等, a brush-off or an argument.
``shows_care``
    Warmth or follow-up beyond the fix (随时找我, 请放心, 祝您 …).
``avoids_negative_language``
    No blame, arguing, brush-off (不归我们管, 你自己看, 不可能) and no refusal without an alternative.
``addresses_topic``
    The reply is not about something else: fails for a reply of fillers only (好的，收到) or an
    advert the customer did not ask about; ``None`` when the customer asked nothing.

The customer side reuses :meth:`Analyzer.analyze`, so a review costs one
analysis plus one scan of the reply. Every failed check carries one
suggestion in the reply's script; evidence spans index the reply.

>>> rv = review_reply("等了一周还没发货，你们到底怎么回事？", "这个不归我们管，你去问快递。")
>>> rv.verdict, rv.checks["avoids_negative_language"].passed, rv.checks["next_step"].passed
('poor', False, False)
>>> sorted({c.text for c in rv.checks["avoids_negative_language"].evidence})
['不归我们', '你去', '去问']
>>> review_reply("快递到哪了", "您好，包裹在上海中转，预计明天送达，有问题随时找我～").verdict
'good'
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .analyzer import Analyzer
from .cues import CueKind
from .exceptions import InvalidInputError, LexiconFormatError
from .labels import Script
from .lexicon import read_tsv
from .normalize import normalize
from .resources import read_lexicon_file
from .results import Analysis, Cue

__all__ = ["CHECKS", "ReplyCheck", "ReplyReview", "review_reply"]

CHECKS = ("acknowledges_emotion", "apologizes", "next_step", "shows_care", "avoids_negative_language",
          "addresses_topic")
PHRASES_FILE = "reply_phrases.tsv"
#: The reply tone model (``benchmarks/train_reply_tone.py``), plain JSON.
TONE_FILE = "reply_tone.json"
SUGGESTIONS_FILE = "reply_suggestions.tsv"
#: Weights of the checks in the 0–100 score (ours: the answer and the tone matter most).
WEIGHTS = {"next_step": 30, "avoids_negative_language": 25, "addresses_topic": 15, "acknowledges_emotion": 10,
           "apologizes": 10, "shows_care": 10}
#: A reply with negative language scores at most this.
NEGATIVE_CAP = 40
#: A date, a time, an amount or a code is a concrete answer in itself.
_CONCRETE = re.compile(r"\d|今天|明天|后天|今晚|下午|上午|晚上|小时|工作日|天内|日内|听日|今日|下昼|[周星期拜][一二三四五六日天]"
                       r"|[一二两三四五六七八九十半]+(?:年|个月|月|天|日|小时|个钟|分钟|周|星期)")
#: A reply that opens with a yes or no answers a question (我们 … 能/可以/得/有 …).
_ANSWER_START = re.compile(r"(?:亲[，,～~]?)?(?:能|可以|得|有|冇|无|没有|是|不是|不能|不可以|不行|会|不会|唔得|唔可以|唔会)"
                           r"(?:的|啊|呀|喔|哦|嘅)?(?:[，,。.！!～~]|\Z)")
#: The customer asked something (normalised text, so one pattern serves both scripts).
_QUESTION = re.compile(r"[?？]|吗|怎么|怎样|哪|什么|几|多久|多少|能不能|可不可以|是不是|有没有|有冇|可唔可以|点样|点解|边度|系咪|乜")
#: A reply this long (characters, punctuation left out) with no stall, brush-off or argument answers a question.
ANSWER_MIN_CHARS = 6
_PHRASE_CHECKS = ("empathy", "apology", "care", "negative", "brushoff", "stall", "refusal", "alternative", "action",
                  "offtopic", "filler")
#: Character bigrams too common to show that a reply is about what the customer wrote (ours).
_COMMON_BIGRAMS = frozenset({"您好", "你好", "请问", "可以", "一下", "我们", "你们", "的话", "什么", "怎么", "这个", "那个",
                             "是不", "不是", "没有", "已经", "现在", "时候", "谢谢", "麻烦", "帮我", "帮您", "一个"})
_NEGATIVE_EMOTIONS = frozenset({"angry", "disappointed", "anxious", "impatient", "confused", "hesitant"})
_NO_TOPIC = frozenset({"other", "praise"})


@dataclass(frozen=True, slots=True)
class ReplyCheck:
    """One check of a reply: passed (``None`` when it does not apply), its evidence, a suggestion if failed."""

    passed: bool | None
    evidence: tuple[Cue, ...] = ()
    suggestion: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "evidence": [c.to_dict() for c in self.evidence],
                "suggestion": self.suggestion}


@dataclass(frozen=True)
class ReplyReview:
    """The review of one agent reply."""

    score: int
    verdict: str
    checks: dict[str, ReplyCheck]
    customer_emotion: str
    customer_intent: str
    script: Script = Script.SIMPLIFIED
    issues: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-ready dict."""
        return {"score": self.score, "verdict": self.verdict, "issues": list(self.issues),
                "customer_emotion": self.customer_emotion, "customer_intent": self.customer_intent,
                "script": str(self.script), "checks": {k: v.to_dict() for k, v in self.checks.items()}}


@dataclass(frozen=True)
class _Phrases:
    automaton: Any
    topics: dict[str, frozenset[str]]
    suggestions: dict[str, tuple[str, str]]


@dataclass(frozen=True)
class _Tone:
    """A logistic regression over character n-grams (TF-IDF, sublinear tf, l2), scored with dict lookups."""

    features: dict[str, tuple[float, float]]  # n-gram -> (idf, weight)
    intercept: float
    threshold: float
    sizes: tuple[int, ...]

    def grams(self, text: str) -> dict[str, list[int]]:
        """The model's n-grams in ``text`` (lower-cased, whitespace runs as one space) and where each starts."""
        text = _SPACES.sub(" ", text.lower())
        out: dict[str, list[int]] = {}
        for n in self.sizes:
            for i in range(len(text) - n + 1):
                gram = text[i:i + n]
                if gram in self.features:
                    out.setdefault(gram, []).append(i)
        return out

    def probability(self, grams: dict[str, list[int]]) -> tuple[float, str | None]:
        """P(negative tone) and the n-gram that pushes it up most (``None`` if none does)."""
        if not grams:
            return 1.0 / (1.0 + math.exp(-self.intercept)), None
        values = {g: (1.0 + math.log(len(at))) * self.features[g][0] for g, at in grams.items()}
        norm = math.sqrt(sum(v * v for v in values.values()))
        contributions = {g: v / norm * self.features[g][1] for g, v in values.items()}
        z = self.intercept + sum(contributions.values())
        top = max(contributions, key=lambda g: (contributions[g], g))
        return 1.0 / (1.0 + math.exp(-z)), top if contributions[top] > 0 else None


_SPACES = re.compile(r"\s+")


@cache
def _tone() -> _Tone:
    data = json.loads(read_lexicon_file(TONE_FILE))
    low, high = data["ngram_range"]
    return _Tone({g: (float(v[0]), float(v[1])) for g, v in data["features"].items()}, float(data["intercept"]),
                 float(data["threshold"]), tuple(range(high, low - 1, -1)))


@cache
def _phrases() -> _Phrases:
    import ahocorasick

    automaton = ahocorasick.Automaton()
    terms: dict[str, set[str]] = {}
    topics: dict[str, set[str]] = {}
    for line, f in read_tsv(read_lexicon_file(PHRASES_FILE), PHRASES_FILE, ("check", "term", "source")):
        kind, term = f[0], normalize(f[1]).text
        if kind.startswith("topic:"):
            topics.setdefault(kind[6:], set()).add(term)
        elif kind not in _PHRASE_CHECKS:
            raise LexiconFormatError(f"{PHRASES_FILE}:{line}: unknown check {kind!r}")
        terms.setdefault(term, set()).add(kind)
    for term, kinds in terms.items():
        automaton.add_word(term, (term, frozenset(kinds)))
    automaton.make_automaton()
    suggestions = {f[0]: (f[1], f[2]) for _, f in read_tsv(read_lexicon_file(SUGGESTIONS_FILE),
                                                          SUGGESTIONS_FILE, ("check", "simplified", "traditional",
                                                                             "source"))}
    return _Phrases(automaton, {k: frozenset(v) for k, v in topics.items()}, suggestions)


def _find(text: str, norm: Any, phrases: _Phrases) -> dict[str, list[Cue]]:
    """Cues by phrase kind ("empathy", "topic:order_status" …), spans in the original reply."""
    found: dict[str, list[Cue]] = {}
    if not norm.text:
        return found
    for end, (term, kinds) in phrases.automaton.iter(norm.text):
        start = end - len(term) + 1
        o_start, o_end = norm.original_span(start, end + 1)
        for label in kinds:  # topic words carry their "topic:<intent>" kind in the automaton already
            found.setdefault(label, []).append(Cue(CueKind.KEYWORD.value, text[o_start:o_end], o_start, o_end,
                                                   1.0, label))
    return found


def review_reply(customer_message: str, reply: str, *, analyzer: Analyzer | None = None,
                 customer: Analysis | None = None) -> ReplyReview:
    """Review ``reply``, an agent's answer to ``customer_message``.

    Parameters
    ----------
    customer_message, reply : str
        The customer's message and the agent's reply.
    analyzer : Analyzer, optional
        Reads the customer side (default: the shared default analyzer).
    customer : Analysis, optional
        The customer message's analysis when you already have it (then it is not analysed again).

    Returns
    -------
    ReplyReview
        ``score`` 0–100, ``verdict`` good / acceptable / poor, ``checks`` by name.
    """
    for name, value in (("customer_message", customer_message), ("reply", reply)):
        if not isinstance(value, str):
            raise InvalidInputError(f"{name} must be a str, got {type(value).__name__}")
    if customer is None:
        if analyzer is None:
            analyzer = Analyzer.default()
        customer = analyzer.analyze(customer_message)
    phrases = _phrases()
    norm = normalize(reply)
    found = _find(reply, norm, phrases)
    column = 1 if norm.script is Script.TRADITIONAL else 0
    upset = customer.emotion.value in _NEGATIVE_EMOTIONS
    intents = [str(customer.intent)] + ([str(customer.secondary_intent)] if customer.secondary_intent else [])
    ranked = sorted(customer.intent_scores.items(), key=lambda kv: -kv[1])
    if len(ranked) > 1 and ranked[1][1] >= 0.25:
        intents.append(str(ranked[1][0]))
    topical = [i for i in intents if i not in _NO_TOPIC and i in phrases.topics]

    negative = found.get("negative", []) + found.get("brushoff", []) \
        + ([] if found.get("alternative") else found.get("refusal", []))
    if not negative and norm.text:
        negative = _tone_cues(reply, norm)
    action = found.get("action", [])
    concrete = _CONCRETE.search(norm.text)
    customer_text = normalize(customer_message).text
    topic_cues: list[Cue] = [c for i in topical for c in found.get(f"topic:{i}", [])]
    on_topic: bool | None = None
    if topical or str(customer.intent) not in _NO_TOPIC:
        # Off topic only when the reply clearly talks about something else: an advert or upsell the
        # customer did not ask about, with nothing of the customer's topic in it.
        selling = bool(found.get("offtopic")) and "price_promotion" not in intents
        on_topic = not (selling and not topic_cues) and not _only_filler(reply, found.get("filler", []))
    stalled = bool(found.get("stall")) and not concrete
    asked = bool(_QUESTION.search(customer_text))
    answers_question = asked and (bool(_ANSWER_START.match(norm.text)) or (
        sum(ch.isalnum() for ch in norm.text) >= ANSWER_MIN_CHARS
        and bool(topic_cues or _shares_content(customer_text, norm.text))))
    answered = bool(action or concrete or answers_question) and not negative and on_topic is not False \
        and not stalled
    results: dict[str, tuple[bool | None, list[Cue]]] = {
        "acknowledges_emotion": (bool(found.get("empathy")) if upset else None, found.get("empathy", [])),
        "apologizes": (bool(found.get("apology")), found.get("apology", [])),
        "next_step": (answered, action),
        "shows_care": (bool(found.get("care")), found.get("care", [])),
        "avoids_negative_language": (not negative, negative),
        "addresses_topic": (on_topic, topic_cues),
    }
    checks = {name: ReplyCheck(passed, _unique(cues),
                               None if passed is not False else phrases.suggestions[name][column])
              for name, (passed, cues) in results.items()}
    applicable = {k: v.passed for k, v in checks.items() if v.passed is not None
                  and (k != "apologizes" or upset)}
    weight = sum(WEIGHTS[k] for k in applicable)
    score = round(100 * sum(WEIGHTS[k] for k, ok in applicable.items() if ok) / weight) if weight else 0
    if negative:
        score = min(score, NEGATIVE_CAP)
    verdict = _verdict(checks, upset)
    issues = tuple(k for k, v in checks.items() if v.passed is False and (k != "apologizes" or upset))
    return ReplyReview(score, verdict, checks, customer.emotion.value, str(customer.intent), norm.script, issues)


def _tone_cues(reply: str, norm: Any) -> list[Cue]:
    """One ``model`` cue when the tone model reads the reply as negative: its strongest n-gram, as evidence."""
    tone = _tone()
    grams = tone.grams(norm.text)
    p, top = tone.probability(grams)
    if p <= tone.threshold:
        return []
    start, end = (0, len(norm.text)) if top is None else (grams[top][0], grams[top][0] + len(top))
    o_start, o_end = norm.original_span(start, end)
    return [Cue(CueKind.MODEL.value, reply[o_start:o_end], o_start, o_end, round(p, 3), "negative_tone")]


def _unique(cues: list[Cue]) -> tuple[Cue, ...]:
    """Cues in reply order, one per span (a phrase listed under two kinds is one piece of evidence)."""
    seen: dict[tuple[int, int], Cue] = {}
    for cue in sorted(cues, key=lambda c: (c.start or 0, c.end or 0)):
        seen.setdefault((cue.start or 0, cue.end or 0), cue)
    return tuple(seen.values())


def _only_filler(text: str, filler: list[Cue]) -> bool:
    """Whether ``text`` (the reply as given) says nothing but fillers (好的, 收到, 您好 …): under two letters or digits outside them."""
    if not filler:
        return False
    kept = list(text)
    for cue in filler:  # spans index the reply as given
        for k in range(cue.start or 0, min(cue.end or 0, len(kept))):
            kept[k] = " "
    return sum(ch.isalnum() for ch in kept) < 2


def _shares_content(customer: str, reply: str) -> bool:
    """Whether the reply repeats a content word of the customer's message (a character bigram, not a common one)."""
    def grams(text: str) -> set[str]:
        chars = [ch for ch in text if ch.isalnum()]
        return {a + b for a, b in zip(chars, chars[1:])} - _COMMON_BIGRAMS

    return bool(grams(customer) & grams(reply))


def _verdict(checks: Mapping[str, ReplyCheck], upset: bool) -> str:
    """good / acceptable / poor, by the rules a support lead applies (and our labelled set follows)."""
    ok = {k: v.passed for k, v in checks.items()}
    helps = bool(ok["next_step"])
    if ok["avoids_negative_language"] is False or ok["addresses_topic"] is False \
            or (upset and not helps and not ok["acknowledges_emotion"]):
        return "poor"
    warm = bool(ok["acknowledges_emotion"]) and bool(ok["apologizes"] or ok["shows_care"]) if upset \
        else bool(ok["shows_care"])
    return "good" if ok["next_step"] and warm else "acceptable"
