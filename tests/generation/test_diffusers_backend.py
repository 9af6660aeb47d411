"""The diffusers backend loads saved pipelines from disk and renders real PNGs and H.264 MP4s.

Tiny pipelines are built from configs with random weights, saved with ``save_pretrained`` and
loaded back through ``load_pipeline``, the same code path the real models use.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generation.backends.diffusers_backend import DiffusersRequest, diffusers_render, load_pipeline, validate

PROMPT = "a lighthouse at dawn"


def _bytes_to_unicode() -> dict[int, str]:
    """Return GPT-2's byte to printable character table, which CLIP's byte-level BPE uses."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    characters = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            characters.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in characters), strict=True))


def _tiny_tokenizer(directory: Path):
    """Write a tiny valid CLIP BPE vocabulary (single characters only) and load a tokenizer from it."""
    from transformers import CLIPTokenizer

    characters = list(_bytes_to_unicode().values())
    tokens = characters + [c + "</w>" for c in characters] + ["<|startoftext|>", "<|endoftext|>"]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.json").write_text(json.dumps({token: i for i, token in enumerate(tokens)}))
    (directory / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"), model_max_length=77)


def _text_parts(directory: Path):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    config = CLIPTextConfig(
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        vocab_size=1000,
        max_position_embeddings=77,
        bos_token_id=512,
        eos_token_id=513,
        pad_token_id=513,
        projection_dim=32,
    )
    return CLIPTextModel(config).eval(), _tiny_tokenizer(directory / "tokenizer-source")


def _vae():
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    return AutoencoderKL(
        block_out_channels=(32, 64),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        sample_size=64,
    )


@pytest.fixture(scope="module")
def image_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    import torch
    from diffusers import DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel

    root = tmp_path_factory.mktemp("sd-tiny")
    text_encoder, tokenizer = _text_parts(root)
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
    )
    pipeline = StableDiffusionPipeline(
        vae=_vae(),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=DDIMScheduler(clip_sample=False, steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    path = root / "model"
    pipeline.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def video_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    import torch
    from diffusers import DDIMScheduler, TextToVideoSDPipeline, UNet3DConditionModel

    root = tmp_path_factory.mktemp("t2v-tiny")
    text_encoder, tokenizer = _text_parts(root)
    torch.manual_seed(0)
    unet = UNet3DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=32,
    )
    pipeline = TextToVideoSDPipeline(
        vae=_vae(),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=DDIMScheduler(clip_sample=False, steps_offset=1),
    )
    path = root / "model"
    pipeline.save_pretrained(path)
    return str(path)


def test_image_is_a_png_of_the_requested_size_with_progress_per_step(image_model: str) -> None:
    calls: list[tuple[int, int]] = []
    request = DiffusersRequest(prompt=PROMPT, kind="image", seed=7, steps=2, width=64, height=64)

    data, content_type, meta = diffusers_render(
        request, model_path=image_model, device="cpu", progress=lambda *a: calls.append(a)
    )

    assert content_type == "image/png"
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.size == (64, 64)
    assert calls == [(1, 2), (2, 2)]
    assert meta["pipeline"] == "StableDiffusionPipeline"
    assert meta["seed"] == 7
    assert meta["steps"] == 2


def test_same_seed_gives_the_same_image_and_another_seed_does_not(image_model: str) -> None:
    def render(seed: int) -> np.ndarray:
        request = DiffusersRequest(prompt=PROMPT, kind="image", seed=seed, steps=2, width=64, height=64)
        data, _, _ = diffusers_render(request, model_path=image_model, device="cpu")
        return np.asarray(Image.open(io.BytesIO(data)))

    first = render(1)
    assert np.array_equal(first, render(1))
    assert not np.array_equal(first, render(2))


def test_pipeline_is_loaded_once_per_model_and_device(image_model: str) -> None:
    assert load_pipeline(image_model, kind="image", device="cpu") is load_pipeline(
        image_model, kind="image", device="cpu"
    )


def test_image_pipeline_refuses_video(image_model: str) -> None:
    with pytest.raises(ValueError, match="cannot produce a video"):
        load_pipeline(image_model, kind="video", device="cpu")


def test_missing_model_is_not_downloaded(tmp_path: Path) -> None:
    with pytest.raises((OSError, ValueError)):
        load_pipeline(str(tmp_path / "absent"), kind="image", device="cpu")


def test_video_is_an_h264_mp4_with_the_requested_frames(video_model: str) -> None:
    import av

    calls: list[tuple[int, int]] = []
    request = DiffusersRequest(prompt=PROMPT, kind="video", seed=3, steps=2, width=64, height=64, frames=4)

    data, content_type, meta = diffusers_render(
        request, model_path=video_model, device="cpu", progress=lambda *a: calls.append(a)
    )

    assert content_type == "video/mp4"
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    assert len(frames) == 4
    assert frames[0].shape == (64, 64, 3)
    assert calls == [(1, 2), (2, 2)]
    assert meta["pipeline"] == "TextToVideoSDPipeline"
    assert meta["frames"] == 4


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"steps": 0}, "steps must be between 1 and 100"),
        ({"steps": 101}, "steps must be between 1 and 100"),
        ({"width": 60}, "width must be between 64 and 1024"),
        ({"height": 1032}, "height must be between 64 and 1024"),
        ({"width": 100}, "width must be a multiple of 8"),
        ({"kind": "video", "frames": 0}, "frames must be between 1 and 48"),
        ({"kind": "video", "frames": 49}, "frames must be between 1 and 48"),
        ({"kind": "audio"}, "kind must be 'image' or 'video'"),
        ({"prompt": "  "}, "prompt must not be empty"),
    ],
)
def test_requests_outside_the_limits_are_refused(changes: dict, message: str) -> None:
    fields = {"prompt": PROMPT, "kind": "image", "steps": 2, "width": 64, "height": 64, "frames": 4} | changes
    with pytest.raises(ValueError, match=message):
        validate(DiffusersRequest(**fields))


