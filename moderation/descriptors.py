"""Descriptors of registered likenesses, found in a prompt by meaning ("the guy who was Jon Snow").

A likeness may carry descriptors: phrases that single the person out without naming them ("the
actor who played Jon Snow in Game of Thrones", "the 44th president of the United States").
``find_descriptors`` says which likenesses a prompt describes: every part of the prompt (the
whole, its clauses, its word windows; ``consent.topics.prompt_windows``) is compared with every
descriptor by cosine similarity of their sentence embeddings, in one matrix product. A part
that reads as a generic description of a person ("a president giving a speech") matches no one.

Each process keeps one ``DescriptorIndex``: the embeddings of the descriptors of every likeness
that is not erased, and of erased ones kept as "do not generate". Before a search it checks the
registry cheaply (the count and the latest ``updated_at`` of ``Likeness``, at most every
``SIGILLO_DESCRIPTOR_INDEX_SYNC_INTERVAL`` seconds) and rebuilds when that changed; a
descriptor's embedding is computed once per process. The sentence model is the one of
``consent.topics``; if it cannot run, the search raises ``TextModelUnavailable``, never answers
"no hits". Importing this module imports no model library.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings
from django.db.models import Count, Max, Q

from consent import topics
from consent.models import Likeness, LikenessStatus
from moderation import text_model
from moderation.text import plain_reading
from moderation.text_model import TextModelUnavailable, model_info

if TYPE_CHECKING:
    from moderation.names import NameHit

__all__ = [
    "DescriptorHit",
    "DescriptorIndex",
    "GENERIC_MARGIN",
    "GENERIC_PERSONS",
    "TextModelUnavailable",
    "find_descriptors",
    "get_index",
    "model_info",
    "reset_index",
]

logger = logging.getLogger(__name__)

#: Descriptions that fit many people. A part of the prompt closer to one of these than to a
#: descriptor does not count ("a president giving a speech" is not "the 44th president of the
#: United States", though they score 0.59): a descriptor must be matched by what singles the
#: person out. For the same reason a descriptor as generic as these never hits. The part must be
#: closer to the descriptor by ``GENERIC_MARGIN`` at least: the same text embedded in two batches
#: differs in the last digits. On the labelled cases any margin up to 0.1 gives the same hits.
GENERIC_PERSONS = (
    "a person",
    "a man",
    "a woman",
    "a celebrity",
    "a famous person",
    "a public figure",
    "an actor",
    "an actress",
    "a movie star",
    "a singer",
    "a pop star",
    "a rapper",
    "a musician",
    "a band",
    "a president",
    "a politician",
    "a head of state",
    "a prime minister",
    "a chancellor",
    "a senator",
    "a king",
    "a queen",
    "a comedian",
    "a billionaire",
    "a businessman",
    "a CEO",
    "an entrepreneur",
    "a TV presenter",
    "a journalist",
    "an athlete",
    "a footballer",
    "a model",
    "an author",
    "a scientist",
    "an astronaut",
)
#: A hit this much less close than another hit on overlapping words is the other's (``_distinct``).
DISTINCT_MARGIN = 0.2
GENERIC_MARGIN = 0.02

METHOD_SEMANTIC = "semantic"


@dataclass(frozen=True)
class DescriptorHit:
    """A registered likeness that the prompt describes.

    ``descriptor`` is the likeness's descriptor closest to the prompt, ``score`` its cosine
    similarity with the closest part of the prompt, ``span`` that part's ``(start, end)``.
    """

    likeness_id: uuid.UUID
    descriptor: str
    score: float
    span: tuple[int, int]
    method: str = METHOD_SEMANTIC


def _live_likenesses() -> Any:
    """Return the likenesses whose descriptors are enforced: not erased, or erased but "do not generate"."""
    return Likeness.objects.filter(~Q(status=LikenessStatus.ERASED) | Q(do_not_generate=True))


class DescriptorIndex:
    """The embeddings of the enforced descriptors, kept in step with the registry; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._clear()

    def _clear(self) -> None:
        self._state: tuple[int, datetime | None] | None = None
        self._model_key = ""
        self._checked_at = float("-inf")
        self._likeness_ids: list[uuid.UUID] = []
        self._descriptors: list[str] = []
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._generic = np.zeros((0, 0), dtype=np.float32)
        # Embedding of each descriptor text seen in this process: a rebuild embeds only new ones.
        self._embedded: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._descriptors)

    @property
    def sync_interval(self) -> float:
        return settings.SIGILLO_DESCRIPTOR_INDEX_SYNC_INTERVAL

    def reset(self) -> None:
        """Forget everything; the next ``sync()`` rebuilds from the database."""
        with self._lock:
            self._clear()

    def sync(self) -> None:
        """Rebuild the index if the registry changed since the last build (checked cheaply)."""
        with self._lock:
            model_key = str(text_model.model_folder())
            now = time.monotonic()
            if self._state is not None and model_key == self._model_key and now - self._checked_at < self.sync_interval:
                return
            summary = Likeness.objects.aggregate(count=Count("id"), latest=Max("updated_at"))
            state = (summary["count"], summary["latest"])
            self._checked_at = now
            if state == self._state and model_key == self._model_key:
                return
            if model_key != self._model_key:
                self._embedded.clear()
                self._generic = text_model.embed_texts(list(GENERIC_PERSONS))
            self._build()
            self._state = state
            self._model_key = model_key

    def _build(self) -> None:
        likeness_ids: list[uuid.UUID] = []
        descriptors: list[str] = []
        for likeness_id, values in _live_likenesses().values_list("id", "descriptors"):
            seen: set[str] = set()
            for value in values or []:
                if not isinstance(value, str):
                    continue
                text = " ".join(value.split())
                if text and text.lower() not in seen:
                    seen.add(text.lower())
                    likeness_ids.append(likeness_id)
                    descriptors.append(text)
        missing = sorted({text for text in descriptors if text not in self._embedded})
        if missing:
            for text, vector in zip(missing, text_model.embed_texts(missing), strict=True):
                self._embedded[text] = np.asarray(vector, dtype=np.float32)
        if descriptors:
            matrix = np.stack([self._embedded[text] for text in descriptors])
        else:
            matrix = np.zeros((0, 0), dtype=np.float32)
        self._likeness_ids, self._descriptors, self._matrix = likeness_ids, descriptors, matrix
        logger.info(
            "Built the descriptor index: %d descriptors of %d likenesses", len(descriptors), len(set(likeness_ids))
        )

    def search(self, prompt: str, *, threshold: float, names: list[NameHit] | None = None) -> list[DescriptorHit]:
        """Return the likenesses with a descriptor at least ``threshold`` close to a part of ``prompt``.

        One hit per likeness (its closest descriptor), closest first. Raise
        ``TextModelUnavailable`` if the sentence model cannot run.
        """
        text_model.embed_texts([])  # load the model, or fail closed, whatever the registry holds
        self.sync()
        with self._lock:
            likeness_ids, descriptors, matrix, generic = (
                self._likeness_ids,
                self._descriptors,
                self._matrix,
                self._generic,
            )
        reading = plain_reading(prompt)  # as a person reads it; spans map back to the prompt
        windows = [
            (*reading.original_span(start, end), text) for start, end, text in topics.prompt_windows(reading.text)
        ]
        if not descriptors or not windows:
            return []
        window_embeddings = text_model.embed_texts([text for _, _, text in windows])
        similarities = window_embeddings @ matrix.T  # windows x descriptors
        # A part that reads as a generic description of a person matches no one in particular.
        generic_scores = (window_embeddings @ generic.T).max(axis=1)
        similarities = np.where(similarities >= generic_scores[:, None] + GENERIC_MARGIN, similarities, -1.0)
        best_window = similarities.argmax(axis=0)
        best = similarities.max(axis=0)
        hits: dict[uuid.UUID, DescriptorHit] = {}
        for column in np.flatnonzero(best >= threshold):
            score = float(best[column])
            likeness_id = likeness_ids[column]
            if likeness_id in hits and hits[likeness_id].score >= score:
                continue
            start, end, _ = windows[int(best_window[column])]
            hits[likeness_id] = DescriptorHit(
                likeness_id=likeness_id, descriptor=descriptors[column], score=score, span=(start, end)
            )
        return _distinct(prompt, sorted(hits.values(), key=lambda hit: -hit.score), names)


