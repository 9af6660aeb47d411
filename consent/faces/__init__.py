"""The face engine: detect faces, embed them, compare embeddings.

``get_engine()`` returns the configured engine, one instance per engine and process, with its
models loaded. Importing this package loads no model library (only NumPy and Pillow), so web
processes may use its types; only workers should call ``get_engine()``.
"""

from __future__ import annotations

import importlib
import threading

from consent.faces.base import (
    Box,
    DetectedFace,
    EngineUnavailable,
    FaceEngine,
    FaceQualityProblem,
    ImageRejectCode,
    ImageRejected,
    MatchLevel,
    MatchResult,
    load_image,
    quality_problem,
)

__all__ = [
    "Box",
    "DetectedFace",
    "EngineUnavailable",
    "FaceEngine",
    "FaceQualityProblem",
    "ImageRejectCode",
    "ImageRejected",
    "MatchLevel",
    "MatchResult",
    "available_engines",
    "clear_engine_cache",
    "get_engine",
    "load_image",
    "quality_problem",
]

#: Engine name → (module, class); each module imports its model library only when loading.
ENGINES = {
    "dlib": ("consent.faces.dlib_engine", "DlibEngine"),
    "insightface": ("consent.faces.insightface_engine", "InsightFaceEngine"),
    "sface": ("consent.faces.sface_engine", "SFaceEngine"),
}

_engines: dict[str, FaceEngine] = {}
#: Engines whose last load failed in this process, and how (reported by the worker's health ping).
_failures: dict[str, str] = {}
_lock = threading.Lock()


def get_engine(name: str | None = None) -> FaceEngine:
    """Return the loaded face engine ``name`` (default: the setting ``SIGILLO_FACE_ENGINE``).

    The engine is created and its models loaded once per process. Raise ``EngineUnavailable``
    with the reason when it cannot run here; a failure is not cached, so a later call retries.
    """
    if name is None:
        from django.conf import settings

        name = settings.SIGILLO_FACE_ENGINE
    engine = _engines.get(name)
    if engine is not None:
        return engine
    try:
        if name not in ENGINES:
            raise EngineUnavailable("Unknown face engine %r; choose one of: %s" % (name, ", ".join(sorted(ENGINES))))
        with _lock:
            engine = _engines.get(name)
            if engine is None:
                module, class_name = ENGINES[name]
                engine = getattr(importlib.import_module(module), class_name)()
                engine.load()
                _engines[name] = engine
    except Exception as error:
        _failures[name] = type(error).__name__
        raise
    _failures.pop(name, None)
    return engine


def engine_status(name: str | None = None) -> dict[str, object]:
    """Whether this process has loaded the face engine, or why its last load failed (for /healthz;
    loads nothing)."""
    if name is None:
        from django.conf import settings

        name = settings.SIGILLO_FACE_ENGINE
    if name in _failures:
        return {"ok": False, "engine": name, "error": _failures[name]}
    return {"ok": True, "engine": name, "loaded": name in _engines}


def available_engines() -> dict[str, str | None]:
    """Return each engine's name with None if it can run here, or the reason it cannot.

    Only checks that the libraries and model files are present: nothing heavy is imported and
    no model is loaded, so a web process may call it.
    """
    return {name: importlib.import_module(module).unavailable_reason() for name, (module, _) in ENGINES.items()}


def clear_engine_cache() -> None:
    """Forget the engines made so far (tests use it after changing the settings)."""
    with _lock:
        _engines.clear()
        _failures.clear()
