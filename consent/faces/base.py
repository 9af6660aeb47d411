"""The face engine's interface: typed results, image loading and the abstract engine.

This module imports only the standard library, NumPy and Pillow, so that web processes can
use its types and ``load_image`` without loading a model library.
"""

from __future__ import annotations

import abc
import io
import math
import warnings
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from PIL import Image, ImageOps

#: Side of the square grey crop on which ``blur`` is measured.
BLUR_CROP_SIDE = 112
#: Image formats ``load_image`` accepts (JPEG includes MPO); a short list keeps rarely used decoders out.
#: The still images Sigillo reads (by their bytes, whatever the file is called). GIF, BMP and TIFF
#: are refused: a reference or a registration photo is a JPEG, PNG or WebP.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
#: Animated images a check or a scan reads frame by frame (``moderation.media``); never a still.
ANIMATED_FORMATS = ("GIF", "PNG", "WEBP")


class ImageRejectCode(StrEnum):
    """Stable codes of ``ImageRejected``."""

    EMPTY_FILE = "empty_file"
    NOT_AN_IMAGE = "not_an_image"
    IMAGE_TOO_LARGE = "image_too_large"
    ANIMATED_IMAGE = "animated_image"


class FaceQualityProblem(StrEnum):
    """Stable codes returned by ``quality_problem``."""

    FACE_TOO_SMALL = "face_too_small"
    FACE_TOO_BLURRED = "face_too_blurred"


class MatchLevel(StrEnum):
    """How close two faces are, as decided by an engine's thresholds."""

    MATCH = "match"
    NEAR_MATCH = "near_match"
    NO_MATCH = "no_match"


class ImageRejected(Exception):  # noqa: N818 - the name the registry uses
    """The bytes given are not an image the face engine accepts."""

    def __init__(self, code: ImageRejectCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class EngineUnavailable(Exception):  # noqa: N818 - the name the registry uses
    """A face engine cannot run here (library or model files missing, or broken)."""


@dataclass(frozen=True)
class Box:
    """A face's bounding box, in pixels of the EXIF-corrected original image."""

    x: int
    y: int
    width: int
    height: int

    def as_dict(self) -> dict[str, int]:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height}


# eq=False: the embedding is an array, whose comparison is not a truth value.
@dataclass(frozen=True, eq=False)
class DetectedFace:
    """One face found in an image: where it is, how good it is, and its embedding.

    ``size`` is the smaller side of ``box`` in original pixels; ``blur`` is the variance of the
    Laplacian of the grey face crop resized to 112x112 (higher is sharper).
    """

    box: Box
    landmarks: tuple[tuple[float, float], ...]
    detection_score: float
    size: int
    blur: float
    embedding: np.ndarray = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """Return the face without its embedding, ready to be stored as JSON."""
        return {
            "box": self.box.as_dict(),
            "landmarks": [[round(x, 2), round(y, 2)] for x, y in self.landmarks],
            "detection_score": round(self.detection_score, 4),
            "size": self.size,
            "blur": round(self.blur, 2),
        }


@dataclass(frozen=True)
class MatchResult:
    """The comparison of two embeddings, with the thresholds that decided it."""

    distance: float
    level: MatchLevel
    engine: str
    model: str
    match_threshold: float
    review_threshold: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "distance": self.distance,
            "level": str(self.level),
            "engine": self.engine,
            "model": self.model,
            "match": self.match_threshold,
            "review": self.review_threshold,
        }


def quality_problem(face: DetectedFace, min_size: int | None = None, min_blur: float | None = None) -> str | None:
    """Return why ``face`` is not good enough to enroll or identify, or None if it is.

    The limits default to the settings ``SIGILLO_FACE_MIN_SIZE`` and ``SIGILLO_FACE_MIN_BLUR``.
    """
    if min_size is None or min_blur is None:
        from django.conf import settings

        min_size = settings.SIGILLO_FACE_MIN_SIZE if min_size is None else min_size
        min_blur = settings.SIGILLO_FACE_MIN_BLUR if min_blur is None else min_blur
    if face.size < min_size:
        return FaceQualityProblem.FACE_TOO_SMALL
    if face.blur < min_blur:
        return FaceQualityProblem.FACE_TOO_BLURRED
    return None


