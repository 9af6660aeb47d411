"""Benchmark of the gate's checks: the whole prompt check at 100, 10k and 100k registered names,
and the image check split into detection, embedding and search.

Prompt check = policy categories (``moderation.policy``) + registered names
(``moderation.names.NameIndex``) + descriptors (``moderation.descriptors.DescriptorIndex``'s
search), each on the product's own code. The registry is synthetic (names as in the
``prompt_names`` benchmark; one descriptor per person, embedded from templates and perturbed so
that N distinct vectors exist without embedding N sentences), built without the database.

Image check = the dlib engine on the real test photos: HOG detection, then landmarks and the
ResNet embedding, then exact search of the face index at 10k, 100k and 1M enrolled faces.
"""

from __future__ import annotations

import argparse
import random
import time
import uuid

import numpy as np

from bench import machine, today

DEFAULT_SIZES = (100, 10_000, 100_000)
PROMPTS = [
    "a bush in the garden at sunset",
    "a baker icing a cake in a small bakery",
    "a golden retriever playing fetch on the beach",
    "Robin Williams telling jokes on a stage",
    "R0b1n W1ll14m5 at a party",
    "Williams, Robin dancing",
    "the actor who played the genie in Aladdin doing stand-up comedy",
    "the 44th president of the United States giving a speech",
    "a graphic photo of a man being decapitated, blood everywhere",
    "a watercolour of a lighthouse in a storm, dramatic clouds",
    "two friends drinking coffee in Paris, film photography",
    "Barak Obamma waving from a balcony",
]
TEMPLATES = [
    "the actor who played {role} in {work}",
    "the singer of the band {work}",
    "the {ordinal} president of {country}",
    "the author of {work}",
    "the presenter of {work} on television",
]
WORDS = "river castle moon garden winter empire silver ocean forest island shadow crown storm glass".split()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gate-repeats", type=int, default=5, help="passes over the prompts per size (gate)")


def _descriptor_texts(rng: random.Random, count: int) -> list[str]:
    texts = []
    for _ in range(count):
        template = rng.choice(TEMPLATES)
        texts.append(
            template.format(
                role=" ".join(rng.sample(WORDS, 2)),
                work="The %s %s" % tuple(word.title() for word in rng.sample(WORDS, 2)),
                ordinal="%dth" % rng.randint(4, 60),
                country=rng.choice(["France", "Brazil", "Kenya", "Japan", "Chile", "Norway"]),
            )
        )
    return texts


def _descriptor_index(size: int, rng: random.Random):
    from moderation import text_model
    from moderation.descriptors import DescriptorIndex

    base_texts = _descriptor_texts(rng, 256) + [
        "the actor who played the Genie in Aladdin",
        "the 44th president of the United States",
    ]
    base = text_model.embed_texts(base_texts)
    nprng = np.random.default_rng(7)
    picks = nprng.integers(0, len(base), size=size)
    matrix = base[picks] + nprng.normal(0, 0.05, size=(size, base.shape[1])).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    index = DescriptorIndex()
    index.sync = lambda: None  # fed directly, no database
    index._likeness_ids = [uuid.uuid4() for _ in range(size)]
    index._descriptors = [base_texts[i] for i in picks]
    index._matrix = matrix.astype(np.float32)
    index._generic = text_model.embed_texts(
        list(__import__("moderation.descriptors", fromlist=["GENERIC_PERSONS"]).GENERIC_PERSONS)
    )
    return index


def measure_prompts(size: int, options: argparse.Namespace, log) -> dict:
    from django.conf import settings

    from bench.prompt_names import TARGETS, synthetic_names
    from moderation.names import NameIndex, find_names
    from moderation.policy import policy_check
    from moderation.text_model import clear_embedding_cache

    rng = random.Random(size)
    names = synthetic_names(size - len(TARGETS), rng) + list(TARGETS)
    started = time.perf_counter()
    name_index = NameIndex(names)
    names_build = time.perf_counter() - started
    descriptor_index = _descriptor_index(size, rng)
    threshold = settings.SIGILLO_DESCRIPTOR_THRESHOLD
    for prompt in PROMPTS:  # warm the model and caches
        policy_check(prompt)
    parts: dict[str, list[float]] = {"policy": [], "names": [], "descriptors": [], "total": []}
    for _ in range(options.gate_repeats):
        for prompt in PROMPTS:
            clear_embedding_cache()  # the stages of one check share embeddings; earlier checks don't count
            t0 = time.perf_counter()
            policy_check(prompt)
            t1 = time.perf_counter()
            find_names(prompt, name_index)
            t2 = time.perf_counter()
            descriptor_index.search(prompt, threshold=threshold)
            t3 = time.perf_counter()
            parts["policy"].append(t1 - t0)
            parts["names"].append(t2 - t1)
            parts["descriptors"].append(t3 - t2)
            parts["total"].append(t3 - t0)
    log("  %d names: total p50 %.1f ms" % (size, np.percentile(parts["total"], 50) * 1000))
    return {"size": size, "names_build": names_build, "queries": len(parts["total"]), **{
        key: (np.percentile(values, 50) * 1000, np.percentile(values, 95) * 1000) for key, values in parts.items()
    }}  # fmt: skip


