"""Reading uploaded reference media for the gate: images, and sampled frames of videos.

Images go through the face engine's loader (EXIF orientation, size limits); anything that is
not an image is tried as a video with PyAV, and up to ``SIGILLO_VIDEO_SAMPLE_FRAMES`` frames
spread over its length are taken. A file that is neither is refused by the caller (fail closed).
"""

import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from PIL import Image

from consent.faces.base import ImageRejected, load_image


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
        }


#: A video whose container does not say how many frames it has is read up to this many.
MAX_FRAMES_WITHOUT_LENGTH = 3000


def _spread(total: int, limit: int) -> list[int]:
    """Return up to ``limit`` frame numbers spread evenly over ``total`` frames, first and last included."""
    if total <= 0:
        return []
    return sorted({round(i * (total - 1) / max(1, limit - 1)) for i in range(min(limit, total))})


def _frame(frame: object, index: int) -> Frame:
    image = frame.to_image().convert("RGB")  # type: ignore[attr-defined]
    if image.width * image.height > settings.SIGILLO_MAX_IMAGE_PIXELS:
        raise MediaUndecodable("the video's frames are too large")
    seconds = frame.time  # type: ignore[attr-defined]
    return Frame(image=image, index=index, time=float(seconds) if seconds is not None else None)


def _video_frames(data: bytes, limit: int) -> tuple[list[Frame], float | None]:
    import av

    try:
        container = av.open(io.BytesIO(data), mode="r")
    except Exception as error:  # PyAV raises many kinds of errors for junk input
        raise MediaUndecodable("not an image or a video Sigillo can read (%s)" % type(error).__name__) from None
    with container:
        streams = container.streams.video
        if not streams:
            raise MediaUndecodable("the file has no video stream")
        stream = streams[0]
        stream.thread_type = "AUTO"
        duration = float(container.duration / 1_000_000) if container.duration else None
        total = stream.frames or 0
        frames: list[Frame] = []
        try:
            if total > 0:
                picks = set(_spread(total, limit))
                for index, frame in enumerate(container.decode(stream)):
                    if index in picks:
                        frames.append(_frame(frame, index))
                    if index >= max(picks):
                        break
            else:  # length unknown: decode (up to a cap), then keep frames spread over what was read
                decoded = []
                for index, frame in enumerate(container.decode(stream)):
                    decoded.append(frame)
                    if index + 1 >= MAX_FRAMES_WITHOUT_LENGTH:
                        break
                frames = [_frame(decoded[index], index) for index in _spread(len(decoded), limit)]
        except MediaUndecodable:
            raise
        except Exception as error:
            raise MediaUndecodable("the video could not be decoded (%s)" % type(error).__name__) from None
        if not frames:
            raise MediaUndecodable("the video has no frames")
        return frames, duration


def decode_media(*, name: str, data: bytes) -> DecodedMedia:
    """Decode an uploaded file into the frames the gate looks at, or raise MediaUndecodable."""
    if not data:
        raise MediaUndecodable("the file is empty")
    if len(data) > settings.SIGILLO_UPLOAD_MAX_BYTES:
        raise MediaUndecodable("the file is larger than the upload limit")
    digest = hashlib.sha256(data).hexdigest()
    try:
        image = load_image(data)
    except ImageRejected as rejected:
        if rejected.code != "not_an_image":
            raise MediaUndecodable(rejected.message) from None
    else:
        return DecodedMedia(name=name, kind="image", size=len(data), sha256=digest, frames=(Frame(image, None, None),))
    frames, duration = _video_frames(data, settings.SIGILLO_VIDEO_SAMPLE_FRAMES)
    return DecodedMedia(name=name, kind="video", size=len(data), sha256=digest, frames=tuple(frames), duration=duration)
