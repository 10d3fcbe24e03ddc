"""analyze() under hostile and broken input: bounded time and memory, nothing hidden, spans right (issue 8)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import tracemalloc

import numpy as np
import pytest

from cs_sentiment import Analyzer, InvalidContextError
from cs_sentiment.context import MAX_COMPLAINTS, MAX_HISTORY_CHARS
from cs_sentiment.normalize import MAX_MESSAGE_CHARS, normalize


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# --- 1. punctuation runs are read in linear time -------------------------------------------------
@pytest.mark.parametrize("message", [
    "怎么还没发货？我等了一周了" + "！" * 3000,
    "!" * 9998 + "x?",
    "?" + "!?" * 5000,
    "？" * 10_000 + "！",
])
def test_a_long_run_of_question_and_exclamation_marks_is_read_in_well_under_a_second(analyzer, message):
    assert _seconds(lambda: analyzer.analyze(message)) < 1.0


def test_punctuation_time_grows_linearly_with_the_run(analyzer):
    short = min(_seconds(lambda: analyzer.analyze("为什么？" + "！" * 2_000)) for _ in range(3))
    long = min(_seconds(lambda: analyzer.analyze("为什么？" + "！" * 16_000)) for _ in range(3))
    assert long < 8 * short * 3 + 0.05  # linear (8x the input), with room for noise; cubic would be 500x


def test_question_runs_are_still_cues(analyzer):
    kinds = [(c.text, c.label) for c in analyzer.analyze("怎么还没到？？？！").evidence if c.kind == "punctuation"]
    assert ("？？？！", "question_run") in kinds


# --- 2. text that NFKC expands, and huge messages ----------------------------------------------------
def test_text_nfkc_expands_eighteen_fold_stays_bounded_in_time_and_memory(analyzer):
    message = "\ufdfa" * 1_000_000  # each becomes 18 characters under NFKC
    tracemalloc.start()
    try:
        seconds = _seconds(lambda: analyzer.analyze(message))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 2.0
    assert peak < 64 * 2**20


def test_normalisation_reads_at_most_the_documented_number_of_characters():
    norm = normalize("退" * (MAX_MESSAGE_CHARS * 3))
    assert len(norm.text) == MAX_MESSAGE_CHARS
    expanded = normalize("\ufdfa" * MAX_MESSAGE_CHARS)
    assert len(expanded.text) <= MAX_MESSAGE_CHARS
    assert expanded.original_span(0, len(expanded.text))[1] <= len(expanded.original)


# --- 3. long history items ------------------------------------------------------------------------------
def test_long_history_items_cost_little_time_and_the_digest_cache_stays_small():
    analyzer = Analyzer()
    history = [("坏了" * 500_000) + str(i) for i in range(20)]
    assert _seconds(lambda: analyzer.analyze("东西坏了", {"history": history})) < 1.0
    tracemalloc.start()
    try:
        for k in range(5):
            analyzer.analyze("东西坏了", {"history": [h + str(k) for h in history]})
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 32 * 2**20


def test_history_items_are_read_up_to_the_documented_length():
    from cs_sentiment import Context

    ctx = Context.from_value({"history": ["好" * (MAX_HISTORY_CHARS + 10), {"text": "x" * 5000}]})
    assert [len(h) for h in ctx.history] == [MAX_HISTORY_CHARS, MAX_HISTORY_CHARS]


# --- 4. invisible characters never hide a keyword ----------------------------------------------------
INVISIBLE = ["\u00ad", "\u034f", "\u061c", "\u180e", "\u200b", "\u2061", "\u2062", "\u2063", "\u2064", "\u2066",
             "\u2067", "\u2068", "\u2069", "\u206a", "\ufff9", "\ufffa", "\ufffb", "\U000e0041", "\U000e007f",
             "\ue000", "\uf8ff", "\U000f0001"]


@pytest.mark.parametrize("char", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_an_invisible_character_inside_a_keyword_does_not_hide_it(analyzer, char):
    plain = analyzer.analyze("我要投诉，你们太过分了")
    hidden = analyzer.analyze(f"我要投{char}诉，你们太过分了")
    assert hidden.escalation_risk == pytest.approx(plain.escalation_risk)
    assert hidden.emotion == plain.emotion
    cue = next(c for c in hidden.evidence if c.kind == "escalation")
    assert cue.text == f"投{char}诉"


# --- 5. spans when NFKC changes lengths in both directions -------------------------------------------------
@pytest.mark.parametrize("message", ["ﬁ无法接受é", "ﬁ无法接受e\u0301", "e\u0301ﬁ无法接受", "㈱ﬁ无法接受ｅ\u0301"])
def test_evidence_spans_point_at_what_they_name_when_nfkc_changes_lengths(analyzer, message):
    cues = [c for c in analyzer.analyze(message).evidence if c.start is not None]
    keyword = next(c for c in cues if c.kind == "keyword")
    assert keyword.text == "无法接受"
    for cue in cues:
        assert message[cue.start:cue.end] == cue.text


# --- 6. first use from many threads ------------------------------------------------------------------------
_THREADS = textwrap.dedent("""
    import sys, threading
    import emoji.tokenizer
    from cs_sentiment import analyze
    barrier = threading.Barrier(32)
    out = []
    def work():
        barrier.wait()
        out.append((analyze("好的😊").emotion.value, tuple(c.text for c in analyze("👍🏽").evidence)))
    threads = [threading.Thread(target=work) for _ in range(32)]
    [t.start() for t in threads]; [t.join() for t in threads]
    print(len(set(out)), out[0])