def measure_images(log) -> dict:
    from consent.faces import get_engine
    from consent.faces.index import FaceIndex
    from tests.consent.faces import faces_manifest, photo_image

    engine = get_engine("dlib")
    engine.load()
    paths = [path for paths in faces_manifest()["identities"].values() for path in paths]
    paths += list(faces_manifest()["groups"])
    detection, embedding, pixels = [], [], []
    vectors = []
    for _ in range(3):
        for path in paths:
            image = photo_image(path)
            array = np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
            t0 = time.perf_counter()
            rectangles, _, _ = engine._detector.run(array, 1, 0.0)
            t1 = time.perf_counter()
            for rectangle in rectangles:
                shape = engine._shape_predictor(array, rectangle)
                vectors.append(np.array(engine._recognizer.compute_face_descriptor(array, shape, 1), dtype=np.float32))
            t2 = time.perf_counter()
            detection.append(t1 - t0)
            embedding.append((t2 - t1) / max(1, len(rectangles)))
            pixels.append(image.width * image.height)
    search = {}
    rng = np.random.default_rng(3)
    for size in (10_000, 100_000, 1_000_000):
        index = FaceIndex("dlib", "bench", exact_max=2_000_000)
        faces = rng.normal(0, 0.09, size=(size, 128)).astype(np.float32)
        index.add_vectors(
            list(range(size)), [uuid.uuid4() for _ in range(min(size, 1000))] * (size // min(size, 1000)), faces
        )
        times = []
        for vector in vectors[:30]:
            t0 = time.perf_counter()
            index.search(embedding=vector, k=5, max_distance=engine.review_threshold)
            times.append(time.perf_counter() - t0)
        search[size] = (np.percentile(times, 50) * 1000, np.percentile(times, 95) * 1000)
        log("  search at %d faces: p50 %.2f ms" % (size, search[size][0]))
    return {
        "photos": len(paths),
        "megapixels": float(np.median(pixels)) / 1e6,
        "detection": (np.percentile(detection, 50) * 1000, np.percentile(detection, 95) * 1000),
        "embedding": (np.percentile(embedding, 50) * 1000, np.percentile(embedding, 95) * 1000),
        "search": search,
    }


def run(options: argparse.Namespace) -> str:
    def log(message: str) -> None:
        print(message, flush=True)

    sizes = tuple(options.sizes or DEFAULT_SIZES)
    prompt_rows = [measure_prompts(size, options, log) for size in sizes]
    images = measure_images(log)
    lines = [
        "## Gate checks",
        "",
        "- **Machine:** %s. **Date:** %s." % (machine(), today()),
        "- **Command:** `python -m bench --only gate` (sizes with `--sizes`).",
        "- **Prompt check:** %d prompts (innocent, named, disguised, described, violating) × %d passes, one at a time,"
        " through `policy_check`, `find_names` and the descriptor search — the three prompt stages of the gate."
        " Registered names are synthetic (see `prompt_names`); one descriptor per person."
        % (len(PROMPTS), options.gate_repeats),
        "",
        "| registered names | name index build (s) | policy p50/p95 (ms) | names p50/p95 (ms) | descriptors p50/p95 (ms) | **prompt check p50/p95 (ms)** | prompts |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in prompt_rows:
        lines.append(
            "| %s | %.2f | %.1f / %.1f | %.2f / %.2f | %.1f / %.1f | **%.1f / %.1f** | %d |"
            % (
                "{:,}".format(row["size"]),
                row["names_build"],
                *row["policy"],
                *row["names"],
                *row["descriptors"],
                *row["total"],
                row["queries"],
            )
        )
    lines += [
        "",
        "- **Image check** (dlib engine, %d real test photos × 3, median %.2f megapixels): detection (HOG, one upsample)"
        " p50/p95 **%.0f / %.0f ms** per image; landmarks + embedding **%.0f / %.0f ms** per face; exact search of the face index:"
        % (images["photos"], images["megapixels"], *images["detection"], *images["embedding"]),
        "",
        "| enrolled faces | search p50 (ms) | search p95 (ms) |",
        "|---:|---:|---:|",
    ]
    for size, (p50, p95) in images["search"].items():
        lines.append("| %s | %.2f | %.2f |" % (f"{size:,}", p50, p95))
    lines += [
        "",
        "Detection dominates an image check; the sentence model dominates a prompt check (policy and descriptors embed the prompt's windows), while name matching stays well under a millisecond as names grow.",
    ]
    return "\n".join(lines)