def test_importing_the_backend_does_not_import_torch() -> None:
    code = (
        "import sys, generation.backends.diffusers_backend; "
        "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["image", "video"])
def test_the_tiny_pipeline_goes_through_the_same_release_path(image_model, video_model, settings, kind, make_user):
    """Gate, generate (diffusers), output scan, consent re-check, watermark and C2PA: as for the animatic."""
    from accounts.roles import Role
    from consent import crypto
    from generation import services
    from generation.models import Generation
    from generation.provenance.c2pa_manifest import c2pa_read

    settings.SIGILLO_GENERATION_BACKEND = "diffusers"
    settings.SIGILLO_DIFFUSERS_MODEL = image_model if kind == "image" else video_model
    # The watermark needs 256x256 pixels; a tiny random model renders fast at that size.
    settings.SIGILLO_DIFFUSERS_SIZE, settings.SIGILLO_DIFFUSERS_STEPS, settings.SIGILLO_DIFFUSERS_FRAMES = 256, 2, 4
    creator = make_user(Role.CREATOR)
    generation = services.generation_request(
        requester=creator, prompt="a lighthouse in a storm", kind=kind, use="personal", cameos=[]
    )
    assert generation.status == Generation.Status.QUEUED and generation.backend == "diffusers"

    services.generation_generate(generation_id=str(generation.pk))
    services.generation_scan(generation_id=str(generation.pk))

    generation.refresh_from_db()
    assert generation.status == Generation.Status.RELEASED, (generation.status, generation.reason)
    assert generation.progress_step == generation.progress_total == 2
    data = crypto.read_encrypted_file(generation.output_path)
    reading = c2pa_read(data=data, mime_type=generation.output_content_type)
    assert reading.found and reading.valid and reading.generation_id == str(generation.pk)
