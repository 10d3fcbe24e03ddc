"""Lexicons: the packaged TSV files, their automaton, format errors and user extensions."""

from __future__ import annotations

import shutil
from collections import Counter
from importlib.resources import files
from pathlib import Path

import ahocorasick
import pytest

from cs_sentiment import CsSentimentError, LexiconFormatError
from cs_sentiment.lexicon import FORMATS, Lexicon, read_tsv
from cs_sentiment.normalize import SIMPLIFIED_ONLY_HEADER, detect_script, normalize
from cs_sentiment.openings import PARTS_HEADER
from cs_sentiment.strategy import RULES_HEADER

REPO_ROOT = Path(__file__).resolve().parents[1]
LEXICON_DIR = REPO_ROOT / "data" / "lexicons"
#: Header of every packaged file, by file name.
HEADERS = {f"{kind}.tsv": header for kind, header in FORMATS.items() if kind != "domain"}
HEADERS["domain_words.tsv"] = FORMATS["domain"]
HEADERS["strategy_rules.tsv"] = RULES_HEADER
HEADERS["simplified_only.tsv"] = SIMPLIFIED_ONLY_HEADER
HEADERS["opening_parts.tsv"] = PARTS_HEADER
HEADERS["reply_phrases.tsv"] = ("check", "term", "source")
HEADERS["reply_suggestions.tsv"] = ("check", "simplified", "traditional", "source")
#: Files read by their own modules (strategy, normalisation, openings, reply review), not by Lexicon.
NOT_LEXICON = {"strategy_rules.tsv", "simplified_only.tsv", "opening_parts.tsv", "reply_phrases.tsv",
               "reply_suggestions.tsv"}
PACKAGED = sorted(path.name for path in LEXICON_DIR.glob("*.tsv"))


def _rows(name: str) -> list[list[str]]:
    lines = (LEXICON_DIR / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines[1:] if line.strip()]


def _entry_key(name: str, row: list[str]) -> tuple[str, ...]:
    """What must be unique in a file: the term, (slot, key, variant) for opening parts, (check, term) for phrases."""
    if name == "opening_parts.tsv":
        return (row[0], row[1], row[2])
    if name == "reply_phrases.tsv":
        return (row[0], row[1])
    return (row[0],)