""")


def test_the_emoji_search_tree_is_built_by_the_first_message_with_an_emoji_not_by_loading():
    # loading stays cheap (cold start); the 32-thread test below checks that the first use is safe
    code = ("import sys; from cs_sentiment import Analyzer; a = Analyzer(); print('emoji' in sys.modules); "
            "a.analyze('好的👍'); import emoji.tokenizer as t; print(bool(t._SEARCH_TREE))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


@pytest.mark.parametrize("run", range(3))
def test_first_use_from_32_threads_gives_every_thread_the_same_answer(run):
    out = subprocess.run([sys.executable, "-c", _THREADS], capture_output=True, text=True, check=True).stdout
    distinct, first = out.strip().split(" ", 1)
    assert distinct == "1"
    assert "👍🏽" in first and "'🏽'" not in first


# --- 7. numbers in the context -----------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "value"), [
    ("previous_complaints", 10**400), ("previous_complaints", MAX_COMPLAINTS + 1), ("typing_seconds", 10**400),
    ("seconds_since_last", 10**400), ("customer_baseline_cps", -(10**400)), ("previous_complaints", 2.5),
    ("previous_complaints", np.bool_(True)), ("typing_seconds", np.float64("nan")),
])
def test_out_of_range_numbers_are_an_invalid_context_error_naming_the_key(analyzer, key, value):
    with pytest.raises(InvalidContextError, match=key):
        analyzer.analyze("东西坏了", {key: value})


def test_numpy_numbers_are_accepted_like_python_numbers(analyzer):
    as_numpy = analyzer.analyze("东西坏了", {"previous_complaints": np.int64(2), "typing_seconds": np.float32(2.0),
                                         "seconds_since_last": np.int32(400), "customer_baseline_cps": np.float64(1.5)})
    as_python = analyzer.analyze("东西坏了", {"previous_complaints": 2, "typing_seconds": 2.0,
                                          "seconds_since_last": 400, "customer_baseline_cps": 1.5})
    assert as_numpy.to_dict() == as_python.to_dict()


# --- 14. the oldest supported Python ------------------------------------------------------------------------
def test_no_module_imports_what_python_3_10_lacks_at_run_time(repo_root):
    import ast

    newer = {"importlib.resources.abc"}
    for path in sorted((repo_root / "src" / "cs_sentiment").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        guarded = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in newer and id(node) not in guarded:
                pytest.fail(f"{path.name}:{node.lineno} imports {node.module} at run time (Python 3.11+)")
