"""Clips that look like the threat: a registered person on screen for half a second among strangers.

Real MP4s (MPEG-4 Part 2, encoded with PyAV) built from the shared photos: three unregistered
people side by side for four seconds at 24 frames a second; in the "with" clip, a registered
person in three-quarter view (George Clooney, img41, enrolled from two other photos) takes the
middle place from 2.0 s to 2.5 s. The real face engine, the real sampler and the real registry
decide; the product's own output scan holds or releases the generation.
"""

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from consent import crypto
from consent import services as consent_services
from generation import services
from generation.models import Generation
from generation.scan import output_scan
from moderation.media import MediaUndecodable, sample_video_frames
from moderation.reasons import ReasonCode
from tests.consent.faces import photo_image
from tests.generation.test_scan import make_video
from tests.moderation.conftest import photos, registry  # noqa: F401 - the fixture

FPS = 24
SIZE = (1280, 720)
STRANGERS = ("matt_damon/img29.jpg", "jeff_bezos/img20.jpg", "sundar_pichai/img24.jpg")
REGISTERED_TURNED = "george_clooney/img41.jpg"  # three-quarter view
#: Frames 48 to 59: from 2.0 s to 2.5 s.
APPEARS = range(48, 60)


def _tile(path: str, side: int = 400) -> Image.Image:
    image = photo_image(path)
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return image


def clip(*, with_registered: bool) -> bytes:
    """Four seconds of three strangers; with_registered: the middle one replaced for half a second."""
    strangers = [_tile(path) for path in STRANGERS]
    turned = _tile(REGISTERED_TURNED)
    frames = []
    for number in range(4 * FPS):
        frame = Image.new("RGB", SIZE, (52, 60, 70))
        for place, tile in enumerate(strangers):
            if place == 1 and with_registered and number in APPEARS:
                tile = turned
            frame.paste(tile, (20 + place * 425, 160))
        frames.append(frame)
    return make_video(frames, fps=FPS)


@pytest.fixture
def clooney(registry: SimpleNamespace) -> object:  # noqa: F811
    likeness = consent_services.likeness_register_protected(
        moderator=registry.moderator, display_name="George Clooney", descriptors=["the actor"]
    )
    consent_services.likeness_add_photos(
        actor=registry.moderator,
        likeness=likeness,
        photos=photos("george_clooney/img39.jpg", "george_clooney/img40.jpg"),
    )
    return likeness


@pytest.mark.django_db
def test_the_output_scan_sees_half_a_second_of_a_turned_face_and_reports_its_track(
    registry: SimpleNamespace,  # noqa: F811
    clooney: object,
) -> None:
    frames = sample_video_frames(clip(with_registered=True))

    result = output_scan(frames=frames, cameo_likeness_ids=set(), adult_allowed_ids=set())

    assert result.verdict == "block"
    [blocked] = [reason for reason in result.reasons if reason["code"] == ReasonCode.REGISTERED_FACE]
    assert blocked["likeness_id"] == str(clooney.pk) and blocked["verdict"] == "block"
    assert len(blocked["frames"]) >= 2 and set(blocked["frames"]) <= set(APPEARS)
    assert all(2.0 - 1e-6 <= time < 2.5 for time in blocked["times"])
    assert blocked["frame"] in blocked["frames"] and isinstance(blocked["track"], int)
    # Everyone else on screen is a stranger: nobody else is reported, and nobody twice.
    assert [reason["code"] for reason in result.reasons] == [ReasonCode.REGISTERED_FACE]
    tracks = {face["track"] for face in result.faces}
    assert len(tracks) >= 4  # three strangers for four seconds, and the half-second appearance


