"""Faces followed across the sampled frames of a video: one track per face on screen.

A face joins the track it overlaps (intersection over union) or resembles (embedding distance
within the engine's review threshold) in one of the last ``MAX_GAP`` sampled frames, unless it
is as far from the track's face as strangers typically are (another person stepped into the same
place: a cut, or a swap); otherwise it starts a new track. Assignment is greedy, best pair first, and a track takes at most one face
per frame. Checks report a person once per track, with every frame the track holds them in, and
decide on the track's best frames (``track_hits``) rather than on one frame alone.

Pure NumPy: no model, no database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from consent.faces.base import Box

#: A track not seen for more than this many sampled frames is closed.
MAX_GAP = 2
#: Boxes overlapping at least this much (intersection over union) are the same face moving.
MIN_IOU = 0.3


def stranger_distance(engine: Any) -> float | None:
    """Return the distance from which two faces are taken for different people when tracking: one
    standard deviation under the mean distance between strangers' faces (None when not measured)."""
    fitted = engine.impostor_fit()
    return None if fitted is None else fitted[0] - fitted[1]


def box_iou(a: Box, b: Box) -> float:
    """Return the intersection over union of two boxes."""
    width = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    height = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
    if width <= 0 or height <= 0:
        return 0.0
    overlap = width * height
    return overlap / float(a.width * a.height + b.width * b.height - overlap)


@dataclass
class _Open:
    number: int
    last_frame: int
    box: Box
    embedding: Any
    members: list[tuple[int, int]] = field(default_factory=list)


def assign_tracks(
    frames: Sequence[Sequence[Any]],
    *,
    distance: Callable[[Any, Any], float],
    same_face: float,
    different_face: float | None = None,
    max_gap: int = MAX_GAP,
    min_iou: float = MIN_IOU,
) -> list[list[int]]:
    """Return, for each frame's faces (each with ``box`` and ``embedding``), the number of its track.

    ``frames`` are in time order; ``distance`` compares two embeddings; ``same_face`` is the
    largest distance at which two faces may be the same person (the engine's review threshold);
    faces ``different_face`` or more apart never share a track, however much they overlap.
    Track numbers start at 0, in order of first appearance.
    """
    tracks: list[_Open] = []
    numbers: list[list[int]] = []
    for position, faces in enumerate(frames):
        live = [track for track in tracks if position - track.last_frame <= max_gap]
        pairs = []
        for face_index, face in enumerate(faces):
            for track in live:
                overlap = box_iou(face.box, track.box)
                apart = distance(face.embedding, track.embedding)
                if different_face is not None and apart >= different_face:
                    continue
                if overlap >= min_iou or apart <= same_face:
                    # Overlap and resemblance both count; resemblance decides between equal overlaps.
                    pairs.append((overlap + max(0.0, 1.0 - apart / same_face), face_index, track))
        pairs.sort(key=lambda pair: -pair[0])
        taken_faces: set[int] = set()
        taken_tracks: set[int] = set()
        assigned: list[int] = [-1] * len(faces)
        for _, face_index, track in pairs:
            if face_index in taken_faces or track.number in taken_tracks:
                continue
            taken_faces.add(face_index)
            taken_tracks.add(track.number)
            assigned[face_index] = track.number
        for face_index, face in enumerate(faces):
            if assigned[face_index] < 0:
                track = _Open(number=len(tracks), last_frame=position, box=face.box, embedding=face.embedding)
                tracks.append(track)
                assigned[face_index] = track.number
            track = tracks[assigned[face_index]]
            track.last_frame, track.box, track.embedding = position, face.box, face.embedding
            track.members.append((position, face_index))
        numbers.append(assigned)
    return numbers


@dataclass(frozen=True)
class TrackHit:
    """What one track says of one likeness: its nearest frame, and every frame it came close in."""

    likeness_id: str
    best: Any  # the LikenessHit of the nearest frame
    best_at: Any  # whatever the caller attached to that frame (its frame number, box, time…)
    close_in: tuple[Any, ...]  # the same, for every frame within the review threshold, in time order
    matched_in: int  # frames within the match threshold
    frames_seen: int  # frames the track has a face in
    outcome: str  # "match" or "near_match", after corroboration


def track_hits(observations: Sequence[tuple[Any, Sequence[Any]]]) -> list[TrackHit]:
    """Combine one track's per-frame hits (``(where, hits)`` per frame it is in) into one per likeness.

    The track's outcome for a likeness is that of its nearest frame, corroborated: a match on a
    single frame of a track seen in three frames or more, in none of whose other frames the face
    is even close to that likeness, is one frame's fluke as likely as a person, and goes to review
    (the output is held either way) instead of blocking outright. A face on screen for half a
    second is seen in two frames, so a short appearance still blocks on one matching frame.
    """
    by_likeness: dict[str, list[tuple[Any, Any]]] = {}
    for where, hits in observations:
        for hit in hits:
            by_likeness.setdefault(hit.likeness_id, []).append((where, hit))
    combined = []
    seen = len(observations)
    for likeness_id, entries in by_likeness.items():
        best_at, best = min(entries, key=lambda entry: entry[1].distance)
        matched = sum(1 for _, hit in entries if hit.outcome == "match")
        outcome = best.outcome
        if outcome == "match" and matched == 1 and len(entries) == 1 and seen >= 3:
            outcome = "near_match"
        combined.append(
            TrackHit(
                likeness_id=likeness_id,
                best=best,
                best_at=best_at,
                close_in=tuple(where for where, _ in entries),
                matched_in=matched,
                frames_seen=seen,
                outcome=outcome,
            )
        )
    combined.sort(key=lambda item: item.best.distance)
    return combined
