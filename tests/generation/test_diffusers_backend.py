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
from tests.moderation.conftest import registry  # noqa: F401 - the fixture

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


def _clip_vision_model(image_size: int = 32, patch_size: int = 4):
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    config = CLIPVisionConfig(
        hidden_size=32,
        projection_dim=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        image_size=image_size,
        intermediate_size=37,
        patch_size=patch_size,
    )
    return CLIPVisionModelWithProjection(config).eval()


def _ip_adapter_state_dict(unet) -> dict:
    """Return a flat IP-Adapter state dict for ``unet``, keyed as ``load_ip_adapter`` reads safetensors.

    As diffusers' own ``create_ip_adapter_state_dict``: "ip_adapter.N.to_k_ip/to_v_ip.weight" for
    each cross-attention (N = 1, 3, 5, ...) and "image_proj.proj/norm.*" for the image projection.
    """
    import torch
    from diffusers.models.attention_processor import IPAdapterAttnProcessor
    from diffusers.models.embeddings import ImageProjection

    torch.manual_seed(0)
    cross_attention_dim = unet.config.cross_attention_dim
    channels = unet.config.block_out_channels
    state: dict = {}
    key_id = 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        if name.startswith("mid_block"):
            hidden_size = channels[-1]
        elif name.startswith("up_blocks"):
            hidden_size = list(reversed(channels))[int(name[len("up_blocks.")])]
        else:
            hidden_size = channels[int(name[len("down_blocks.")])]
        weights = IPAdapterAttnProcessor(hidden_size=hidden_size, cross_attention_dim=cross_attention_dim).state_dict()
        state["ip_adapter.%d.to_k_ip.weight" % key_id] = weights["to_k_ip.0.weight"]
        state["ip_adapter.%d.to_v_ip.weight" % key_id] = weights["to_v_ip.0.weight"]
        key_id += 2
    projection = ImageProjection(
        cross_attention_dim=cross_attention_dim, image_embed_dim=32, num_image_text_embeds=4
    ).state_dict()
    state.update(
        {
            "image_proj.proj.weight": projection["image_embeds.weight"],
            "image_proj.proj.bias": projection["image_embeds.bias"],
            "image_proj.norm.weight": projection["norm.weight"],
            "image_proj.norm.bias": projection["norm.bias"],
        }
    )
    return {key: value.contiguous() for key, value in state.items()}


