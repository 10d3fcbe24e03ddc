"""Models as data: save/load round trip, checksums, format version, trust for joblib, overwrite protection."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import joblib
import numpy as np
import pytest

from cs_sentiment import (
    Analyzer,
    EmotionClassifier,
    IncompatibleModelError,
    IntentClassifier,
    ModelLoadError,
    UntrustedModelError,
)
from cs_sentiment.persistence import FORMAT_VERSION, load_model

REPO_ROOT = Path(__file__).resolve().parents[1]
MESSAGES = [
    "你们这是什么破质量，用了两天就坏了，无法接受！", "請問這台冰箱有幾種顏色可以選？", "太失望了，白买了",
    "我要退款，还要投诉你们的客服", "呵呵，你们效率真高", "😡😡😡", "", "快快快", "谢谢，服务很好[强]",
]
CONTEXT = {"history": ["在吗", "东西坏了"], "typing_seconds": 2.0, "previous_complaints": 1}


@pytest.fixture(scope="module")
def saved(analyzer, tmp_path_factory) -> Path:
    """The shipped model saved again by Analyzer.save into a fresh folder."""
    return analyzer.save(tmp_path_factory.mktemp("model") / "saved")


@pytest.fixture
def model_copy(saved, tmp_path) -> Path:
    """A writable copy of a saved model folder."""
    target = tmp_path / "model"
    target.mkdir()
    for path in saved.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def _write_manifest(folder: Path, manifest: dict | str, *, sign: bool = True) -> None:
    """Replace a copy's manifest; ``sign`` writes the matching manifest.sha256, as a forger would."""
    data = (manifest if isinstance(manifest, str) else json.dumps(manifest)).encode("utf-8")
    (folder / "manifest.json").write_bytes(data)
    if sign:
        (folder / "manifest.sha256").write_text(hashlib.sha256(data).hexdigest() + "\n", encoding="ascii")


# --- round trip -------------------------------------------------------------------
def test_save_and_load_give_identical_analyses(analyzer, saved):
    reloaded = Analyzer(model_dir=saved)
    for message in MESSAGES:
        assert reloaded.analyze(message) == analyzer.analyze(message)
        assert reloaded.analyze(message, CONTEXT) == analyzer.analyze(message, CONTEXT)


def test_saved_model_is_data_with_a_checksummed_manifest(saved):
    manifest = _manifest(saved)
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["library_version"]
    names = {path.name for path in saved.iterdir()}
    assert names == {"manifest.json", "manifest.sha256"} | set(manifest["files"])
    signature = (saved / "manifest.sha256").read_text(encoding="ascii").strip()
    assert signature == hashlib.sha256((saved / "manifest.json").read_bytes()).hexdigest()
    assert "weights.npz" in names and all(n.endswith((".json", ".npz", ".sha256")) for n in names)
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((saved / name).read_bytes()).hexdigest() == digest
    with np.load(saved / "weights.npz", allow_pickle=False) as weights:
        assert weights.files
    assert set(manifest["tasks"]) == {"emotion", "intent"}


def test_shipped_model_manifest_has_labels_corpus_hash_metrics_and_version():
    manifest = _manifest(REPO_ROOT / "models")
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["library_version"]
    assert len(manifest["tasks"]["emotion"]["classes"]) == 8
    assert len(manifest["tasks"]["intent"]["classes"]) == 11
    assert len(manifest["corpus"]["sha256"]) == 64
    assert {"emotion", "intent"} <= set(manifest["metrics"])


def test_default_model_loads_without_unpickling():
    model = load_model()
    assert len(model.emotion.classes) == 8 and len(model.intent.classes) == 11


