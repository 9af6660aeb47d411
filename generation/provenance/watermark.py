"""Invisible watermark carrying the generation id on released images.

The mark is ``invisible-watermark``'s ``dwtDctSvd`` method on the U (chroma) channel with
``WATERMARK_SCALE``: it survives JPEG re-encoding down to about quality 50, but not resizing,
cropping or rotation (the block grid moves). The 80-bit frame is the first 8 bytes of the
generation UUID (the lookup prefix, 64 bits) and a CRC-16 of them, XOR-ed with a fixed mask so
that flat or unmarked images do not decode to a valid frame.
"""

from __future__ import annotations

import binascii
import logging
import uuid
from dataclasses import dataclass

import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

WATERMARK_METHOD = "dwtDctSvd"
#: Quantisation step on the U channel; higher survives stronger JPEG but shows more.
WATERMARK_SCALE = 100
#: Bytes of the generation UUID carried in the mark (the prefix the product looks up).
PREFIX_BYTES = 8
PREFIX_BITS = PREFIX_BYTES * 8
CHECKSUM_BYTES = 2
FRAME_BYTES = PREFIX_BYTES + CHECKSUM_BYTES
FRAME_BITS = FRAME_BYTES * 8
#: Smallest side the method accepts; ``imwatermark`` refuses under 256x256 pixels.
MIN_SIDE = 256
_MASK = bytes.fromhex("a5c3e1f0963c5a7b2d4e")


@dataclass(frozen=True)
class WatermarkReading:
    """What ``watermark_read`` found: the 64-bit id prefix as hex when the checksum holds."""

    found: bool
    payload_hex: str | None
    method: str
    bits: int


def _checksum(prefix: bytes) -> bytes:
    return binascii.crc_hqx(prefix, 0xFFFF).to_bytes(CHECKSUM_BYTES, "big")


def _mask(frame: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(frame, _MASK, strict=True))


def watermark_payload(generation_id: uuid.UUID) -> bytes:
    """Return the 8-byte id prefix the mark carries (the product looks generations up by it)."""
    return generation_id.bytes[:PREFIX_BYTES]


def _frame(generation_id: uuid.UUID) -> bytes:
    prefix = watermark_payload(generation_id)
    return _mask(prefix + _checksum(prefix))


def _check_size(image: Image.Image) -> None:
    if min(image.size) < MIN_SIDE:
        raise ValueError(
            "Image is %dx%d; the watermark needs at least %dx%d pixels." % (*image.size, MIN_SIDE, MIN_SIDE)
        )


def _to_bgr(image: Image.Image) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)


def watermark_embed(image: Image.Image, generation_id: uuid.UUID) -> Image.Image:
    """Return a copy of ``image`` (RGB, alpha kept) marked with ``generation_id``'s prefix."""
    import cv2
    from imwatermark import WatermarkEncoder

    _check_size(image)
    encoder = WatermarkEncoder()
    encoder.set_watermark("bytes", _frame(generation_id))
    marked_bgr = encoder.encode(_to_bgr(image), WATERMARK_METHOD, scales=[0, WATERMARK_SCALE, 0])
    marked = Image.fromarray(cv2.cvtColor(marked_bgr, cv2.COLOR_BGR2RGB), "RGB")
    if image.mode in ("RGBA", "LA") or "transparency" in image.info:
        marked.putalpha(image.convert("RGBA").getchannel("A"))
    logger.debug("Watermarked image %dx%d for generation %s", image.width, image.height, generation_id)
    return marked


def watermark_read(image: Image.Image) -> WatermarkReading:
    """Read the mark; ``found`` only when the frame's checksum holds."""
    from imwatermark import WatermarkDecoder

    _check_size(image)
    decoder = WatermarkDecoder("bytes", FRAME_BITS)
    frame = _mask(decoder.decode(_to_bgr(image), WATERMARK_METHOD, scales=[0, WATERMARK_SCALE, 0]))
    prefix, checksum = frame[:PREFIX_BYTES], frame[PREFIX_BYTES:]
    found = checksum == _checksum(prefix)
    return WatermarkReading(
        found=found, payload_hex=prefix.hex() if found else None, method=WATERMARK_METHOD, bits=PREFIX_BITS
    )