@pytest.fixture
def lexicon_copy(tmp_path: Path) -> Path:
    """A writable copy of the packaged lexicon folder."""
    target = tmp_path / "lexicons"
    shutil.copytree(LEXICON_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


# --- the packaged files -----------------------------------------------------------
def test_every_lexicon_file_kind_is_packaged():
    assert set(PACKAGED) == set(HEADERS)


@pytest.mark.parametrize("name", PACKAGED)
def test_packaged_file_parses_and_has_its_header(name):
    text = (LEXICON_DIR / name).read_bytes().decode("utf-8")
    assert text.splitlines()[0].split("\t") == list(HEADERS[name])
    rows = read_tsv(text, name, HEADERS[name])
    assert rows, f"{name} has no entries"


@pytest.mark.parametrize("name", PACKAGED)
def test_packaged_file_is_sorted_by_first_column(name):
    first = [row[0] for row in _rows(name)]
    assert first == sorted(first)


@pytest.mark.parametrize("name", PACKAGED)
def test_packaged_file_has_no_duplicate_entries(name):
    counts = Counter(_entry_key(name, row) for row in _rows(name))
    assert [key for key, n in counts.items() if n > 1] == []


@pytest.mark.parametrize("name", PACKAGED)
def test_packaged_file_is_read_through_importlib_resources_from_the_one_copy(name):
    resource = files("cs_sentiment.lexicons") / name
    assert resource.read_text(encoding="utf-8") == (LEXICON_DIR / name).read_text(encoding="utf-8")


def test_packaged_lexicon_loads_every_file(lexicon):
    assert set(lexicon.sources) >= set(PACKAGED) - NOT_LEXICON


def test_emotion_lexicon_has_at_least_600_entries_covering_every_emotion():
    rows = _rows("emotion.tsv")
    assert len(rows) >= 600
    emotions = Counter(row[1] for row in rows)
    for emotion in ("satisfied", "angry", "disappointed", "anxious", "impatient", "confused", "hesitant"):
        assert emotions[emotion] >= 20, emotion


def test_emotion_lexicon_has_entries_in_both_scripts():
    scripts = Counter(detect_script(row[0]).value for row in _rows("emotion.tsv"))
    assert scripts["simplified"] >= 100
    assert scripts["traditional"] >= 30


def test_degree_adverbs_come_in_at_least_four_strength_levels():
    rows = _rows("degree.tsv")
    levels = {row[1] for row in rows}
    assert len(levels) >= 4
    multipliers = {level: {float(row[2]) for row in rows if row[1] == level} for level in levels}
    order = ("low", "medium", "high", "extreme")
    assert max(multipliers["low"]) < min(multipliers["extreme"])
    assert [level for level in order if level in levels] == list(order)


def test_emoji_lexicon_has_at_least_150_entries_of_every_kind():
    rows = _rows("emoji.tsv")
    assert len(rows) >= 150
    assert {row[3] for row in rows} == {"unicode", "platform", "emoticon"}


@pytest.mark.parametrize(("term", "category"), [
    ("但是", "contrast"), ("不过", "contrast"), ("可是", "contrast"),
    ("呵呵", "sarcasm"), ("[微笑]", "sarcasm"), ("真是好", "sarcasm"), ("我真的会谢", "sarcasm"),
    ("12315", "escalation"), ("消协", "escalation"), ("消基會", "escalation"), ("投诉", "escalation"),
    ("差评", "escalation"), ("曝光", "escalation"), ("律师", "escalation"), ("起诉", "escalation"),
    ("媒体", "escalation"),
    ("[微笑]", "emoji"), ("[怒]", "emoji"), ("[抓狂]", "emoji"),
    ("[流泪]", "emoji"), ("[强]", "emoji"), ("[抱拳]", "emoji"),
    ("不", "negation"), ("并不", "negation"), ("並非", "negation"),
    ("非常", "degree"), ("太", "degree"), ("极其", "degree"), ("简直", "degree"),
    ("有点", "softener"), ("稍微", "softener"), ("还好", "softener"),
    ("无法接受", "emotion"), ("太失望了", "emotion"), ("值不值", "emotion"), ("看不懂", "emotion"),
])
def test_lexicon_holds_the_terms_the_issue_names(lexicon, term, category):
    assert category in {entry.kind for entry in lexicon.lookup(term)}


def test_matching_uses_an_aho_corasick_automaton(lexicon):
    assert isinstance(lexicon.automaton, ahocorasick.Automaton)


def test_an_entry_matches_messages_in_both_scripts(lexicon):
    assert lexicon.lookup("無法接受") == lexicon.lookup("无法接受") != ()


def test_scan_finds_every_term_with_its_span(lexicon):
    text = normalize("太失望了，无法接受").text
    spans = {(start, end, entry.term) for start, end, group in lexicon.scan(text) for entry in group}
    assert (0, 4, "太失望了") in spans
    assert (5, 9, "无法接受") in spans


def test_unicode_emoji_are_looked_up_without_variation_selector_or_skin_tone(lexicon):
    assert lexicon.lookup("👍🏽") == lexicon.lookup("👍") != ()
    assert lexicon.lookup("❤️") == lexicon.lookup("❤") != ()


# --- format errors ----------------------------------------------------------------
def _append(path: Path, line: str) -> int:
    """Append a line; return its 1-based line number."""
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text + line + "\n", encoding="utf-8")
    return len((text + line).splitlines())


