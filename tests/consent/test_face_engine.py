"""The face engine on real photos: detection, identification, quality, images refused, engines.

The dlib engine runs for real on the photos of ``/work/shared/faces`` and on variations of
them; the insightface engine, whose weights are not here, runs on a tiny ONNX pack built in
the test (same inputs and outputs as buffalo_l, made-up weights).
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured
from PIL import Image

from consent.faces import (
    EngineUnavailable,
    FaceQualityProblem,
    ImageRejectCode,
    ImageRejected,
    MatchLevel,
    available_engines,
    engine_status,
    get_engine,
    load_image,
    quality_problem,
)
from consent.faces.base import Box, DetectedFace, FaceEngine
from consent.faces.dlib_engine import MODEL as DLIB_MODEL
from consent.faces.insightface_engine import (
    ARCFACE_TEMPLATE,
    InsightFaceEngine,
    decode_scrfd,
    nms,
    similarity_transform,
)
from tests.consent import faces

ROOT = Path(__file__).resolve().parents[2]
GROUP = "groups/obama_and_biden_two_people.jpg"


def single_face(engine: FaceEngine, image: Image.Image) -> DetectedFace:
    found = engine.analyze(image)
    assert len(found) == 1, found
    return found[0]


def variations(image: Image.Image, face: DetectedFace, index: int) -> dict[str, Image.Image]:
    """Return everyday changes of a photo: cropped, tilted, resized, recompressed, lit differently."""
    return {
        "crop": faces.crop(image, face.box),
        "rotate": faces.rotate(image, 10 if index % 2 else -10),
        # Scaled down only where the face stays large enough to enroll.
        "resize": faces.resize(image, 0.6 if face.size >= 100 else 1.6),
        "jpeg": faces.jpeg(image, 15),
        "brightness": faces.brightness(image, 0.6 if index % 2 else 1.4),
    }


def iou(a: Any, b: Any) -> float:
    left, top = max(a.x, b.x), max(a.y, b.y)
    right, bottom = min(a.x + a.width, b.x + b.width), min(a.y + a.height, b.y + b.height)
    overlap = max(0, right - left) * max(0, bottom - top)
    return overlap / (a.width * a.height + b.width * b.height - overlap)


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return get_engine("dlib")


@pytest.fixture(scope="module")
def photos(engine: FaceEngine) -> dict[str, tuple[Image.Image, DetectedFace]]:
    """Each single-person photo, loaded as uploads are, with its one face (analysed once)."""
    loaded = {}
    for _, path in faces.identity_photos():
        image = load_image(faces.photo_bytes(path))
        loaded[path] = (image, single_face(engine, image))
    return loaded


def samples_of(engine: FaceEngine, photos: dict) -> list[tuple[str, str, DetectedFace]]:
    """(identity, "path variation", face) for every photo and every variation of it."""
    found = []
    for index, (identity, path) in enumerate(faces.identity_photos()):
        image, face = photos[path]
        found.append((identity, path, face))
        for name, varied in variations(image, face, index).items():
            found.append((identity, "%s %s" % (path, name), single_face(engine, varied)))
    return found


@pytest.fixture(scope="module")
def samples(engine: FaceEngine, photos: dict) -> list[tuple[str, str, DetectedFace]]:
    return samples_of(engine, photos)


def test_every_photo_and_variation_shows_one_face_good_enough_to_enroll(samples: list) -> None:
    assert len(samples) == 60
    for _, label, face in samples:
        assert quality_problem(face) is None, (label, face)
        assert face.embedding.shape == (128,) and face.embedding.dtype == np.float32
        assert len(face.landmarks) == 5


def test_each_person_is_found_again_from_every_other_photo_of_them(engine: FaceEngine, samples: list) -> None:
    for (identity, label, face), (other_identity, other_label, other) in itertools.combinations(samples, 2):
        if identity == other_identity:
            distance = engine.distance(face.embedding, other.embedding)
            assert engine.classify(distance) == MatchLevel.MATCH, (label, other_label, distance)


def test_no_one_is_matched_to_anyone_else(engine: FaceEngine, samples: list) -> None:
    for (identity, label, face), (other_identity, other_label, other) in itertools.combinations(samples, 2):
        if identity != other_identity:
            distance = engine.distance(face.embedding, other.embedding)
            assert engine.classify(distance) != MatchLevel.MATCH, (label, other_label, distance)
            if " " not in label and " " not in other_label:  # two original photos: not even close
                assert engine.classify(distance) == MatchLevel.NO_MATCH, (label, other_label, distance)


def test_both_people_of_a_group_photo_are_detected_and_identified(engine: FaceEngine, photos: dict) -> None:
    found = engine.analyze(load_image(faces.photo_bytes(GROUP)))

    assert len(found) == 2
    assert found[0].size >= found[1].size
    identified = []
    for face in found:
        matches = {
            identity
            for identity, path in faces.identity_photos()
            if engine.compare(face.embedding, photos[path][1].embedding).level == MatchLevel.MATCH
        }
        assert len(matches) == 1, matches
        identified.extend(matches)
    assert sorted(identified) == sorted(faces.faces_manifest()["groups"][GROUP])


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_honoured(engine: FaceEngine, photos: dict, orientation: int) -> None:
    upright, face = photos["obama/obama2.jpg"]
    data = faces.exif_rotated_bytes(upright, orientation)
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.size == (upright.size if orientation == 3 else upright.size[::-1])

    image = load_image(data)

    assert image.size == upright.size
    assert np.abs(np.asarray(image, dtype=np.int16) - np.asarray(upright, dtype=np.int16)).mean() < 3
    turned = single_face(engine, image)
    assert iou(turned.box, face.box) > 0.9
    assert engine.distance(turned.embedding, face.embedding) < 0.1


def test_large_image_is_scaled_for_detection_and_boxes_map_back(engine: FaceEngine, photos: dict) -> None:
    small, small_face = photos["obama/obama_small.jpg"]
    factor = 4000 / small.width
    large = small.resize((4000, round(small.height * factor)), Image.Resampling.BICUBIC)

    face = single_face(engine, large)

    box = small_face.box
    expected = Box(*(round(value * factor) for value in (box.x, box.y, box.width, box.height)))
    assert iou(face.box, expected) > 0.8, (face.box, expected)
    assert face.size == min(face.box.width, face.box.height) > 1000
    for x, y in face.landmarks:
        assert face.box.x <= x <= face.box.x + face.box.width and face.box.y <= y <= face.box.y + face.box.height
    assert engine.classify(engine.distance(face.embedding, small_face.embedding)) == MatchLevel.MATCH


def test_tiny_face_is_detected_but_too_small(engine: FaceEngine, photos: dict, settings: Any) -> None:
    image, face = photos["obama/obama-240p.jpg"]
    tiny = faces.resize(image, 0.45)

    found = single_face(engine, tiny)

    assert found.size < settings.SIGILLO_FACE_MIN_SIZE
    assert quality_problem(found, settings.SIGILLO_FACE_MIN_SIZE, settings.SIGILLO_FACE_MIN_BLUR) == "face_too_small"
    assert quality_problem(found) == FaceQualityProblem.FACE_TOO_SMALL
    assert quality_problem(face) is None


def test_blurred_face_is_detected_but_too_blurred(engine: FaceEngine, photos: dict) -> None:
    image, face = photos["obama/obama.jpg"]

    found = single_face(engine, faces.blurred(image, face.size / 40))

    assert iou(found.box, face.box) > 0.8
    assert found.blur < face.blur / 20
    assert quality_problem(found) == FaceQualityProblem.FACE_TOO_BLURRED
    assert quality_problem(face) is None


def test_images_without_a_face_give_no_face(engine: FaceEngine, photos: dict) -> None:
    assert engine.analyze(faces.gradient()) == []
    image, face = photos["biden/biden.jpg"]
    below_the_face = image.crop((0, face.box.y + face.box.height + 20, image.width, image.height))
    assert engine.analyze(below_the_face) == []


def test_images_of_other_modes_load_as_rgb() -> None:
    image = load_image(faces.photo_bytes("alex_lacamoire/alex-lacamoire.png"))  # RGBA
    assert image.mode == "RGB" and image.size == (424, 394)
    deep_grey = Image.fromarray(np.full((60, 80), 32896, dtype=np.uint16))  # 16 bits per pixel
    assert deep_grey.mode.startswith("I")
    image = load_image(faces.encode(deep_grey, "PNG"))
    assert image.mode == "RGB" and np.asarray(image)[0, 0].tolist() == [128, 128, 128]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", ImageRejectCode.EMPTY_FILE),
        (b"%PDF-1.7 not an image at all", ImageRejectCode.NOT_AN_IMAGE),
        (faces.photo_bytes("obama/obama.jpg")[:20_000], ImageRejectCode.NOT_AN_IMAGE),
        (faces.photo_bytes("obama/obama.jpg")[:200], ImageRejectCode.NOT_AN_IMAGE),
    ],
    ids=["empty", "not-an-image", "truncated-jpeg", "jpeg-header-only"],
)
def test_unreadable_files_are_refused_with_a_stable_code(data: bytes, code: str) -> None:
    with pytest.raises(ImageRejected) as refused:
        load_image(data)
    assert refused.value.code == code
    assert refused.value.message


def test_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = faces.encode(Image.new("1", (10_000, 10_000)), "PNG")  # 100 megapixels in a few kilobytes
    assert len(bomb) < 100_000
    with pytest.raises(ImageRejected) as refused:
        load_image(bomb)
    assert refused.value.code == "image_too_large"


def test_pixel_limit_comes_from_the_settings(settings: Any) -> None:
    settings.SIGILLO_MAX_IMAGE_PIXELS = 320 * 240
    assert load_image(faces.photo_bytes("obama/obama_small.jpg")).size == (320, 240)
    with pytest.raises(ImageRejected) as refused:
        load_image(faces.photo_bytes("obama/obama-240p.jpg"))
    assert refused.value.code == ImageRejectCode.IMAGE_TOO_LARGE


def test_thresholds_are_recorded_with_every_match_result(engine: FaceEngine, photos: dict) -> None:
    assert engine.name == "dlib" and engine.model == DLIB_MODEL and engine.dimension == 128
    assert engine.thresholds() == {"engine": "dlib", "model": DLIB_MODEL, "match": 0.6, "review": 0.68}
    obama, biden = photos["obama/obama.jpg"][1], photos["biden/biden.jpg"][1]

    result = engine.compare(obama.embedding, biden.embedding)

    assert result.level == MatchLevel.NO_MATCH
    assert result.as_dict() == {
        "distance": result.distance,
        "level": "no_match",
        "engine": "dlib",
        "model": DLIB_MODEL,
        "match": 0.6,
        "review": 0.68,
    }
    json.dumps(result.as_dict())


def test_thresholds_are_configured_per_engine_and_model(engine: FaceEngine, settings: Any) -> None:
    settings.SIGILLO_FACE_THRESHOLDS = {"dlib/%s" % DLIB_MODEL: {"match": 0.5, "review": 0.55}}
    assert engine.thresholds() == {"engine": "dlib", "model": DLIB_MODEL, "match": 0.5, "review": 0.55}
    assert [engine.classify(d) for d in (0.5, 0.52, 0.56)] == ["match", "near_match", "no_match"]

    settings.SIGILLO_FACE_THRESHOLDS = {"dlib/another_model": {"match": 0.1, "review": 0.2}}
    assert engine.match_threshold == 0.6 and engine.review_threshold == 0.68

    settings.SIGILLO_FACE_THRESHOLDS = {"dlib/%s" % DLIB_MODEL: {"match": 0.7, "review": 0.6}}
    with pytest.raises(ImproperlyConfigured):
        engine.thresholds()


def test_embeddings_of_another_model_cannot_be_compared(engine: FaceEngine) -> None:
    with pytest.raises(ValueError, match="128"):
        engine.distance(np.zeros(128, dtype=np.float32), np.zeros(512, dtype=np.float32))


def test_engine_is_made_once_per_process_by_name(engine: FaceEngine, settings: Any) -> None:
    assert get_engine("dlib") is engine is get_engine("dlib")
    assert get_engine() is get_engine("sface")  # the default, chosen by measurement (docs/accuracy.md)
    settings.SIGILLO_FACE_ENGINE = "dlib"
    assert get_engine() is engine
    settings.SIGILLO_FACE_ENGINE = "nonexistent"
    with pytest.raises(EngineUnavailable, match="Unknown face engine 'nonexistent'"):
        get_engine()
    # What the worker's health ping reports: the failure, and the engines that loaded.
    assert engine_status() == {"ok": False, "engine": "nonexistent", "error": "EngineUnavailable"}
    assert engine_status("dlib") == {"ok": True, "engine": "dlib", "loaded": True}


@pytest.mark.parametrize("pack", ["missing", "empty", "unrelated"])
def test_insightface_without_its_model_pack_is_unavailable(settings: Any, tmp_path: Path, pack: str) -> None:
    model_dir = tmp_path / "buffalo_l"
    if pack != "missing":
        model_dir.mkdir()
    if pack == "unrelated":
        (model_dir / "README.txt").write_text("weights go here")
    settings.SIGILLO_INSIGHTFACE_MODEL_DIR = model_dir
    message = (
        "insightface model pack not found at %s; place buffalo_l (non-commercial licence) "
        "or an insightface-compatible pack such as AuraFace there" % model_dir
    )

    with pytest.raises(EngineUnavailable) as unavailable:
        get_engine("insightface")

    assert str(unavailable.value) == message
    assert available_engines() == {"dlib": None, "insightface": message, "sface": None}


def test_engine_modules_import_no_model_library() -> None:
    code = (
        "import django, json, sys; django.setup();"
        "import consent.faces, consent.faces.dlib_engine, consent.faces.insightface_engine;"
        "import consent.faces.sface_engine;"
        "consent.faces.available_engines();"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('dlib', 'onnxruntime', 'cv2', 'torch'))))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


# The insightface engine's own arithmetic, checked against values worked out by hand.


def test_similarity_transform_recovers_a_known_alignment() -> None:
    angle, scale, shift = math.radians(25), 2.5, np.array([140.0, 60.0])
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    landmarks = (ARCFACE_TEMPLATE @ rotation.T) * scale + shift

    matrix = similarity_transform(landmarks, ARCFACE_TEMPLATE)

    mapped = landmarks @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(mapped, ARCFACE_TEMPLATE, atol=1e-3)


def test_non_maximum_suppression_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 100, 100], [5, 5, 105, 105], [200, 200, 260, 260], [0, 0, 100, 100]], dtype=np.float32)
    scores = np.array([0.8, 0.9, 0.7, 0.6], dtype=np.float32)
    assert nms(boxes, scores, 0.4) == [1, 2]


# A tiny insightface-compatible pack: an SCRFD-shaped detector whose outputs are constants
# (two faces, one duplicate, one weak detection) and an ArcFace-shaped recognizer (mean colour
# times a fixed matrix). ONNX files are protocol buffers; the few fields needed are written by
# hand, since the onnx package is not installed.

STRIDES = (8, 16, 32)


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _bytes_field(number: int, value: bytes | str) -> bytes:
    value = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _tensor(name: str, array: np.ndarray) -> bytes:
    # TensorProto: dims (1), data_type (2; 1 is FLOAT), name (8), raw_data (9, little-endian).
    array = np.ascontiguousarray(array, dtype="<f4")
    dims = b"".join(_int_field(1, side) for side in array.shape)
    return dims + _int_field(2, 1) + _bytes_field(8, name) + _bytes_field(9, array.tobytes())


def _value_info(name: str, shape: list[int | str]) -> bytes:
    # ValueInfoProto: name (1), type (2) → tensor_type (1) → elem_type (1), shape (2) → dim (1)
    # → dim_value (1) or dim_param (2).
    dims = b"".join(
        _bytes_field(1, _int_field(1, side) if isinstance(side, int) else _bytes_field(2, side)) for side in shape
    )
    return _bytes_field(1, name) + _bytes_field(2, _bytes_field(1, _int_field(1, 1) + _bytes_field(2, dims)))


def _node(op: str, inputs: list[str], outputs: list[str], attributes: bytes = b"") -> bytes:
    # NodeProto: input (1), output (2), name (3), op_type (4), attribute (5).
    return (
        b"".join(_bytes_field(1, name) for name in inputs)
        + b"".join(_bytes_field(2, name) for name in outputs)
        + _bytes_field(3, outputs[0])
        + _bytes_field(4, op)
        + attributes
    )


def _model(nodes: list[bytes], inputs: list[bytes], outputs: list[bytes], initializers: list[bytes]) -> bytes:
    # GraphProto: node (1), name (2), initializer (5), input (11), output (12); ModelProto:
    # ir_version (1), graph (7), opset_import (8) → domain (1), version (2).
    graph = (
        b"".join(_bytes_field(1, node) for node in nodes)
        + _bytes_field(2, "graph")
        + b"".join(_bytes_field(5, tensor) for tensor in initializers)
        + b"".join(_bytes_field(11, value) for value in inputs)
        + b"".join(_bytes_field(12, value) for value in outputs)
    )
    opset = _bytes_field(1, "") + _int_field(2, 13)
    return _int_field(1, 8) + _bytes_field(7, graph) + _bytes_field(8, opset)


def _recognizer(side: int, width: int) -> bytes:
    weights = np.random.default_rng(7).normal(size=(3, width)).astype(np.float32)
    return _model(
        [
            _node("GlobalAveragePool", ["data"], ["pooled"]),
            _node("Flatten", ["pooled"], ["flat"]),
            _node("MatMul", ["flat", "W"], ["fc1"]),
        ],
        [_value_info("data", ["None", 3, side, side])],
        [_value_info("fc1", ["None", width])],
        [_tensor("W", weights)],
    )


def _scrfd_outputs() -> list[np.ndarray]:
    """Return SCRFD's nine outputs for a 640x640 input holding two faces, in stride units."""
    per_stride = {stride: (np.zeros((640 // stride) ** 2 * 2, dtype=np.float32), {}) for stride in STRIDES}

    def put(stride: int, column: int, row: int, anchor: int, score: float, box: tuple, points: list) -> None:
        index = (row * (640 // stride) + column) * 2 + anchor
        per_stride[stride][0][index] = score
        per_stride[stride][1][index] = (np.array(box) / stride, np.array(points).reshape(-1) / stride)

    face_points = [(-28, -20), (28, -20), (0, 10), (-22, 40), (22, 40)]
    put(32, 10, 7, 0, 0.9, (64, 80, 64, 80), face_points)  # centre (320, 224): box 256,144 - 384,304
    put(32, 10, 7, 1, 0.8, (60, 76, 66, 82), face_points)  # the same face again, weaker: suppressed
    put(16, 30, 10, 0, 0.7, (24, 30, 24, 30), [(x / 4, y / 4) for x, y in face_points])  # centre (480, 160)
    put(8, 5, 5, 0, 0.3, (10, 10, 10, 10), [(0, 0)] * 5)  # below the detection threshold
    scores, boxes, points = [], [], []
    for stride in STRIDES:
        level_scores, extra = per_stride[stride]
        level_boxes = np.zeros((level_scores.size, 4), dtype=np.float32)
        level_points = np.zeros((level_scores.size, 10), dtype=np.float32)
        for index, (box, offsets) in extra.items():
            level_boxes[index], level_points[index] = box, offsets
        scores.append(level_scores[:, None])
        boxes.append(level_boxes)
        points.append(level_points)
    return scores + boxes + points


def _detector() -> bytes:
    outputs = _scrfd_outputs()
    names = ["out%d" % index for index in range(len(outputs))]
    # A Constant node: attribute (5) named "value" holding a tensor (5) of type TENSOR (20 = 4).
    nodes = [
        _node(
            "Constant",
            [],
            [name],
            _bytes_field(5, _bytes_field(1, "value") + _bytes_field(5, _tensor("", value)) + _int_field(20, 4)),
        )
        for name, value in zip(names, outputs, strict=True)
    ]
    return _model(
        nodes,
        [_value_info("input.1", [1, 3, 640, 640])],
        [_value_info(name, list(value.shape)) for name, value in zip(names, outputs, strict=True)],
        [],
    )


@pytest.fixture
def tiny_pack(tmp_path: Path) -> Path:
    pack = tmp_path / "tiny_pack"
    pack.mkdir()
    (pack / "det_10g.onnx").write_bytes(_detector())
    (pack / "w600k_r50.onnx").write_bytes(_recognizer(112, 512))
    (pack / "genderage.onnx").write_bytes(_recognizer(96, 3))  # an auxiliary model the engine skips
    return pack


def test_scrfd_outputs_decode_to_boxes_scores_and_landmarks() -> None:
    outputs = _scrfd_outputs()

    boxes, scores, landmarks = decode_scrfd(outputs, (640, 640))

    np.testing.assert_allclose(scores, [0.7, 0.9, 0.8])  # stride 16 comes before stride 32
    np.testing.assert_allclose(boxes[1], [256, 144, 384, 304], atol=1e-4)
    np.testing.assert_allclose(boxes[0], [456, 130, 504, 190], atol=1e-4)
    np.testing.assert_allclose(landmarks[1][0], [292, 204], atol=1e-4)
    batched = decode_scrfd([output[None] for output in outputs], (640, 640))
    for decoded, expected in zip(batched, (boxes, scores, landmarks), strict=True):
        np.testing.assert_array_equal(decoded, expected)


def test_insightface_engine_runs_an_onnx_pack(settings: Any, tiny_pack: Path) -> None:
    settings.SIGILLO_INSIGHTFACE_MODEL_DIR = tiny_pack
    assert available_engines()["insightface"] is None
    engine = InsightFaceEngine()
    image = faces.photo_image("rose_leslie/img1.jpg").resize((1280, 960))  # fits 640x480 in 640x640: scale 1/2

    found = engine.analyze(image)

    assert engine.model == "tiny_pack/w600k_r50.onnx"
    assert engine.thresholds() == {
        "engine": "insightface",
        "model": "tiny_pack/w600k_r50.onnx",
        "match": 1.1,
        "review": 1.24,
    }
    assert [face.box.as_dict() for face in found] == [
        {"x": 512, "y": 288, "width": 256, "height": 320},
        {"x": 912, "y": 260, "width": 96, "height": 120},
    ]
    assert [round(face.detection_score, 3) for face in found] == [0.9, 0.7]
    assert found[0].landmarks[0] == pytest.approx((584.0, 408.0))
    for face in found:
        assert face.embedding.shape == (512,) and face.embedding.dtype == np.float32
        assert np.linalg.norm(face.embedding) == pytest.approx(1.0, abs=1e-5)
    assert engine.distance(found[0].embedding, found[1].embedding) > 0.01
    again = engine.analyze(image)
    assert engine.distance(found[0].embedding, again[0].embedding) == 0.0


def test_insightface_pack_without_a_recognizer_is_unavailable(settings: Any, tiny_pack: Path) -> None:
    (tiny_pack / "w600k_r50.onnx").unlink()
    engine = InsightFaceEngine(tiny_pack)

    with pytest.raises(EngineUnavailable, match="has no ArcFace recognizer"):
        engine.load()


def test_dlib_engine_survives_concurrent_callers():
    """Threaded web servers call the engine from several threads at once (this crashed once)."""
    from concurrent.futures import ThreadPoolExecutor

    from consent.faces import get_engine
    from tests.consent.faces import photo_image

    engine = get_engine("dlib")
    images = [
        photo_image(path)
        for path in ("obama/obama.jpg", "biden/biden.jpg", "rose_leslie/img1.jpg", "kit_harington/john1.jpg")
    ] * 2
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(engine.analyze, images))

    assert [len(faces) for faces in results] == [1] * len(images)
    for first, second in zip(results[:4], results[4:], strict=True):
        assert engine.distance(first[0].embedding, second[0].embedding) < 1e-4
