"""Models as data: save and load a model directory without pickle.

A model directory holds:

``manifest.json``
    ``format_version``, library and dependency versions, the classes, softmax
    temperatures and cue-feature names of each task, the intent → need map,
    the training-corpus hash, metrics, and the sha256 of every other file.
``vocabulary_<name>.json``
    Feature strings of one vectorizer, in column order.
``weights.npz``
    idf, coefficients and intercepts as plain arrays (read with
    ``allow_pickle=False``).

Loading checks the format version (:class:`IncompatibleModelError`) and every
checksum (:class:`ModelLoadError`), so a tampered or half-copied model is a
clear error. A joblib file of the user's own fitted estimators loads only with
``trust=True`` (pickle can run arbitrary code; scikit-learn's persistence docs).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .classifier import Fusion, LinearHead, Vectorizer
from .exceptions import IncompatibleModelError, ModelLoadError, UntrustedModelError
from .labels import NEED_BY_INTENT, Emotion, Need

if TYPE_CHECKING:  # importlib.resources.abc is Python 3.11+; only annotations use it
    from importlib.resources.abc import Traversable

__all__ = ["FORMAT_VERSION", "CompiledModel", "load_model", "save_model"]

#: 2 adds the stacked fusion stage, the class priors and two cue features;
#: a version 1 directory needs retraining (``cs-sentiment train``).
FORMAT_VERSION = 2
READABLE_VERSIONS = (2,)
MANIFEST = "manifest.json"
WEIGHTS = "weights.npz"
#: Need and strategy behaviour of an intent the taxonomy does not know (a
#: company's own label): need ``service``, handled like ``other`` by the
#: strategy table. Override per intent with ``intent_map`` (see :func:`cs_sentiment.train`).
DEFAULT_UNKNOWN_INTENT = {"need": "service", "acts_as": "other"}


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """The two heads an :class:`~cs_sentiment.Analyzer` needs, plus their metadata."""

    emotion: LinearHead
    intent: LinearHead
    ngram_range: tuple[int, int] = (1, 3)
    use_words: bool = True
    intent_map: dict[str, dict[str, str]] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)

    def need_of(self, intent: str) -> Need:
        """Need of an intent: the taxonomy's, else ``intent_map``'s, else the documented default."""
        if intent in self.intent_map:
            return Need(self.intent_map[intent].get("need", DEFAULT_UNKNOWN_INTENT["need"]))
        return NEED_BY_INTENT.get(intent) or Need(DEFAULT_UNKNOWN_INTENT["need"])

    def acts_as(self, intent: str) -> str:
        """The taxonomy intent the strategy table treats ``intent`` as."""
        if intent in NEED_BY_INTENT:
            return intent
        return self.intent_map.get(intent, {}).get("acts_as", DEFAULT_UNKNOWN_INTENT["acts_as"])


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_model(model: CompiledModel, directory: str | Path, *, overwrite: bool = False,
               extra_manifest: dict[str, Any] | None = None) -> Path:
    """Write ``model`` as a data-only model directory; returns its path.

    Raises
    ------
    FileExistsError
        ``directory`` already holds a model and ``overwrite`` is false.
    """
    from . import __version__

    directory = Path(directory)
    if (directory / MANIFEST).exists() and not overwrite:
        raise FileExistsError(f"{directory} already holds a model; pass overwrite=True to replace it")
    directory.mkdir(parents=True, exist_ok=True)
    vectorizers: dict[str, Vectorizer] = {}
    names: dict[str, str] = {}
    for task, head in (("emotion", model.emotion), ("intent", model.intent)):
        for name, vec in vectorizers.items():
            if vec.vocabulary == head.vectorizer.vocabulary and np.array_equal(vec.idf, head.vectorizer.idf):
                names[task] = name
                break
        else:
            names[task] = task
            vectorizers[task] = head.vectorizer
    arrays: dict[str, np.ndarray] = {}
    blobs: dict[str, bytes] = {}
    for name, vec in vectorizers.items():
        blobs[f"vocabulary_{name}.json"] = json.dumps(vec.features(), ensure_ascii=False).encode("utf-8")
        arrays[f"idf_{name}"] = vec.idf.astype(np.float64)
    tasks = {}
    for task, head in (("emotion", model.emotion), ("intent", model.intent)):
        arrays[f"{task}_coef"] = head.coef.astype(np.float32)
        arrays[f"{task}_intercept"] = head.intercept.astype(np.float64)
        if head.cue_coef is not None:
            arrays[f"{task}_cue_coef"] = head.cue_coef.astype(np.float64)
        if head.fusion is not None:
            arrays[f"{task}_fusion_coef"] = head.fusion.coef.astype(np.float64)
            arrays[f"{task}_fusion_intercept"] = head.fusion.intercept.astype(np.float64)
        tasks[task] = {
            "classes": list(head.classes),
            "temperature": head.temperature,
            "vectorizer": names[task],
            "sublinear_tf": head.vectorizer.sublinear_tf,
            "binary": head.vectorizer.binary,
            "uses_cues": head.cue_coef is not None or head.fusion is not None,
            "fusion": None if head.fusion is None else {"gates": list(head.fusion.gates)},
            "train_priors": [float(p) for p in head.train_priors()],
            "meta": head.meta,
        }
    buffer = _npz_bytes(arrays)
    blobs[WEIGHTS] = buffer
    from .cues import CUE_FEATURE_NAMES

    manifest = {
        "format_version": FORMAT_VERSION,
        "library": "cs_sentiment",
        "library_version": __version__,
        "versions": _versions(),
        "features": {"ngram_range": list(model.ngram_range), "use_words": model.use_words,
                     "cue_features": list(CUE_FEATURE_NAMES)},
        "tasks": tasks,
        "intent_map": model.intent_map,
        **{k: v for k, v in model.manifest.items() if k not in {"format_version", "files", "tasks", "features"}},
        **(extra_manifest or {}),
        "files": {name: _sha256(data) for name, data in sorted(blobs.items())},
    }
    for name, data in blobs.items():
        _atomic_write(directory / name, data)
    _atomic_write(directory / MANIFEST, (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return directory


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **dict(sorted(arrays.items())))
    return buffer.getvalue()


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("numpy", "scikit-learn", "jieba", "opencc"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return out


def load_model(directory: str | Path | Traversable | None = None, *, trust: bool = False) -> CompiledModel:
    """Load a model directory (default: the shipped model) without unpickling.

    A path to a ``.joblib`` file instead loads the user's own fitted
    ``{"emotion": EmotionClassifier, "intent": IntentClassifier}`` mapping,
    and only when ``trust=True``: unpickling can run arbitrary code, so load
    only files you made yourself.

    Raises
    ------
    ModelLoadError
        A file is missing or its checksum does not match the manifest.
    IncompatibleModelError
        The manifest's ``format_version`` is not one this library reads.
    UntrustedModelError
        A joblib file without ``trust=True``.
    """
    if directory is not None and str(directory).endswith((".joblib", ".pkl", ".pickle")):
        return _load_joblib(Path(directory), trust)
    root: Traversable = files("cs_sentiment.default_model") if directory is None else Path(directory)
    manifest_file = root / MANIFEST
    if not manifest_file.is_file():
        raise ModelLoadError(f"no {MANIFEST} in {root}: not a cs_sentiment model directory")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{root}/{MANIFEST} is not valid JSON: {exc}") from None
    version = manifest.get("format_version")
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise IncompatibleModelError(
            f"{root} has model format_version {version!r}; this cs_sentiment reads format_version "
            f"{' or '.join(map(str, READABLE_VERSIONS))}"
        )
    blobs = {}
    for name, digest in manifest.get("files", {}).items():
        resource = root / name
        if not resource.is_file():
            raise ModelLoadError(f"missing model file {name} in {root}")
        data = resource.read_bytes()
        if _sha256(data) != digest:
            raise ModelLoadError(f"{root}/{name} does not match the sha256 in {MANIFEST}: the model was altered")
        blobs[name] = data
    if WEIGHTS not in blobs:
        raise ModelLoadError(f"{MANIFEST} in {root} lists no {WEIGHTS}")
    import io

    with np.load(io.BytesIO(blobs[WEIGHTS]), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    vectorizers: dict[str, Vectorizer] = {}
    heads: dict[str, LinearHead] = {}
    try:
        for task in ("emotion", "intent"):
            spec = manifest["tasks"][task]
            name = spec["vectorizer"]
            if name not in vectorizers:
                features = json.loads(blobs[f"vocabulary_{name}.json"].decode("utf-8"))
                vectorizers[name] = Vectorizer({f: i for i, f in enumerate(features)}, arrays[f"idf_{name}"],
                                               bool(spec.get("sublinear_tf", False)), bool(spec.get("binary", True)))
            fusion = None
            if spec.get("fusion") is not None:
                fusion = Fusion(arrays[f"{task}_fusion_coef"], arrays[f"{task}_fusion_intercept"],
                                tuple(int(g) for g in spec["fusion"]["gates"]))
            priors = spec.get("train_priors")
            heads[task] = LinearHead(
                classes=tuple(spec["classes"]),
                vectorizer=vectorizers[name],
                coef=arrays[f"{task}_coef"].astype(np.float64),
                intercept=arrays[f"{task}_intercept"],
                cue_coef=arrays.get(f"{task}_cue_coef"),
                temperature=float(spec.get("temperature", 1.0)),
                meta=spec.get("meta", {}),
                fusion=fusion,
                priors=None if priors is None else np.asarray(priors, dtype=np.float64),
            )
    except KeyError as exc:
        raise ModelLoadError(f"model in {root} is incomplete: missing {exc}") from None
    _check_emotions(heads["emotion"].classes, str(root))
    features = manifest.get("features", {})
    _check_cue_features(heads, features.get("cue_features"), str(root))
    return CompiledModel(heads["emotion"], heads["intent"], tuple(features.get("ngram_range", (1, 3))),
                         bool(features.get("use_words", True)), manifest.get("intent_map", {}), manifest)


def _check_cue_features(heads: dict[str, LinearHead], names: Any, where: str) -> None:
    """The cue features a model was fitted on must be the ones this library computes, in order."""
    from .cues import CUE_FEATURE_NAMES

    if not any(h.cue_coef is not None or h.fusion is not None for h in heads.values()):
        return
    if names != list(CUE_FEATURE_NAMES):
        raise IncompatibleModelError(
            f"model in {where} was fitted on cue features {names!r}; this cs_sentiment computes "
            f"{list(CUE_FEATURE_NAMES)}: retrain it with this version (cs-sentiment train)")


def _check_emotions(classes: tuple[str, ...], where: str) -> None:
    unknown = [c for c in classes if c not in {e.value for e in Emotion}]
    if unknown:
        raise ModelLoadError(f"emotion model in {where} has labels outside the taxonomy: {unknown}")


def _load_joblib(path: Path, trust: bool) -> CompiledModel:
    if not trust:
        raise UntrustedModelError(
            f"{path} is a pickle (joblib) file, which can run arbitrary code when loaded; "
            "pass trust=True only for a file you made yourself"
        )
    if not path.is_file():
        raise ModelLoadError(f"model file {path} not found")
    import joblib

    obj = joblib.load(path)
    if not isinstance(obj, dict) or not {"emotion", "intent"} <= set(obj):
        raise ModelLoadError(f"{path} must hold a dict with fitted 'emotion' and 'intent' classifiers")
    emotion, intent = obj["emotion"].to_head(), obj["intent"].to_head()
    _check_emotions(emotion.classes, str(path))
    params = obj["intent"].get_params()
    return CompiledModel(emotion, intent, tuple(params.get("ngram_range", (1, 3))), bool(params.get("use_words", True)),
                         dict(obj.get("intent_map", {})), {"source": str(path)})