@pytest.mark.parametrize(("name", "line", "message"), [
    ("emotion.tsv", "踩大雷\tdisappointed", "expected 4 tab-separated fields, got 2"),
    ("emotion.tsv", "踩大雷\tdisappointed\t0.5\tme\textra", "expected 4 tab-separated fields, got 5"),
    ("emotion.tsv", "踩大雷\tdisappointed\t\tme", "empty field"),
    ("emotion.tsv", "踩大雷\tdisappointed\tstrong\tme", "strength must be a number"),
    ("emotion.tsv", "踩大雷\tdisappointed\t7\tme", "strength must be in"),
    ("emotion.tsv", "踩大雷\tfurious\t0.5\tme", "'furious'"),
    ("emotion.tsv", "失望\tdisappointed\t0.5\tme", "repeats line"),
    ("degree.tsv", "超超\tenormous\t1.5\tme", "'enormous'"),
    ("softener.tsv", "有丢丢\tlots\tme", "multiplier must be a number"),
    ("emoji.tsv", "[翻车]\tangry\t0.5\tsticker\tme", "'sticker'"),
    ("escalation.tsv", "找记者\tme", "expected 3 tab-separated fields"),
])
def test_malformed_lexicon_line_is_an_error_naming_file_and_line(lexicon_copy, name, line, message):
    number = _append(lexicon_copy / name, line)
    with pytest.raises(LexiconFormatError) as info:
        Lexicon.load(lexicon_copy)
    assert f"{name}:{number}:" in str(info.value)
    assert message in str(info.value)


def test_wrong_header_is_an_error_naming_file_and_line_one(lexicon_copy):
    path = lexicon_copy / "negation.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(["word\tsource"] + lines[1:]) + "\n", encoding="utf-8")
    with pytest.raises(LexiconFormatError, match=r"negation\.tsv:1: expected header"):
        Lexicon.load(lexicon_copy)


def test_lexicon_format_error_is_a_value_error_and_a_cs_sentiment_error():
    assert issubclass(LexiconFormatError, ValueError)
    assert issubclass(LexiconFormatError, CsSentimentError)


def test_missing_lexicon_file_is_an_error_naming_it(lexicon_copy):
    (lexicon_copy / "sarcasm.tsv").unlink()
    with pytest.raises(FileNotFoundError, match="sarcasm.tsv"):
        Lexicon.load(lexicon_copy)


