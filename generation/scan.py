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

Videos are sampled densely by the gate's one sampler (``moderation.media.sample_video_frames``):
one frame every 0.25 s of presentation time by default, and the first frame of every new shot, so
a face on screen for half a second is seen at least twice. Faces are followed across frames
(``consent.faces.tracks``), and a person is reported once per track, with the frames they are in.

Nothing here swallows errors: a model that cannot load, a video that cannot be decoded, a database
error, all raise, and the caller must fail closed (hold the output back).
"""

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from PIL import Image

from moderation.media import Frame
from moderation.reasons import ReasonCode, Verdict

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
    return float(settings.SIGILLO_NSFW_THRESHOLD)


def nsfw_action() -> str:
    """Return what sexual content gets: "block" or "review" (anything else is treated as "block")."""
    action = str(settings.SIGILLO_NSFW_ACTION)
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

    Faces are followed across frames (``consent.faces.tracks``): a person is reported once per
    track, at the track's nearest frame, with ``track``, and the ``frames`` and ``times`` the face
    came close in. A match on one frame only of a face seen in three or more, none of whose other
    frames is close, goes to review instead of blocking (``track_hits``).

    ``frame`` in reasons is the video frame number (the position in ``frames`` for a still image);
    a face reason's ``score`` is the embedding distance to the likeness (lower is closer).

    Any failure (a model that cannot load, a database error) raises: the caller must fail closed.
    """
    from consent.faces import get_engine
    from consent.faces.index import registry_size
    from consent.faces.tracks import assign_tracks, stranger_distance, track_hits
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
    seen: list[tuple[int, Frame, list[Any]]] = []
    cameos_seen: dict[str, list[tuple[Any, dict[str, Any]]]] = {}
    sexual_frames: list[tuple[int, Frame]] = []
    for position, frame in enumerate(frames):
        number = _frame_number(frame, position)
        started = time.perf_counter()
        matches = image_match(image=frame.image, engine=engine)
        faces_seconds += time.perf_counter() - started
        started = time.perf_counter()
        reading = nsfw_detect(frame.image)
        nsfw_seconds += time.perf_counter() - started
        nsfw.append({"frame": number, "time": frame.time, "threshold": threshold, **reading.as_dict()})
        seen.append((number, frame, matches))
        if reading.score >= threshold:
            sexual_frames.append((number, frame))
            reasons.append(
                {
                    "code": ReasonCode.POLICY_VIOLATION.value,
                    "category": "sexual_content",
                    "verdict": action,
                    "stage": "output",
                    "frame": number,
                    "time": frame.time,
                    "score": round(reading.score, 4),
                    "detail": "NudeNet scored exposed nudity %.2f (threshold %.2f)" % (reading.score, threshold),
                }
            )
    # Faces are followed across frames: each track is one face on screen, reported once per person.
    numbers = assign_tracks(
        [[match.face for match in matches] for _, _, matches in seen],
        distance=engine.distance,
        same_face=engine.review_threshold,
        different_face=stranger_distance(engine),
    )
    tracks: dict[int, list[tuple[dict[str, Any], list[Any]]]] = {}
    for (number, frame, matches), track_numbers in zip(seen, numbers, strict=True):
        for match, track in zip(matches, track_numbers, strict=True):
            cameo = any(hit.likeness_id in cameos for hit in match.hits)
            faces.append({"frame": number, "time": frame.time, "track": track, "cameo": cameo, **match.as_dict()})
            embeddings.append(match.face.embedding)
            where = {"frame": number, "time": frame.time, "box": match.face.box.as_dict()}
            tracks.setdefault(track, []).append((where, list(match.hits)))
            for hit in match.hits:
                if hit.likeness_id in cameos:
                    cameos_seen.setdefault(hit.likeness_id, []).append((hit, where))
    for track, observations in sorted(tracks.items()):
        for combined in track_hits(observations):
            hit = combined.best
            if hit.likeness_id in cameos:
                continue
            where = {
                "stage": "output",
                "likeness_id": hit.likeness_id,
                "score": round(hit.distance, 4),
                **combined.best_at,
                "track": track,
                "frames": [item["frame"] for item in combined.close_in],
                "times": [item["time"] for item in combined.close_in],
            }
            if hit.duplicate_of:
                reasons.append(
                    {
                        "code": ReasonCode.DISPUTED_DUPLICATE.value,
                        "verdict": Verdict.ALLOW.value,
                        "duplicate_of": hit.duplicate_of,
                        **where,
                        "detail": "a face in the output is also registered, disputed, as %s; the likeness "
                        "that held it first decides" % hit.display_name,
                    }
                )
                continue
            blocks = combined.outcome == "match"
            if blocks:
                detail = "a face in the output matches %s, who is not a consented cameo of this request"
            elif hit.outcome == "match":
                detail = (
                    "one frame of a face in the output matches %%s, who is not a consented cameo of this "
                    "request; the face's %d other frames do not, so a moderator decides" % (combined.frames_seen - 1)
                )
            else:
                detail = "a face in the output is close to %s, who is not a consented cameo of this request"
            if len(where["frames"]) > 1:
                detail += " (in %d frames)" % len(where["frames"])
            reasons.append(
                {
                    "code": (ReasonCode.REGISTERED_FACE if blocks else ReasonCode.FACE_NEAR_MATCH).value,
                    "verdict": (Verdict.BLOCK if blocks else Verdict.REVIEW).value,
                    **where,
                    "detail": detail % hit.display_name,
                }
            )
    sexual_numbers = {number for number, _ in sexual_frames}
    for likeness_id, sightings in cameos_seen.items():
        shown = [(hit, where) for hit, where in sightings if where["frame"] in sexual_numbers]
        if not shown or likeness_id in adult:
            continue
        hit, at = min(shown, key=lambda sighting: sighting[0].distance)
        reasons.append(
            {
                "code": ReasonCode.USE_NOT_ALLOWED.value,
                "verdict": Verdict.BLOCK.value,
                "stage": "output",
                "likeness_id": likeness_id,
                "score": round(hit.distance, 4),
                **at,
                "frames": sorted({where["frame"] for _, where in shown}),
                "detail": "%s appears in sexual content, and their consent does not allow adult use" % hit.display_name,
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
        reasons=reasons,
        faces=faces,
        nsfw=nsfw,
        timings=timings,
        embeddings=embeddings,
        engine=engine.thresholds(enrolled=registry_size(engine.name, engine.model)),
    )
