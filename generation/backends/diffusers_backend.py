"""The diffusers backend: text-to-image, text-to-video and image-to-video from diffusers pipelines on disk.

A pipeline is loaded with ``DiffusionPipeline.from_pretrained`` from a local directory or a model
id, from local files only unless the operator allows downloads, once per process and device. On
CUDA it runs in half precision and, when ``settings.SIGILLO_DIFFUSERS_CPU_OFFLOAD`` is true, with model
CPU offloading. An image comes back as PNG; a video's frames are encoded as H.264 (``libx264``,
yuv420p) in an MP4 container in memory. Progress is reported from the pipeline's step callback,
or from its scheduler's steps when the pipeline offers no callback.

The consented cameo photos and the creator's reference image (both already checked by the gate)
condition the output where the pipeline can take them: an IP-Adapter loaded into the
text-to-image pipeline encodes them, and an image-to-video pipeline animates the reference (or
the first cameo photo). Text-to-video pipelines are not conditioned; ``meta["conditioning"]``
says which of these happened.

torch, diffusers and PIL are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

logger = logging.getLogger(__name__)

Kind = Literal["image", "video"]
#: What a loaded pipeline does: the two request kinds, plus animating an image.
Task = Literal["image", "video", "image_to_video"]
Conditioning = Literal["ip_adapter", "image_to_video", "none"]
ContentType = Literal["video/mp4", "image/png"]
Progress = Callable[[int, int], None]

MIN_STEPS, MAX_STEPS = 1, 100
MIN_SIZE, MAX_SIZE, SIZE_MULTIPLE = 64, 1024, 8
MIN_FRAMES, MAX_FRAMES = 1, 48
VIDEO_FPS = 8
#: Frames decoded by the VAE at once in image-to-video pipelines, which bounds their peak memory.
DECODE_CHUNK_FRAMES = 8
IP_ADAPTER_IMAGE_ENCODER_FOLDER = "image_encoder"
_IP_ADAPTER_WEIGHT_SUFFIXES = (".safetensors", ".bin")

#: (model, task, device, IP-Adapter or "", IP-Adapter scale) -> pipeline.
_pipelines: dict[tuple[str, str, str, str, float], Any] = {}
_pipelines_lock = threading.Lock()


@dataclass(frozen=True)
class DiffusersRequest:
    """What to generate: the prompt, the kind of output, the seed, the steps, the size and the images.

    ``cameo_photos`` are photos of the consented people and ``reference`` is the creator's
    reference image; the gate has checked both before they get here.
    """

    prompt: str
    kind: Kind = "image"
    seed: int = 0
    steps: int = 25
    width: int = 512
    height: int = 512
    frames: int = 16
    cameo_photos: tuple[Image.Image, ...] = ()
    reference: Image.Image | None = None


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("%s must be an integer, not %r" % (name, value))
    if value < low or value > high:
        raise ValueError("%s must be between %d and %d, not %d" % (name, low, high, value))
    return value


def _check_image(name: str, value: object) -> None:
    from PIL import Image

    if not isinstance(value, Image.Image):
        raise ValueError("%s must be a PIL image, not %s" % (name, type(value).__name__))
    if value.width < 1 or value.height < 1:
        raise ValueError("%s must not be empty (it is %dx%d pixels)" % (name, value.width, value.height))


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
    if not isinstance(request.cameo_photos, tuple):
        raise ValueError("cameo_photos must be a tuple of PIL images, not %s" % type(request.cameo_photos).__name__)
    for index, photo in enumerate(request.cameo_photos):
        _check_image("cameo_photos[%d]" % index, photo)
    if request.reference is not None:
        _check_image("reference", request.reference)


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _cpu_offload_enabled() -> bool:
    from django.conf import settings

    return settings.SIGILLO_DIFFUSERS_CPU_OFFLOAD


def load_pipeline(
    model_path: str,
    *,
    kind: Task,
    device: str | None = None,
    allow_downloads: bool = False,
    ip_adapter: str | None = None,
    ip_adapter_scale: float = 0.6,
) -> Any:
    """Return the pipeline at ``model_path`` for ``kind``, loading it once per process and device.

    ``model_path`` is a local directory or a model id; it is read from local files only unless
    ``allow_downloads`` is true. ``kind`` is "image", "video" or "image_to_video". With
    ``ip_adapter`` (text-to-image only), the IP-Adapter there is loaded into the pipeline at
    ``ip_adapter_scale``; the pipeline is cached apart from the one without it. Raise ValueError
    when the pipeline cannot do ``kind`` or take an IP-Adapter.
    """
    if kind not in ("image", "video", "image_to_video"):
        raise ValueError("kind must be 'image', 'video' or 'image_to_video', not %r" % (kind,))
    if ip_adapter and kind != "image":
        raise ValueError("an IP-Adapter can only be loaded into a text-to-image pipeline, not for %s" % kind)
    device = device or _default_device()
    scale = float(ip_adapter_scale) if ip_adapter else 0.0
    key = (str(model_path), kind, device, str(ip_adapter or ""), scale)
    with _pipelines_lock:
        pipeline = _pipelines.get(key)
        if pipeline is None:
            pipeline = _load(str(model_path), kind=kind, device=device, allow_downloads=allow_downloads)
            if ip_adapter:
                _load_ip_adapter(pipeline, str(ip_adapter), scale=scale, allow_downloads=allow_downloads)
            _pipelines[key] = pipeline
    return pipeline


def _task_of(pipeline: Any) -> Task | None:
    """Say what ``pipeline`` does from its class name and call signature; None when it is unclear."""
    name = type(pipeline).__name__
    parameters = inspect.signature(pipeline.__call__).parameters
    produces_video = "Video" in name or "I2V" in name or "num_frames" in parameters
    if not produces_video:
        return "image"
    if "image" in parameters:
        return "image_to_video"
    if "prompt" in parameters:
        return "video"
    return None


def _load(model_path: str, *, kind: Task, device: str, allow_downloads: bool) -> Any:
    import torch
    from diffusers import DiffusionPipeline

    on_cuda = device.startswith("cuda")
    logger.info("Loading diffusers pipeline %s for %s on %s", model_path, kind, device)
    pipeline = DiffusionPipeline.from_pretrained(
        model_path,
        local_files_only=not allow_downloads,
        dtype=torch.float16 if on_cuda else torch.float32,
    )
    if _task_of(pipeline) != kind:
        if kind == "image_to_video":
            raise ValueError(
                "%s at %s is not an image-to-video pipeline (it must take an image and a number of frames)"
                % (type(pipeline).__name__, model_path)
            )
        raise ValueError("%s at %s cannot produce a %s" % (type(pipeline).__name__, model_path, kind))
    text_encoder = getattr(pipeline, "text_encoder", None)
    if type(pipeline).__name__ == "I2VGenXLPipeline" and not hasattr(text_encoder, "text_model"):
        # Its default clip_skip=1 reads text_encoder.text_model, which transformers 5 no longer has.
        raise ValueError(
            "I2VGenXLPipeline at %s does not work with the installed transformers; "
            "use a StableVideoDiffusionPipeline for image-to-video" % model_path
        )
    if on_cuda and _cpu_offload_enabled():
        pipeline.enable_model_cpu_offload(device=device)
    else:
        pipeline.to(device)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def ip_adapter_location(ip_adapter: str) -> tuple[str, str, str]:
    """Return (directory or model id, subfolder, weight file name) for ``load_ip_adapter``.

    ``ip_adapter`` is a local directory holding one IP-Adapter weight file (``*.safetensors`` or
    ``*.bin``) beside an ``image_encoder/`` folder, a path to such a weight file, or a Hub path
    ``owner/name/subfolder/weights.safetensors`` (``h94/IP-Adapter/models/ip-adapter_sd15.safetensors``),
    whose image encoder is the ``image_encoder/`` folder beside the weights.
    """
    path = Path(ip_adapter)
    if path.is_dir():
        weights = sorted(p.name for p in path.iterdir() if p.is_file() and p.name.endswith(_IP_ADAPTER_WEIGHT_SUFFIXES))
        safetensors = [name for name in weights if name.endswith(".safetensors")]
        if len(safetensors) == 1 or len(weights) == 1:
            return str(path), "", (safetensors or weights)[0]
        if not weights:
            raise ValueError("IP-Adapter directory %s holds no *.safetensors or *.bin weight file" % ip_adapter)
        raise ValueError(
            "IP-Adapter directory %s holds several weight files (%s); name one of them instead"
            % (ip_adapter, ", ".join(weights))
        )
    if path.is_file():
        return str(path.parent), "", path.name
    parts = ip_adapter.strip("/").split("/")
    if len(parts) >= 3 and parts[-1].endswith(_IP_ADAPTER_WEIGHT_SUFFIXES):
        return "/".join(parts[:2]), "/".join(parts[2:-1]), parts[-1]
    raise ValueError(
        "IP-Adapter %s is neither a local directory or weight file nor a Hub path "
        "owner/name/[subfolder/]weights.safetensors" % ip_adapter
    )


def _load_ip_adapter(pipeline: Any, ip_adapter: str, *, scale: float, allow_downloads: bool) -> None:
    if not hasattr(pipeline, "load_ip_adapter"):
        raise ValueError("%s cannot take an IP-Adapter" % type(pipeline).__name__)
    location, subfolder, weight_name = ip_adapter_location(ip_adapter)
    logger.info("Loading IP-Adapter %s (%s) at scale %s", ip_adapter, weight_name, scale)
    pipeline.load_ip_adapter(
        location,
        subfolder=subfolder,
        weight_name=weight_name,
        image_encoder_folder=IP_ADAPTER_IMAGE_ENCODER_FOLDER,
        local_files_only=not allow_downloads,
    )
    if getattr(pipeline, "image_encoder", None) is None:
        raise ValueError("IP-Adapter %s came without an image encoder" % ip_adapter)
    # load_ip_adapter puts a newly loaded image encoder on the pipeline's device, which CPU
    # offloading does not manage; offloading again takes it in.
    if getattr(pipeline, "_offload_device", None) is not None:
        pipeline.enable_model_cpu_offload(device=pipeline._offload_device)
    pipeline.set_ip_adapter_scale(scale)


def _rgb(image: Image.Image) -> Image.Image:
    from PIL import ImageOps

    return ImageOps.exif_transpose(image).convert("RGB")


def _fit(image: Image.Image, *, width: int, height: int) -> Image.Image:
    """Return ``image`` upright, in RGB, scaled and center-cropped to exactly width x height."""
    from PIL import Image, ImageOps

    return ImageOps.fit(_rgb(image), (width, height), method=Image.Resampling.LANCZOS)


@contextlib.contextmanager
def _reporting_scheduler_steps(pipeline: Any, report: Callable[[int], None]) -> Iterator[None]:
    """Report each call of the scheduler's ``step``, for pipelines that offer no step callback."""
    scheduler = pipeline.scheduler
    step = scheduler.step
    calls = 0

    def counted_step(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        result = step(*args, **kwargs)
        report(calls)
        calls += 1
        return result

    scheduler.step = counted_step
    try:
        yield
    finally:
        del scheduler.step


def diffusers_render(
    request: DiffusersRequest,
    *,
    model_path: str,
    progress: Progress | None = None,
    device: str | None = None,
    allow_downloads: bool = False,
    ip_adapter: str | None = None,
    ip_adapter_scale: float = 0.6,
    image_to_video_model: str | None = None,
) -> tuple[bytes, ContentType, dict[str, Any]]:
    """Generate the request; return (data, content type, meta).

    An image comes from the text-to-image pipeline at ``model_path``, conditioned on the cameo
    photos (or else the reference) through the IP-Adapter at ``ip_adapter`` when one is given. A
    video with a reference or a cameo photo comes from the image-to-video pipeline at
    ``image_to_video_model``, which animates the reference (or else the first cameo photo), when
    one is given; otherwise from the text-to-video pipeline at ``model_path``, unconditioned.
    ``meta["conditioning"]`` is "ip_adapter", "image_to_video" or "none" and
    ``meta["conditioned_on"]`` the number of images used.
    """
    import torch

    validate(request)
    photos = request.cameo_photos or ((request.reference,) if request.reference is not None else ())
    conditioning: Conditioning = "none"
    conditioned_on = 0
    note = ""
    arguments: dict[str, Any] = {}
    model = str(model_path)
    if request.kind == "image":
        if photos and ip_adapter:
            pipeline = load_pipeline(
                model,
                kind="image",
                device=device,
                allow_downloads=allow_downloads,
                ip_adapter=ip_adapter,
                ip_adapter_scale=ip_adapter_scale,
            )
            # One entry per loaded IP-Adapter; its images become extra image tokens together.
            arguments["ip_adapter_image"] = [[_rgb(photo) for photo in photos]]
            conditioning, conditioned_on = "ip_adapter", len(photos)
        else:
            pipeline = load_pipeline(model, kind="image", device=device, allow_downloads=allow_downloads)
            if photos:
                note = "no IP-Adapter is configured: the image is not conditioned on the %d image(s)" % len(photos)
    else:
        source = request.reference if request.reference is not None else next(iter(request.cameo_photos), None)
        if source is not None and image_to_video_model:
            model = str(image_to_video_model)
            pipeline = load_pipeline(model, kind="image_to_video", device=device, allow_downloads=allow_downloads)
            arguments["image"] = _fit(source, width=request.width, height=request.height)
            conditioning, conditioned_on = "image_to_video", 1
        else:
            pipeline = load_pipeline(model, kind="video", device=device, allow_downloads=allow_downloads)
            if source is not None:
                note = "no image-to-video model is configured: the video is not conditioned on the images"
    if note:
        logger.warning("Generating unconditioned with %s: %s", model, note)

    total = request.steps
    reported = 0

    def report(step: int) -> None:
        # Some schedulers step more than once per inference step; never report past the total.
        nonlocal reported
        done = min(step + 1, total)
        if progress is not None and done > reported:
            reported = done
            progress(done, total)

    def on_step_end(pipe: Any, step: int, timestep: Any, callback_kwargs: dict[str, Any]) -> dict[str, Any]:
        report(step)
        return callback_kwargs

    def on_step(step: int, timestep: Any, latents: Any) -> None:
        report(step)

    parameters = inspect.signature(pipeline.__call__).parameters
    # A CPU generator keeps a seed's output the same whether the model runs on CPU or CUDA.
    generator = torch.Generator(device="cpu").manual_seed(request.seed)
    arguments.update(num_inference_steps=request.steps, width=request.width, height=request.height, generator=generator)
    # Image-to-video pipelines such as StableVideoDiffusionPipeline take no prompt.
    if "prompt" in parameters:
        arguments["prompt"] = request.prompt
    # Older pipelines (TextToVideoSDPipeline among them) only offer the legacy per-step callback,
    # and some (I2VGenXLPipeline) none at all: their scheduler's steps are counted instead.
    reporting: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if "callback_on_step_end" in parameters:
        arguments["callback_on_step_end"] = on_step_end
    elif "callback" in parameters:
        arguments.update(callback=on_step, callback_steps=1)
    else:
        reporting = _reporting_scheduler_steps(pipeline, report)
    meta: dict[str, Any] = {
        "backend": "diffusers",
        "model": model,
        "pipeline": type(pipeline).__name__,
        "seed": request.seed,
        "steps": request.steps,
        "width": request.width,
        "height": request.height,
        "conditioning": conditioning,
        "conditioned_on": conditioned_on,
    }
    if conditioning == "ip_adapter":
        meta.update(ip_adapter=str(ip_adapter), ip_adapter_scale=float(ip_adapter_scale))
    if note:
        meta["conditioning_note"] = note
    with torch.inference_mode(), reporting:
        if request.kind == "image":
            image = pipeline(**arguments, output_type="pil").images[0]
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            return buffer.getvalue(), "image/png", meta
        for name in ("fps", "target_fps"):
            if name in parameters:
                arguments[name] = VIDEO_FPS
        if "decode_chunk_size" in parameters:
            arguments["decode_chunk_size"] = min(request.frames, DECODE_CHUNK_FRAMES)
        frames = pipeline(**arguments, num_frames=request.frames, output_type="np").frames[0]
    meta.update(frames=len(frames), fps=VIDEO_FPS)
    return _encode_mp4(frames, width=request.width, height=request.height), "video/mp4", meta


def _encode_mp4(frames: Any, *, width: int, height: int) -> bytes:
    """Encode float frames in [0, 1] (frames, height, width, 3) as H.264 in an MP4, in memory."""
    from moderation.media import encode_mp4

    pixels = (np.clip(np.asarray(frames, dtype=np.float32), 0.0, 1.0) * 255).round().astype(np.uint8)
    return encode_mp4(pixels, fps=VIDEO_FPS, width=width, height=height)