# --- the user's own files ---------------------------------------------------------
def _user_file(path: Path, header: tuple[str, ...], *rows: str) -> Path:
    path.write_text("\t".join(header) + "\n" + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def test_user_file_extends_the_lexicon(tmp_path):
    extra = _user_file(tmp_path / "emotion_mybrand.tsv", FORMATS["emotion"], "翻车现场\tdisappointed\t0.7\tmybrand")
    assert Lexicon.load().lookup("翻车现场") == ()
    entries = Lexicon.load(extra=[extra]).lookup("翻车现场")
    assert [(e.kind, e.label, e.value, e.source) for e in entries] == [
        ("emotion", "disappointed", 0.7, "mybrand")]


def test_user_file_overrides_our_entry_without_touching_ours(tmp_path):
    extra = _user_file(tmp_path / "emotion_mybrand.tsv", FORMATS["emotion"], "失望\tangry\t0.9\tmybrand")
    ours_before = (LEXICON_DIR / "emotion.tsv").read_bytes()
    entries = Lexicon.load(extra=[extra]).lookup("失望")
    assert [(e.label, e.source) for e in entries if e.kind == "emotion"] == [("angry", "mybrand")]
    assert [e.label for e in Lexicon.load().lookup("失望") if e.kind == "emotion"] == ["disappointed"]
    assert (LEXICON_DIR / "emotion.tsv").read_bytes() == ours_before


def test_user_folder_of_files_is_read(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    _user_file(folder / "emotion_shop.tsv", FORMATS["emotion"], "翻车现场\tdisappointed\t0.7\tshop")
    _user_file(folder / "sarcasm_shop.tsv", FORMATS["sarcasm"], "真是谢天谢地了您\t0.8\tshop")
    lexicon = Lexicon.load(extra=[folder])
    assert {e.kind for e in lexicon.lookup("翻车现场")} == {"emotion"}
    assert {e.kind for e in lexicon.lookup("真是谢天谢地了您")} == {"sarcasm"}


def test_user_file_with_an_unknown_kind_is_an_error_naming_the_file(tmp_path):
    extra = _user_file(tmp_path / "mywords.tsv", FORMATS["emotion"], "翻车现场\tdisappointed\t0.7\tme")
    with pytest.raises(LexiconFormatError, match="mywords.tsv"):
        Lexicon.load(extra=[extra])


def test_malformed_user_file_is_an_error_naming_its_path_and_line(tmp_path):
    extra = _user_file(tmp_path / "emotion_mine.tsv", FORMATS["emotion"], "翻车现场\tdisappointed\t0.7\tme",
                       "踩大雷\tdisappointed\t0.7")
    with pytest.raises(LexiconFormatError) as info:
        Lexicon.load(extra=[extra])
    assert f"{extra}:3:" in str(info.value)


def test_analyzer_reads_the_users_extra_lexicon(tmp_path):
    from cs_sentiment import Analyzer

    extra = _user_file(tmp_path / "emotion_mybrand.tsv", FORMATS["emotion"], "翻车现场\tdisappointed\t0.8\tmybrand")
    result = Analyzer(extra_lexicons=[extra]).analyze("这次又是翻车现场")
    assert ("keyword", "翻车现场", "disappointed") in {(c.kind, c.text, c.label) for c in result.evidence}


def test_analyzer_loads_a_users_own_lexicon_folder(lexicon_copy):
    from cs_sentiment import Analyzer

    _append(lexicon_copy / "emotion.tsv", "翻车现场\tdisappointed\t0.8\tmine")
    result = Analyzer(lexicon_dir=lexicon_copy).analyze("这次又是翻车现场")
    assert ("keyword", "翻车现场") in {(c.kind, c.text) for c in result.evidence}


def test_a_users_lexicon_folder_brings_its_own_domain_words_to_segmentation(lexicon_copy):
    from cs_sentiment import Analyzer

    _append(lexicon_copy / "domain_words.tsv", "翻车现场\t100000\tmine")
    ours = Analyzer()._features("这次又是翻车现场")
    mine = Analyzer(lexicon_dir=lexicon_copy)._features("这次又是翻车现场")
    assert "\x01翻车现场" in mine and "\x01翻车现场" not in ours


def test_one_table_maps_every_file_kind_to_its_header_and_cue_kind():
    from cs_sentiment.cues import FILE_KINDS, CueKind

    assert FORMATS == {kind: spec.header for kind, spec in FILE_KINDS.items()} | {"domain": ("word", "freq", "source")}
    assert {spec.cue for spec in FILE_KINDS.values()} - {None} <= set(CueKind)
    lexicon = Lexicon.load()
    for term in ("无法接受", "不", "非常", "有点"):
        assert all(e.cue_kind is FILE_KINDS[e.kind].cue for e in lexicon.lookup(term))


def test_a_cue_kind_added_to_the_cues_table_loads_from_its_file_with_no_change_here(lexicon_copy, monkeypatch):
    # given: a new kind declared only in cues.FILE_KINDS, and its file
    from cs_sentiment.cues import FILE_KINDS, CueKind, FileKind

    monkeypatch.setitem(FILE_KINDS, "urgency", FileKind(("term", "weight", "source"), CueKind.ESCALATION,
                                                        value=("weight", 0.01, 1.0)))
    (lexicon_copy / "urgency.tsv").write_text("term\tweight\tsource\n十萬火急\t0.8\tmine\n", encoding="utf-8")
    # when
    lexicon = Lexicon.load(lexicon_copy)
    # then: parsed by its row (normalised term, checked weight), matched by the one automaton
    entries = [e for e in lexicon.lookup("十万火急") if e.kind == "urgency"]
    assert [(e.term, e.value, e.cue_kind) for e in entries] == [("十万火急", 0.8, CueKind.ESCALATION)]
    assert any(e.kind == "urgency" for _, _, group in lexicon.scan("真的十万火急") for e in group)
