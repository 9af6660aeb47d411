"""The live selfie check's analysis on selfie clips built from the shared photos, with the real engine.

A clip is real MP4 video (PyAV), decoded and sampled by the product's sampler. Head turns come
from the photos that show them: Obama's obama2.jpg is turned to his right (yaw -0.26 against his
frontal photos' 0.02-0.04), and mirrored it is turned to his left; Kit Harington's
johnsnow_test1.jpg is turned to his left (+0.28).
"""

from __future__ import annotations

import pytest
from PIL import Image, ImageOps

from consent.faces import get_engine, load_image
from consent.liveness import (
    CODE_ALPHABET,
    STEPS,
    ChallengeInvalid,
    challenge_load,
    challenge_new,
    challenge_sign,
    head_pose,
    liveness_analyze,
)
from moderation.media import sample_video_frames
from tests.consent.faces import photo_bytes, photo_image
from tests.generation.test_scan import make_video

SIDE = 480


def framed(path: str, mirrored: bool = False) -> Image.Image:
    image = photo_image(path)
    image = ImageOps.mirror(image) if mirrored else image
    image.thumbnail((SIDE, SIDE), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (SIDE, SIDE), (70, 70, 70))
    canvas.paste(image, ((SIDE - image.width) // 2, (SIDE - image.height) // 2))
    return canvas


def clip(*shots: tuple[str, bool]) -> list:
    """Each (photo, mirrored) held for 0.75 s at 8 frames a second; sampled as the product samples."""
    images = [framed(path, mirrored) for path, mirrored in shots for _ in range(6)]
    return sample_video_frames(make_video(images, fps=8))


@pytest.fixture(scope="module")
def obama_reference() -> list:
    engine = get_engine()
    return [engine.analyze(load_image(photo_bytes("obama/obama.jpg")))[0].embedding]


OBAMA_TURNING = (
    ("obama/obama_small.jpg", False),  # looking at the camera
    ("obama/obama2.jpg", False),  # turned to his right
    ("obama/obama2.jpg", True),  # turned to his left
    ("obama/obama-240p.jpg", False),
)


def test_the_person_in_the_photos_turning_as_asked_passes(obama_reference: list) -> None:
    result = liveness_analyze(
        frames=clip(*OBAMA_TURNING), engine=get_engine(), reference=obama_reference, steps=("right", "left")
    )
    assert result.outcome == "passed", result.as_dict()
    assert result.measurements["pose"]["turns_seen"] == ["right", "left"]
    assert result.measurements["tracks"] == 1 and result.measurements["frames_with_several_faces"] == 0
    assert result.measurements["identity"]["median"] <= get_engine().match_threshold


def test_turns_in_another_order_than_the_challenge_fail(obama_reference: list) -> None:
    result = liveness_analyze(
        frames=clip(*OBAMA_TURNING), engine=get_engine(), reference=obama_reference, steps=("left", "right")
    )
    assert result.outcome == "failed" and result.reasons == ["challenge_not_followed"]


def test_a_face_that_never_turns_fails(obama_reference: list) -> None:
    still = (("obama/obama_small.jpg", False), ("obama/obama-240p.jpg", False), ("obama/obama_small.jpg", False))
    result = liveness_analyze(frames=clip(*still), engine=get_engine(), reference=obama_reference, steps=("left",))
    assert result.outcome == "failed" and result.reasons == ["no_head_turn"]


def test_somebody_else_turning_as_asked_fails(obama_reference: list) -> None:
    kit = (
        ("kit_harington/john1.jpg", False),
        ("kit_harington/johnsnow_test1.jpg", False),  # turned to his left
        ("kit_harington/john1.jpg", False),
    )
    result = liveness_analyze(frames=clip(*kit), engine=get_engine(), reference=obama_reference, steps=("left",))
    assert result.measurements["pose"]["turns_seen"] == ["left"]  # the turn was right...
    assert result.outcome == "failed" and result.reasons == ["not_the_person_in_the_photos"]  # ...the person not


def test_two_people_in_the_video_fail(obama_reference: list) -> None:
    shots = (*OBAMA_TURNING[:2], ("groups/obama_and_biden_two_people.jpg", False), OBAMA_TURNING[2])
    result = liveness_analyze(frames=clip(*shots), engine=get_engine(), reference=obama_reference, steps=("right",))
    assert result.outcome == "failed" and "several_people" in result.reasons
    assert result.measurements["frames_with_several_faces"] >= 2


def test_a_video_without_a_face_fails(obama_reference: list) -> None:
    frames = sample_video_frames(make_video([Image.new("RGB", (SIDE, SIDE), (90, 90, 90))] * 12, fps=8))
    result = liveness_analyze(frames=frames, engine=get_engine(), reference=obama_reference, steps=("left",))
    assert result.outcome == "failed" and result.reasons == ["no_face"]


def test_head_pose_from_landmarks() -> None:
    eyes, mouth = [(40.0, 50.0), (80.0, 50.0)], [(45.0, 90.0), (75.0, 90.0)]
    assert head_pose([*eyes, (60.0, 70.0), *mouth]) == (0.0, 0.5)
    yaw, _ = head_pose([*eyes, (70.0, 70.0), *mouth])  # the nose towards the image's right: their left
    assert yaw == pytest.approx(0.25)
    _, pitch = head_pose([*eyes, (60.0, 62.0), *mouth])  # the nose nearer the eyes: looking up
    assert pitch == pytest.approx(0.3)


def test_a_challenge_is_random_signed_and_expires(settings) -> None:
    settings.SIGILLO_LIVENESS_STEP_COUNT = 3
    challenge = challenge_new(now=1000.0)
    assert sorted(challenge.steps) == sorted(STEPS) and len(challenge.code) == 4
    assert set(challenge.code) <= set(CODE_ALPHABET)
    token = challenge_sign(challenge)
    assert challenge_load(token, now=1100.0) == challenge
    with pytest.raises(ChallengeInvalid, match="expired"):
        challenge_load(token, now=1000.0 + settings.SIGILLO_LIVENESS_CHALLENGE_SECONDS + 1)
    altered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    with pytest.raises(ChallengeInvalid, match="not one this server issued"):
        challenge_load(altered, now=1100.0)
    assert len({challenge_new().nonce for _ in range(20)}) == 20
