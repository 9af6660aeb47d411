"""The live selfie check's analysis: is this video one live person, the person in the photos,
turning their head as the challenge asked?

A challenge is picked at random by the server (``challenge_new``): a sequence of head turns
("left", "right", "up": the person's own left, right and up) and a short code to show, with a
nonce and an expiry, signed (``challenge_sign`` / ``challenge_load``) so a client cannot make up
or alter one. ``liveness_analyze`` reads the recorded video's frames with the enrollment engine:

* **one person throughout**: every face found is followed across frames (``consent.faces.tracks``);
  exactly one track may hold faces, and no frame may show two faces;
* **the person in the photos**: the track's best frames (largest, surest faces) are compared with
  the likeness's enrolled faces; the median distance of those frames decides, with the engine's
  thresholds (a match passes, a near match is for a moderator, farther fails);
* **the turns, in order**: head pose from the detector's five landmarks — yaw is how far the nose
  tip sits from the midpoint of the eyes, in eye distances (positive when the person turns to
  their own left, the nose moving to the image's right in an unmirrored recording); pitch is the
  nose's height between the eyes and the mouth (smaller when looking up). Each frame is read
  against the pose held most of the video (the median: the person looking at the camera); the
  turns seen, in order, must contain the challenge's turns in its order.

The code the person shows cannot be read automatically: it is kept with the result for a
moderator. Whether the challenge was already used is the caller's business (one use, recorded in
the database). What this cannot tell apart — a screen replaying a deepfake that follows the
challenge, a good mask — is said in the README.
"""

from __future__ import annotations

import secrets
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

#: The head turns a challenge is drawn from.
STEPS = ("left", "right", "up")
#: Letters of the code shown on screen (no 0/O, 1/I/L look-alikes).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SIGNING_SALT = "sigillo.liveness.challenge"


class ChallengeInvalid(Exception):  # noqa: N818 - reads as what happened
    """The challenge token is forged, altered or expired."""


@dataclass(frozen=True)
class Challenge:
    nonce: str
    steps: tuple[str, ...]
    code: str
    issued_at: float
    expires_at: float

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "steps": list(self.steps)}


def challenge_new(*, steps: int | None = None, now: float | None = None) -> Challenge:
    """Return a fresh challenge: ``steps`` distinct turns in random order, a code, a nonce, an expiry."""
    from django.conf import settings

    allowed = tuple(settings.SIGILLO_LIVENESS_STEPS)
    count = min(steps or settings.SIGILLO_LIVENESS_STEP_COUNT, len(allowed))
    pool = list(allowed)
    picked = []
    for _ in range(count):
        picked.append(pool.pop(secrets.randbelow(len(pool))))
    now = time.time() if now is None else now
    return Challenge(
        nonce=secrets.token_urlsafe(16),
        steps=tuple(picked),
        code="".join(secrets.choice(CODE_ALPHABET) for _ in range(4)),
        issued_at=now,
        expires_at=now + settings.SIGILLO_LIVENESS_CHALLENGE_SECONDS,
    )


def challenge_sign(challenge: Challenge) -> str:
    """Return the challenge as a token only this server could have made."""
    from django.core import signing

    return signing.dumps(challenge.as_dict(), salt=SIGNING_SALT, compress=True)


def challenge_load(token: str, *, now: float | None = None) -> Challenge:
    """Return the challenge of ``token``; raise ChallengeInvalid if forged, altered or expired."""
    from django.core import signing

    try:
        data = signing.loads(token, salt=SIGNING_SALT)
        challenge = Challenge(
            nonce=str(data["nonce"]),
            steps=tuple(str(step) for step in data["steps"]),
            code=str(data["code"]),
            issued_at=float(data["issued_at"]),
            expires_at=float(data["expires_at"]),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise ChallengeInvalid("The challenge is not one this server issued.") from error
    if (time.time() if now is None else now) > challenge.expires_at:
        raise ChallengeInvalid("The challenge has expired; ask for a new one.")
    return challenge


def head_pose(landmarks: Any) -> tuple[float, float]:
    """Return (yaw, pitch) from five landmarks (eyes, nose tip, mouth corners; image left first)."""
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    eyes = (points[0] + points[1]) / 2
    mouth = (points[3] + points[4]) / 2
    eye_distance = float(np.linalg.norm(points[1] - points[0])) or 1.0
    eyes_to_mouth = float(np.linalg.norm(mouth - eyes)) or 1.0
    yaw = (points[2][0] - eyes[0]) / eye_distance
    pitch = (points[2][1] - eyes[1]) / eyes_to_mouth
    return float(yaw), float(pitch)


def _turn(yaw: float, pitch: float, base: tuple[float, float], turn: float, tilt: float) -> str | None:
    """Read one frame's pose against the person's pose looking at the camera."""
    d_yaw, d_pitch = yaw - base[0], pitch - base[1]
    if abs(d_yaw) >= turn and abs(d_yaw) >= abs(d_pitch):
        return "left" if d_yaw > 0 else "right"
    if -d_pitch >= tilt:
        return "up"
    return None


def _in_order(wanted: tuple[str, ...], seen: list[str]) -> bool:
    position = 0
    for turn in seen:
        if position < len(wanted) and turn == wanted[position]:
            position += 1
    return position == len(wanted)


@dataclass
class LivenessResult:
    """What the analysis found: the outcome, why, and every measurement behind it (no image)."""

    outcome: str  # "passed", "failed" or "review"
    reasons: list[str] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "reasons": list(self.reasons), "measurements": self.measurements}


