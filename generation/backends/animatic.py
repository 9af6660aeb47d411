"""The animatic backend: a storyboard clip from the consented cameo photos and the prompt.

It needs no model weights. A video is a title card with the prompt, then each photo with a slow
pan and zoom (Ken Burns, deterministic from the seed), joined by cross-fades, encoded as H.264
(``libx264``, yuv420p) in an MP4 container in memory. An image is a single PNG storyboard frame:
the photos tiled above a caption band with the prompt. It exists for pre-production previews and
for machines without model weights.
"""

from __future__ import annotations

import io
import logging
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

logger = logging.getLogger(__name__)

Kind = Literal["image", "video"]
ContentType = Literal["video/mp4", "image/png"]
Progress = Callable[[int, int], None]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

MIN_SIZE = 64
MAX_SIZE = 1920
MAX_FPS = 60
MAX_SECONDS_PER_PHOTO = 30.0
MAX_PHOTOS = 32
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
#: How much larger than the frame a photo is prepared, so that the pan has room to move.
_OVERSCAN = 1.3
#: Where a photo is cropped without a focus point: the upper part, where faces sit in most portraits.
_DEFAULT_CENTERING = (0.5, 0.3)
_BACKGROUND = (18, 20, 26)
_TEXT = (236, 236, 240)
_MUTED = (150, 154, 168)


@dataclass(frozen=True)
class AnimaticRequest:
    """What to compose: the prompt, the kind of output, the consented photos and the clip's shape."""

    prompt: str
    kind: Kind
    photos: Sequence[Image.Image] = field(default_factory=list)
    #: Per photo (same order), the point to keep in frame, as fractions of its width and height
    #: (the centre of the person's face), or None; an empty sequence means none for every photo.
    focus: Sequence[tuple[float, float] | None] = field(default_factory=list)
    width: int = 640
    height: int = 360
    fps: int = 12
    seconds_per_photo: float = 2.0
    seed: int = 0


@dataclass(frozen=True)
class AnimaticOutput:
    """The rendered file and its shape; ``fps`` is 0 and ``duration`` 0.0 for an image."""

    data: bytes
    content_type: ContentType
    width: int
    height: int
    frames: int
    fps: int
    duration: float


