"""Load and exercise every model a gate or scanning worker uses, before its first task.

A cold worker used to spend 35-60 s loading the sentence model inside the first check it ran,
against the web process's wait for the answer: the first request after a start landed in
review. ``gate_models_warm`` runs when each worker process starts (``config/celery.py``), so the
first check costs what the hundredth does. Each step is timed and logged; a step that fails is
logged and left to load on first use, where a failure fails the check closed as before.
"""

import logging
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


def _sentence_model() -> None:
    from moderation import text_model

    text_model.embed_texts(["a warm-up sentence for the model"])


def _policy() -> None:
    from moderation.policy import policy_check

    policy_check("a lighthouse in a storm, watercolour")  # the examples' embeddings, the windows


def _topics() -> None:
    from consent.topics import topic_hits

    topic_hits(prompt="a lighthouse in a storm", topics=["never show me drinking alcohol"])


def _names() -> None:
    from moderation.names import find_names

    find_names("a lighthouse in a storm")  # the registry's name index and the common words


def _descriptors() -> None:
    from moderation.descriptors import find_descriptors

    find_descriptors("a lighthouse in a storm")


def _faces() -> None:
    from consent.faces import get_engine
    from consent.faces.index import get_index

    engine = get_engine()
    engine.warm()
    get_index(engine.name, engine.model).sync(force=True)


def _nsfw() -> None:
    from PIL import Image

    from generation.scan import nsfw_detect

    nsfw_detect(Image.new("RGB", (64, 64), "gray"))


STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("sentence model", _sentence_model),
    ("policy", _policy),
    ("topics", _topics),
    ("names", _names),
    ("descriptors", _descriptors),
    ("faces", _faces),
    ("nsfw", _nsfw),
)


def gate_models_warm() -> dict[str, float]:
    """Load every model of the gate and the output scan; return the seconds each step took."""
    timings: dict[str, float] = {}
    for name, step in STEPS:
        started = time.monotonic()
        try:
            step()
        except Exception:
            logger.exception("Could not warm %s: it will load on first use", name)
            continue
        timings[name] = round(time.monotonic() - started, 3)
    logger.info("Warmed the gate's models in %.1f s: %s", sum(timings.values()), timings)
    return timings
