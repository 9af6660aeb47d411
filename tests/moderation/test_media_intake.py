"""Hostile media through the real API: every frame of an animation, faces under a transparent
alpha channel, formats by their bytes (never FFmpeg's own probing), decode caps, and references
kept without their metadata. Each test fails where its protection is removed."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from consent import crypto
from generation.models import Generation
from moderation.media import animation_frames, encode_mp4, sample_video_frames
from moderation.reasons import ReasonCode, Verdict
from tests.consent.faces import encode, photo_image

pytestmark = pytest.mark.django_db

OBAMA = "obama/obama2.jpg"


def blank(size: tuple[int, int]) -> Image.Image:
    return Image.new("RGB", size, (90, 120, 150))


def check(api_client, user, name, data, prompt="a picture"):
    api_client.force_authenticate(user)
    response = api_client.post(
        "/api/v1/checks/", {"prompt": prompt, "images": [SimpleUploadedFile(name, data)]}, format="multipart"
    )
    assert response.status_code == 200, response.content
    return response.json()


def codes(decision):
    return [reason["code"] for reason in decision["reasons"]]


@pytest.mark.parametrize(
    ("format", "options"),
    [("GIF", {}), ("PNG", {}), ("WEBP", {"lossless": True})],
    ids=["gif", "apng", "animated-webp"],
)
def test_a_face_in_the_second_frame_of_an_animated_image_is_found(api_client, registry, format, options):
    face = photo_image(OBAMA)
    frames = [blank(face.size), face, blank(face.size)]
    out = io.BytesIO()
    frames[0].save(out, format=format, save_all=True, append_images=frames[1:], duration=200, loop=0, **options)

    decision = check(api_client, registry.creator, "innocent.%s" % format.lower(), out.getvalue())

    assert decision["verdict"] == Verdict.BLOCK, decision["reasons"]
    [face_reason] = [reason for reason in decision["reasons"] if reason["code"] == ReasonCode.REGISTERED_FACE]
    assert face_reason["likeness_id"] == str(registry.obama.pk) and face_reason["frame"] == 1
    [media] = decision["media"][:1]
    assert media["kind"] == "animation" and media["frames"] == 3


def test_a_face_under_a_fully_transparent_alpha_channel_is_found(api_client, registry):
    hidden = photo_image(OBAMA).convert("RGBA")
    hidden.putalpha(0)  # invisible where alpha is honoured, plain to anything that drops it

    decision = check(api_client, registry.creator, "empty.png", encode(hidden, "PNG"))

    assert decision["verdict"] == Verdict.BLOCK, decision["reasons"]
    assert ReasonCode.REGISTERED_FACE in codes(decision) and ReasonCode.PROTECTED_ENTRY in codes(decision)


def test_a_file_ffmpeg_would_probe_as_a_network_description_never_reaches_ffmpeg(api_client, registry, monkeypatch):
    import av

    opened = []
    real_open = av.open
    monkeypatch.setattr(av, "open", lambda *args, **kwargs: opened.append(kwargs) or real_open(*args, **kwargs))
    sdp = b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 5004 RTP/AVP 96\r\n"

    decision = check(api_client, registry.creator, "photo.jpg", sdp)

    assert decision["verdict"] == Verdict.BLOCK and codes(decision) == [ReasonCode.MEDIA_UNDECODABLE]
    assert "MP4, MOV, WebM, MKV, AVI or MPEG-TS" in decision["reasons"][0]["detail"]
    assert opened == []


def test_a_video_of_more_frames_than_the_cap_is_refused_not_decoded(api_client, registry, settings):
    settings.SIGILLO_VIDEO_MAX_DECODED_FRAMES = 10
    clip = encode_mp4([[[[30, 60, 90]] * 64] * 64] * 30, fps=30, width=64, height=64)

    decision = check(api_client, registry.creator, "clip.mp4", clip)

    assert codes(decision) == [ReasonCode.MEDIA_UNDECODABLE] and decision["verdict"] == Verdict.BLOCK
    assert "more than 10 frames" in decision["reasons"][0]["detail"]


def test_the_frames_kept_from_a_video_share_a_bounded_pixel_budget_and_still_show_the_face(
    api_client, registry, settings
):
    budget = 4 * 640 * 480
    settings.SIGILLO_VIDEO_MAX_SAMPLED_PIXELS = budget
    settings.SIGILLO_VIDEO_MAX_FRAMES = 3
    face = photo_image(OBAMA)
    canvas = blank((1440, 1080))
    canvas.paste(face.resize((face.width * 1080 // face.height, 1080)), (300, 0))
    clip = encode_mp4([canvas] * 8, fps=4, width=1440, height=1080)

    frames = sample_video_frames(clip)
    decision = check(api_client, registry.creator, "clip.mp4", clip)

    assert len(frames) <= 4 and sum(frame.image.width * frame.image.height for frame in frames) <= budget
    assert all(frame.image.width < 1440 for frame in frames)  # scaled down, not kept whole
    assert decision["verdict"] == Verdict.BLOCK and ReasonCode.REGISTERED_FACE in codes(decision)


def test_the_frames_kept_from_an_animation_share_a_bounded_pixel_budget(settings):
    budget = 3 * 100 * 100
    settings.SIGILLO_VIDEO_MAX_SAMPLED_PIXELS = budget
    out = io.BytesIO()
    frames = [Image.new("RGB", (400, 300), (40 * index, 90, 150)) for index in range(3)]
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100)

    kept = animation_frames(out.getvalue())

    assert len(kept) == 3 and sum(frame.image.width * frame.image.height for frame in kept) <= budget


def post_generation(api_client, user, name, data):
    api_client.force_authenticate(user)
    body = {
        "prompt": "a walk on a beach",
        "kind": "image",
        "use": "personal",
        "reference": SimpleUploadedFile(name, data),
    }
    return api_client.post("/api/v1/generations/", body, format="multipart")


@pytest.mark.parametrize("format", ["GIF", "BMP", "TIFF"])
def test_a_reference_that_is_not_jpeg_png_or_webp_is_refused_and_nothing_is_stored(api_client, registry, format):
    response = post_generation(
        api_client, registry.creator, "ref.%s" % format.lower(), encode(blank((300, 300)), format)
    )

    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"]["reference"]
    assert not Generation.objects.exists()


def test_an_animated_reference_is_refused(api_client, registry):
    frames = [blank((300, 300)), photo_image(OBAMA).resize((300, 300))]
    out = io.BytesIO()
    frames[0].save(out, format="PNG", save_all=True, append_images=frames[1:], duration=100)

    response = post_generation(api_client, registry.creator, "ref.png", out.getvalue())

    assert response.status_code == 400
    assert "animated" in response.json()["error"]["fields"]["reference"][0]["message"]
    assert not Generation.objects.exists()


def test_a_registration_photo_in_bmp_is_refused_by_its_bytes(api_client, make_user):
    from accounts.roles import Role

    holder = make_user(Role.RIGHTS_HOLDER)
    api_client.force_authenticate(holder)
    bmp = encode(photo_image("kit_harington/john1.jpg"), "BMP")

    response = api_client.post(
        "/api/v1/likenesses/",
        {"display_name": "Kit Harington", "photos": [SimpleUploadedFile("kit.jpg", bmp)]},
        format="multipart",
    )

    assert response.status_code == 400
    assert [photo["code"] for photo in response.json()["error"]["photos"]] == ["not_an_image"]


def test_a_kept_reference_has_no_exif_and_no_gps(api_client, registry):
    image = photo_image("kit_harington/johnsnow_test1.jpg")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}  # GPSInfo: Paris
    exif[0x010F] = "SecretCam"
    data = encode(image, "JPEG", exif=exif.tobytes())
    assert b"SecretCam" in data

    api_client.force_authenticate(registry.creator)
    body = {
        "prompt": "a walk on a beach @kit_harington",
        "kind": "image",
        "use": "personal",
        "reference": SimpleUploadedFile("ref.jpg", data),
    }
    response = api_client.post("/api/v1/generations/", body, format="multipart")

    assert response.status_code == 202, response.content
    generation = Generation.objects.get(pk=response.json()["id"])
    stored = crypto.read_encrypted_file(generation.reference_path)
    assert stored[:8] == b"\x89PNG\r\n\x1a\n" and b"SecretCam" not in stored
    with Image.open(io.BytesIO(stored)) as kept:
        assert not kept.getexif() and kept.size == image.size