def test_freshly_trained_model_round_trips_with_identical_predictions(tmp_path):
    pandas = pytest.importorskip("pandas")
    from cs_sentiment import train

    rows = [(t, e, i) for t, e, i in [
        ("我要退款", "neutral", "return_refund"), ("退货退款怎么弄", "confused", "return_refund"),
        ("钱什么时候退回来，急死了", "anxious", "return_refund"), ("申請退款被拒絕了，太失望了", "disappointed", "return_refund"),
        ("什么时候发货", "neutral", "order_status"), ("快递到底到哪了，快点", "impatient", "order_status"),
        ("物流一直不更新，气死了", "angry", "order_status"), ("包裹怎麼還沒到，好擔心", "anxious", "order_status"),
        ("这个有什么颜色", "neutral", "product_info"), ("有点贵，再考虑考虑", "hesitant", "product_info"),
        ("谢谢，很满意", "satisfied", "product_info"), ("看不懂说明书", "confused", "product_info"),
    ] * 3]
    frame = pandas.DataFrame(rows, columns=["text", "emotion", "intent"])
    trained = train(frame, cv=None)
    reloaded = Analyzer(model_dir=trained.save(tmp_path / "mine"))
    for message in MESSAGES:
        before, after = trained.analyze(message), reloaded.analyze(message)
        assert (after.emotion, after.intent, after.strategy.id) == (before.emotion, before.intent, before.strategy.id)
        assert after.emotion_scores == pytest.approx(before.emotion_scores, abs=1e-6)
        assert after.intent_scores == pytest.approx(before.intent_scores, abs=1e-6)


# --- damaged or foreign models -----------------------------------------------------
@pytest.mark.parametrize("name", ["weights.npz", "vocabulary_emotion.json"])
def test_tampered_file_is_a_model_load_error_naming_it(model_copy, name):
    path = model_copy / name
    if not path.exists():
        pytest.skip(f"this model has no {name}")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match=name):
        Analyzer(model_dir=model_copy)


def test_missing_file_is_a_model_load_error_naming_it(model_copy):
    (model_copy / "weights.npz").unlink()
    with pytest.raises(ModelLoadError, match="weights.npz"):
        Analyzer(model_dir=model_copy)


def test_folder_without_manifest_is_a_model_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="manifest.json"):
        Analyzer(model_dir=tmp_path)


def test_manifest_that_is_not_json_is_a_model_load_error(model_copy):
    _write_manifest(model_copy, "{not json")
    with pytest.raises(ModelLoadError, match="manifest.json"):
        Analyzer(model_dir=model_copy)


@pytest.mark.parametrize("version", [FORMAT_VERSION + 1, 0, 1, "2", True, None])
def test_wrong_format_version_is_an_incompatible_model_error(model_copy, version):
    manifest = _manifest(model_copy)
    manifest["format_version"] = version
    _write_manifest(model_copy, manifest)
    with pytest.raises(IncompatibleModelError, match="format_version"):
        Analyzer(model_dir=model_copy)


def test_incompatible_model_error_is_a_model_load_error():
    assert issubclass(IncompatibleModelError, ModelLoadError)
    assert issubclass(UntrustedModelError, ModelLoadError)


# --- joblib needs trust -----------------------------------------------------------
@pytest.fixture(scope="module")
def joblib_model(tmp_path_factory) -> Path:
    texts = ["我要退款", "退货退款怎么弄", "什么时候发货", "快递到哪了", "太失望了", "谢谢，很满意"] * 3
    emotions = ["neutral", "neutral", "neutral", "impatient", "disappointed", "satisfied"] * 3
    intents = ["return_refund", "return_refund", "order_status", "order_status", "other", "praise"] * 3
    path = tmp_path_factory.mktemp("joblib") / "mine.joblib"
    joblib.dump({"emotion": EmotionClassifier(cv=None).fit(texts, emotions),
                 "intent": IntentClassifier(cv=None).fit(texts, intents)}, path)
    return path


def test_joblib_model_without_trust_is_refused(joblib_model):
    with pytest.raises(UntrustedModelError, match="trust=True"):
        Analyzer(model_dir=joblib_model)
    with pytest.raises(UntrustedModelError):
        load_model(joblib_model)


