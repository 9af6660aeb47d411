"""Which registered likenesses does a face (or every face in an image) match, and how closely?

Used by the gate on prompts' reference images and on outputs. Each result carries the
engine's thresholds at the registry's current size (``FaceEngine.thresholds_at``: they tighten as
the registry grows, to keep false identifications under the configured rate), so a decision
records what it was measured against.

Every likeness within the engine's review threshold of a face is returned, never only the
nearest (SPEC section 2): the caller evaluates each. Two relations between them are worked out
here, so that every caller applies the same rules:

* **Different people.** When a moderator judged two likenesses to be different people
  (``moderation.models.LikenessDistinction``, recorded when a disputed registration is found
  legitimate), a face clearly nearer one of them is that one's: the other is set aside — unless
  the face is so close to the other that it is the other's beyond doubt (within
  ``CERTAIN_FRACTION`` of the match threshold), in which case neither is set aside. Faces that
  are about as close to both are marked ``ambiguous_with``: the face cannot be told to be either
  person's, so neither one's consent may cover it alone. This is what keeps a real photo of a
  protected person blocked after a registration of the same face was (wrongly) judged a
  legitimate lookalike: their photos are all within a same-person distance of the protected one.
* **Disputed duplicates.** A disputed registration of a face that an established likeness
  (active or revoked, not suspended) already holds is marked ``duplicate_of`` that likeness when
  the face is at least about as close to the established one: it is an unproven claim on the
  same face, and the established likeness's consent governs. A disputed likeness the face is
  clearly nearest to is no duplicate: it stays a claim of its own, which grants nothing.
"""

from dataclasses import dataclass, replace
from typing import Any

from PIL import Image

from consent.faces import get_engine
from consent.faces.base import DetectedFace, FaceEngine
from consent.models import Likeness, LikenessStatus

#: Likenesses asked of the search at first; ``face_match`` asks for four times more while the
#: answer comes back full, so that no likeness within the review threshold is ever cut off.
SEARCH_PAGE = 32
#: "Clearly nearer", as a fraction of the engine's match threshold (0.06 for dlib at 0.6).
DISTINCT_MARGIN = 0.1
#: Within this fraction of the match threshold a face is a likeness's beyond doubt (0.45 for dlib
#: at 0.6; every same-person pair of the test photos is within 0.53, different people 0.75 apart):
#: a moderator's "different people" decision never sets that likeness aside for the face.
CERTAIN_FRACTION = 0.75
#: Statuses of a likeness whose registration is established (with ``suspended_at`` unset).
ESTABLISHED_STATUSES = (LikenessStatus.ACTIVE, LikenessStatus.REVOKED)


@dataclass(frozen=True)
class LikenessHit:
    likeness_id: str
    display_name: str
    status: str
    distance: float
    outcome: str  # "match" or "near_match"
    #: Whether the registration is established (active or revoked, not suspended): only such a
    #: likeness can be the original a disputed registration duplicates.
    established: bool = True
    #: Likenesses judged different people from this one that the face is about as close to.
    ambiguous_with: tuple[str, ...] = ()
    #: For a disputed likeness: the established likeness it duplicates on this face.
    duplicate_of: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "likeness_id": self.likeness_id,
            "display_name": self.display_name,
            "status": self.status,
            "distance": round(self.distance, 4),
            "outcome": self.outcome,
        }
        if self.ambiguous_with:
            data["ambiguous_with"] = list(self.ambiguous_with)
        if self.duplicate_of:
            data["duplicate_of"] = self.duplicate_of
        return data


@dataclass(frozen=True)
class FaceMatch:
    face: DetectedFace
    hits: tuple[LikenessHit, ...]
    thresholds: dict[str, Any]

    @property
    def best(self) -> LikenessHit | None:
        return self.hits[0] if self.hits else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "box": self.face.box.as_dict(),
            "detection_score": round(float(self.face.detection_score), 4),
            "hits": [hit.as_dict() for hit in self.hits],
            "thresholds": self.thresholds,
        }


def likeness_established(likeness: Likeness) -> bool:
    """Return whether ``likeness``'s registration is established: active or revoked, and not suspended."""
    return likeness.status in ESTABLISHED_STATUSES and likeness.suspended_at is None