def validate(request: AnimaticRequest) -> None:
    """Raise ValueError with a clear message when the request cannot be rendered."""
    if request.kind not in ("image", "video"):
        raise ValueError("kind must be 'image' or 'video', not %r" % (request.kind,))
    for name, value in (("width", request.width), ("height", request.height)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("%s must be an integer, not %r" % (name, value))
        if value < MIN_SIZE or value > MAX_SIZE:
            raise ValueError("%s must be between %d and %d pixels, not %d" % (name, MIN_SIZE, MAX_SIZE, value))
        if value % 2:
            raise ValueError("%s must be an even number of pixels (H.264 yuv420p), not %d" % (name, value))
    if not isinstance(request.fps, int) or isinstance(request.fps, bool) or not 1 <= request.fps <= MAX_FPS:
        raise ValueError("fps must be an integer between 1 and %d, not %r" % (MAX_FPS, request.fps))
    if not 0 < request.seconds_per_photo <= MAX_SECONDS_PER_PHOTO:
        raise ValueError(
            "seconds_per_photo must be above 0 and at most %g, not %r"
            % (MAX_SECONDS_PER_PHOTO, request.seconds_per_photo)
        )
    if len(request.photos) > MAX_PHOTOS:
        raise ValueError("at most %d photos can be composed, not %d" % (MAX_PHOTOS, len(request.photos)))
    if request.focus and len(request.focus) != len(request.photos):
        raise ValueError("give one focus point (or None) per photo: %d for %d photos"
                         % (len(request.focus), len(request.photos)))  # fmt: skip
    for point in request.focus or ():
        if point is not None and not (
            len(point) == 2 and all(isinstance(v, int | float) and 0.0 <= v <= 1.0 for v in point)
        ):
            raise ValueError("a focus point is two fractions between 0 and 1, not %r" % (point,))


def animatic_render(request: AnimaticRequest, *, progress: Progress | None = None) -> AnimaticOutput:
    """Render the request as an MP4 storyboard clip or a PNG storyboard frame."""
    validate(request)
    photos = [_upright(photo) for photo in request.photos]
    if request.kind == "image":
        return _render_image(request, photos, progress)
    return _render_video(request, photos, progress)


# --- text -----------------------------------------------------------------------------------------


def _font(size: int, *, bold: bool = False) -> Font:
    """Return DejaVu Sans at ``size`` pixels when installed, else Pillow's default font."""
    path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, max_width: float, max_lines: int) -> list[str]:
    """Break ``text`` into lines no wider than ``max_width``; end with an ellipsis past ``max_lines``."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        while draw.textlength(word, font=font) > max_width and len(word) > 1:
            # Break a word that is wider than a line on its own.
            cut = len(word) - 1
            while cut > 1 and draw.textlength(word[:cut], font=font) > max_width:
                cut -= 1
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = "%s %s" % (current, word) if current else word
        if draw.textlength(candidate, font=font) <= max_width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and draw.textlength(last + "…", font=font) > max_width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def _draw_text_block(
    image: Image.Image, box: tuple[int, int, int, int], text: str, size: int, *, label: str | None = None
) -> None:
    """Draw ``text`` wrapped and centred in ``box`` (left, top, right, bottom), with an optional small label."""
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    font = _font(size)
    line_height = int(size * 1.3)
    label_font = _font(max(8, size * 2 // 3), bold=True)
    label_height = int(size * 1.2) if label else 0
    max_lines = max(1, (height - label_height) // line_height)
    lines = _wrap(draw, text.strip() or "(no prompt)", font, width * 0.9, max_lines)
    y = top + (height - label_height - line_height * len(lines)) // 2
    if label:
        draw.text((left + width / 2, y), label, font=label_font, fill=_MUTED, anchor="ma")
        y += label_height
    for line in lines:
        draw.text((left + width / 2, y), line, font=font, fill=_TEXT, anchor="ma")
        y += line_height


def _title_card(request: AnimaticRequest) -> Image.Image:
    """Return the title card: a dark, seed-tinted gradient with the prompt wrapped in the middle."""
    rng = random.Random(request.seed)
    tint = np.array([rng.randint(20, 70), rng.randint(20, 70), rng.randint(40, 90)], dtype=np.float32)
    ramp = np.linspace(0.0, 1.0, request.height, dtype=np.float32)[:, None, None]
    pixels = np.array(_BACKGROUND, dtype=np.float32) * (1 - ramp) + tint * ramp
    pixels = np.broadcast_to(pixels, (request.height, request.width, 3)).astype(np.uint8)
    card = Image.fromarray(pixels, "RGB")
    _draw_text_block(
        card,
        (0, 0, request.width, request.height),
        request.prompt,
        max(10, request.height // 14),
        label="ANIMATIC",
    )
    return card


# --- photos ---------------------------------------------------------------------------------------


def _upright(photo: Image.Image) -> Image.Image:
    """Return the photo with its EXIF orientation applied, in RGB."""
    return ImageOps.exif_transpose(photo).convert("RGB")


def _cover(
    photo: Image.Image, width: int, height: int, focus: tuple[float, float] | None = None
) -> tuple[Image.Image, tuple[float, float]]:
    """Return the photo scaled to cover ``width`` × ``height`` and cropped to it, and where ``focus``
    landed in the crop (pixels).

    The crop is centred on ``focus`` (fractions of the photo's size: a face's centre) as far as the
    photo allows; without it, the upper part is kept, where faces sit in most portraits.
    """
    scale = max(width / photo.width, height / photo.height)
    scaled_width, scaled_height = photo.width * scale, photo.height * scale
    if focus is None:
        centering = _DEFAULT_CENTERING
    else:

        def fraction(at: float, scaled: float, size: int) -> float:
            slack = scaled - size
            return min(max((at * scaled - size / 2) / slack, 0.0), 1.0) if slack > 0 else 0.5

        centering = (fraction(focus[0], scaled_width, width), fraction(focus[1], scaled_height, height))
    image = ImageOps.fit(photo, (width, height), method=Image.Resampling.LANCZOS, centering=centering)
    left = centering[0] * max(scaled_width - width, 0.0)
    top = centering[1] * max(scaled_height - height, 0.0)
    point = focus or (0.5, 0.5)
    return image, (point[0] * scaled_width - left, point[1] * scaled_height - top)


@dataclass(frozen=True)
class _KenBurns:
    """A slow pan and zoom across a prepared (overscanned) photo, from one crop box to another."""

    source: Image.Image
    start: tuple[float, float, float, float]
    end: tuple[float, float, float, float]
    frames: int

    def frame(self, index: int, size: tuple[int, int]) -> Image.Image:
        """Return frame ``index`` of the move, eased in and out."""
        t = index / max(1, self.frames - 1)
        eased = 0.5 - 0.5 * math.cos(math.pi * t)
        box = tuple(a + (b - a) * eased for a, b in zip(self.start, self.end, strict=True))
        return self.source.transform(size, Image.Transform.EXTENT, box, resample=Image.Resampling.BILINEAR)


def _ken_burns(
    photo: Image.Image,
    width: int,
    height: int,
    frames: int,
    rng: random.Random,
    focus: tuple[float, float] | None = None,
) -> _KenBurns:
    """Plan a pan and zoom over ``photo`` for ``frames`` frames, chosen by ``rng``, keeping ``focus`` in view."""
    source, (focus_x, focus_y) = _cover(photo, round(width * _OVERSCAN), round(height * _OVERSCAN), focus)
    # The widest box keeps a small margin, so that the pan has room to move at either end.
    wide, tight = 0.94, 1.0 / rng.uniform(1.12, 1.25)

    def box(scale: float) -> tuple[float, float, float, float]:
        box_width, box_height = source.width * scale, source.height * scale
        if focus is None:
            x = rng.uniform(0, source.width - box_width)
            # Faces sit high in portraits, so the box stays in the upper part of the vertical slack.
            y = rng.uniform(0, (source.height - box_height) * 0.6)
        else:  # drift a little around the face, never losing it
            x = focus_x - box_width / 2 + rng.uniform(-0.08, 0.08) * box_width
            y = focus_y - box_height / 2 + rng.uniform(-0.08, 0.08) * box_height
            x = min(max(x, 0.0), source.width - box_width)
            y = min(max(y, 0.0), source.height - box_height)
        return (x, y, x + box_width, y + box_height)

    scales = (wide, tight) if rng.random() < 0.5 else (tight, wide)
    return _KenBurns(source=source, start=box(scales[0]), end=box(scales[1]), frames=frames)


def _focus_points(request: AnimaticRequest, photos: Sequence[Image.Image]) -> list[tuple[float, float] | None]:
    return list(request.focus) if request.focus else [None] * len(photos)


# --- video ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    """A stretch of the clip: ``frames`` frames drawn by ``draw`` from a local frame index."""

    frames: int
    draw: Callable[[int], Image.Image]


def _plan(request: AnimaticRequest, photos: Sequence[Image.Image]) -> tuple[list[_Segment], int]:
    """Return the segments (title card, then each photo) and the cross-fade length in frames."""
    rng = random.Random(request.seed)
    size = (request.width, request.height)
    per_photo = max(2, round(request.fps * request.seconds_per_photo))
    title = _title_card(request)
    title_frames = max(request.fps, per_photo) if not photos else per_photo
    fade_in = min(max(1, request.fps // 4), title_frames // 3)

    def draw_title(index: int) -> Image.Image:
        if index < fade_in:
            return Image.blend(Image.new("RGB", size, (0, 0, 0)), title, (index + 1) / (fade_in + 1))
        return title

    segments = [_Segment(frames=title_frames, draw=draw_title)]
    for photo, focus in zip(photos, _focus_points(request, photos), strict=True):
        move = _ken_burns(photo, request.width, request.height, per_photo, rng, focus)
        segments.append(_Segment(frames=per_photo, draw=lambda index, move=move: move.frame(index, size)))
    fade = min(max(1, request.fps // 2), per_photo // 3) if photos else 0
    return segments, fade


def _timeline(segments: Sequence[_Segment], fade: int) -> tuple[list[int], int]:
    """Return each segment's first frame on the clip and the clip's length, segments overlapping by ``fade``."""
    starts: list[int] = []
    position = 0
    for segment in segments:
        starts.append(position)
        position += segment.frames - fade
    return starts, position + fade


def _frame_at(index: int, segments: Sequence[_Segment], starts: Sequence[int], fade: int) -> Image.Image:
    """Return frame ``index`` of the clip, cross-fading where two segments overlap."""
    active = [k for k, start in enumerate(starts) if start <= index < start + segments[k].frames]
    if len(active) == 1 or fade == 0:
        k = active[-1]
        return segments[k].draw(index - starts[k])
    previous, following = active[0], active[-1]
    alpha = (index - starts[following] + 1) / (fade + 1)
    return Image.blend(
        segments[previous].draw(index - starts[previous]),
        segments[following].draw(index - starts[following]),
        alpha,
    )


def _render_video(request: AnimaticRequest, photos: Sequence[Image.Image], progress: Progress | None) -> AnimaticOutput:
    """Encode the storyboard clip as H.264 in an MP4, in memory."""
    from moderation.media import encode_mp4

    segments, fade = _plan(request, photos)
    starts, total = _timeline(segments, fade)
    logger.info(
        "Rendering an animatic of %d frames at %dx%d, %d fps, from %d photos",
        total,
        request.width,
        request.height,
        request.fps,
        len(photos),
    )
    data = encode_mp4(
        (_frame_at(index, segments, starts, fade) for index in range(total)),
        fps=request.fps,
        width=request.width,
        height=request.height,
        tune="stillimage",
        progress=(lambda done: progress(done, total)) if progress is not None else None,
    )
    return AnimaticOutput(
        data=data,
        content_type="video/mp4",
        width=request.width,
        height=request.height,
        frames=total,
        fps=request.fps,
        duration=total / request.fps,
    )


# --- image ----------------------------------------------------------------------------------------


def _render_image(request: AnimaticRequest, photos: Sequence[Image.Image], progress: Progress | None) -> AnimaticOutput:
    """Compose one PNG storyboard frame: the photos tiled above a caption band with the prompt."""
    width, height = request.width, request.height
    if not photos:
        board = _title_card(request)
    else:
        board = Image.new("RGB", (width, height), _BACKGROUND)
        band = max(24, height // 4)
        gap = max(2, min(width, height) // 60)
        count = len(photos)
        area_width, area_height = width - gap, height - band - gap
        columns = max(1, min(count, round(math.sqrt(count * area_width / max(1, area_height)))))
        rows = math.ceil(count / columns)
        cell_width = max(1, area_width // columns - gap)
        cell_height = max(1, area_height // rows - gap)
        for position, (photo, focus) in enumerate(zip(photos, _focus_points(request, photos), strict=True)):
            row, column = divmod(position, columns)
            board.paste(
                _cover(photo, cell_width, cell_height, focus)[0],
                (gap + column * (cell_width + gap), gap + row * (cell_height + gap)),
            )
        _draw_text_block(board, (0, height - band, width, height), request.prompt, max(10, band // 4))
    buffer = io.BytesIO()
    board.save(buffer, format="PNG")
    if progress is not None:
        progress(1, 1)
    return AnimaticOutput(
        data=buffer.getvalue(),
        content_type="image/png",
        width=width,
        height=height,
        frames=1,
        fps=0,
        duration=0.0,
    )
