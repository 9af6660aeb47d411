"""The invisible watermark on real photos: embed, read back, and what re-encoding it survives."""

import uuid

import pytest
from PIL import Image

from generation.provenance.watermark import (
    PREFIX_BITS,
    WATERMARK_METHOD,
    watermark_embed,
    watermark_payload,
    watermark_read,
)
from tests.consent.faces import brightness, gradient, jpeg, photo_image

GENERATION_ID = uuid.UUID("5f0c2a9e-7b41-4d3a-9c6e-1e2f3a4b5c6d")


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return photo_image("obama/obama2.jpg")


@pytest.fixture(scope="module")
def marked(photo: Image.Image) -> Image.Image:
    return watermark_embed(photo, GENERATION_ID)


@pytest.fixture(scope="module")
def marked_crop(photo: Image.Image) -> Image.Image:
    return watermark_embed(photo.crop((50, 200, 562, 712)), GENERATION_ID)


def assert_reads_id(image: Image.Image) -> None:
    reading = watermark_read(image)
    assert reading.found
    assert reading.payload_hex == watermark_payload(GENERATION_ID).hex() == GENERATION_ID.hex[:16]
    assert reading.method == WATERMARK_METHOD
    assert reading.bits == PREFIX_BITS == 64


def test_payload_is_the_uuid_prefix() -> None:
    assert watermark_payload(GENERATION_ID) == GENERATION_ID.bytes[:8]


def test_embed_keeps_size_and_reads_back(photo: Image.Image, marked: Image.Image, marked_crop: Image.Image) -> None:
    assert marked.size == photo.size
    assert marked.mode == "RGB"
    assert marked_crop.size == (512, 512)
    assert_reads_id(marked)
    assert_reads_id(marked_crop)


@pytest.mark.parametrize("quality", [90, 75, 50])
def test_survives_jpeg(marked: Image.Image, marked_crop: Image.Image, quality: int) -> None:
    assert_reads_id(jpeg(marked, quality))
    assert_reads_id(jpeg(marked_crop, quality))


@pytest.mark.parametrize("factor", [0.8, 1.2])
def test_survives_brightness(marked: Image.Image, factor: float) -> None:
    assert_reads_id(brightness(marked, factor))


def test_resized_image_reads_not_found_rather_than_a_wrong_id(marked: Image.Image) -> None:
    resized = marked.resize((round(marked.width * 0.75), round(marked.height * 0.75)), Image.Resampling.LANCZOS)
    reading = watermark_read(resized)
    assert not reading.found
    assert reading.payload_hex is None


@pytest.mark.parametrize("path", ["obama/obama2.jpg", "biden/biden.jpg", "rose_leslie/img1.jpg"])
def test_unmarked_photo_reads_not_found(path: str) -> None:
    reading = watermark_read(photo_image(path))
    assert not reading.found
    assert reading.payload_hex is None


def test_flat_and_smooth_images_read_not_found() -> None:
    assert not watermark_read(Image.new("RGB", (512, 512), (0, 0, 0))).found
    assert not watermark_read(Image.new("RGB", (512, 512), (255, 255, 255))).found
    assert not watermark_read(gradient()).found


def test_alpha_is_kept() -> None:
    image = gradient(512, 512).convert("RGBA")
    image.putalpha(128)
    marked = watermark_embed(image, GENERATION_ID)
    assert marked.mode == "RGBA"
    assert marked.getchannel("A").getextrema() == (128, 128)


@pytest.mark.parametrize("size", [(255, 512), (512, 200), (100, 100)])
def test_too_small_image_is_refused(size: tuple[int, int]) -> None:
    small = Image.new("RGB", size, (120, 130, 140))
    with pytest.raises(ValueError, match="at least 256x256"):
        watermark_embed(small, GENERATION_ID)
    with pytest.raises(ValueError, match="at least 256x256"):
        watermark_read(small)