@pytest.mark.django_db
@pytest.mark.parametrize("with_registered", [True, False])
def test_a_generated_clip_is_blocked_with_them_and_released_without(
    registry: SimpleNamespace,  # noqa: F811
    clooney: object,
    with_registered: bool,
) -> None:
    generation = services.generation_request(
        requester=registry.creator, prompt="a crowd", kind="video", use="personal", cameos=[str(registry.kit.pk)]
    )
    services.generation_generate(generation_id=str(generation.pk))
    generation.refresh_from_db()
    # The model "drew" this clip: replace the output with it.
    crypto.delete_file(generation.output_path)
    Generation.objects.filter(pk=generation.pk).update(
        output_path=crypto.store_encrypted_file(clip(with_registered=with_registered), folder="outputs")
    )

    services.generation_scan(generation_id=str(generation.pk))

    generation.refresh_from_db()
    reasons = generation.output_decision.reasons
    if with_registered:
        assert generation.status == Generation.Status.BLOCKED
        [blocked] = [reason for reason in reasons if reason["code"] == ReasonCode.REGISTERED_FACE]
        assert blocked["likeness_id"] == str(clooney.pk) and len(blocked["frames"]) >= 2
    else:
        assert generation.status == Generation.Status.RELEASED, reasons
        assert not [reason for reason in reasons if reason["verdict"] != "allow"]


@pytest.mark.django_db
def test_the_scans_api_takes_a_use_and_reports_the_track_frames_and_frame_sizes(
    api_client: object,
    registry: SimpleNamespace,  # noqa: F811
    clooney: object,
) -> None:
    api_client.force_authenticate(registry.creator)

    response = api_client.post(
        "/api/v1/scans/",
        {"file": SimpleUploadedFile("clip.mp4", clip(with_registered=True)), "use": "commercial"},
        format="multipart",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    [media] = body["media"]
    assert media["kind"] == "video" and media["frames"] >= 4 * 4  # four frames a second at least
    assert media["frames"] == len(media["sampled"])
    assert {(frame["width"], frame["height"]) for frame in media["sampled"]} == {SIZE}
    times = [frame["time"] for frame in media["sampled"]]
    assert max(b - a for a, b in zip(times, times[1:], strict=False)) <= 0.25 + 1e-6
    decision = body["decision"]
    assert decision["use"] == "commercial" and decision["verdict"] == "block"
    [registered] = [reason for reason in decision["reasons"] if reason["code"] == ReasonCode.REGISTERED_FACE]
    assert registered["likeness_id"] == str(clooney.pk)
    assert len(registered["frames"]) >= 2 and set(registered["frames"]) <= set(APPEARS)
    on_track = [face for face in body["faces"] if face["track"] == registered["track"]]
    assert {face["frame"] for face in on_track} >= set(registered["frames"])
    # Three strangers on screen throughout are three tracks, none of them reported as anyone.
    assert len({face["track"] for face in body["faces"]}) >= 4
    assert not [reason for reason in decision["reasons"] if reason["code"] == ReasonCode.FACE_NEAR_MATCH]


@pytest.mark.django_db
def test_the_scans_api_refuses_an_unknown_use(api_client: object, registry: SimpleNamespace) -> None:  # noqa: F811
    api_client.force_authenticate(registry.creator)
    response = api_client.post(
        "/api/v1/scans/",
        {"file": SimpleUploadedFile("clip.mp4", clip(with_registered=False)), "use": "anything"},
        format="multipart",
    )
    assert response.status_code == 400 and "use" in response.json()["error"]["fields"]


def test_a_video_longer_than_the_limit_is_refused(settings: object) -> None:
    settings.SIGILLO_VIDEO_MAX_SECONDS = 2
    with pytest.raises(MediaUndecodable, match="longer than 2 seconds"):
        sample_video_frames(clip(with_registered=False))


def test_a_new_shot_between_samples_is_sampled_too() -> None:
    """A cut that lasts less than the interval is still looked at: its first frame is sampled."""
    grey, cut = Image.new("RGB", (320, 240), (60, 60, 60)), photo_image("obama/obama2.jpg").resize((320, 240))
    data = make_video([grey] * 9 + [cut] * 2 + [grey] * 13, fps=24)  # the cut: frames 9 and 10, 83 ms
    frames = sample_video_frames(data, every_seconds=0.25)
    assert 9 in [frame.index for frame in frames]
    assert sample_video_frames(data, every_seconds=0.25, shot_changes=False)[1].index == 6