@pytest.fixture(scope="module")
def ip_adapter(image_model: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny IP-Adapter for the tiny image model: weights plus image_encoder/, as load_ip_adapter reads them."""
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file

    path = tmp_path_factory.mktemp("ip-adapter-tiny")
    unet = UNet2DConditionModel.from_pretrained(image_model, subfolder="unet")
    save_file(_ip_adapter_state_dict(unet), str(path / "ip-adapter.safetensors"))
    _clip_vision_model().save_pretrained(path / "image_encoder")
    return str(path)


@pytest.fixture(scope="module")
def image_to_video_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor

    root = tmp_path_factory.mktemp("svd-tiny")
    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=8,
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=32,
        num_attention_heads=8,
        projection_class_embeddings_input_dim=96,
        addition_time_embed_dim=32,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        interpolation_type="linear",
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        use_karras_sigmas=True,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        latent_channels=4,
    )
    pipeline = StableVideoDiffusionPipeline(
        vae=vae,
        # StableVideoDiffusionPipeline resizes the image to 224 px for its encoder, whatever its size.
        image_encoder=_clip_vision_model(image_size=224, patch_size=32),
        unet=unet,
        scheduler=scheduler,
        feature_extractor=CLIPImageProcessor(crop_size=224, size=224),
    )
    path = root / "model"
    pipeline.save_pretrained(path)
    return str(path)


def _photo(index: int) -> Image.Image:
    """Return a photo of the ``index``-th person among the shared test photos, or a distinct pattern."""
    try:
        from tests.consent.faces import faces_manifest, photo_image
    except (ImportError, RuntimeError):
        paths = []
    else:
        paths = [photos[0] for photos in faces_manifest()["identities"].values() if photos]
    if index < len(paths):
        return photo_image(paths[index])
    rng = np.random.default_rng(index)
    return Image.fromarray(rng.integers(0, 256, (80, 80, 3), dtype=np.uint8))


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


def _png_pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def _mean_difference(first: np.ndarray, second: np.ndarray) -> float:
    """Return the mean absolute difference of the two frames' 8x8 block averages (0-255)."""

    def blocks(frame: np.ndarray) -> np.ndarray:
        height, width, channels = frame.shape
        return frame.astype(np.float32).reshape(height // 8, 8, width // 8, 8, channels).mean(axis=(1, 3))

    return float(np.abs(blocks(first) - blocks(second)).mean())


def _mp4_frames(data: bytes) -> tuple[str, list[np.ndarray]]:
    import av

    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        return stream.codec_context.name, [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]


def test_ip_adapter_conditions_the_image_on_the_cameo_photos(image_model: str, ip_adapter: str) -> None:
    calls: list[tuple[int, int]] = []

    def render(*photos: Image.Image, progress=None) -> tuple[np.ndarray, dict]:
        request = DiffusersRequest(
            prompt=PROMPT, kind="image", seed=5, steps=2, width=64, height=64, cameo_photos=photos
        )
        data, content_type, meta = diffusers_render(
            request, model_path=image_model, device="cpu", ip_adapter=ip_adapter, progress=progress
        )
        assert content_type == "image/png"
        return _png_pixels(data), meta

    first, meta = render(_photo(0), progress=lambda *a: calls.append(a))
    assert meta["conditioning"] == "ip_adapter"
    assert meta["conditioned_on"] == 1
    assert meta["ip_adapter"] == ip_adapter and meta["ip_adapter_scale"] == 0.6
    assert calls == [(1, 2), (2, 2)]
    assert first.shape == (64, 64, 3)
    assert np.array_equal(first, render(_photo(0))[0])
    assert not np.array_equal(first, render(_photo(1))[0])
    both, meta = render(_photo(0), _photo(1))
    assert meta["conditioned_on"] == 2
    assert not np.array_equal(first, both)


def test_ip_adapter_takes_the_reference_when_there_are_no_cameo_photos(image_model: str, ip_adapter: str) -> None:
    def render(reference: Image.Image) -> tuple[np.ndarray, dict]:
        request = DiffusersRequest(prompt=PROMPT, seed=5, steps=2, width=64, height=64, reference=reference)
        data, _, meta = diffusers_render(request, model_path=image_model, device="cpu", ip_adapter=ip_adapter)
        return _png_pixels(data), meta

    first, meta = render(_photo(2))
    assert (meta["conditioning"], meta["conditioned_on"]) == ("ip_adapter", 1)
    assert not np.array_equal(first, render(_photo(3))[0])


def test_pipelines_with_and_without_the_ip_adapter_are_cached_apart(image_model: str, ip_adapter: str) -> None:
    plain = load_pipeline(image_model, kind="image", device="cpu")
    adapted = load_pipeline(image_model, kind="image", device="cpu", ip_adapter=ip_adapter)
    assert adapted is not plain
    assert adapted is load_pipeline(image_model, kind="image", device="cpu", ip_adapter=ip_adapter)
    assert getattr(plain, "image_encoder", None) is None
    assert adapted.image_encoder is not None


def test_without_an_ip_adapter_the_photos_do_not_condition_the_image_and_meta_says_so(image_model: str) -> None:
    def render(**images) -> tuple[np.ndarray, dict]:
        request = DiffusersRequest(prompt=PROMPT, seed=5, steps=2, width=64, height=64, **images)
        data, _, meta = diffusers_render(request, model_path=image_model, device="cpu")
        return _png_pixels(data), meta

    plain, meta = render()
    assert (meta["conditioning"], meta["conditioned_on"]) == ("none", 0)
    assert "conditioning_note" not in meta
    with_photos, meta = render(cameo_photos=(_photo(0),), reference=_photo(1))
    assert (meta["conditioning"], meta["conditioned_on"]) == ("none", 0)
    assert "no IP-Adapter" in meta["conditioning_note"]
    assert np.array_equal(plain, with_photos)


def test_an_ip_adapter_without_photos_leaves_the_image_unconditioned(image_model: str, ip_adapter: str) -> None:
    request = DiffusersRequest(prompt=PROMPT, seed=5, steps=2, width=64, height=64)
    _, _, meta = diffusers_render(request, model_path=image_model, device="cpu", ip_adapter=ip_adapter)
    assert (meta["conditioning"], meta["conditioned_on"]) == ("none", 0)


def test_image_to_video_animates_the_reference(image_to_video_model: str, video_model: str) -> None:
    calls: list[tuple[int, int]] = []

    def render(progress=None, **images) -> tuple[list[np.ndarray], dict]:
        request = DiffusersRequest(
            prompt=PROMPT, kind="video", seed=3, steps=2, width=64, height=64, frames=3, **images
        )
        data, content_type, meta = diffusers_render(
            request,
            model_path=video_model,
            device="cpu",
            image_to_video_model=image_to_video_model,
            progress=progress,
        )
        assert content_type == "video/mp4"
        codec, frames = _mp4_frames(data)
        assert codec == "h264"
        return frames, meta

    frames, meta = render(reference=_photo(0), cameo_photos=(_photo(1),), progress=lambda *a: calls.append(a))
    assert len(frames) == 3 and frames[0].shape == (64, 64, 3)
    assert calls == [(1, 2), (2, 2)]
    assert meta["pipeline"] == "StableVideoDiffusionPipeline"
    assert meta["model"] == image_to_video_model
    assert (meta["conditioning"], meta["conditioned_on"]) == ("image_to_video", 1)
    assert meta["frames"] == 3
    other, _ = render(reference=_photo(2), cameo_photos=(_photo(1),))
    # Without a reference, the first cameo photo is animated.
    from_cameo, meta = render(cameo_photos=(_photo(2), _photo(0)))
    assert (meta["conditioning"], meta["conditioned_on"]) == ("image_to_video", 1)
    # libx264 does not always encode the same frames to the same bytes (seen on 2 CPU cores), so
    # compare block averages: the same source gives a much closer first frame than another one.
    assert _mean_difference(frames[0], other[0]) > 1.5
    assert _mean_difference(from_cameo[0], other[0]) < _mean_difference(from_cameo[0], frames[0]) / 2


def test_without_an_image_to_video_model_the_video_is_text_to_video(video_model: str) -> None:
    request = DiffusersRequest(
        prompt=PROMPT, kind="video", seed=3, steps=1, width=64, height=64, frames=2, reference=_photo(0)
    )
    _, _, meta = diffusers_render(request, model_path=video_model, device="cpu")
    assert meta["pipeline"] == "TextToVideoSDPipeline"
    assert (meta["conditioning"], meta["conditioned_on"]) == ("none", 0)
    assert "no image-to-video model" in meta["conditioning_note"]


def test_a_text_to_video_model_is_refused_as_image_to_video(video_model: str, image_to_video_model: str) -> None:
    request = DiffusersRequest(prompt=PROMPT, kind="video", steps=1, width=64, height=64, reference=_photo(0))
    with pytest.raises(ValueError, match="not an image-to-video pipeline"):
        diffusers_render(request, model_path=video_model, device="cpu", image_to_video_model=video_model)
    with pytest.raises(ValueError, match="cannot produce a video"):
        load_pipeline(image_to_video_model, kind="video", device="cpu")


def test_i2vgenxl_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    """diffusers' deprecated I2VGenXLPipeline fails on its first call with transformers 5; refuse it at load."""
    import torch
    from diffusers import DDIMScheduler, I2VGenXLPipeline
    from diffusers.models.unets import I2VGenXLUNet
    from transformers import CLIPImageProcessor

    text_encoder, tokenizer = _text_parts(tmp_path)
    torch.manual_seed(0)
    unet = I2VGenXLUNet(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=32,
    )
    I2VGenXLPipeline(
        vae=_vae(),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        image_encoder=_clip_vision_model(),
        feature_extractor=CLIPImageProcessor(crop_size=32, size=32),
        unet=unet,
        scheduler=DDIMScheduler(clip_sample=False, steps_offset=1),
    ).save_pretrained(tmp_path / "model")
    with pytest.raises(ValueError, match="I2VGenXLPipeline .* does not work with the installed transformers"):
        load_pipeline(str(tmp_path / "model"), kind="image_to_video", device="cpu")


def test_an_ip_adapter_is_refused_for_video_pipelines(video_model: str, ip_adapter: str) -> None:
    with pytest.raises(ValueError, match="only be loaded into a text-to-image pipeline"):
        load_pipeline(video_model, kind="video", device="cpu", ip_adapter=ip_adapter)


def test_a_missing_ip_adapter_is_not_downloaded(image_model: str, tmp_path: Path) -> None:
    request = DiffusersRequest(prompt=PROMPT, steps=1, width=64, height=64, cameo_photos=(_photo(0),))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no"):
        diffusers_render(request, model_path=image_model, device="cpu", ip_adapter=str(tmp_path / "empty"))
    with pytest.raises((OSError, ValueError)):
        diffusers_render(request, model_path=image_model, device="cpu", ip_adapter="nobody/absent/ip.safetensors")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reference": "photo.jpg"}, "reference must be a PIL image, not str"),
        ({"reference": ()}, "reference must be a PIL image, not tuple"),
        ({"reference": Image.new("RGB", (0, 0))}, "reference must not be empty"),
        ({"cameo_photos": [Image.new("RGB", (8, 8))]}, "cameo_photos must be a tuple of PIL images, not list"),
        ({"cameo_photos": Image.new("RGB", (8, 8))}, "cameo_photos must be a tuple of PIL images, not Image"),
        ({"cameo_photos": ((),)}, r"cameo_photos\[0\] must be a PIL image, not tuple"),
        ({"cameo_photos": (Image.new("RGB", (8, 8)), b"\xff\xd8")}, r"cameo_photos\[1\] must be a PIL image"),
        ({"cameo_photos": (Image.new("RGB", (0, 4)),)}, r"cameo_photos\[0\] must not be empty"),
    ],
)
def test_bad_images_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate(DiffusersRequest(prompt=PROMPT, steps=2, width=64, height=64, **changes))