def test_joblib_model_with_trust_loads_and_analyses(joblib_model, check_analysis):
    mine = Analyzer(model_dir=joblib_model, trust=True)
    assert set(mine.model.intent.classes) == {"return_refund", "order_status", "other", "praise"}
    check_analysis(mine.analyze("我要退款"), "我要退款", intents=mine.model.intent.classes)


# --- overwrite protection ---------------------------------------------------------
def test_saving_over_a_model_needs_overwrite(analyzer, saved, tmp_path):
    target = analyzer.save(tmp_path / "model")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    with pytest.raises(FileExistsError, match="overwrite"):
        analyzer.save(target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert analyzer.save(target, overwrite=True) == target
    assert Analyzer(model_dir=target).analyze(MESSAGES[0]) == analyzer.analyze(MESSAGES[0])


# --- the stacked fusion stage and the priors (issue 7); each head's own features (format 3) ------------------
def test_shipped_model_has_a_fusion_stage_and_states_its_priors():
    manifest = Analyzer().model.manifest
    assert manifest["format_version"] == FORMAT_VERSION == 3
    assert manifest["tasks"]["emotion"]["fusion"]["gates"]
    assert len(manifest["tasks"]["emotion"]["train_priors"]) == 8
    assert set(manifest["priors"]) >= {"emotion", "intent", "source"}


def test_saved_model_keeps_its_fusion_stage_and_default_priors(analyzer, tmp_path):
    path = analyzer.save(tmp_path / "m")
    again = Analyzer(model_dir=path)
    assert again.priors == analyzer.priors
    assert np.array_equal(again.model.emotion.fusion.coef, analyzer.model.emotion.fusion.coef)
    for text in ("一点也不失望", "好的", "客服态度很好，不过物流太慢了"):
        assert again.analyze(text).emotion_scores == analyzer.analyze(text).emotion_scores


def test_model_fitted_on_other_cue_features_is_an_incompatible_model_error(model_copy):
    manifest = _manifest(model_copy)
    manifest["features"]["cue_features"] = manifest["features"]["cue_features"][:-1]
    _write_manifest(model_copy, manifest)
    with pytest.raises(IncompatibleModelError, match="cue features"):
        Analyzer(model_dir=model_copy)


# --- the model directory is a trust boundary (issue 8, item 15) -----------------------------------------
def test_an_altered_manifest_is_refused_before_it_is_parsed(model_copy):
    from cs_sentiment import ModelIntegrityError

    manifest = _manifest(model_copy)
    manifest["tasks"]["emotion"]["classes"].reverse()  # would make 无法接受 read satisfied
    _write_manifest(model_copy, manifest, sign=False)
    with pytest.raises(ModelIntegrityError, match="manifest.json does not match manifest.sha256"):
        Analyzer(model_dir=model_copy)


def test_a_model_without_its_manifest_signature_is_refused(model_copy):
    from cs_sentiment import ModelIntegrityError

    (model_copy / "manifest.sha256").unlink()
    with pytest.raises(ModelIntegrityError, match="manifest.sha256"):
        Analyzer(model_dir=model_copy)


@pytest.mark.parametrize(("edit", "field"), [
    (lambda m: m["tasks"]["emotion"].__setitem__("temperature", -1), "temperature"),
    (lambda m: m["tasks"]["emotion"].__setitem__("temperature", 0), "temperature"),
    (lambda m: m["tasks"]["intent"].__setitem__("temperature", "1"), "temperature"),
    (lambda m: m["tasks"]["emotion"]["classes"].__setitem__(1, m["tasks"]["emotion"]["classes"][0]), "classes"),
    (lambda m: m["tasks"]["emotion"]["classes"].append("neutral2"), "shape"),
    (lambda m: m["tasks"]["intent"].__setitem__("train_priors", [0.5, 0.5]), "train_priors"),
    (lambda m: m["tasks"]["emotion"].__setitem__("binary", "yes"), "binary"),
    (lambda m: m["tasks"]["emotion"].__setitem__("vectorizer", "../x"), "vectorizer"),
    (lambda m: m["tasks"]["emotion"]["fusion"].__setitem__("gates", [99]), "gates"),
    (lambda m: m["tasks"]["intent"]["features"].__setitem__("ngram_range", [0, 9]), "ngram_range"),
    (lambda m: m["tasks"]["emotion"]["features"].__setitem__("use_words", 1), "use_words"),
    (lambda m: m.__setitem__("tasks", []), "tasks"),
])
def test_every_field_is_validated_and_the_error_names_it(model_copy, edit, field):
    from cs_sentiment import ModelFormatError

    manifest = _manifest(model_copy)
    edit(manifest)
    _write_manifest(model_copy, manifest)
    with pytest.raises(ModelFormatError, match=field):
        Analyzer(model_dir=model_copy)


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", ".hidden", "sub/weights.npz", "manifest.json"])
def test_files_outside_the_directory_are_never_read(model_copy, name):
    from cs_sentiment import ModelFormatError

    manifest = _manifest(model_copy)
    manifest["files"][name] = "0" * 64
    _write_manifest(model_copy, manifest)
    with pytest.raises(ModelFormatError, match="not a plain file name"):
        Analyzer(model_dir=model_copy)


def test_an_oversized_file_is_refused_before_it_is_read(model_copy):
    from cs_sentiment import ModelFormatError

    with (model_copy / "big.bin").open("wb") as f:
        f.truncate(3 << 30)  # 3 GiB, sparse: costs nothing unless read
    manifest = _manifest(model_copy)
    manifest["files"]["big.bin"] = "0" * 64
    _write_manifest(model_copy, manifest)
    start = time.perf_counter()
    with pytest.raises(ModelFormatError, match="big.bin is 3,221,225,472 bytes"):
        Analyzer(model_dir=model_copy)
    assert time.perf_counter() - start < 5


def test_arrays_that_decompress_beyond_the_limit_are_refused_before_loading(model_copy, monkeypatch):
    import io

    from cs_sentiment import ModelFormatError, persistence

    monkeypatch.setattr(persistence, "MAX_ARRAY_BYTES", 1 << 20)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, zeros=np.zeros(1 << 18))  # 2 MiB of zeros in a few KB
    (model_copy / "weights.npz").write_bytes(buffer.getvalue())
    manifest = _manifest(model_copy)
    manifest["files"]["weights.npz"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    _write_manifest(model_copy, manifest)
    with pytest.raises(ModelFormatError, match="once decompressed"):
        Analyzer(model_dir=model_copy)


def test_each_head_keeps_its_own_feature_spec_through_save_and_load(analyzer, tmp_path):
    import dataclasses

    from cs_sentiment.persistence import CompiledModel, load_model, save_model

    model = analyzer.model
    changed = CompiledModel(model.emotion, dataclasses.replace(model.intent, use_words=False), model.intent_map,
                            model.manifest)
    loaded = load_model(save_model(changed, tmp_path / "m"))
    assert (loaded.emotion.ngram_range, loaded.emotion.use_words) == (model.emotion.ngram_range, True)
    assert (loaded.intent.ngram_range, loaded.intent.use_words) == (model.intent.ngram_range, False)


def test_a_format_2_model_still_loads_with_one_feature_spec_for_both_heads(model_copy):
    # given: a format 2 manifest (one top-level feature spec)
    manifest = _manifest(model_copy)
    spec = manifest["tasks"]["emotion"].pop("features")
    manifest["tasks"]["intent"].pop("features")
    manifest["features"].update(spec)
    manifest["format_version"] = 2
    _write_manifest(model_copy, manifest)
    # when
    loaded = Analyzer(model_dir=model_copy)
    # then
    assert loaded.model.emotion.ngram_range == loaded.model.intent.ngram_range == tuple(spec["ngram_range"])
    assert loaded.analyze(MESSAGES[0]) == Analyzer().analyze(MESSAGES[0])
