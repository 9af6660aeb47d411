"""The output scan: what every generated image, and sampled frames of every video, go through before release.

Each frame is checked twice:

* faces, matched against the registry (``consent.matching.image_match``): every registered person
  a face is close to is evaluated, never only the nearest; one who is not a consented cameo of the
  request blocks (a near match goes to review); unknown faces pass, synthetic people being the
  normal case;
* NudeNet (``nudenet.NudeDetector``, the ONNX model shipped inside the package): the frame's score
  is the highest score of an exposed-nudity label; at or over ``SIGILLO_NSFW_THRESHOLD`` the frame
  is sexual content, and gets ``SIGILLO_NSFW_ACTION`` ("block" or "review"). A consented cameo in
  such a frame blocks unless that likeness's consent explicitly allows adult use.

Videos are sampled densely (``sample_video_frames``): one frame every 0.25 s of presentation time by
default, so a face on screen for half a second is seen at least twice.

Nothing here swallows errors: a model that cannot load, a video that cannot be decoded, a database
error, all raise, and the caller must fail closed (hold the output back).
"""

import io
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from PIL import Image

from moderation.media import Frame, MediaUndecodable

if TYPE_CHECKING:
    from consent.faces.base import FaceEngine

logger = logging.getLogger(__name__)

#: NudeNet labels that count as exposed nudity; the frame's NSFW score is the highest of these.
EXPOSED_LABELS = frozenset(
    {
        "FEMALE_BREAST_EXPOSED",
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "ANUS_EXPOSED",
        "BUTTOCKS_EXPOSED",
    }
)

DEFAULT_NSFW_THRESHOLD = 0.6
DEFAULT_NSFW_ACTION = "block"
NSFW_ACTIONS = ("block", "review")

_detector: Any = None
_detector_model = ""
_detector_lock = threading.Lock()


@dataclass(frozen=True)
class NsfwResult:
    """NudeNet's reading of one image: the exposed-nudity score and every detection."""

    score: float  # highest score among EXPOSED_LABELS, 0.0 when none was detected
    labels: list[tuple[str, float, tuple[int, int, int, int]]]  # (label, score, (x, y, width, height))
    model: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "labels": [
                {"label": label, "score": round(score, 4), "box": list(box)} for label, score, box in self.labels
            ],
            "model": self.model,
        }


@dataclass(frozen=True)
class OutputScan:
    """What the scan found: reasons to block or review, and every face and NSFW reading, per frame."""

    reasons: list[dict[str, Any]]
    faces: list[dict[str, Any]]
    nsfw: list[dict[str, Any]]
    timings: dict[str, float] = field(default_factory=dict)
    #: One per entry of ``faces``: the face's embedding (kept out of Decisions; stored encrypted on release).
    embeddings: list[Any] = field(default_factory=list, repr=False)
    engine: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """Return "block" if any reason blocks, else "review" if any asks for review, else "allow"."""
        verdicts = {reason["verdict"] for reason in self.reasons}
        if "block" in verdicts:
            return "block"
        if "review" in verdicts:
            return "review"
        return "allow"


def nsfw_threshold() -> float:
    """Return the NSFW score at or over which a frame is sexual content."""
    return float(getattr(settings, "SIGILLO_NSFW_THRESHOLD", DEFAULT_NSFW_THRESHOLD))


def nsfw_action() -> str:
    """Return what sexual content gets: "block" or "review" (anything else is treated as "block")."""
    action = str(getattr(settings, "SIGILLO_NSFW_ACTION", DEFAULT_NSFW_ACTION))
    return action if action in NSFW_ACTIONS else "block"


def nsfw_detector() -> tuple[Any, str]:
    """Return the process's NudeNet detector and its model name, loading it on first use (thread-safe)."""
    global _detector, _detector_model
    if _detector is None:
        with _detector_lock:
            if _detector is None:
                from importlib.metadata import version

                from nudenet import NudeDetector

                started = time.perf_counter()
                detector = NudeDetector()
                _detector_model = "nudenet-%s/320n" % version("nudenet")
                _detector = detector
                logger.info("Loaded %s in %.2f s", _detector_model, time.perf_counter() - started)
    return _detector, _detector_model


