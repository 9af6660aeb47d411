"""Reading uploaded reference media for the gate: images, and sampled frames of videos.

Images go through the face engine's loader (EXIF orientation, size limits); anything that is
not an image is tried as a video with PyAV and sampled by ``sample_video_frames``, the one sampler
of checks, scans and output scans: four frames a second by default, more on shot changes. A file
that is neither is refused by the caller (fail closed). ``encode_mp4`` is the one video encoder.
"""

import hashlib
import io
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from PIL import Image

from consent.faces.base import ImageRejectCode, ImageRejected, load_image


class MediaUndecodable(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Frame:
    image: Image.Image
    index: int | None  # frame number in a video, None for a still image
    time: float | None  # seconds from the start of a video


@dataclass(frozen=True)
class DecodedMedia:
    name: str
    kind: str  # "image" or "video"
    size: int
    sha256: str
    frames: tuple[Frame, ...]
    duration: float | None = None

    def summary(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "size": self.size,
            "sha256": self.sha256,
            "frames": len(self.frames),
            "duration": self.duration,
            "sampled": [
                {"frame": frame.index, "time": frame.time, "width": frame.image.width, "height": frame.image.height}
                for frame in self.frames
            ],
        }


#: Containers FFmpeg may open, recognised by their first bytes (never by the file name or FFmpeg's
#: own probing, which would also open SDP, HLS or concat playlists that reach the network or the
#: disk): the demuxer is then named explicitly.
VIDEO_SIGNATURES = (
    (4, b"ftyp", "mov"),  # MP4, MOV, M4V, 3GP
    (0, b"\x1a\x45\xdf\xa3", "matroska"),  # WebM, MKV
    (0, b"RIFF", "avi"),  # checked below: RIFF....AVI
)
VIDEO_FORMATS_NAMED = "MP4, MOV, WebM, MKV, AVI or MPEG-TS"


def video_container(data: bytes) -> str | None:
    """The FFmpeg demuxer for ``data`` if it starts like an accepted container, else None."""
    for offset, magic, demuxer in VIDEO_SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            if demuxer == "avi" and data[8:12] != b"AVI ":
                return None
            return demuxer
    if len(data) >= 377 and data[0] == 0x47 and data[188] == 0x47 and data[376] == 0x47:
        return "mpegts"
    return None


def _is_animation(data: bytes) -> bool:
    """A GIF, APNG or animated WebP: every frame is looked at, as in a video."""
    return (
        data[:6] in (b"GIF87a", b"GIF89a")
        or (data[:8] == b"\x89PNG\r\n\x1a\n" and b"acTL" in data[:4096])
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP" and b"ANIM" in data[:4096])
    )


#: Mean absolute difference (0-255) between tiny grey thumbnails of two consecutive frames above
#: which the second starts a new shot, and is sampled whatever the interval says.
SHOT_CHANGE = 28.0
#: Side lengths of the grey thumbnail compared for shot changes.
THUMBNAIL = (32, 18)


def sample_video_frames(
    data: bytes,
    *,
    every_seconds: float | None = None,
    max_frames: int | None = None,
    max_seconds: float | None = None,
    shot_changes: bool = True,
) -> list[Frame]:
    """Return the frames of a video the checks look at: one every ``every_seconds`` of presentation
    time (first frame included), plus the first frame of every new shot, at most ``max_frames``.

    The one sampler of checks, scans and output scans. The whole video is always covered: when it
    is longer than ``every_seconds * max_frames``, the interval is widened (from the container's
    duration up front, else by dropping every other sample while decoding) rather than the end
    left unscanned. A video longer than ``max_seconds`` (by its container or by its frames' times)
    is refused. The defaults are the settings ``SIGILLO_VIDEO_SAMPLE_INTERVAL``,
    ``SIGILLO_VIDEO_MAX_FRAMES`` and ``SIGILLO_VIDEO_MAX_SECONDS``. Raise ``MediaUndecodable`` for
    anything PyAV cannot read, a file without video, or frames over ``SIGILLO_MAX_IMAGE_PIXELS``.
    """
    import av
    import numpy as np

    every_seconds = every_seconds or settings.SIGILLO_VIDEO_SAMPLE_INTERVAL
    max_frames = max_frames or settings.SIGILLO_VIDEO_MAX_FRAMES
    if max_seconds is None:
        max_seconds = settings.SIGILLO_VIDEO_MAX_SECONDS
    if every_seconds <= 0 or max_frames < 1:
        raise ValueError("every_seconds must be positive and max_frames at least 1")
    max_pixels = settings.SIGILLO_MAX_IMAGE_PIXELS
    too_long = MediaUndecodable("the video is longer than %s seconds" % ("%g" % max_seconds if max_seconds else ""))
    demuxer = video_container(data)
    if demuxer is None:
        raise MediaUndecodable("not an image or a video Sigillo reads (JPEG, PNG, WebP, GIF; %s)" % VIDEO_FORMATS_NAMED)
    max_decoded, decode_budget = settings.SIGILLO_VIDEO_MAX_DECODED_FRAMES, settings.SIGILLO_VIDEO_MAX_DECODE_SECONDS
    # Memory is bounded: the frames kept (at most max_frames + 1 at once) share a pixel budget.
    frame_pixels = settings.SIGILLO_VIDEO_MAX_SAMPLED_PIXELS // (max_frames + 1)
    started = time.monotonic()
    try:
        container = av.open(io.BytesIO(data), mode="r", format=demuxer)
    except Exception as error:  # PyAV raises many kinds of errors for junk input
        raise MediaUndecodable("not an image or a video Sigillo can read (%s)" % type(error).__name__) from None
    with container:
        if not container.streams.video:
            raise MediaUndecodable("the file has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate or stream.guessed_rate or 0) or None
        duration = container.duration / 1_000_000 if container.duration else None
        if max_seconds and duration and duration > max_seconds:
            raise too_long
        interval = every_seconds
        if duration:
            interval = max(every_seconds, duration / max_frames)
        picks: list[Frame] = []
        next_time: float | None = None
        previous: Any = None
        try:
            for index, frame in enumerate(container.decode(stream)):
                if index >= max_decoded:
                    raise MediaUndecodable("the video has more than %d frames" % max_decoded)
                if time.monotonic() - started > decode_budget:
                    raise MediaUndecodable("the video took longer than %g s to decode" % decode_budget)
                seconds = float(frame.time) if frame.time is not None else (index / rate if rate else float(index))
                if max_seconds and seconds > max_seconds:
                    raise too_long
                new_shot = False
                if shot_changes:
                    thumbnail = frame.to_ndarray(format="gray", width=THUMBNAIL[0], height=THUMBNAIL[1])
                    thumbnail = thumbnail.astype(np.int16)
                    if previous is not None:
                        new_shot = float(np.abs(thumbnail - previous).mean()) > SHOT_CHANGE
                    previous = thumbnail
                if next_time is not None and seconds < next_time - 1e-6 and not new_shot:
                    continue
                if max_pixels and frame.width * frame.height > max_pixels:
                    raise MediaUndecodable("the video's frames are too large")
                size = fitted_size(frame.width, frame.height, frame_pixels)
                image = frame.to_image(width=size[0], height=size[1]).convert("RGB")
                picks.append(Frame(image=image, index=index, time=seconds))
                start = picks[0].time or 0.0
                next_time = start + interval * (int((seconds - start) / interval + 1e-6) + 1)
                if len(picks) > max_frames:  # longer than its duration said: halve the sampling rate
                    picks = picks[::2]
                    interval *= 2
                    next_time = start + interval * (int((seconds - start) / interval + 1e-6) + 1)
        except (MediaUndecodable, SoftTimeLimitExceeded):
            raise
        except Exception as error:
            raise MediaUndecodable("the video could not be decoded (%s)" % type(error).__name__) from None
    if not picks:
        raise MediaUndecodable("the video has no frames")
    return picks


def fitted_size(width: int, height: int, max_pixels: int) -> tuple[int, int]:
    """``(width, height)``, scaled down (aspect kept) to at most ``max_pixels`` pixels."""
    if width * height <= max_pixels:
        return width, height
    scale = (max_pixels / (width * height)) ** 0.5
    return max(1, int(width * scale)), max(1, int(height * scale))


def animation_frames(data: bytes, *, max_frames: int | None = None) -> list[Frame]:
    """Every frame of a GIF, APNG or animated WebP (evenly thinned to ``max_frames``, default
    ``SIGILLO_VIDEO_MAX_FRAMES``), in its colour channels, with its time; or raise MediaUndecodable."""
    from PIL import ImageSequence

    from consent.faces.base import ANIMATED_FORMATS, image_rgb

    max_frames = max_frames or settings.SIGILLO_VIDEO_MAX_FRAMES
    max_pixels = settings.SIGILLO_MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(data), formats=ANIMATED_FORMATS) as image:
            if image.width * image.height > max_pixels:
                raise MediaUndecodable("the image has more than %d pixels" % max_pixels)
            count = getattr(image, "n_frames", 1)
            if count > settings.SIGILLO_VIDEO_MAX_DECODED_FRAMES:
                raise MediaUndecodable(
                    "the animation has more than %d frames" % settings.SIGILLO_VIDEO_MAX_DECODED_FRAMES
                )
            wanted = (
                set(range(count))
                if count <= max_frames
                else {round(i * (count - 1) / (max_frames - 1)) for i in range(max_frames)}
            )
            frame_pixels = settings.SIGILLO_VIDEO_MAX_SAMPLED_PIXELS // len(wanted)
            budget, started = settings.SIGILLO_VIDEO_MAX_DECODE_SECONDS, time.monotonic()
            frames, elapsed = [], 0.0
            for index, frame in enumerate(ImageSequence.Iterator(image)):
                if time.monotonic() - started > budget:
                    raise MediaUndecodable("the animated image took longer than %g s to decode" % budget)
                if index in wanted:
                    rgb = image_rgb(frame.copy())
                    size = fitted_size(rgb.width, rgb.height, frame_pixels)
                    if size != rgb.size:
                        rgb = rgb.resize(size, Image.Resampling.BILINEAR)
                    frames.append(Frame(image=rgb, index=index, time=round(elapsed, 3)))
                elapsed += float(frame.info.get("duration") or 0) / 1000
    except (MediaUndecodable, SoftTimeLimitExceeded):
        raise
    except Exception as error:
        raise MediaUndecodable("the animated image could not be decoded (%s)" % type(error).__name__) from None
    if not frames:
        raise MediaUndecodable("the animated image has no frames")
    return frames


def _duration(data: bytes) -> float | None:
    import av

    try:
        with av.open(io.BytesIO(data), mode="r", format=video_container(data)) as container:
            return container.duration / 1_000_000 if container.duration else None
    except Exception:  # already decoded once: a failure here only leaves the duration unknown
        return None


def decode_media(*, name: str, data: bytes) -> DecodedMedia:
    """Decode an uploaded file into the frames the gate looks at, or raise MediaUndecodable."""
    if not data:
        raise MediaUndecodable("the file is empty")
    if len(data) > settings.SIGILLO_UPLOAD_MAX_BYTES:
        raise MediaUndecodable("the file is larger than the upload limit")
    digest = hashlib.sha256(data).hexdigest()
    if _is_animation(data):
        frames = animation_frames(data)
        duration = frames[-1].time if frames[-1].time is not None else None
        return DecodedMedia(
            name=name, kind="animation", size=len(data), sha256=digest, frames=tuple(frames), duration=duration
        )
    try:
        image = load_image(data)
    except ImageRejected as rejected:
        if rejected.code != ImageRejectCode.NOT_AN_IMAGE:
            raise MediaUndecodable(rejected.message) from None
    else:
        return DecodedMedia(name=name, kind="image", size=len(data), sha256=digest, frames=(Frame(image, None, None),))
    frames = sample_video_frames(data)
    duration = _duration(data)
    if duration is None and frames and frames[-1].time is not None:
        duration = frames[-1].time
    return DecodedMedia(name=name, kind="video", size=len(data), sha256=digest, frames=tuple(frames), duration=duration)


def encode_mp4(
    frames: Iterable[Any],
    *,
    fps: float,
    width: int,
    height: int,
    crf: int = 20,
    tune: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """Encode RGB frames (uint8 arrays of height × width × 3, or PIL images) as H.264 in an MP4, in
    memory: the one encoder of the backends and of the release's watermarked re-encoding."""
    import av
    import numpy as np

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast", **({"tune": tune} if tune else {})}
        for number, frame in enumerate(frames, start=1):
            pixels = np.asarray(frame, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
            if progress is not None:
                progress(number)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()