def load_image(data: bytes, *, max_pixels: int | None = None) -> Image.Image:
    """Decode ``data`` into an upright RGB image, or raise ``ImageRejected``.

    The size is checked from the header before any pixel is decoded, so a decompression bomb
    is refused without being expanded. EXIF orientation is applied. Transparency is dropped, not
    composited: what is looked at is the colour channels, so a face hidden under a fully
    transparent alpha channel is seen as any consumer that ignores alpha sees it. An animated
    image (GIF, APNG, animated WebP) is refused: where a still is expected, frames beyond the
    first would go unchecked. ``max_pixels`` defaults to the setting ``SIGILLO_MAX_IMAGE_PIXELS``.
    """
    if not data:
        raise ImageRejected(ImageRejectCode.EMPTY_FILE, "The file is empty.")
    if max_pixels is None:
        from django.conf import settings

        max_pixels = settings.SIGILLO_MAX_IMAGE_PIXELS
    too_large = ImageRejected(
        ImageRejectCode.IMAGE_TOO_LARGE, "The image has more than %d pixels; send a smaller one." % max_pixels
    )
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb limit is higher than ours; its warning would only repeat ours.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as probe:
                width, height = probe.size
                if width * height > max_pixels:
                    raise too_large
                animated = getattr(probe, "is_animated", False) and getattr(probe, "n_frames", 1) > 1
                probe.verify()
            if animated:
                raise ImageRejected(
                    ImageRejectCode.ANIMATED_IMAGE, "The image is animated; send a still image (JPEG, PNG or WebP)."
                )
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            image.load()
            image = ImageOps.exif_transpose(image)
    except ImageRejected:
        raise
    except Image.DecompressionBombError as error:
        raise too_large from error
    except Exception as error:
        # Pillow reports truncated and corrupt files as UnidentifiedImageError, OSError,
        # SyntaxError or ValueError, and a malformed file may raise almost anything from a
        # decoder; an upload it cannot read is refused, whatever the exception.
        raise ImageRejected(
            ImageRejectCode.NOT_AN_IMAGE, "The file is not a readable image (JPEG, PNG or WebP)."
        ) from error
    if width <= 0 or height <= 0:
        raise ImageRejected(ImageRejectCode.NOT_AN_IMAGE, "The image has no pixels.")
    return image_rgb(image)


def image_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16-bit grey (some PNG and TIFF files): Pillow's conversion would clip it to white.
        grey = np.asarray(image, dtype=np.float64) / 257.0
        return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L").convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # The colour channels, whatever the alpha says: a face under alpha 0 is still a face.
        return image.convert("RGBA").convert("RGB")
    return image.convert("RGB")


def blur_score(image: Image.Image, box: Box) -> float:
    """Return the variance of the Laplacian of the grey ``box`` crop resized to 112x112."""
    crop = image.crop((box.x, box.y, box.x + box.width, box.y + box.height)).convert("L")
    grey = np.asarray(crop.resize((BLUR_CROP_SIDE, BLUR_CROP_SIDE), Image.Resampling.BILINEAR), dtype=np.float64)
    laplacian = grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4.0 * grey[1:-1, 1:-1]
    return float(laplacian.var())


def clip_box(left: float, top: float, right: float, bottom: float, width: int, height: int) -> Box:
    """Return the box with the given edges (right and bottom exclusive), clipped to the image."""
    x0 = min(max(int(round(left)), 0), width - 1)
    y0 = min(max(int(round(top)), 0), height - 1)
    x1 = min(max(int(round(right)), x0 + 1), width)
    y1 = min(max(int(round(bottom)), y0 + 1), height)
    return Box(x=x0, y=y0, width=x1 - x0, height=y1 - y0)


def make_face(
    image: Image.Image,
    *,
    box: Box,
    landmarks: Any,
    detection_score: float,
    embedding: np.ndarray,
) -> DetectedFace:
    """Build a ``DetectedFace``, measuring its quality on ``image`` (the original)."""
    vector = np.asarray(embedding, dtype=np.float32).reshape(-1).copy()
    vector.setflags(write=False)
    return DetectedFace(
        box=box,
        landmarks=tuple((float(x), float(y)) for x, y in landmarks),
        detection_score=float(detection_score),
        size=min(box.width, box.height),
        blur=blur_score(image, box),
        embedding=vector,
    )