def nsfw_detect(image: Image.Image) -> NsfwResult:
    """Run NudeNet on ``image`` and return its exposed-nudity score and detections; raise on any failure."""
    import numpy as np

    detector, model = nsfw_detector()
    # NudeNet is written for cv2.imread's BGR arrays: give it the same, so it sees what it was tuned on.
    array = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
    detections = detector.detect(array)
    labels = [
        (str(item["class"]), float(item["score"]), tuple(int(value) for value in item["box"])) for item in detections
    ]
    score = max((score for label, score, _ in labels if label in EXPOSED_LABELS), default=0.0)
    return NsfwResult(score=score, labels=labels, model=model)  # type: ignore[arg-type]


def sample_video_frames(data: bytes, *, every_seconds: float = 0.25, max_frames: int = 240) -> list[Frame]:
    """Return one frame every ``every_seconds`` of presentation time, first frame included, at most ``max_frames``.

    The whole video is always covered: when it is longer than ``every_seconds * max_frames``, the
    interval is widened (from the container's duration up front, else by dropping every other
    sample while decoding) rather than the end left unscanned. Raise ``MediaUndecodable`` for
    anything PyAV cannot read, a file without video, or frames over ``SIGILLO_MAX_IMAGE_PIXELS``.
    """
    import av

    if every_seconds <= 0 or max_frames < 1:
        raise ValueError("every_seconds must be positive and max_frames at least 1")
    max_pixels = getattr(settings, "SIGILLO_MAX_IMAGE_PIXELS", None)
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except Exception as error:  # PyAV raises many kinds of errors for junk input
        raise MediaUndecodable("not a video Sigillo can read (%s)" % type(error).__name__) from None
    with container:
        if not container.streams.video:
            raise MediaUndecodable("the file has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate or stream.guessed_rate or 0) or None
        interval = every_seconds
        if container.duration:
            interval = max(every_seconds, container.duration / 1_000_000 / max_frames)
        picks: list[Frame] = []
        next_time: float | None = None
        try:
            for index, frame in enumerate(container.decode(stream)):
                seconds = float(frame.time) if frame.time is not None else (index / rate if rate else float(index))
                if next_time is not None and seconds < next_time - 1e-6:
                    continue
                image = frame.to_image().convert("RGB")
                if max_pixels and image.width * image.height > max_pixels:
                    raise MediaUndecodable("the video's frames are too large")
                picks.append(Frame(image=image, index=index, time=seconds))
                start = picks[0].time or 0.0
                next_time = start + interval * (int(round((seconds - start) / interval)) + 1)
                if len(picks) > max_frames:  # longer than its duration said: halve the sampling rate
                    picks = picks[::2]
                    interval *= 2
                    next_time = start + interval * (int(round((seconds - start) / interval)) + 1)
        except MediaUndecodable:
            raise
        except Exception as error:
            raise MediaUndecodable("the video could not be decoded (%s)" % type(error).__name__) from None
    if not picks:
        raise MediaUndecodable("the video has no frames")
    return picks


def _frame_number(frame: Frame, position: int) -> int:
    return frame.index if frame.index is not None else position


def output_scan(
    *,
    frames: list[Frame],
    cameo_likeness_ids: set[str],
    adult_allowed_ids: set[str],
    engine: "FaceEngine | None" = None,
) -> OutputScan:
    """Scan the output's frames for registered faces and sexual content, and return the reasons found.

    For each frame: every face is matched against the registry, and every likeness it is close to
    counts, not only the nearest. Each that is not a cameo of this request blocks
    ("registered_face") on a match, or goes to review ("face_near_match") on a near match — a
    lookalike is told apart from a cameo only by a moderator's "different people" decision, which
    ``image_match`` applies. A disputed registration of a face that an established likeness holds
    (``LikenessHit.duplicate_of``) neither allows nor blocks: it is recorded ("disputed_duplicate",
    verdict allow) and the established likeness decides — when that is the consented cameo, whose
    owner agreed to this use, an unproven claim on the same face must not hold back the output; when
    it is anyone else, that person blocks on their own. A disputed registration the face is clearly
    nearest to is no duplicate and blocks like any other non-cameo. NudeNet's score at or over the
    threshold gives a "policy_violation" reason with the configured action; and each cameo seen in
    such a frame whose consent does not allow adult use (not in ``adult_allowed_ids``) blocks
    ("use_not_allowed"). Unknown faces pass.

    ``frame`` in reasons is the video frame number (the position in ``frames`` for a still image);
    a face reason's ``score`` is the embedding distance to the likeness (lower is closer).

    Any failure (a model that cannot load, a database error) raises: the caller must fail closed.
    """
    from consent.faces import get_engine
    from consent.matching import image_match

    engine = engine or get_engine()
    threshold = nsfw_threshold()
    action = nsfw_action()
    cameos = {str(likeness_id) for likeness_id in cameo_likeness_ids}
    adult = {str(likeness_id) for likeness_id in adult_allowed_ids}
    reasons: list[dict[str, Any]] = []
    faces: list[dict[str, Any]] = []
    embeddings: list[Any] = []
    nsfw: list[dict[str, Any]] = []
    faces_seconds = nsfw_seconds = 0.0
    for position, frame in enumerate(frames):
        number = _frame_number(frame, position)
        started = time.perf_counter()
        matches = image_match(image=frame.image, engine=engine)
        faces_seconds += time.perf_counter() - started
        started = time.perf_counter()
        reading = nsfw_detect(frame.image)
        nsfw_seconds += time.perf_counter() - started
        sexual = reading.score >= threshold
        nsfw.append({"frame": number, "time": frame.time, "threshold": threshold, **reading.as_dict()})
        if sexual:
            reasons.append(
                {
                    "code": "policy_violation",
                    "category": "sexual_content",
                    "verdict": action,
                    "stage": "output",
                    "frame": number,
                    "time": frame.time,
                    "score": round(reading.score, 4),
                    "detail": "NudeNet scored exposed nudity %.2f (threshold %.2f)" % (reading.score, threshold),
                }
            )
        cameos_here: dict[str, Any] = {}
        for match in matches:
            box = match.face.box.as_dict()
            cameo = any(hit.likeness_id in cameos for hit in match.hits)
            faces.append({"frame": number, "time": frame.time, "cameo": cameo, **match.as_dict()})
            embeddings.append(match.face.embedding)
            for hit in match.hits:
                where = {
                    "stage": "output",
                    "likeness_id": hit.likeness_id,
                    "score": round(hit.distance, 4),
                    "box": box,
                    "frame": number,
                    "time": frame.time,
                }
                if hit.likeness_id in cameos:
                    cameos_here.setdefault(hit.likeness_id, (hit, box))
                    continue
                if hit.duplicate_of:
                    reasons.append(
                        {
                            "code": "disputed_duplicate",
                            "verdict": "allow",
                            "duplicate_of": hit.duplicate_of,
                            **where,
                            "detail": "a face in the output is also registered, disputed, as %s; the likeness "
                            "that held it first decides" % hit.display_name,
                        }
                    )
                    continue
                blocks = hit.outcome == "match"
                reasons.append(
                    {
                        "code": "registered_face" if blocks else "face_near_match",
                        "verdict": "block" if blocks else "review",
                        **where,
                        "detail": "a face in the output %s %s, who is not a consented cameo of this request"
                        % ("matches" if blocks else "is close to", hit.display_name),
                    }
                )
        if sexual:
            for likeness_id, (hit, box) in cameos_here.items():
                if likeness_id in adult:
                    continue
                reasons.append(
                    {
                        "code": "use_not_allowed",
                        "verdict": "block",
                        "stage": "output",
                        "likeness_id": likeness_id,
                        "score": round(hit.distance, 4),
                        "box": box,
                        "frame": number,
                        "time": frame.time,
                        "detail": "%s appears in sexual content, and their consent does not allow adult use"
                        % hit.display_name,
                    }
                )
    timings = {
        "frames": len(frames),
        "faces_s": round(faces_seconds, 4),
        "nsfw_s": round(nsfw_seconds, 4),
        "faces_per_frame_s": round(faces_seconds / len(frames), 4) if frames else 0.0,
        "nsfw_per_frame_s": round(nsfw_seconds / len(frames), 4) if frames else 0.0,
    }
    logger.info(
        "Output scan: %d frames, %d reasons, faces %.3f s, NudeNet %.3f s",
        len(frames),
        len(reasons),
        faces_seconds,
        nsfw_seconds,
    )
    return OutputScan(
        reasons=reasons, faces=faces, nsfw=nsfw, timings=timings, embeddings=embeddings, engine=engine.thresholds()
    )
