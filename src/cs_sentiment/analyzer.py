"""The :class:`Analyzer`: lexicons + models + strategy table, wired together.

>>> from cs_sentiment import analyze
>>> r = analyze("你们这是什么破质量，用了两天就坏了，无法接受！",
...             {"typing_seconds": 3.1, "history": ["在吗", "东西坏了"]})
>>> r.emotion.value, r.polarity.value, r.need.value
('angry', 'negative', 'service')
>>> r.strategy.id.value in {"apologize_compensate", "escalate"}
True
"""

from __future__ import annotations

import copy
import math
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import classifier, scoring
from .context import Context
from .cues import TextCues, scan_context, scan_text
from .exceptions import InvalidInputError
from .features import MAX_FEATURE_CHARS, FeatureAnalyzer
from .labels import (
    Emotion,
    IntensityLevel,
    Intent,
    Polarity,
    Script,
    intensity_level,
    polarity_of,
)
from .lexicon import Lexicon
from .normalize import NormalizedText, bigrams, normalize
from .openings import Policy
from .persistence import CompiledModel, load_model, save_model
from .priors import em_priors, logit_shift, read_priors
from .results import Analysis, Cue
from .strategy import StrategyTable

if TYPE_CHECKING:  # importlib.resources.abc is Python 3.11+; only annotations use it
    from importlib.resources.abc import Traversable

__all__ = ["Analyzer", "analyze", "analyze_many"]

#: Earlier conversation messages remembered per analyzer (bigrams + valence each).
HISTORY_CACHE_SIZE = 4096

#: Analysed once when an analyzer is built: a platform code, traditional
#: characters and jieba words. (The emoji package builds its own search tree on
#: the first message with an emoji, under a lock: see normalize.find_emoji.)
WARM_UP_MESSAGE = "請問訂單好了嗎？[微笑]好的"
_WARM_UP_LOCK = threading.Lock()

_EMOTION_IDS = tuple(e.value for e in Emotion)
_FIRST_ROW = np.zeros(1, dtype=np.intp)


