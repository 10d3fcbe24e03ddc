"""Word segmentation: a private, silent jieba.Tokenizer with our customer-service words."""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor

import pytest

from cs_sentiment.lexicon import load_domain_words
from cs_sentiment.normalize import normalize
from cs_sentiment.tokenize import get_tokenizer, tokenize


def test_tokenize_segments_a_customer_service_message():
    words = tokenize(normalize("我要退款，运费险怎么算").text)
    assert "".join(words) == "我要退款,运费险怎么算"
    assert "退款" in words and "运费险" in words


def test_empty_text_has_no_words():
    assert tokenize("") == []


@pytest.mark.parametrize(("word", "freq"), load_domain_words()[::25])
def test_our_domain_words_are_kept_whole(word, freq):
    text = normalize(word).text
    assert tokenize(text) == [text]


def test_tokenizer_is_private_and_built_once():
    import jieba

    assert get_tokenizer() is get_tokenizer()
    assert get_tokenizer() is not jieba.dt


def test_tokenize_is_picklable_for_scikit_learn():
    assert pickle.loads(pickle.dumps(tokenize)) is tokenize


def test_threads_segment_like_one_thread():
    texts = [normalize(t).text for t in ("我要退款", "快递到哪了", "運費險怎麼算", "登录不上验证码收不到") * 10]
    expected = [tokenize(t) for t in texts]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(tokenize, texts)) == expected


SILENT_BUILD = r"""
import sys, threading
import jieba
from cs_sentiment.tokenize import get_tokenizer, tokenize

barrier = threading.Barrier(8)
seen = []
def build():
    barrier.wait()
    seen.append(id(get_tokenizer()))
threads = [threading.Thread(target=build) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
words = tokenize("我要退款运费险怎么算")
print(len(set(seen)), jieba.dt.initialized, len(jieba.dt.FREQ), "运费险" in words)
"""


def test_building_the_tokenizer_is_silent_writes_no_cache_and_leaves_jieba_global_untouched(tmp_path, python_runner):
    # given a fresh interpreter whose temporary folder (where jieba caches) and cwd are empty
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    work = tmp_path / "cwd"
    work.mkdir()
    # when 8 threads race to build the tokenizer and one message is segmented
    done = python_runner(SILENT_BUILD, cwd=work, env={"TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp)})
    # then one tokenizer was built, jieba's global one was never initialised, nothing was printed or cached
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "False", "0", "True"]
    assert done.stderr == ""
    assert list(tmp.rglob("*")) == []
    assert list(work.rglob("*")) == []


def test_rjieba_and_the_reference_jieba_give_the_same_tokens_on_every_corpus_message():
    import csv
    from pathlib import Path

    from cs_sentiment import tokenize as module
    from cs_sentiment.features import fold_digits
    from cs_sentiment.normalize import normalize

    if module.engine() != "rjieba":
        pytest.skip("rjieba is not installed here")
    corpus = Path(__file__).resolve().parents[1] / "data" / "samples" / "corpus.csv"
    with corpus.open(encoding="utf-8") as f:
        texts = [fold_digits(normalize(r["text"]).text) for r in csv.DictReader(f)]
    reference = module.get_tokenizer()
    differ = [t for t in texts if module.tokenize(t) != reference.lcut(t, HMM=module.USE_HMM)]
    assert differ == []


def test_without_rjieba_the_reference_jieba_segments_everything(monkeypatch):
    from cs_sentiment import tokenize as module

    monkeypatch.setattr(module, "_fast", {None: None})
    assert module.engine() == "jieba"
    assert module.tokenize("我要退款，运费险怎么算") == ["我", "要", "退款", "，", "运费险", "怎么", "算"]


def test_importing_the_library_does_not_build_rjiebas_default_dictionary(python_runner):
    result = python_runner("import sys, cs_sentiment as c; c.analyze('我要退款'); "
                           "print('rjieba' in sys.modules, 'rjieba.rjieba' in sys.modules)")
    assert result.stdout.split() in (["False", "True"], ["False", "False"]), result.stderr


def test_a_run_that_no_longer_word_is_made_of_cannot_tie_and_stays_on_the_fast_engine():
    from cs_sentiment import tokenize as module

    assert not module._can_tie("订单0000000到了吗", None)  # digits folded to 0: no word is made of 0
    assert not module._can_tie("在吗!!!......", None)
    assert module._can_tie("哈哈哈", None) and module._can_tie("最最最讨厌", None)
    assert module._can_tie("0001哈1哈1哈", None)  # a run of 0s does not hide the 1哈 run that starts inside it


@pytest.mark.parametrize("text", ["订单0000000到了吗???", "会员00000：退款0000元!!!", "0000哈哈哈0000", "。。。000最最最",
                                  "好的好的好的0000", "aaaa退款aaaa"])
def test_both_engines_agree_on_messages_with_long_runs(text):
    from cs_sentiment import tokenize as module

    if module.engine() != "rjieba":
        pytest.skip("rjieba is not installed here")
    fast = module._get_fast(None).cut(text, module.USE_HMM)
    assert fast == module.get_tokenizer().lcut(text, HMM=module.USE_HMM) == module.tokenize(text)