def test_bad_images_are_refused_before_any_pipeline_loads(tmp_path: Path) -> None:
    request = DiffusersRequest(prompt=PROMPT, steps=2, width=64, height=64, reference="not an image")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reference must be a PIL image"):
        diffusers_render(request, model_path=str(tmp_path / "absent"), device="cpu")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ip-adapter_sd15.safetensors", ("", "", "ip-adapter_sd15.safetensors")),
        (
            "h94/IP-Adapter/models/ip-adapter_sd15.safetensors",
            ("h94/IP-Adapter", "models", "ip-adapter_sd15.safetensors"),
        ),
        ("owner/name/ip.bin", ("owner/name", "", "ip.bin")),
    ],
)
def test_ip_adapter_locations(name: str, expected: tuple[str, str, str], tmp_path: Path) -> None:
    from generation.backends.diffusers_backend import ip_adapter_location

    if not expected[0]:
        (tmp_path / name).write_bytes(b"")
        assert ip_adapter_location(str(tmp_path / name)) == (str(tmp_path), "", name)
        assert ip_adapter_location(str(tmp_path)) == (str(tmp_path), "", name)
        (tmp_path / "other.bin").write_bytes(b"")
        assert ip_adapter_location(str(tmp_path)) == (str(tmp_path), "", name)
        (tmp_path / "third.safetensors").write_bytes(b"")
        with pytest.raises(ValueError, match="several weight files"):
            ip_adapter_location(str(tmp_path))
    else:
        assert ip_adapter_location(name) == expected


