"""Faces followed across video frames (``consent.faces.tracks``): association and corroboration.

Pure logic: faces are made-up boxes and embeddings here; the tests that show tracking on real
faces through real engines are the clip tests of the output scan and of the scans API.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from consent.faces.base import Box
from consent.faces.tracks import assign_tracks, box_iou, track_hits


def face(x: int, y: int, vector: list[float], side: int = 100) -> SimpleNamespace:
    return SimpleNamespace(box=Box(x, y, side, side), embedding=np.array(vector, dtype=np.float32))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


def hit(likeness: str, gap: float, outcome: str) -> SimpleNamespace:
    return SimpleNamespace(likeness_id=likeness, distance=gap, outcome=outcome)


def test_box_overlap() -> None:
    assert box_iou(Box(0, 0, 10, 10), Box(0, 0, 10, 10)) == 1.0
    assert box_iou(Box(0, 0, 10, 10), Box(20, 20, 10, 10)) == 0.0
    assert abs(box_iou(Box(0, 0, 10, 10), Box(5, 0, 10, 10)) - 50 / 150) < 1e-9


def test_a_face_moving_is_one_track_and_a_second_face_another() -> None:
    a, b = [1.0, 0.0], [0.0, 1.0]
    frames = [
        [face(0, 0, a)],
        [face(20, 0, a), face(500, 0, b)],
        [face(520, 0, b), face(40, 0, a)],
    ]
    assert assign_tracks(frames, distance=distance, same_face=0.5) == [[0], [0, 1], [1, 0]]


def test_a_face_that_jumps_is_followed_by_its_looks_and_a_stranger_in_its_place_is_not() -> None:
    a, b = [1.0, 0.0], [0.0, 1.0]
    # Frame 1: the same person cut to the other side of the frame; frame 2: someone else where they were.
    frames = [[face(0, 0, a)], [face(800, 400, a)], [face(800, 400, b)]]
    numbers = assign_tracks(frames, distance=distance, same_face=0.5, min_iou=0.3)
    assert numbers[0] == numbers[1] == [0]
    # Overlap alone still joins a face to a moving track (a head turning changes its embedding).
    assert numbers[2] == [0]
    far = [[face(0, 0, a)], [face(800, 400, b)]]
    assert assign_tracks(far, distance=distance, same_face=0.5) == [[0], [1]]


def test_a_track_left_for_longer_than_the_gap_is_closed() -> None:
    a = [1.0, 0.0]
    frames = [[face(0, 0, a)], [], [], [], [face(0, 0, a)]]
    assert assign_tracks(frames, distance=distance, same_face=0.5, max_gap=2) == [[0], [], [], [], [1]]


def test_one_person_reported_once_per_track_at_the_nearest_frame() -> None:
    observations = [
        ({"frame": 10}, [hit("kit", 0.55, "match")]),
        ({"frame": 13}, [hit("kit", 0.41, "match"), hit("rose", 0.66, "near_match")]),
        ({"frame": 16}, []),
    ]
    [kit, rose] = track_hits(observations)
    assert kit.likeness_id == "kit" and kit.outcome == "match" and kit.best.distance == 0.41
    assert kit.best_at == {"frame": 13} and kit.close_in == ({"frame": 10}, {"frame": 13})
    assert kit.matched_in == 2 and kit.frames_seen == 3
    assert rose.outcome == "near_match" and rose.close_in == ({"frame": 13},)


def test_a_lone_matching_frame_of_a_long_track_goes_to_review_a_short_appearance_blocks() -> None:
    lone = [({"frame": n}, [hit("kit", 0.5, "match")] if n == 2 else []) for n in range(6)]
    [fluke] = track_hits(lone)
    assert fluke.outcome == "near_match" and fluke.best.outcome == "match"

    corroborated = [({"frame": n}, [hit("kit", 0.5 if n == 2 else 0.65, "match" if n == 2 else "near_match")])
                    for n in range(6)]  # fmt: skip
    assert track_hits(corroborated)[0].outcome == "match"

    short = [({"frame": 1}, [hit("kit", 0.5, "match")]), ({"frame": 2}, [])]  # half a second, two frames
    assert track_hits(short)[0].outcome == "match"
