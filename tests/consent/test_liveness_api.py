"""The live selfie check through the HTTP API: a challenge, the recorded video, the verdict.

Real engine, real photos, real MP4 clips (see test_liveness.py for how the clips turn), real
database; a passed check verifies the user, every step is audited, a challenge is used once.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import Role
from consent.models import LivenessCheck
from moderation.models import AuditEvent
from tests.consent.test_liveness import OBAMA_TURNING, framed
from tests.generation.test_scan import make_video

pytestmark = pytest.mark.django_db


def turning_as(steps: list[str]) -> tuple[tuple[str, bool], ...]:
    """Obama's clip turning right then left, or left then right, as a two-step challenge asks."""
    if steps == ["right", "left"]:
        return OBAMA_TURNING
    assert steps == ["left", "right"], steps
    return (OBAMA_TURNING[0], OBAMA_TURNING[2], OBAMA_TURNING[1])


def video(*shots: tuple[str, bool]) -> bytes:
    return make_video([framed(path, mirrored) for path, mirrored in shots for _ in range(6)], fps=8)


@pytest.fixture
def barack(api_client: Any, make_user: Any, enroll: Any) -> tuple[Any, dict]:
    """A rights holder who registered his own face (from obama.jpg)."""
    user = make_user(Role.RIGHTS_HOLDER, username="barack")
    likeness = enroll("obama/obama.jpg", user=user, name="Barack Obama").json()
    api_client.force_authenticate(user)
    return user, likeness


def challenge(api_client: Any, likeness: dict, settings: Any, steps: tuple[str, ...]) -> dict:
    settings.SIGILLO_LIVENESS_STEPS = steps
    settings.SIGILLO_LIVENESS_STEP_COUNT = len(steps)
    response = api_client.post("/api/v1/likenesses/%s/liveness/challenge/" % likeness["id"])
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body["steps"]) == set(steps) and len(body["code"]) == 4 and body["token"]
    return body


def submit(api_client: Any, likeness: dict, token: str, data: bytes) -> Any:
    return api_client.post(
        "/api/v1/likenesses/%s/liveness/" % likeness["id"],
        {"token": token, "video": SimpleUploadedFile("selfie.mp4", data)},
        format="multipart",
    )


def test_the_person_turning_as_asked_is_verified_and_a_replay_is_refused(api_client, barack, settings):
    user, likeness = barack
    issued = challenge(api_client, likeness, settings, ("right", "left"))
    shots = turning_as(issued["steps"])

    response = submit(api_client, likeness, issued["token"], video(*shots))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["outcome"] == "passed" and body["verified"] is True, body
    assert body["measurements"]["pose"]["turns_seen"] == issued["steps"]
    assert "frames" not in body and "embedding" not in str(body)
    user.refresh_from_db()
    assert user.verified_at is not None
    check = LivenessCheck.objects.get(pk=body["id"])
    assert check.status == "passed" and check.frames  # the best frames, kept encrypted
    actions = list(AuditEvent.objects.order_by("created_at").values_list("action", flat=True))
    assert actions[-4:] == ["liveness.challenge", "liveness.submit", "user.verified", "likeness.verified"]

    replay = submit(api_client, likeness, issued["token"], video(*shots))
    assert replay.status_code == 400
    assert replay.json()["error"]["fields"]["token"][0]["code"] == "challenge_spent"


def test_somebody_elses_face_fails_and_verifies_nobody(api_client, barack, settings):
    user, likeness = barack
    issued = challenge(api_client, likeness, settings, ("left",))
    kit = (
        ("kit_harington/john1.jpg", False),
        ("kit_harington/johnsnow_test1.jpg", False),
        ("kit_harington/john1.jpg", False),
    )

    body = submit(api_client, likeness, issued["token"], video(*kit)).json()

    assert body["outcome"] == "failed" and body["reasons"] == ["not_the_person_in_the_photos"]
    user.refresh_from_db()
    assert user.verified_at is None


def test_a_face_that_never_turns_fails(api_client, barack, settings):
    _, likeness = barack
    issued = challenge(api_client, likeness, settings, ("left",))
    still = (("obama/obama_small.jpg", False), ("obama/obama-240p.jpg", False))

    body = submit(api_client, likeness, issued["token"], video(*still)).json()

    assert body["outcome"] == "failed" and body["reasons"] == ["no_head_turn"]


def test_a_forged_token_or_a_file_that_is_not_a_video_is_refused_and_stores_nothing(api_client, barack, settings):
    _, likeness = barack
    issued = challenge(api_client, likeness, settings, ("left",))
    forged = submit(api_client, likeness, issued["token"][:-2] + "xx", video(*OBAMA_TURNING))
    assert forged.status_code == 400
    assert forged.json()["error"]["fields"]["token"][0]["code"] == "challenge_invalid"

    junk = submit(api_client, likeness, issued["token"], b"\x00\x00\x00 not a video")
    assert junk.status_code == 400
    assert junk.json()["error"]["fields"]["video"][0]["code"] == "not_a_video"
    assert LivenessCheck.objects.get().status == "issued"  # nothing spent, nothing stored


def test_only_the_person_may_verify_their_likeness(api_client, barack, make_user, settings):
    _, likeness = barack
    stranger = make_user(Role.RIGHTS_HOLDER, username="stranger")
    api_client.force_authenticate(stranger)
    response = api_client.post("/api/v1/likenesses/%s/liveness/challenge/" % likeness["id"])
    assert response.status_code in (403, 404)
    assert not LivenessCheck.objects.exists()


def test_frames_are_erased_with_the_likeness(api_client, barack, settings, django_capture_on_commit_callbacks):
    from pathlib import Path

    from django.conf import settings as django_settings

    user, likeness = barack
    issued = challenge(api_client, likeness, settings, ("right", "left"))
    shots = turning_as(issued["steps"])
    check = LivenessCheck.objects.get(pk=submit(api_client, likeness, issued["token"], video(*shots)).json()["id"])
    files = [Path(django_settings.MEDIA_ROOT) / path for path in check.frames]
    assert files and all(path.exists() for path in files)

    with django_capture_on_commit_callbacks(execute=True):  # files go once the rows are gone for good
        response = api_client.delete("/api/v1/likenesses/%s/" % likeness["id"], {"keep_name": False}, format="json")

    assert response.status_code == 200, response.content
    check.refresh_from_db()
    assert check.frames == [] and not any(path.exists() for path in files)