class Analyzer:
    """Reads customer messages: emotion, intensity, intent, need, escalation risk, strategy.

    It loads its lexicons and models once, in the constructor, and is then
    read-only: one instance may serve any number of threads.

    Parameters
    ----------
    model_dir : path, optional
        A model directory saved by :meth:`save` or ``cs-sentiment train``
        (default: the shipped model), or a ``.joblib`` file of your own fitted
        estimators (needs ``trust=True``).
    lexicon_dir : path, optional
        A folder with all lexicon files (default: the packaged ones).
    extra_lexicons : iterable of paths
        Your own lexicon files or folders, same format; they extend ours.
    confidence_threshold : float
        Below this confidence the analysis is flagged ``needs_human``.
    intent_margin : float
        Top-two intent probabilities closer than this are flagged too.
    trust : bool
        Allow loading a pickled (joblib) model.
    priors : "default", "train" or mapping
        Class priors the probabilities are moved to (Bayes' rule, no
        retraining). ``"default"`` (or ``None``): the model's deployment
        priors, for the shipped model those of live helpdesk chat;
        ``"train"``: the priors the model was fitted with (uniform, for
        balanced class weights); or ``{"emotion": {label: weight, …},
        "intent": {…}}`` (either head may be left out). See
        :meth:`adapt_priors` to estimate them from your own unlabeled logs.
    policy : Policy, mapping or path to a TOML file, optional
        What the business allows an agent to promise in an opening
        (``compensation``, ``return_window_days``, ``service_hours``,
        ``escalation_contact``; see :class:`~cs_sentiment.openings.Policy`).
        Without one, openings promise nothing concrete.

    Examples
    --------
    >>> analyzer = Analyzer()
    >>> analyzer.analyze("請問我的訂單什麼時候出貨？").script.value
    'traditional'
    """

    _default: Analyzer | None = None
    _default_lock = threading.Lock()

    def __init__(self, model_dir: str | Path | Traversable | None = None,
                 lexicon_dir: str | Path | None = None, *, extra_lexicons: Iterable[str | Path] = (),
                 confidence_threshold: float = scoring.DEFAULT_CONFIDENCE_THRESHOLD,
                 intent_margin: float = scoring.DEFAULT_INTENT_MARGIN, trust: bool = False,
                 model: CompiledModel | None = None, priors: Mapping[str, Any] | str | None = None,
                 policy: Policy | Mapping[str, Any] | str | Path | None = None):
        for name, value in (("confidence_threshold", confidence_threshold), ("intent_margin", intent_margin)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
        self.lexicon: Lexicon = Lexicon.load(lexicon_dir, extra_lexicons)
        self.strategies: StrategyTable = StrategyTable.load(lexicon_dir)
        self.policy: Policy = Policy.from_value(policy)
        self.model: CompiledModel = model if model is not None else load_model(model_dir, trust=trust)
        self.confidence_threshold: float = float(confidence_threshold)
        self.intent_margin: float = float(intent_margin)
        emotion_head, intent_head = self.model.emotion, self.model.intent
        # a lexicon folder of your own brings its own domain words for segmentation
        domain = None if lexicon_dir is None else self.lexicon.domain_words
        self._features = FeatureAnalyzer(emotion_head.ngram_range, emotion_head.use_words, domain)
        same_features = (emotion_head.ngram_range, emotion_head.use_words) == (intent_head.ngram_range,
                                                                                intent_head.use_words)
        # each head reads its own feature strings (computed once when both read the same)
        self._intent_features = self._features if same_features else FeatureAnalyzer(intent_head.ngram_range,
                                                                                      intent_head.use_words, domain)
        # Earlier messages of a conversation come back with every later one: each
        # is read once (bounded; dict reads and writes are atomic, so threads may share it),
        # and a message analysed in a conversation leaves its digest for the next turns.
        self._digests: dict[str, tuple[set[str] | None, float]] = {}
        self._emotion_cols = [self.model.emotion.classes.index(e) if e in self.model.emotion.classes else -1
                              for e in _EMOTION_IDS]
        # When both heads share one vectorizer (the shipped model does), one
        # fancy-index and one product serve both: half the numpy calls.
        self._n_emotions = len(self.model.emotion.classes)
        self._joint = None
        if self.model.emotion.vectorizer is self.model.intent.vectorizer and same_features:
            # idf folded into the coefficients, idf² as a last column: one
            # fancy-index and one sum give every logit and the L2 norm.
            idf = self.model.emotion.vectorizer.idf
            self._joint = np.hstack([idf[:, None] * self.model.emotion.coef, idf[:, None] * self.model.intent.coef,
                                     (idf * idf)[:, None]]).astype(np.float32)  # half the memory each call touches
        self._emotion_members = [Emotion(c) for c in self.model.emotion.classes]
        self._polarities = [polarity_of(c) for c in self.model.emotion.classes]
        self._emotion_valence = [scoring.VALENCE_WEIGHT[c] for c in self.model.emotion.classes]
        self._angry_col = self._emotion_cols[_EMOTION_IDS.index("angry")]
        classes = self.model.intent.classes
        self._intent_labels = [_intent_label(c) for c in classes]
        self._needs = [self.model.need_of(c) for c in classes]
        self._acts_as = [self.model.acts_as(c) for c in classes]
        self._complaint_col = classes.index(Intent.COMPLAINT) if Intent.COMPLAINT in classes else -1
        self._neutral_col = self.model.emotion.classes.index("neutral") if "neutral" in self.model.emotion.classes \
            else -1
        self._set_priors(priors)
        # Third-party structures built lazily on first use (our tokenizers, the
        # OpenCC converters) are not safe to build from many threads at once:
        # build them here, once, under a lock every analyzer shares. (The emoji
        # package's search tree waits for the first emoji: normalize.find_emoji.)
        with _WARM_UP_LOCK:
            self.analyze(WARM_UP_MESSAGE)

    # -- priors ---------------------------------------------------------------
    def _set_priors(self, priors: Mapping[str, Any] | str | None) -> None:
        heads = {"emotion": self.model.emotion, "intent": self.model.intent}
        if priors is None or priors == "default":
            chosen = self.model.manifest.get("priors") or {}
            chosen = {k: v for k, v in chosen.items() if k in heads}
        elif priors == "train":
            chosen = {}
        elif isinstance(priors, Mapping):
            unknown = [k for k in priors if k not in heads]
            if unknown:
                raise ValueError(f"priors has unknown key {unknown[0]!r}; keys are emotion, intent")
            chosen = dict(priors)
        else:
            raise ValueError(f"priors must be 'default', 'train' or a mapping, got {priors!r}")
        values: dict[str, np.ndarray] = {}
        for name, head in heads.items():
            train = head.train_priors()
            values[name] = read_priors(chosen[name], head.classes, name) if name in chosen else train
        # A prior shift is a constant per class on the calibrated log scale:
        # T * shift on the raw logits, folded into the biases below.
        self._priors = values
        self._emotion_bias = self.model.emotion.temperature * logit_shift(values["emotion"],
                                                                          self.model.emotion.train_priors())
        self._intent_bias = self.model.intent.temperature * logit_shift(values["intent"],
                                                                        self.model.intent.train_priors())
        # The joint product's intercepts: the intent bias is folded in; the
        # emotion bias is added after the fusion stage in _predict.
        self._joint_intercept = np.concatenate([self.model.emotion.intercept,
                                                self.model.intent.intercept + self._intent_bias])

    @property
    def priors(self) -> dict[str, dict[str, float]]:
        """The class priors this analyzer's probabilities assume, per head."""
        return {"emotion": dict(zip(self.model.emotion.classes, map(float, self._priors["emotion"]))),
                "intent": dict(zip(self.model.intent.classes, map(float, self._priors["intent"])))}

    def with_priors(self, priors: Mapping[str, Any] | str | None) -> Analyzer:
        """A copy of this analyzer with other class priors (shares the loaded model and lexicons).

        >>> a = Analyzer.default().with_priors("train")
        >>> round(a.priors["emotion"]["neutral"], 3)
        0.125
        """
        other = copy.copy(self)
        other._set_priors(priors)
        return other

    def adapt_priors(self, messages: Iterable[str], *, tol: float = 1e-6, max_iter: int = 500) -> Analyzer:
        """An analyzer whose priors are re-estimated on your own **unlabeled** messages.

        EM prior adjustment (Saerens, Latinne & Decaestecker 2002): starting
        from the priors the model was trained with, alternate between moving
        every message's probabilities to the current priors and setting the
        priors to the mean of those probabilities. Nothing is retrained; the
        returned analyzer shares this one's model and lexicons.

        Parameters
        ----------
        messages : iterable of str
            Customer messages from the logs you will score (blank ones are skipped).

        Examples
        --------
        >>> calm = ["好的", "嗯嗯", "收到", "订单号发你了", "明天能到吗", "好的谢谢"] * 5
        >>> adapted = Analyzer.default().with_priors("train").adapt_priors(calm)
        >>> adapted.priors["emotion"]["neutral"] > 0.5
        True
        """
        if isinstance(messages, str):
            raise InvalidInputError("messages must be an iterable of str, got a single str")
        base = self.with_priors("train")
        emotion_rows, intent_rows = [], []
        for i, message in enumerate(messages):
            if not isinstance(message, str):
                raise InvalidInputError(f"messages[{i}] must be a str, got {type(message).__name__}")
            norm = normalize(message)
            if not norm.text:
                continue
            e, n = base._predict(norm.text, scan_text(norm, base.lexicon).features)
            emotion_rows.append(e)
            intent_rows.append(n)
        priors = {}
        for name, rows, head in (("emotion", emotion_rows, self.model.emotion),
                                 ("intent", intent_rows, self.model.intent)):
            pi = em_priors(np.asarray(rows, dtype=np.float64).reshape(-1, len(head.classes)), head.train_priors(),
                           tol=tol, max_iter=max_iter)
            priors[name] = dict(zip(head.classes, pi.tolist()))
        return self.with_priors(priors)

    def _predict(self, text: str, cue_features: tuple[float, ...]) -> tuple[list[float], list[float]]:
        """Calibrated emotion and intent probabilities of normalised ``text`` (as ``LinearHead.proba``)."""
        emotion, intent = self.model.emotion, self.model.intent
        feats = self._features(text)
        if self._joint is None:
            index, values = emotion.vectorizer.transform_one(feats)
            e_logits = (emotion.logits(index, values, cue_features) + self._emotion_bias).tolist()
            i_feats = feats if self._intent_features is self._features else self._intent_features(text)
            index, values = intent.vectorizer.transform_one(i_feats)
            i_logits = (intent.logits(index, values) + self._intent_bias).tolist()
            return scoring.softmax(e_logits, emotion.temperature), scoring.softmax(i_logits, intent.temperature)
        n = self._n_emotions
        vectorizer = emotion.vectorizer
        z = self._joint_intercept.copy()
        if vectorizer.binary:
            columns = list(_active_columns(vectorizer.vocabulary, feats))
        else:
            columns = [j for j in map(vectorizer.vocabulary.get, feats) if j is not None]
        if columns:
            if vectorizer.binary:
                rows = self._joint.take(np.array(columns, dtype=np.intp), axis=0)
                summed = np.add.reduceat(rows, _FIRST_ROW, axis=0)[0]  # row by row, as _predict_many adds
                squared_norm = summed[-1]
            else:
                counts = Counter(columns)
                rows = self._joint.take(np.fromiter(counts, dtype=np.intp, count=len(counts)), axis=0)
                tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                if vectorizer.sublinear_tf:
                    tf = np.log(tf) + 1.0
                summed = tf @ rows
                squared_norm = (tf * tf) @ rows[:, -1]
            z += summed[:-1] / math.sqrt(float(squared_norm))
        if emotion.cue_coef is not None:
            z[:n] += np.asarray(cue_features) @ emotion.cue_coef
        e_logits = z[:n]
        if emotion.fusion is not None:
            e_logits = emotion.fusion.logits_one(e_logits, np.asarray(cue_features, dtype=np.float64))
        return (scoring.softmax((e_logits + self._emotion_bias).tolist(), emotion.temperature),
                scoring.softmax(z[n:].tolist(), intent.temperature))

    def _predict_many(self, items: Sequence[tuple[str, tuple[float, ...]]]) -> list[tuple[list[float], list[float]]]:
        """:meth:`_predict` of many messages with one product for all: the same numbers, to float rounding.

        The active rows of every message are gathered and summed per message in
        one call each (``np.add.reduceat`` adds rows in the order one message's
        ``sum`` does), the fusion stage and the softmax run on the whole batch.
        """
        emotion, intent = self.model.emotion, self.model.intent
        joint = self._joint
        if joint is None or not emotion.vectorizer.binary or not items:
            return [self._predict(text, cues) for text, cues in items]
        n = self._n_emotions
        vocabulary = emotion.vectorizer.vocabulary
        index: list[int] = []
        starts: list[int] = []
        active: list[int] = []
        for k, (text, _) in enumerate(items):
            columns = _active_columns(vocabulary, self._features(text))
            if columns:
                active.append(k)
                starts.append(len(index))
                index.extend(columns)
        z = np.tile(self._joint_intercept, (len(items), 1))
        if active:
            summed = np.add.reduceat(joint.take(np.array(index, dtype=np.intp), axis=0), starts, axis=0)
            # divided in float32 by the float64 root, as _predict's `summed / math.sqrt(...)` is
            norms = np.sqrt(summed[:, -1].astype(np.float64)).astype(np.float32)
            z[active] += summed[:, :-1] / norms[:, None]
        cues = np.array([c for _, c in items], dtype=np.float64)
        if emotion.cue_coef is not None:
            z[:, :n] += cues @ emotion.cue_coef
        e_logits = z[:, :n]
        if emotion.fusion is not None:
            e_logits = emotion.fusion.logits(e_logits, cues)
        e_p = classifier.softmax((e_logits + self._emotion_bias) / emotion.temperature)
        i_p = classifier.softmax(z[:, n:] / intent.temperature)
        return list(zip(e_p.tolist(), i_p.tolist(), strict=True))

    def _history_digest(self, message: str) -> tuple[set[str] | None, float]:
        """:func:`history_digest` of an earlier message, each read once."""
        found = self._digests.get(message)
        if found is None:
            found = history_digest(message, self.lexicon)
            self._remember(message, found)
        return found

    def _remember(self, message: str, digest: tuple[set[str] | None, float]) -> None:
        digests = self._digests
        if len(digests) >= HISTORY_CACHE_SIZE:
            digests.clear()
        digests[message] = digest

    def _clause_intent(self, text: str, main: int) -> int:
        """A second intent read clause by clause (我要退款，而且我要投诉…); -1 when none is clear.

        The message-level softmax lets one intent take nearly all the mass, so
        a message with a joining word (而且, 另外, 顺便 …) or several questions is
        split into clauses and each clause's intent is read on its own.
        """
        head = self.model.intent
        best, best_p = -1, scoring.CLAUSE_INTENT_MIN_PROB
        clauses = [c for c in scoring.CLAUSE_SPLIT.split(text[:MAX_FEATURE_CHARS]) if len(c) >= 3]
        for clause in clauses[:scoring.MAX_CLAUSES]:
            index, values = head.vectorizer.transform_one(self._intent_features(clause))
            p = np.asarray(scoring.softmax((head.logits(index, values) + self._intent_bias).tolist(), head.temperature))
            k = int(p.argmax())
            if k != main and p[k] >= best_p and self._intent_labels[k] not in scoring.NO_SECONDARY:
                best, best_p = k, float(p[k])
        return best

    @classmethod
    def default(cls) -> Analyzer:
        """The shared default analyzer (shipped model and lexicons), built once, lazily."""
        if cls._default is None:
            with cls._default_lock:
                if cls._default is None:
                    cls._default = cls()
        return cls._default

    def save(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        """Save this analyzer's model as a data-only model directory (no pickle)."""
        return save_model(self.model, directory, overwrite=overwrite)

    # -- the analysis ---------------------------------------------------------
    def analyze(self, message: str, context: Context | Mapping[str, Any] | None = None) -> Analysis:
        """Analyse one customer message.

        Parameters
        ----------
        message : str
            The customer's message, in simplified or traditional Chinese.
        context : mapping or Context, optional
            ``history``, ``typing_seconds``, ``seconds_since_last``,
            ``previous_complaints``, ``customer_baseline_cps``.

        Returns
        -------
        Analysis

        Raises
        ------
        InvalidInputError
            ``message`` is not a ``str`` (a ``TypeError``).
        InvalidContextError
            An unknown context key, a wrong type or a negative number (a ``ValueError``).
        """
        if not isinstance(message, str):
            raise InvalidInputError(f"message must be a str, got {type(message).__name__}: {message!r:.60}")
        ctx = Context.from_value(context)
        norm = normalize(message)
        if not norm.text:
            return self._blank(norm.script, ctx)
        text_cues = scan_text(norm, self.lexicon)
        emotion_p, intent_p = self._predict(norm.text, text_cues.features)
        return self._finish(norm, text_cues, ctx, emotion_p, intent_p)

    def _finish(self, norm: NormalizedText, text_cues: TextCues, ctx: Context, emotion_p: list[float],
                intent_p: list[float]) -> Analysis:
        """Everything after the two models: context, short messages, intensity, risk, strategy."""
        lexicon_valence = scoring.lexicon_valence(text_cues.emotion_strength, text_cues.emphasis)
        grams = bigrams(norm.text) if ctx.history else None
        context_cues = scan_context(ctx, norm, lexicon_valence, self._history_digest, grams)
        if grams is not None:  # in a conversation: this message is the history of the next turns
            self._remember(norm.original, (grams, lexicon_valence))

        e_top = max(range(len(emotion_p)), key=emotion_p.__getitem__)
        decision: list[Cue] = []
        if self._neutral_col >= 0 and scoring.is_short(norm.text):
            emotion_p, e_top, cue = scoring.support_short(emotion_p, e_top, text_cues.cues,
                                                          self.model.emotion.classes, self._neutral_col)
            if cue is not None:
                decision.append(cue)
        emotion_id = self.model.emotion.classes[e_top]
        emotion = self._emotion_members[e_top]
        negative = emotion_id in scoring.NEGATIVE_IDS
        contradiction = scoring.contradiction(emotion_id, lexicon_valence, emotion_p[e_top])
        if contradiction is not None:
            decision.append(contradiction)
        i_top = max(range(len(intent_p)), key=intent_p.__getitem__)
        p_intent = intent_p[i_top]
        i_second, p_second = -1, 0.0
        for k, p in enumerate(intent_p):
            if k != i_top and p > p_second:
                i_second, p_second = k, p

        strength = text_cues.emotion_strength
        others = sum(v for k, v in strength.items() if k != emotion_id and k != "satisfied") if negative else 0.0
        p_neutral = emotion_p[self._neutral_col] if self._neutral_col >= 0 else 0.0
        intensity = scoring.intensity(strength.get(emotion_id, 0.0), others, text_cues.emphasis, text_cues.softening,
                                      context_cues.intensity_boost, p_neutral, neutral=emotion_id == "neutral")
        valence = scoring.valence(lexicon_valence, sum(p * w for p, w in zip(emotion_p, self._emotion_valence)))
        escalation_risk = scoring.escalation_risk(
            text_cues.escalation, emotion_p[self._angry_col] if self._angry_col >= 0 else 0.0, intensity,
            intent_p[self._complaint_col] if self._complaint_col >= 0 else 0.0, context_cues.escalation_boost, valence)

        confidence = min(emotion_p[e_top], p_intent)
        unsure = scoring.unsure(confidence, p_intent, p_second, self.confidence_threshold, self.intent_margin)
        intent = self._intent_labels[i_top]
        secondary = None
        if scoring.two_requests(intent, self._intent_labels[i_second] if i_second >= 0 else None, p_intent, p_second):
            secondary = self._intent_labels[i_second]
            unsure = unsure and (p_intent + p_second) < scoring.TWO_REQUESTS_MASS
        elif intent not in scoring.NO_SECONDARY and scoring.MULTI_REQUEST.search(norm.text):
            k = self._clause_intent(norm.text, i_top)
            if k >= 0:
                i_second, secondary = k, self._intent_labels[k]
        support = scoring.needs_support(negative, intensity)
        strategy = self.strategies.choose(
            emotion=emotion_id, intensity=intensity, intent=self._acts_as[i_top],
            escalation_risk=escalation_risk, script=norm.script, seed=norm.text,
            secondary_intent=None if secondary is None else self._acts_as[i_second],
            unsure=unsure, emotional_support=support,
            covers=(intent,) if secondary is None else (intent, secondary), policy=self.policy,
        )
        cols = self._emotion_cols
        return Analysis(
            emotion=emotion,
            emotion_scores={e: (emotion_p[c] if c >= 0 else 0.0) for e, c in zip(_EMOTION_IDS, cols)},
            polarity=self._polarities[e_top],
            valence=valence,
            intensity=intensity,
            intensity_level=intensity_level(intensity),
            intent=intent,
            intent_scores=dict(zip(self.model.intent.classes, intent_p)),
            need=self._needs[i_top],
            emotional_support=support,
            escalation_risk=escalation_risk,
            strategy=strategy,
            evidence=text_cues.cues + context_cues.cues + tuple(decision),
            script=norm.script,
            confidence=confidence,
            needs_human=unsure,
            secondary_intent=secondary,
        )

    def analyze_many(self, messages: Sequence[str],
                     contexts: Sequence[Context | Mapping[str, Any] | None] | None = None) -> list[Analysis]:
        """Analyse several messages (each with its own context), in order."""
        if isinstance(messages, str):
            raise InvalidInputError("messages must be a sequence of str, got a single str; use analyze()")
        if contexts is not None and len(contexts) != len(messages):
            raise ValueError(f"contexts has {len(contexts)} items for {len(messages)} messages")
        for i, message in enumerate(messages):
            if not isinstance(message, str):
                raise InvalidInputError(f"messages[{i}] must be a str, got {type(message).__name__}: {message!r:.60}")
        ctxs = [Context.from_value(None if contexts is None else contexts[i]) for i in range(len(messages))]
        norms = [normalize(m) for m in messages]
        read = [(i, norm, scan_text(norm, self.lexicon)) for i, norm in enumerate(norms) if norm.text]
        probabilities = self._predict_many([(norm.text, cues.features) for _, norm, cues in read])
        out: list[Analysis | None] = [None] * len(messages)
        for (i, norm, cues), (emotion_p, intent_p) in zip(read, probabilities, strict=True):
            out[i] = self._finish(norm, cues, ctxs[i], emotion_p, intent_p)
        return [a if a is not None else self._blank(norms[i].script, ctxs[i]) for i, a in enumerate(out)]

    def _blank(self, script: Script, ctx: Context) -> Analysis:
        """An empty or blank message: a valid neutral analysis with zero intensity."""
        intents = self.model.intent.classes
        other = Intent.OTHER.value if Intent.OTHER.value in intents else intents[0]
        strategy = self.strategies.choose(emotion="neutral", intensity=0.0, intent=self.model.acts_as(other),
                                          escalation_risk=0.0, script=script, seed="", covers=(_intent_label(other),),
                                          policy=self.policy)
        risk = scoring.blank_escalation_risk(ctx.previous_complaints)
        return Analysis(
            emotion=Emotion.NEUTRAL,
            emotion_scores={e: (1.0 if e == "neutral" else 0.0) for e in _EMOTION_IDS},
            polarity=Polarity.NEUTRAL, valence=0.0, intensity=0.0, intensity_level=IntensityLevel.LOW,
            intent=_intent_label(other), intent_scores={i: (1.0 if i == other else 0.0) for i in intents},
            need=self.model.need_of(other), emotional_support=False, escalation_risk=risk,
            strategy=strategy, evidence=(), script=script, confidence=1.0,
            needs_human=False,
        )


def _active_columns(vocabulary: Mapping[str, int], features: list[str]) -> set[int]:
    """The vocabulary columns of a message's features, as a set built the one way both predict paths
    build it: its iteration order is the order the rows are summed in, so the two agree to the bit."""
    columns = set(map(vocabulary.get, features))
    columns.discard(None)
    return columns  # type: ignore[return-value]  # None discarded


def history_digest(message: str, lexicon: Lexicon) -> tuple[set[str] | None, float]:
    """What the history rules need of an earlier message: its bigrams (``None`` when blank) and lexicon valence.

    >>> grams, valence = history_digest("太失望了", Lexicon.load())
    >>> sorted(grams), valence < 0
    (['太失', '失望', '望了'], True)
    """
    norm = normalize(message)
    if not norm.text:
        return None, 0.0
    cues = scan_text(norm, lexicon)
    return bigrams(norm.text), scoring.lexicon_valence(cues.emotion_strength, cues.emphasis)


def _intent_label(intent: str) -> str:
    try:
        return Intent(intent)
    except ValueError:
        return intent


def analyze(message: str, context: Context | Mapping[str, Any] | None = None) -> Analysis:
    """Analyse one message with the default :class:`Analyzer` (built on first call).

    See :meth:`Analyzer.analyze`.
    """
    return Analyzer.default().analyze(message, context)


def analyze_many(messages: Sequence[str],
                 contexts: Sequence[Context | Mapping[str, Any] | None] | None = None) -> list[Analysis]:
    """Analyse several messages with the default :class:`Analyzer`."""
    return Analyzer.default().analyze_many(messages, contexts)

