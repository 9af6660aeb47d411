"""The diffusers backend: text-to-image and text-to-video from a diffusers pipeline on disk.

A pipeline is loaded with ``DiffusionPipeline.from_pretrained`` from a local directory or a model
id, from local files only unless the operator allows downloads, once per process and device. On
CUDA it runs in half precision and, when ``settings.DIFFUSERS_CPU_OFFLOAD`` is true, with model
CPU offloading. An image comes back as PNG; a video's frames are encoded as H.264 (``libx264``,
yuv420p) in an MP4 container in memory. Progress is reported from the pipeline's step callback.

torch and diffusers are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import inspect
import io
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

logger = logging.getLogger(__name__)

Kind = Literal["image", "video"]
ContentType = Literal["video/mp4", "image/png"]
Progress = Callable[[int, int], None]

MIN_STEPS, MAX_STEPS = 1, 100
MIN_SIZE, MAX_SIZE, SIZE_MULTIPLE = 64, 1024, 8
MIN_FRAMES, MAX_FRAMES = 1, 48
VIDEO_FPS = 8

_pipelines: dict[tuple[str, str, str], Any] = {}
_pipelines_lock = threading.Lock()


@dataclass(frozen=True)
class DiffusersRequest:
    """What to generate: the prompt, the kind of output, the seed, the steps and the size."""

    prompt: str
    kind: Kind = "image"
    seed: int = 0
    steps: int = 25
    width: int = 512
    height: int = 512
    frames: int = 16


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("%s must be an integer, not %r" % (name, value))
    if value < low or value > high:
        raise ValueError("%s must be between %d and %d, not %d" % (name, low, high, value))
    return value


def validate(request: DiffusersRequest) -> None:
    """Raise ValueError with a clear message when the request is outside the configured limits."""
    if request.kind not in ("image", "video"):
        raise ValueError("kind must be 'image' or 'video', not %r" % (request.kind,))
    if not isinstance(request.prompt, str) or not request.prompt.strip():
        raise ValueError("prompt must not be empty")
    _check_int("seed", request.seed, 0, 2**63 - 1)
    _check_int("steps", request.steps, MIN_STEPS, MAX_STEPS)
    for name, value in (("width", request.width), ("height", request.height)):
        _check_int(name, value, MIN_SIZE, MAX_SIZE)
        if value % SIZE_MULTIPLE:
            raise ValueError("%s must be a multiple of %d, not %d" % (name, SIZE_MULTIPLE, value))
    if request.kind == "video":
        _check_int("frames", request.frames, MIN_FRAMES, MAX_FRAMES)


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _cpu_offload_enabled() -> bool:
    from django.conf import settings

    return bool(getattr(settings, "DIFFUSERS_CPU_OFFLOAD", False))


def load_pipeline(model_path: str, *, kind: Kind, device: str | None = None, allow_downloads: bool = False) -> Any:
    """Return the pipeline at ``model_path`` for ``kind``, loading it once per process and device.

    ``model_path`` is a local directory or a model id; it is read from local files only unless
    ``allow_downloads`` is true. Raise ValueError when the pipeline cannot produce ``kind``.
    """
    if kind not in ("image", "video"):
        raise ValueError("kind must be 'image' or 'video', not %r" % (kind,))
    device = device or _default_device()
    key = (str(model_path), kind, device)
    with _pipelines_lock:
        pipeline = _pipelines.get(key)
        if pipeline is None:
            pipeline = _load(str(model_path), kind=kind, device=device, allow_downloads=allow_downloads)
            _pipelines[key] = pipeline
    return pipeline


def _load(model_path: str, *, kind: Kind, device: str, allow_downloads: bool) -> Any:
    import torch
    from diffusers import DiffusionPipeline

    on_cuda = device.startswith("cuda")
    logger.info("Loading diffusers pipeline %s for %s on %s", model_path, kind, device)
    pipeline = DiffusionPipeline.from_pretrained(
        model_path,
        local_files_only=not allow_downloads,
        dtype=torch.float16 if on_cuda else torch.float32,
    )
    produces_video = "Video" in type(pipeline).__name__
    if produces_video != (kind == "video"):
        raise ValueError("%s at %s cannot produce a %s" % (type(pipeline).__name__, model_path, kind))
    if on_cuda and _cpu_offload_enabled():
        pipeline.enable_model_cpu_offload(device=device)
    else:
        pipeline.to(device)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def diffusers_render(
    request: DiffusersRequest,
    *,
    model_path: str,
    progress: Progress | None = None,
    device: str | None = None,
    allow_downloads: bool = False,
) -> tuple[bytes, ContentType, dict[str, Any]]:
    """Generate the request with the pipeline at ``model_path``; return (data, content type, meta)."""
    import torch

    validate(request)
    pipeline = load_pipeline(model_path, kind=request.kind, device=device, allow_downloads=allow_downloads)
    total = request.steps

    def on_step_end(pipe: Any, step: int, timestep: Any, callback_kwargs: dict[str, Any]) -> dict[str, Any]:
        if progress is not None:
            progress(step + 1, total)
        return callback_kwargs

    def on_step(step: int, timestep: Any, latents: Any) -> None:
        if progress is not None:
            progress(step + 1, total)

    # A CPU generator keeps a seed's output the same whether the model runs on CPU or CUDA.
    generator = torch.Generator(device="cpu").manual_seed(request.seed)
    arguments: dict[str, Any] = {
        "prompt": request.prompt,
        "num_inference_steps": request.steps,
        "width": request.width,
        "height": request.height,
        "generator": generator,
    }
    # Older pipelines (TextToVideoSDPipeline among them) only offer the legacy per-step callback.
    if "callback_on_step_end" in inspect.signature(pipeline.__call__).parameters:
        arguments["callback_on_step_end"] = on_step_end
    else:
        arguments.update(callback=on_step, callback_steps=1)
    meta: dict[str, Any] = {
        "backend": "diffusers",
        "model": str(model_path),
        "pipeline": type(pipeline).__name__,
        "seed": request.seed,
        "steps": request.steps,
        "width": request.width,
        "height": request.height,
    }
    with torch.inference_mode():
        if request.kind == "image":
            image = pipeline(**arguments, output_type="pil").images[0]
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            return buffer.getvalue(), "image/png", meta
        frames = pipeline(**arguments, num_frames=request.frames, output_type="np").frames[0]
    meta.update(frames=len(frames), fps=VIDEO_FPS)
    return _encode_mp4(frames, width=request.width, height=request.height), "video/mp4", meta


def _encode_mp4(frames: Any, *, width: int, height: int) -> bytes:
    """Encode float frames in [0, 1] (frames, height, width, 3) as H.264 in an MP4, in memory."""
    import av

    pixels = (np.clip(np.asarray(frames, dtype=np.float32), 0.0, 1.0) * 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=VIDEO_FPS)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        for pixel in pixels:
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixel, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()
