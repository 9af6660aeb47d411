"""The animatic backend renders real H.264 MP4 clips and PNG storyboards from consented photos."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from generation.backends.animatic import AnimaticOutput, AnimaticRequest, animatic_render
from tests.consent.faces import photo_image

PROMPT = "Two friends share a quiet breakfast on a sunlit balcony overlooking the sea, slow camera drift"
WIDTH, HEIGHT, FPS = 320, 180, 8


def _photos() -> list[Image.Image]:
    return [photo_image("obama/obama.jpg"), photo_image("rose_leslie/img1.jpg")]


def _decode(data: bytes) -> tuple[str, int, int, list[np.ndarray], float]:
    """Return the codec, size, frames (RGB arrays) and duration in seconds of an MP4."""
    import av

    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        codec, width, height = stream.codec_context.name, stream.codec_context.width, stream.codec_context.height
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
        duration = float(stream.duration * stream.time_base) if stream.duration else float(container.duration) / 1e6
    return codec, width, height, frames, duration


@pytest.fixture(scope="module")
def clip() -> tuple[AnimaticOutput, list[tuple[int, int]]]:
    calls: list[tuple[int, int]] = []
    request = AnimaticRequest(
        prompt=PROMPT,
        kind="video",
        photos=_photos(),
        width=WIDTH,
        height=HEIGHT,
        fps=FPS,
        seconds_per_photo=1.0,
        seed=7,
    )
    output = animatic_render(request, progress=lambda step, total: calls.append((step, total)))
    return output, calls


def test_video_is_h264_mp4_of_the_requested_shape(clip: tuple[AnimaticOutput, list[tuple[int, int]]]) -> None:
    output, _ = clip
    assert output.content_type == "video/mp4"
    assert (output.width, output.height, output.fps) == (WIDTH, HEIGHT, FPS)
    # Title card and two photos of 8 frames each, overlapping by two 2-frame cross-fades.
    assert output.frames == 3 * FPS - 2 * 2
    assert output.duration == pytest.approx(output.frames / FPS)
    codec, width, height, frames, duration = _decode(output.data)
    assert codec == "h264"
    assert (width, height) == (WIDTH, HEIGHT)
    assert len(frames) == output.frames
    assert duration == pytest.approx(output.duration, abs=1.5 / FPS)


def test_photos_pan_and_zoom_over_time(clip: tuple[AnimaticOutput, list[tuple[int, int]]]) -> None:
    output, _ = clip
    _, _, _, frames, _ = _decode(output.data)
    # The last photo's segment after its cross-fade: the final six frames.
    segment = [frame.astype(np.int16) for frame in frames[-6:]]
    differences = [float(np.abs(b - a).mean()) for a, b in zip(segment, segment[1:], strict=False)]
    assert all(difference > 0 for difference in differences), differences
    # The title card differs from the photos.
    assert float(np.abs(frames[4].astype(np.int16) - frames[-1].astype(np.int16)).mean()) > 10


def test_progress_reaches_the_total(clip: tuple[AnimaticOutput, list[tuple[int, int]]]) -> None:
    output, calls = clip
    assert calls[-1] == (output.frames, output.frames)
    assert [step for step, _ in calls] == list(range(1, output.frames + 1))


def test_same_seed_gives_the_same_frames() -> None:
    request = AnimaticRequest(
        prompt=PROMPT, kind="video", photos=_photos()[:1], width=128, height=96, fps=4, seconds_per_photo=1.0, seed=3
    )
    first, second = _decode(animatic_render(request).data)[3], _decode(animatic_render(request).data)[3]
    assert len(first) == len(second)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_image_kind_is_a_png_storyboard() -> None:
    request = AnimaticRequest(prompt=PROMPT, kind="image", photos=_photos(), width=WIDTH, height=HEIGHT, seed=1)
    calls: list[tuple[int, int]] = []
    output = animatic_render(request, progress=lambda step, total: calls.append((step, total)))
    assert output.content_type == "image/png"
    assert output.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert (output.frames, output.fps, output.duration) == (1, 0, 0.0)
    with Image.open(io.BytesIO(output.data)) as image:
        assert image.format == "PNG"
        assert image.size == (WIDTH, HEIGHT)
        assert len(np.unique(np.asarray(image.convert("L")))) > 50
    assert calls == [(1, 1)]


def test_without_photos_the_video_is_the_title_card() -> None:
    request = AnimaticRequest(
        prompt=PROMPT, kind="video", photos=[], width=WIDTH, height=HEIGHT, fps=FPS, seconds_per_photo=0.5
    )
    output = animatic_render(request)
    assert output.frames == FPS
    assert output.duration >= 1.0
    codec, width, height, frames, _ = _decode(output.data)
    assert (codec, width, height, len(frames)) == ("h264", WIDTH, HEIGHT, FPS)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"width": 321}, "width must be an even number"),
        ({"height": 179}, "height must be an even number"),
        ({"width": 2000}, "width must be between 64 and 1920"),
        ({"height": 32}, "height must be between 64 and 1920"),
        ({"fps": 0}, "fps must be an integer between 1 and 60"),
        ({"seconds_per_photo": 0}, "seconds_per_photo must be above 0"),
        ({"kind": "audio"}, "kind must be 'image' or 'video'"),
        ({"focus": [(0.5, 0.5), None]}, "one focus point"),
        ({"photos": [Image.new("RGB", (8, 8))], "focus": [(1.5, 0.5)]}, "two fractions between 0 and 1"),
    ],
)
def test_bad_requests_are_refused(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"prompt": PROMPT, "kind": "video", "width": WIDTH, "height": HEIGHT} | changes
    with pytest.raises(ValueError, match=message):
        animatic_render(AnimaticRequest(**fields))  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["video", "image"])
def test_the_face_stays_in_frame_when_its_centre_is_given(kind: str) -> None:
    """A tall portrait whose face sits above the default crop: the enrolled face's centre keeps it in view."""
    from consent.faces import get_engine
    from moderation.media import sample_video_frames

    engine = get_engine()
    photo = photo_image("kit_harington/johnsnow_test1.jpg")
    [face] = engine.analyze(photo)
    centre = (face.box.x + face.box.width / 2) / photo.width, (face.box.y + face.box.height / 2) / photo.height

    def whole(image: Image.Image) -> int:
        """Faces entirely inside the frame (the engine also finds a face the frame cuts in half)."""
        return sum(
            1
            for found in engine.analyze(image)
            if found.box.x > 1
            and found.box.y > 1
            and found.box.x + found.box.width < image.width - 1
            and found.box.y + found.box.height < image.height - 1
        )

    def faces_seen(focus: list) -> list[int]:
        output = animatic_render(AnimaticRequest(prompt=PROMPT, kind=kind, photos=[photo], focus=focus, seed=1))
        if kind == "image":
            return [whole(Image.open(io.BytesIO(output.data)).convert("RGB"))]
        frames = sample_video_frames(output.data, every_seconds=0.5)
        return [whole(frame.image) for frame in frames if (frame.time or 0) >= 2.0]  # the photo

    with_focus, without = faces_seen([centre]), faces_seen([])

    assert with_focus and all(count == 1 for count in with_focus)
    assert without.count(1) < len(without)  # the default crop (upper third) cuts this face off