def liveness_analyze(
    *, frames: list[Any], engine: Any, reference: list[np.ndarray], steps: tuple[str, ...]
) -> LivenessResult:
    """Decide whether ``frames`` (``moderation.media.Frame``) show one person, the one whose enrolled
    embeddings are ``reference``, turning their head through ``steps`` in order."""
    from django.conf import settings

    from consent.faces.tracks import assign_tracks, stranger_distance

    turn = settings.SIGILLO_LIVENESS_TURN
    tilt = settings.SIGILLO_LIVENESS_TILT
    best_frames = settings.SIGILLO_LIVENESS_BEST_FRAMES
    found = [engine.analyze(frame.image) for frame in frames]
    numbers = assign_tracks(
        found, distance=engine.distance, same_face=engine.review_threshold, different_face=stranger_distance(engine)
    )
    tracks = sorted({number for row in numbers for number in row})
    crowded = [frame.index for frame, faces in zip(frames, found, strict=True) if len(faces) > 1]
    seen = [(frame, faces[0]) for frame, faces in zip(frames, found, strict=True) if len(faces) == 1]
    measurements: dict[str, Any] = {
        "frames": len(frames),
        "frames_with_a_face": len(seen),
        "frames_with_several_faces": len(crowded),
        "tracks": len(tracks),
        "challenge": list(steps),
        "engine": engine.thresholds(),
    }
    reasons: list[str] = []
    if not seen:
        return LivenessResult("failed", ["no_face"], measurements)
    if crowded or len(tracks) > 1:
        reasons.append("several_people")

    # The person in the photos: the median distance of the best frames to the nearest enrolled face.
    ranked = sorted(seen, key=lambda item: -(item[1].size * item[1].detection_score))[:best_frames]
    distances = [min(engine.distance(face.embedding, vector) for vector in reference) for _, face in ranked]
    distance = statistics.median(distances)
    measurements["identity"] = {
        "distances": [round(value, 4) for value in distances],
        "median": round(distance, 4),
        "best_frames": [frame.index for frame, _ in ranked],
    }
    level = str(engine.classify(distance))
    if level == "no_match":
        reasons.append("not_the_person_in_the_photos")
    elif level == "near_match":
        reasons.append("identity_unsure")

    # The turns, in order, against the first frames' pose.
    poses = [head_pose(face.landmarks) for _, face in seen]
    # The pose held most of the time is the person looking at the camera (a recording may start mid-turn).
    base = (statistics.median(p[0] for p in poses), statistics.median(p[1] for p in poses))
    turns: list[str] = []
    for yaw, pitch in poses:
        reading = _turn(yaw, pitch, base, turn, tilt)
        if reading and (not turns or turns[-1] != reading):
            turns.append(reading)
    measurements["pose"] = {
        "base": [round(base[0], 3), round(base[1], 3)],
        "yaw": [round(p[0], 3) for p in poses],
        "pitch": [round(p[1], 3) for p in poses],
        "turns_seen": turns,
        "thresholds": {"turn": turn, "tilt": tilt},
    }
    if not _in_order(tuple(steps), turns):
        reasons.append("challenge_not_followed" if turns else "no_head_turn")

    definite = {"several_people", "not_the_person_in_the_photos", "challenge_not_followed", "no_head_turn"}
    if any(reason in definite for reason in reasons):
        return LivenessResult("failed", reasons, measurements)
    if reasons:
        return LivenessResult("review", reasons, measurements)
    return LivenessResult("passed", [], measurements)
