"""The output scan: registered faces and NudeNet on generated images and sampled video frames.

Real models throughout (the dlib face engine, NudeNet's ONNX detector) and a real registry in the
database; only the NSFW-positive tests replace ``nsfw_detect`` with a fake high score, to exercise
the real reason logic around it without explicit images.
"""

import io
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from django.test import override_settings
from PIL import Image

from generation import scan
from generation.scan import NsfwResult, nsfw_detect, output_scan
from moderation.media import Frame, MediaUndecodable, sample_video_frames
from moderation.reasons import ReasonCode
from tests.consent.faces import gradient, photo_image
from tests.moderation.conftest import registry  # noqa: F401  (the fixture)


def still(image: Image.Image) -> list[Frame]:
    return [Frame(image=image, index=None, time=None)]


def make_video(images: list[Image.Image], fps: int = 8, codec: str = "mpeg4") -> bytes:
    """Encode ``images`` as an MP4 at ``fps`` frames a second."""
    import av

    buffer = io.BytesIO()
    width, height = images[0].size
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = 4_000_000
        for image in images:
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def fake_nsfw(score: float):  # noqa: ANN201
    def detect(image: Image.Image) -> NsfwResult:
        return NsfwResult(score=score, labels=[("FEMALE_BREAST_EXPOSED", score, (0, 0, 10, 10))], model="fake")

    return detect


def codes(result: scan.OutputScan) -> list[tuple[str, str]]:
    return [(reason["code"], reason["verdict"]) for reason in result.reasons]


