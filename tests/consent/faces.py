"""The shared test photos (``/work/shared/faces``) and ways to vary them.

Other tests reuse these: ``FACES_DIR``, ``faces_manifest()``, ``photo_bytes()`` and the
variations (crop, rotation, resizing, JPEG re-encoding, brightness, blur, EXIF rotation).
"""

from __future__ import annotations

import functools
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps


def _faces_dir() -> Path:
    """Find the shared test photos: $SIGILLO_TEST_FACES_DIR, ../shared/faces beside the checkout, or /work/shared/faces."""
    candidates = [
        os.environ.get("SIGILLO_TEST_FACES_DIR", ""),
        Path(__file__).resolve().parents[3] / "shared" / "faces",
        "/work/shared/faces",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "manifest.json").is_file():
            return Path(candidate)
    raise RuntimeError("The test photos were not found; set SIGILLO_TEST_FACES_DIR to the shared faces folder.")


FACES_DIR = _faces_dir()

#: How ``ImageOps.exif_transpose`` undoes each EXIF orientation; each of these is its own
#: inverse except the two quarter turns, which undo each other.
_EXIF_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_INVERSE = {
    Image.Transpose.ROTATE_270: Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_90: Image.Transpose.ROTATE_270,
}


@functools.cache
def faces_manifest() -> dict[str, Any]:
    """Return ``manifest.json``: ``identities`` (name → photo paths) and ``groups`` (path → names)."""
    return json.loads((FACES_DIR / "manifest.json").read_text())


def identity_photos() -> list[tuple[str, str]]:
    """Return (identity, relative path) for every single-person photo."""
    return [(identity, path) for identity, paths in faces_manifest()["identities"].items() for path in paths]


def photo_path(path: str) -> Path:
    """Return the file of one of the shared photos (``path`` as in the manifest)."""
    return FACES_DIR / path


def photo_bytes(path: str) -> bytes:
    return (FACES_DIR / path).read_bytes()


def photo_image(path: str) -> Image.Image:
    """Return the photo upright (EXIF orientation applied), in RGB."""
    with Image.open(FACES_DIR / path) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def encode(image: Image.Image, format: str = "JPEG", **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=format, **options)
    return out.getvalue()


def crop(image: Image.Image, box: Any, margin: float = 0.6) -> Image.Image:
    """Return the region of ``box`` (x, y, width, height) widened by ``margin`` of its size on each side."""
    x, y, width, height = box.x, box.y, box.width, box.height
    return image.crop(
        (
            max(0, int(x - margin * width)),
            max(0, int(y - margin * height)),
            min(image.width, int(x + width * (1 + margin))),
            min(image.height, int(y + height * (1 + margin))),
        )
    )


def rotate(image: Image.Image, degrees: float) -> Image.Image:
    """Rotate counter-clockwise about the centre, keeping every pixel (corners filled grey)."""
    return image.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(128, 128, 128))


def resize(image: Image.Image, factor: float) -> Image.Image:
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS)


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    """Return the image after a round trip through JPEG at ``quality``."""
    with Image.open(io.BytesIO(encode(image, "JPEG", quality=quality))) as reencoded:
        return reencoded.convert("RGB")


def brightness(image: Image.Image, factor: float) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(factor)


def blurred(image: Image.Image, radius: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def exif_rotated_bytes(image: Image.Image, orientation: int = 6) -> bytes:
    """Return a JPEG whose pixels are turned and whose EXIF orientation tag turns them back."""
    undo = _EXIF_TRANSPOSE[orientation]
    stored = image.transpose(_INVERSE.get(undo, undo))
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, "JPEG", quality=95, exif=exif)


def on_canvas(image: Image.Image, size: tuple[int, int], at: tuple[int, int], colour: int = 200) -> Image.Image:
    """Return ``image`` pasted at ``at`` on a plain canvas of ``size``."""
    canvas = Image.new("RGB", size, (colour, colour, colour))
    canvas.paste(image, at)
    return canvas


def gradient(width: int = 640, height: int = 480) -> Image.Image:
    """Return a smooth colour gradient: an image with no face in it."""
    xs = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    ys = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    pixels = np.stack([xs + 0 * ys, ys + 0 * xs, (xs + ys) / 2], axis=-1).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")
