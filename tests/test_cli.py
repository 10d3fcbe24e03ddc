"""The cs-sentiment command: analyze TEXT, --context, analyze - (stdin), errors without tracebacks."""

from __future__ import annotations

import io
import json
import sys

import pytest

from cs_sentiment import __version__
from cs_sentiment.cli import main

FIELDS = {"emotion", "emotion_scores", "polarity", "valence", "intensity", "intensity_level", "intent",
          "intent_scores", "secondary_intent", "need", "emotional_support", "escalation_risk", "confidence",
          "needs_human", "strategy", "evidence", "script"}


def _one_line_error(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("cs-sentiment")
    return lines[0]


def test_analyze_prints_the_json_of_to_dict(analyzer, capsys):
    assert main(["analyze", "太失望了，白买了"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert set(data) == FIELDS
    assert data == json.loads(json.dumps(analyzer.analyze("太失望了，白买了").to_dict()))
    assert err == ""


def test_analyze_with_context_json_uses_the_context(capsys):
    context = json.dumps({"typing_seconds": 5.0, "history": ["在吗", "东西坏了"], "previous_complaints": 2})
    assert main(["analyze", "东西坏了，到底什么时候给我处理", "--context", context]) == 0
    data = json.loads(capsys.readouterr().out)
    kinds = {cue["kind"] for cue in data["evidence"] if cue["start"] is None}
    assert {"typing_speed", "escalation"} <= kinds


def test_analyze_dash_reads_one_message_a_line_from_stdin(analyzer, monkeypatch, capsys):
    messages = ["太失望了，白买了", "請問我的訂單什麼時候出貨？", "😡😡😡"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(messages) + "\n"))
    assert main(["analyze", "-"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 3
    results = [json.loads(line) for line in lines]
    assert [r["emotion"] for r in results] == [analyzer.analyze(m).emotion.value for m in messages]
    assert results[1]["script"] == "traditional"
    assert err == ""


def test_analyze_dash_applies_the_context_to_every_line(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("东西坏了\r\n太慢了\n"))
    assert main(["analyze", "-", "--context", '{"previous_complaints": 3}']) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(results) == 2
    assert all(any(c["kind"] == "escalation" and c["start"] is None for c in r["evidence"]) for r in results)


@pytest.mark.parametrize("context", ['{bad json', '{"typing_secs": 3}', '[1, 2]', '{"typing_seconds": -1}',
                                     '{"history": "在吗"}'])
def test_bad_context_is_exit_2_with_one_line_on_stderr(capsys, context):
    assert main(["analyze", "太失望了", "--context", context]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    _one_line_error(err)


def test_unknown_context_key_error_names_the_key(capsys):
    assert main(["analyze", "太失望了", "--context", '{"typing_secs": 3}']) == 2
    assert "typing_secs" in _one_line_error(capsys.readouterr().err)


@pytest.mark.parametrize("argv", [["frobnicate"], [], ["analyze"], ["analyze", "x", "--no-such-option"]])
def test_bad_usage_is_exit_2_with_one_line_on_stderr(capsys, argv):
    assert main(argv) == 2
    _one_line_error(capsys.readouterr().err)


def test_version_is_printed(capsys):
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_module_entry_point_in_a_real_subprocess(tmp_path):
    import os
    import subprocess

    done = subprocess.run([sys.executable, "-m", "cs_sentiment", "analyze", "你好"], cwd=tmp_path,
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == FIELDS
    assert data["script"] == "simplified"
    assert done.stderr == ""


def test_train_with_priors_stores_them_as_the_model_default(tmp_path, capsys):
    data = tmp_path / "d.csv"
    rows = ["text,emotion,intent"] + [f"{t},{e},{i}" for t, e, i in [
        ("好的", "neutral", "other"), ("嗯嗯", "neutral", "other"), ("收到", "neutral", "other"),
        ("太失望了", "disappointed", "other"), ("好失望啊", "disappointed", "other"), ("白买了", "disappointed", "other"),
        ("怎么退款", "neutral", "return_refund"), ("退款到哪了", "neutral", "return_refund"),
        ("我要退货", "neutral", "return_refund")]]
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    priors = tmp_path / "p.json"
    priors.write_text(json.dumps({"emotion": {"neutral": 3, "disappointed": 1}, "source": "test"}), encoding="utf-8")
    assert main(["train", str(data), "--out", str(tmp_path / "m"), "--cv", "0", "--priors", str(priors)]) == 0
    from cs_sentiment import Analyzer

    model = Analyzer(tmp_path / "m")
    assert model.priors["emotion"] == {"disappointed": 0.25, "neutral": 0.75}
    assert model.model.manifest["priors"]["source"] == "test"


def test_train_with_bad_priors_is_one_line_naming_the_label(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("text,emotion,intent\n好的,neutral,other\n太失望了,disappointed,other\n好失望,disappointed,other\n"
                    "怎么退款,neutral,return_refund\n", encoding="utf-8")
    priors = tmp_path / "p.json"
    priors.write_text(json.dumps({"emotion": {"neutral": 1, "angry": 1}}), encoding="utf-8")
    assert main(["train", str(data), "--out", str(tmp_path / "m"), "--cv", "0", "--priors", str(priors)]) == 2
    assert "angry" in _one_line_error(capsys.readouterr().err)


def test_analyze_with_a_policy_file_may_promise_what_it_allows(tmp_path, capsys):
    policy = tmp_path / "policy.toml"
    policy.write_text('compensation = "10元无门槛券"\n', encoding="utf-8")
    assert main(["analyze", "收到的杯子是碎的，太失望了", "--policy", str(policy)]) == 0
    assert "10元无门槛券" in json.loads(capsys.readouterr().out)["strategy"]["opening"]


def test_a_policy_file_with_an_unknown_key_is_one_line_naming_it(tmp_path, capsys):
    policy = tmp_path / "policy.toml"
    policy.write_text('refund_days = 3\n', encoding="utf-8")
    assert main(["analyze", "好的", "--policy", str(policy)]) == 2
    assert "refund_days" in _one_line_error(capsys.readouterr().err)


def test_score_with_role_and_agent_columns_lists_each_agents_replies(tmp_path, capsys):
    src = tmp_path / "log.csv"
    src.write_text("cid,role,agent,text\n"
                   "1,customer,,我的快递什么时候到？\n"
                   "1,agent,小王,您好，包裹在上海中转，预计明天送达。\n"
                   "2,customer,,东西坏了，太失望了\n"
                   "2,agent,小李,这个不归我们管。\n", encoding="utf-8")
    code = main(["score", str(src), "--conversation-col", "cid", "--role-col", "role", "--agent-col", "agent",
                 "--no-progress"])
    err = capsys.readouterr().err
    assert code == 0
    assert "2 replies reviewed" in err and "小王: 1 replies" in err and "小李: 1 replies" in err
    header = (tmp_path / "log.scored.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert "reply_score,reply_verdict,reply_issues,error" in header


@pytest.mark.parametrize("argv, expected", [([], None), (["--chunksize", "500"], 500)])
def test_score_reads_the_library_default_chunk_size_unless_told(tmp_path, monkeypatch, argv, expected):
    pytest.importorskip("pandas")
    from cs_sentiment import batch

    seen = {}

    def fake_score_file(*args, **kwargs):
        seen.update(kwargs)
        raise SystemExit(0)

    monkeypatch.setattr(batch, "score_file", fake_score_file)
    (tmp_path / "log.csv").write_text("text\n在吗\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["score", str(tmp_path / "log.csv"), "--no-progress", *argv])
    assert seen["chunksize"] == (batch.DEFAULT_CHUNKSIZE if expected is None else expected)
