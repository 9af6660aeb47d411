"""Benchmark: an image check at 10k enrolled faces, Sigillo against the face_recognition library's
usual loop, side by side in one run on the same photos.

The usual loop, as face_recognition's README and examples write it (reproduced here with the
same dlib calls, since the ``face_recognition`` package itself is not installed):
``face_locations`` (dlib's HOG detector, one upsample), ``face_encodings`` (the 68-point shape
predictor and the ResNet embedding), then ``compare_faces`` against the enrolled encodings kept
as a Python list (``np.linalg.norm(list - encoding, axis=1)``, which turns the list into an array
on every call).

Sigillo's image check: the default engine's ``analyze`` (detection on a downscaled image, quarter
turns, alignment, embedding) and the face index's exact search (``consent.faces.index.FaceIndex``), at
the same 10k enrolled faces. The enrolled faces are random vectors of each engine's dimension:
the search costs the same whatever they hold. No database: both sides do only the face work.
"""

from __future__ import annotations

import argparse
import time
import uuid

import numpy as np

from bench import machine, today

ENROLLED = 10_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check-repeats", type=int, default=2, help="passes over the photos (image_check)")


def _photos() -> list:
    from tests.consent.faces import faces_manifest, photo_image

    manifest = faces_manifest()
    paths = [path for section in ("identities", "more_identities") for paths in manifest[section].values()
             for path in paths]  # fmt: skip
    return [photo_image(path) for path in paths + list(manifest["groups"])]


def _usual_loop(photos: list, repeats: int) -> tuple[list[float], int]:
    import dlib

    from consent.faces.dlib_engine import RECOGNITION_MODEL_FILE, _models_dir

    models = _models_dir()
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(models / "shape_predictor_68_face_landmarks.dat"))
    encoder = dlib.face_recognition_model_v1(str(models / RECOGNITION_MODEL_FILE))
    rng = np.random.default_rng(1)
    known = list(rng.normal(0, 0.09, size=(ENROLLED, 128)))  # a Python list, as in the examples
    times, faces = [], 0
    for _ in range(repeats):
        for image in photos:
            pixels = np.asarray(image, dtype=np.uint8)
            started = time.perf_counter()
            locations = detector(pixels, 1)  # face_locations(image)
            encodings = [
                np.array(encoder.compute_face_descriptor(pixels, predictor(pixels, box), 1)) for box in locations
            ]  # face_encodings(image, locations)
            for encoding in encodings:  # compare_faces(known, encoding)
                distances = np.linalg.norm(np.asarray(known) - encoding, axis=1)
                _ = list(distances <= 0.6)
            times.append(time.perf_counter() - started)
            faces += len(encodings)
    return times, faces


def _sigillo(photos: list, repeats: int) -> tuple[list[float], int, object]:
    from consent.faces import get_engine
    from consent.faces.index import FaceIndex

    engine = get_engine()
    engine.load()
    rng = np.random.default_rng(1)
    vectors = rng.normal(0, 1, size=(ENROLLED, engine.dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = FaceIndex(engine.name, "bench", exact_max=2_000_000)
    owners = [uuid.uuid4() for _ in range(1000)]
    index.add_vectors(list(range(ENROLLED)), owners * (ENROLLED // 1000), vectors)
    match, review = engine.thresholds_at(ENROLLED)
    times, faces = [], 0
    for _ in range(repeats):
        for image in photos:
            started = time.perf_counter()
            found = engine.analyze(image)
            for face in found:
                index.search(embedding=face.embedding, k=32, max_distance=review)
            times.append(time.perf_counter() - started)
            faces += len(found)
    return times, faces, engine


def run(options: argparse.Namespace) -> str:
    photos = _photos()
    repeats = options.check_repeats
    _sigillo(photos[:2], 1)  # warm up the models
    ours, our_faces, engine = _sigillo(photos, repeats)
    usual, usual_faces = _usual_loop(photos, repeats)
    speedup = sum(usual) / sum(ours)
    megapixels = float(np.median([image.width * image.height for image in photos])) / 1e6

    def row(name: str, times: list[float], faces: int) -> str:
        return "| %s | %.0f | %.0f | %.0f | %d |" % (
            name,
            np.percentile(times, 50) * 1000,
            np.percentile(times, 95) * 1000,
            sum(times) / len(times) * 1000,
            faces,
        )

    return "\n".join(
        [
            "## Image check against the usual face_recognition loop",
            "",
            "- **Machine:** %s. **Date:** %s." % (machine(), today()),
            "- **Command:** `python -m bench --only image_check` (`bench/image_check.py`, whose docstring gives the"
            " method). %d shared photos (median %.1f megapixels) × %d passes, one at a time, %s enrolled faces."
            % (len(photos), megapixels, repeats, f"{ENROLLED:,}"),
            "",
            "| | p50 (ms) | p95 (ms) | mean (ms) | faces found |",
            "|---|---:|---:|---:|---:|",
            row("face_recognition's usual loop (HOG, 68 landmarks, list compare)", usual, usual_faces),
            row("Sigillo, %s engine (%s) + face index" % (engine.name, engine.model), ours, our_faces),
            "",
            "Sigillo's check is **%.1f× faster** over the whole run, and finds %d faces where the usual loop finds %d"
            " (its HOG detector sees frontal faces only)." % (speedup, our_faces, usual_faces),
        ]
    )