def distinct_likenesses(likeness_ids: list[str]) -> dict[str, set[str]]:
    """Return, for each of ``likeness_ids``, those of the others a moderator judged a different person."""
    from moderation.models import LikenessDistinction

    pairs = LikenessDistinction.objects.filter(likeness_a__in=likeness_ids, likeness_b__in=likeness_ids)
    distinct: dict[str, set[str]] = {}
    for a, b in pairs.values_list("likeness_a_id", "likeness_b_id"):
        distinct.setdefault(str(a), set()).add(str(b))
        distinct.setdefault(str(b), set()).add(str(a))
    return distinct


def face_match(*, embedding: Any, engine: FaceEngine, k: int = SEARCH_PAGE) -> list[LikenessHit]:
    """Return every live likeness within the engine's review threshold of ``embedding``, nearest first.

    One hit per likeness, at the distance of its nearest enrolled face; ``k`` is only the size of
    the first search. Likenesses judged different people are resolved, and disputed duplicates
    marked, as the module's docstring says.
    """
    from consent.faces.index import get_index

    index = get_index(engine.name, engine.model)
    index.sync()  # once: the size and the searches below see the same registry
    # The thresholds tighten as the registry grows, to keep false identifications rare (FaceEngine.thresholds_at).
    match, review = engine.thresholds_at(len(index))
    while True:
        found = index.search(embedding=embedding, k=k, max_distance=review)
        if len(found) < k:
            break
        k *= 4
    if not found:
        return []
    likenesses = {
        str(likeness.pk): likeness
        for likeness in Likeness.objects.filter(pk__in=[hit.likeness_id for hit in found]).exclude(
            status=LikenessStatus.ERASED
        )
    }
    hits = [
        LikenessHit(
            likeness_id=str(hit.likeness_id),
            display_name=likenesses[str(hit.likeness_id)].display_name,
            status=likenesses[str(hit.likeness_id)].status,
            distance=float(hit.distance),
            outcome="match" if hit.distance <= match else "near_match",
            established=likeness_established(likenesses[str(hit.likeness_id)]),
        )
        for hit in found
        if str(hit.likeness_id) in likenesses
    ]
    return _relate(hits, engine)


def _relate(hits: list[LikenessHit], engine: FaceEngine) -> list[LikenessHit]:
    """Set aside the likenesses a face is clearly not (judged different people from a nearer one);
    mark the ambiguous ones and the disputed duplicates."""
    if len(hits) < 2:
        return hits
    margin = engine.match_threshold * DISTINCT_MARGIN
    certain = engine.match_threshold * CERTAIN_FRACTION
    distance = {hit.likeness_id: hit.distance for hit in hits}
    distinct = distinct_likenesses(list(distance))
    set_aside = {
        hit.likeness_id
        for hit in hits
        if hit.distance > certain
        and any(distance[other] + margin < hit.distance for other in distinct.get(hit.likeness_id, ()))
    }
    kept = [hit for hit in hits if hit.likeness_id not in set_aside]
    related = []
    for hit in kept:
        others = distinct.get(hit.likeness_id, set())
        ambiguous = tuple(other.likeness_id for other in kept if other.likeness_id in others)
        duplicate_of = None
        if hit.status == LikenessStatus.DISPUTED:
            duplicate_of = next(
                (other.likeness_id for other in kept if other.established and other.distance <= hit.distance + margin),
                None,
            )
        related.append(replace(hit, ambiguous_with=ambiguous, duplicate_of=duplicate_of))
    return related


def image_match(*, image: Image.Image, engine: FaceEngine | None = None) -> list[FaceMatch]:
    """Detect every face in ``image`` and match each against the registry."""
    from consent.faces.index import registry_size

    engine = engine or get_engine()
    faces = engine.analyze(image)
    if not faces:
        return []
    thresholds = engine.thresholds(enrolled=registry_size(engine.name, engine.model))
    return [
        FaceMatch(face=face, hits=tuple(face_match(embedding=face.embedding, engine=engine)), thresholds=thresholds)
        for face in faces
    ]