def _distinct(prompt: str, hits: list[DescriptorHit], names: list[NameHit] | None) -> list[DescriptorHit]:
    """Drop the hits that a clearer reading of the same words explains (``hits`` closest first).

    A part of the prompt that is another registered person's name ("Barack Obama" is not "Barack
    Obama's vice president") describes nobody else; and where two descriptions fit the same words,
    one far closer than the other ("the 46th president": 0.99 for the 46th, 0.77 for the 44th),
    the words describe the closer one only. ``names`` are the prompt's name hits, found here if
    not given.
    """
    if not hits:
        return hits
    if names is None:
        from moderation.names import find_names

        names = find_names(prompt)
    kept: list[DescriptorHit] = []
    for hit in hits:
        named_other = any(
            str(name.likeness_id) != str(hit.likeness_id)
            and name.span[0] <= hit.span[0]
            and hit.span[1] <= name.span[1]
            for name in names
        )
        if named_other and not any(str(name.likeness_id) == str(hit.likeness_id) for name in names):
            continue
        if any(
            other.span[0] < hit.span[1] and hit.span[0] < other.span[1] and other.score - hit.score > DISTINCT_MARGIN
            for other in kept
        ):
            continue
        kept.append(hit)
    return kept


_index = DescriptorIndex()


def get_index() -> DescriptorIndex:
    """Return this process's descriptor index."""
    return _index


def reset_index() -> None:
    """Forget this process's descriptor index (tests; the next search rebuilds it)."""
    _index.reset()


def find_descriptors(
    prompt: str, *, threshold: float | None = None, names: list[NameHit] | None = None
) -> list[DescriptorHit]:
    """Return the registered likenesses that ``prompt`` describes, closest first.

    A likeness hits when one of its descriptors is at least ``threshold`` close to a part of the
    prompt that is closer to it than to every description in ``GENERIC_PERSONS``.
    ``threshold`` defaults to the setting ``SIGILLO_DESCRIPTOR_THRESHOLD``. Record
    ``model_info()`` with the decision. ``names`` are the prompt's registered-name hits
    (``moderation.names.find_names``), if the caller has them: a part of the prompt that names
    someone describes nobody else. Raise ``TextModelUnavailable`` if the model cannot run.
    """
    if threshold is None:
        threshold = settings.SIGILLO_DESCRIPTOR_THRESHOLD
    return _index.search(prompt, threshold=threshold, names=names)