def test_pipelines_without_a_step_callback_report_progress_from_their_scheduler(video_model: str) -> None:
    """I2VGenXLPipeline offers no step callback; the scheduler's steps are counted instead."""
    import torch

    from generation.backends.diffusers_backend import _reporting_scheduler_steps

    pipeline = load_pipeline(video_model, kind="video", device="cpu")
    reported: list[int] = []
    with torch.inference_mode(), _reporting_scheduler_steps(pipeline, reported.append):
        pipeline(prompt=PROMPT, num_inference_steps=2, num_frames=2, width=64, height=64, output_type="np")
    assert reported == [0, 1]
    assert "step" not in vars(pipeline.scheduler)


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_cameo_conditioned_image_and_video_go_through_the_queue_to_release(
    image_model,
    ip_adapter,
    image_to_video_model,
    registry,  # noqa: F811
    settings,
    start_worker,
    api_client,
):
    """Through the API and a real worker: the IP-Adapter image of a cameo, and a video animated
    from a reference photo, are scanned, signed and released like any output."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from generation.models import Generation
    from generation.provenance.c2pa_manifest import c2pa_read
    from tests.consent.faces import photo_bytes
    from tests.generation.test_pipeline import wait_for

    configured = {
        "SIGILLO_DIFFUSERS_MODEL": image_model,
        "SIGILLO_DIFFUSERS_IP_ADAPTER": ip_adapter,
        "SIGILLO_DIFFUSERS_I2V_MODEL": image_to_video_model,
    }
    for name, value in configured.items():
        setattr(settings, name, value)
    worker = start_worker(**configured)
    api_client.force_authenticate(registry.creator)
    common = {"use": "personal", "backend": "diffusers", "steps": 2, "width": 256, "height": 256, "seed": 5}

    image = api_client.post(
        "/api/v1/generations/", {"prompt": "@kit_harington at a lighthouse", "kind": "image", **common}, format="json"
    ).json()
    video = api_client.post(
        "/api/v1/generations/",
        {
            "prompt": "@kit_harington turns to the sea",
            "kind": "video",
            "frames": 3,
            "reference": SimpleUploadedFile("kit.jpg", photo_bytes("kit_harington/john1.jpg")),
            **common,
        },
        format="multipart",
    ).json()
    assert (image["status"], video["status"]) == ("queued", "queued"), (image, video)

    final = {"released", "blocked", "failed", "withheld", "in_review"}
    for created, mime in ((image, "image/png"), (video, "video/mp4")):
        body = wait_for(api_client, created["id"], final, timeout=300)
        assert body["status"] == "released", body
        assert body["progress"] == {"step": 2, "total": 2}
        generation = Generation.objects.get(pk=created["id"])
        data = api_client.get(body["output_url"]).content
        reading = c2pa_read(data=data, mime_type=mime)
        assert reading.found and reading.valid and reading.generation_id == created["id"]
        assert [receipt["likeness"] for receipt in reading.receipts] == [str(registry.kit.pk)]
        assert generation.output_content_type == mime
        pipeline = "StableDiffusionPipeline" if mime == "image/png" else "StableVideoDiffusionPipeline"
        assert pipeline in reading.model and pipeline in body["model"]
    log = worker.output()
    assert "(conditioning: ip_adapter)" in log and "(conditioning: image_to_video)" in log