def test_import_loads_no_model() -> None:
    code = (
        "import django, sys; django.setup(); import generation.scan; "
        "heavy = {'onnxruntime', 'torch', 'dlib', 'nudenet', 'av'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=os.getcwd())


@pytest.mark.django_db
def test_registered_face_without_consent_blocks(registry: SimpleNamespace) -> None:  # noqa: F811
    result = output_scan(
        frames=still(photo_image("obama/obama2.jpg")), cameo_likeness_ids=set(), adult_allowed_ids=set()
    )
    blocks = [reason for reason in result.reasons if reason["code"] == ReasonCode.REGISTERED_FACE]
    assert len(blocks) == 1
    reason = blocks[0]
    assert reason["verdict"] == "block" and reason["stage"] == "output"
    assert reason["likeness_id"] == str(registry.obama.pk)
    assert reason["frame"] == 0 and reason["time"] is None
    assert reason["box"]["width"] > 50 and reason["box"]["height"] > 50
    assert "Barack Obama" in reason["detail"]
    assert result.verdict == "block"
    assert result.faces and result.faces[0]["cameo"] is False
    assert result.nsfw[0]["score"] < scan.nsfw_threshold()
    assert result.timings["frames"] == 1


@pytest.mark.django_db
def test_consented_cameo_passes(registry: SimpleNamespace) -> None:  # noqa: F811
    result = output_scan(
        frames=still(photo_image("obama/obama2.jpg")),
        cameo_likeness_ids={str(registry.obama.pk)},
        adult_allowed_ids=set(),
    )
    assert not [reason for reason in result.reasons if reason["verdict"] == "block"]
    assert result.faces and result.faces[0]["cameo"] is True


@pytest.mark.django_db
def test_no_face_no_nudity_no_reasons(registry: SimpleNamespace) -> None:  # noqa: F811
    result = output_scan(frames=still(gradient()), cameo_likeness_ids=set(), adult_allowed_ids=set())
    assert result.reasons == [] and result.faces == []
    assert result.verdict == "allow"
    assert len(result.nsfw) == 1 and result.nsfw[0]["score"] < scan.nsfw_threshold()


def test_nsfw_detect_on_a_portrait_is_low() -> None:
    result = nsfw_detect(photo_image("kit_harington/johnsnow_test1.jpg"))
    assert result.score < scan.nsfw_threshold()
    assert result.model.startswith("nudenet-3.")
    assert all(isinstance(label, str) and 0 <= score <= 1 for label, score, _ in result.labels)
    assert scan.nsfw_detector()[0] is scan.nsfw_detector()[0]  # loaded once per process


def test_sample_video_frames_every_quarter_second() -> None:
    data = make_video([gradient(160, 120)] * 24, fps=8)  # 3 s
    frames = sample_video_frames(data)
    assert 11 <= len(frames) <= 13
    times = [frame.time for frame in frames]
    assert times[0] == pytest.approx(0.0, abs=0.01)
    assert all(b - a == pytest.approx(0.25, abs=0.01) for a, b in zip(times, times[1:], strict=False))
    assert [frame.index for frame in frames] == sorted({frame.index for frame in frames})
    assert frames[0].image.mode == "RGB" and frames[0].image.size == (160, 120)


def test_sample_video_frames_cap_still_covers_the_whole_video() -> None:
    data = make_video([gradient(160, 120)] * 24, fps=8)
    frames = sample_video_frames(data, max_frames=4)
    assert len(frames) <= 4
    assert frames[-1].time >= 2.0


def test_sample_video_frames_rejects_junk() -> None:
    with pytest.raises(MediaUndecodable):
        sample_video_frames(b"not a video at all")


@pytest.mark.django_db
def test_face_on_screen_for_half_a_second_is_caught(registry: SimpleNamespace) -> None:  # noqa: F811
    face = photo_image("obama/obama2.jpg").resize((320, 400))
    blank = gradient(320, 400)
    data = make_video([blank] * 10 + [face] * 4 + [blank] * 10, fps=8)  # face from 1.25 s to 1.75 s
    frames = sample_video_frames(data)
    result = output_scan(frames=frames, cameo_likeness_ids=set(), adult_allowed_ids=set())
    # Seen in at least two sampled frames, and reported once: one face on screen, one track.
    [blocked] = [reason for reason in result.reasons if reason["code"] == ReasonCode.REGISTERED_FACE]
    assert len(blocked["frames"]) >= 2 and set(blocked["frames"]) <= {10, 11, 12, 13}
    assert all(1.2 <= time <= 1.8 for time in blocked["times"])
    assert blocked["frame"] in blocked["frames"] and blocked["track"] == 0


@pytest.mark.django_db
def test_cameo_in_sexual_content_needs_adult_consent(
    registry: SimpleNamespace,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fake NudeNet score (0.9) around the real reason logic: no explicit images in the suite."""
    monkeypatch.setattr(scan, "nsfw_detect", fake_nsfw(0.9))
    kit = str(registry.kit.pk)
    frames = still(photo_image("kit_harington/johnsnow_test1.jpg"))

    result = output_scan(frames=frames, cameo_likeness_ids={kit}, adult_allowed_ids=set())
    assert sorted(codes(result)) == [(ReasonCode.POLICY_VIOLATION, "block"), (ReasonCode.USE_NOT_ALLOWED, "block")]
    violation = next(reason for reason in result.reasons if reason["code"] == ReasonCode.POLICY_VIOLATION)
    assert violation["category"] == "sexual_content" and violation["score"] == 0.9 and violation["frame"] == 0
    not_allowed = next(reason for reason in result.reasons if reason["code"] == ReasonCode.USE_NOT_ALLOWED)
    assert not_allowed["likeness_id"] == kit and "adult" in not_allowed["detail"]

    allowed = output_scan(frames=frames, cameo_likeness_ids={kit}, adult_allowed_ids={kit})
    assert codes(allowed) == [(ReasonCode.POLICY_VIOLATION, "block")]


@pytest.mark.django_db
@override_settings(SIGILLO_NSFW_ACTION="review", SIGILLO_NSFW_THRESHOLD=0.5)
def test_nsfw_action_and_threshold_are_configurable(
    registry: SimpleNamespace,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fake NudeNet scores around the real reason logic."""
    monkeypatch.setattr(scan, "nsfw_detect", fake_nsfw(0.55))
    result = output_scan(frames=still(gradient()), cameo_likeness_ids=set(), adult_allowed_ids=set())
    assert codes(result) == [(ReasonCode.POLICY_VIOLATION, "review")]
    assert result.verdict == "review"
    monkeypatch.setattr(scan, "nsfw_detect", fake_nsfw(0.45))
    assert output_scan(frames=still(gradient()), cameo_likeness_ids=set(), adult_allowed_ids=set()).reasons == []


def test_nsfw_score_uses_only_exposed_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake detector around the real scoring: covered and face labels do not count."""

    class Detector:
        def detect(self, array: np.ndarray) -> list[dict]:
            assert array.ndim == 3 and array.shape[2] == 3
            return [
                {"class": "FACE_FEMALE", "score": 0.95, "box": [1, 2, 3, 4]},
                {"class": "BUTTOCKS_COVERED", "score": 0.9, "box": [1, 2, 3, 4]},
                {"class": "BUTTOCKS_EXPOSED", "score": 0.3, "box": [1, 2, 3, 4]},
            ]

    monkeypatch.setattr(scan, "nsfw_detector", lambda: (Detector(), "fake"))
    result = nsfw_detect(gradient(32, 32))
    assert result.score == pytest.approx(0.3)
    assert len(result.labels) == 3 and result.labels[0] == ("FACE_FEMALE", 0.95, (1, 2, 3, 4))
