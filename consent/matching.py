"""Which registered likenesses does a face (or every face in an image) match, and how closely?

Used by the gate on prompts' reference images and on outputs. Each result carries the
engine's thresholds, so a decision records what it was measured against.
"""

from dataclasses import dataclass
from typing import Any

from PIL import Image

from consent.faces import get_engine
from consent.faces.base import DetectedFace, FaceEngine
from consent.models import Likeness, LikenessStatus


@dataclass(frozen=True)
class LikenessHit:
    likeness_id: str
    display_name: str
    status: str
    distance: float
    outcome: str  # "match" or "near_match"

    def as_dict(self) -> dict[str, Any]:
        return {
            "likeness_id": self.likeness_id,
            "display_name": self.display_name,
            "status": self.status,
            "distance": round(self.distance, 4),
            "outcome": self.outcome,
        }


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


def face_match(*, embedding: Any, engine: FaceEngine, k: int = 5) -> list[LikenessHit]:
    """Return the live likenesses within the engine's review threshold of ``embedding``, nearest first."""
    from consent.search import face_search

    hits = face_search(
        embedding=embedding, engine=engine.name, model=engine.model, k=k, max_distance=engine.review_threshold
    )
    if not hits:
        return []
    likenesses = {
        str(likeness.pk): likeness
        for likeness in Likeness.objects.filter(pk__in=[hit.likeness_id for hit in hits]).exclude(
            status=LikenessStatus.ERASED
        )
    }
    return [
        LikenessHit(
            likeness_id=str(hit.likeness_id),
            display_name=likenesses[str(hit.likeness_id)].display_name,
            status=likenesses[str(hit.likeness_id)].status,
            distance=float(hit.distance),
            outcome=str(engine.classify(hit.distance)),
        )
        for hit in hits
        if str(hit.likeness_id) in likenesses
    ]


def image_match(*, image: Image.Image, engine: FaceEngine | None = None) -> list[FaceMatch]:
    """Detect every face in ``image`` and match each against the registry."""
    engine = engine or get_engine()
    return [
        FaceMatch(
            face=face, hits=tuple(face_match(embedding=face.embedding, engine=engine)), thresholds=engine.thresholds()
        )
        for face in engine.analyze(image)
    ]