#: Where ArcFace-style recognizers (insightface's packs, SFace) expect the five landmarks (eyes,
#: nose tip, mouth corners; image left first) in their 112x112 aligned crop.
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Return the 2x3 similarity transform (rotation, uniform scale, shift) taking ``source``
    points closest to ``target`` points in the least-squares sense (Umeyama's method, as
    scikit-image's ``SimilarityTransform.estimate`` used by insightface)."""
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    source_centered, target_centered = source - source_mean, target - target_mean
    covariance = target_centered.T @ source_centered / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.ones(2)
    if np.linalg.det(covariance) < 0:
        sign[-1] = -1
    rotation = u @ np.diag(sign) @ vt
    scale = (singular * sign).sum() / source_centered.var(axis=0).sum()
    shift = target_mean - scale * rotation @ source_mean
    return np.hstack([scale * rotation, shift[:, None]]).astype(np.float32)


def scaled_for_detection(image: Image.Image, max_side: int) -> tuple[Image.Image, float, float]:
    """Return ``image`` scaled down until its long side is at most ``max_side``, and the x and y scales.

    Boxes found on the scaled image map back by dividing by the scales.
    """
    width, height = image.size
    scale = min(1.0, max_side / max(width, height))
    if scale >= 1.0:
        return image, 1.0, 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    work = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return work, size[0] / width, size[1] / height


def largest_first(faces: list[DetectedFace]) -> list[DetectedFace]:
    """Return ``faces`` sorted by box area, largest first (ties: higher detection score first)."""
    return sorted(faces, key=lambda face: (-face.box.width * face.box.height, -face.size, -face.detection_score))


def configured_thresholds(engine: str, model: str, default: tuple[float, float]) -> tuple[float, float]:
    """Return the (match, review) distance thresholds for ``engine/model``.

    The setting ``SIGILLO_FACE_THRESHOLDS`` may override either value, keyed ``"engine/model"``.
    """
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    override = settings.SIGILLO_FACE_THRESHOLDS.get("%s/%s" % (engine, model), {})
    match = float(override.get("match", default[0]))
    review = float(override.get("review", default[1]))
    if not 0 < match <= review:
        raise ImproperlyConfigured(
            "SIGILLO_FACE_THRESHOLDS for %s/%s: need 0 < match <= review, got %s and %s"
            % (engine, model, match, review)
        )
    return match, review


class FaceEngine(abc.ABC):
    """Detect faces, embed them and compare embeddings, as one engine and model do.

    Thresholds are Euclidean distances between embeddings: a distance up to
    ``match_threshold`` is a match, up to ``review_threshold`` a near match for a person to
    review, anything further no match. Models load once, on first use or on ``load()``.
    """

    #: The engine's name, as in the setting ``SIGILLO_FACE_ENGINE``.
    name: str
    #: Length of the embeddings.
    dimension: int
    #: (match, review) thresholds used when the settings do not override them, per model.
    default_thresholds: dict[str, tuple[float, float]]
    #: Per model, the (mean, standard deviation) of the distances between different people's
    #: faces, measured by ``bench/face_accuracy.py`` (docs/accuracy.md); ``thresholds_at`` uses
    #: them to keep false identifications under the configured rate as the registry grows.
    impostor_distances: dict[str, tuple[float, float]] = {}

    @property
    @abc.abstractmethod
    def model(self) -> str:
        """Return the name of the recognition model the embeddings come from."""

    @abc.abstractmethod
    def load(self) -> None:
        """Load the models if not loaded yet; raise ``EngineUnavailable`` if they cannot be."""

    @abc.abstractmethod
    def analyze(self, image: Image.Image) -> list[DetectedFace]:
        """Detect and embed every face of an RGB ``image``, largest first."""

    def warm(self) -> None:
        """Load the models and run each once, so that no request pays for the first run."""
        self.load()
        self.analyze(Image.new("RGB", (64, 64), "gray"))

    def _thresholds(self) -> tuple[float, float]:
        model = self.model
        return configured_thresholds(self.name, model, self.default_thresholds[model])

    @property
    def match_threshold(self) -> float:
        return self._thresholds()[0]

    @property
    def review_threshold(self) -> float:
        return self._thresholds()[1]

    def thresholds(self, enrolled: int | None = None) -> dict[str, Any]:
        """Return the engine, model and thresholds, to record with every match result.

        With ``enrolled`` (the number of faces searched), the thresholds are those decisions use
        at that registry size (``thresholds_at``), recorded with the size and the target rates.
        """
        if enrolled is None:
            match, review = self._thresholds()
            return {"engine": self.name, "model": self.model, "match": match, "review": review}
        match, review = self.thresholds_at(enrolled)
        calibrated = self._thresholds()
        match_target, review_target = _fpir_targets()
        return {
            "engine": self.name,
            "model": self.model,
            "match": round(match, 4),
            "review": round(review, 4),
            "enrolled": enrolled,
            "calibrated": {"match": calibrated[0], "review": calibrated[1]},
            "fpir_target": {"match": match_target, "review": review_target},
        }

    def impostor_fit(self) -> tuple[float, float] | None:
        """Return the measured (mean, standard deviation) of impostor distances of the model, or None."""
        return self.impostor_distances.get(self.model)

    def thresholds_at(self, enrolled: int) -> tuple[float, float]:
        """Return the (match, review) thresholds for a search among ``enrolled`` faces.

        Each comparison with a stranger's face may fall under a threshold by chance; among N
        faces the chance that one does (the false-positive identification rate) is about N times
        larger. With the model's impostor distances fitted (``impostor_fit``), the match threshold
        is lowered, as the registry grows, to keep that rate under ``SIGILLO_FACE_FPIR_TARGET``
        (default 1e-3), and the review threshold under ``SIGILLO_FACE_REVIEW_FPIR_TARGET`` (default
        1e-2): never raised above the calibrated thresholds, the review never under the match. A
        target of 0 turns the adjustment off.
        """
        match, review = self._thresholds()
        fitted = self.impostor_fit()
        if fitted is None or enrolled <= 0:
            return match, review
        target, review_target = _fpir_targets()
        if target > 0:
            match = min(match, fpir_threshold(target, enrolled, *fitted))
        if review_target > 0:
            review = min(review, fpir_threshold(review_target, enrolled, *fitted))
        return match, max(match, review)

    def classify_at(self, distance: float, enrolled: int) -> MatchLevel:
        """Return whether ``distance`` is a match, a near match or no match among ``enrolled`` faces."""
        return _level(distance, *self.thresholds_at(enrolled))

    def distance(self, a: np.ndarray, b: np.ndarray) -> float:
        """Return the Euclidean distance between two embeddings of this engine's model."""
        a = np.asarray(a, dtype=np.float32).reshape(-1)
        b = np.asarray(b, dtype=np.float32).reshape(-1)
        if a.shape != (self.dimension,) or b.shape != (self.dimension,):
            raise ValueError(
                "%s embeddings have %d values, got %d and %d" % (self.model, self.dimension, a.size, b.size)
            )
        return float(np.linalg.norm(a - b))

    def classify(self, distance: float) -> MatchLevel:
        """Return whether ``distance`` is a match, a near match or no match."""
        return _level(distance, *self._thresholds())

    def compare(self, a: np.ndarray, b: np.ndarray) -> MatchResult:
        """Compare two embeddings; the result records the thresholds that decided it."""
        distance = self.distance(a, b)
        match, review = self._thresholds()
        return MatchResult(
            distance=distance,
            level=_level(distance, match, review),
            engine=self.name,
            model=self.model,
            match_threshold=match,
            review_threshold=review,
        )


def _fpir_targets() -> tuple[float, float]:
    """Return the settings ``SIGILLO_FACE_FPIR_TARGET`` and ``SIGILLO_FACE_REVIEW_FPIR_TARGET``."""
    from django.conf import settings

    return settings.SIGILLO_FACE_FPIR_TARGET, settings.SIGILLO_FACE_REVIEW_FPIR_TARGET


def normal_tail(threshold: float, mean: float, deviation: float) -> float:
    """Return P(X <= threshold) for X ~ Normal(mean, deviation)."""
    return 0.5 * math.erfc((mean - threshold) / (deviation * math.sqrt(2)))


def normal_quantile(probability: float) -> float:
    """Return z with P(Z <= z) = ``probability`` for a standard normal Z (bisection; |z| <= 40)."""
    low, high = -40.0, 40.0
    for _ in range(200):
        middle = (low + high) / 2
        if 0.5 * math.erfc(-middle / math.sqrt(2)) < probability:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def fpir(per_comparison: float, enrolled: int) -> float:
    """Return the chance that a stranger comes within a threshold of at least one of ``enrolled``
    faces, when each comparison does so with probability ``per_comparison``."""
    if enrolled <= 0 or per_comparison <= 0:
        return 0.0
    return -math.expm1(enrolled * math.log1p(-min(per_comparison, 1 - 1e-16)))


def fpir_threshold(target: float, enrolled: int, mean: float, deviation: float) -> float:
    """Return the distance under which a stranger falls within any of ``enrolled`` faces with
    probability ``target``, impostor distances being Normal(mean, deviation)."""
    per_comparison = -math.expm1(math.log1p(-target) / max(enrolled, 1))
    return mean + deviation * normal_quantile(per_comparison)


def _level(distance: float, match: float, review: float) -> MatchLevel:
    if distance <= match:
        return MatchLevel.MATCH
    if distance <= review:
        return MatchLevel.NEAR_MATCH
    return MatchLevel.NO_MATCH
