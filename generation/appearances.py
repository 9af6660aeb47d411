"""Every generation that used or matched a likeness: what its rights holder is entitled to see."""

import logging
from typing import Any

import numpy as np
from django.db.models import Q

from consent.models import Likeness, LikenessStatus
from generation.models import Generation, ReleasedFace
from moderation.models import Decision, Flag

logger = logging.getLogger(__name__)

#: Whose faces reverse search links: people whose ownership of the likeness is established.
LINKABLE = (LikenessStatus.ACTIVE, LikenessStatus.REVOKED)
#: Released faces compared at a time in reverse search (bounded memory whatever the history).
LINK_BATCH = 2000


def released_faces_link(likeness_id: Any) -> int:
    """Reverse search: attach to ``likeness`` the faces of past releases that match it; return how many.

    A person who registers after outputs showing them were released (their face was unknown
    then, and unknown faces pass) sees those outputs among their appearances. Released faces keep
    their embedding, encrypted, with the engine and model that made it; only faces of the
    current engine and model are compared, at its match threshold. Only a likeness whose owner
    is established (active, or revoked by that owner) is linked: a disputed registration or an
    estate not yet verified learns nothing about where the face appeared.
    """
    from consent import crypto
    from consent.faces import get_engine
    from consent.models import Face

    likeness = Likeness.objects.filter(pk=likeness_id).first()
    if likeness is None or likeness.protected or likeness.status not in LINKABLE:
        return 0
    engine = get_engine()
    known = [
        crypto.decrypt_embedding(face.embedding)
        for face in Face.objects.filter(likeness=likeness, engine=engine.name, model=engine.model)
    ]
    if not known:
        return 0
    registered = np.stack(known).astype(np.float32)
    candidates = ReleasedFace.objects.filter(likeness=None, engine=engine.name, model=engine.model).exclude(
        embedding=None
    )
    linked, last = 0, 0
    while True:
        batch = list(candidates.filter(pk__gt=last).order_by("pk").values_list("pk", "embedding")[:LINK_BATCH])
        if not batch:
            break
        last = batch[-1][0]
        vectors = np.stack([crypto.decrypt_embedding(bytes(token)) for _, token in batch]).astype(np.float32)
        nearest = np.linalg.norm(vectors[:, None, :] - registered[None, :, :], axis=2).min(axis=1)
        matched = [pk for (pk, _), distance in zip(batch, nearest, strict=True) if distance <= engine.match_threshold]
        if matched:
            linked += ReleasedFace.objects.filter(pk__in=matched, likeness=None).update(likeness=likeness)
    if linked:
        logger.info("Reverse search linked %d released faces to likeness %s", linked, likeness.pk)
    return linked


def released_faces_forget(likeness_id: Any) -> int:
    """Erase the embeddings of released faces matched to an erased likeness (the records stay)."""
    return ReleasedFace.objects.filter(likeness_id=likeness_id).exclude(embedding=None).update(embedding=None)


def released_faces_link_quietly(likeness_id: Any) -> None:
    """Run the reverse search after an enrollment; its failure never undoes the enrollment."""
    try:
        released_faces_link(likeness_id)
    except Exception:
        logger.exception("reverse search of released faces for %s failed", likeness_id)


def likeness_appearances(likeness: Likeness) -> list[dict[str, Any]]:
    """Return, newest first, each generation and each check that involved ``likeness``.

    A generation involves it when the likeness was a cameo, was found by the gate (named,
    described, seen in a reference), or was seen in the output. Checks that never became a
    generation (blocked at the gate, for example) are listed too.

    Only a likeness whose ownership is established (``LINKABLE``: active, or revoked by its
    owner) has appearances. A disputed registration, or one still pending verification, gets an
    empty list — not a "not found": its registrant may open their own entry, there is just nothing
    of other people's use to show (SPEC section 3: a disputed registration learns nothing). A
    registration judged legitimate after a dispute shows what happened from that decision on,
    never the checks that matched it while it was an unproven claim.
    """
    if likeness.status not in LINKABLE:
        return []
    key = str(likeness.pk)
    decisions = Decision.objects.filter(likenesses=likeness).select_related("requester")
    established_at = (
        Flag.objects.filter(kind=Flag.Kind.DISPUTE, likeness=likeness, decision="legitimate")
        .order_by("-decided_at")
        .values_list("decided_at", flat=True)
        .first()
    )
    if established_at is not None:
        decisions = decisions.filter(created_at__gte=established_at)
    # A generation's cameos are its first decision's, so that decision's link covers them.
    generations = (
        Generation.objects.filter(
            Q(released_faces__likeness=likeness) | Q(pre_decision__in=decisions) | Q(output_decision__in=decisions)
        )
        .distinct()
        .select_related("requester", "pre_decision", "output_decision")
    )
    seen_in_output = set(
        ReleasedFace.objects.filter(likeness=likeness, generation__in=generations).values_list(
            "generation_id", flat=True
        )
    )
    rows = []
    seen_decisions = set()
    for generation in generations:
        related = [d for d in (generation.pre_decision, generation.output_decision) if d is not None]
        seen_decisions.update(d.pk for d in related)
        rows.append(
            {
                "type": "generation",
                "generation": str(generation.pk),
                "requester": generation.requester.username,
                "kind": generation.kind,
                "use": generation.use,
                "status": generation.status,
                "as_cameo": key in generation.cameos,
                "seen_in_output": generation.pk in seen_in_output,
                "reasons": [r for d in related for r in d.reasons if r.get("likeness_id") == key],
                "reason": generation.reason,
                "at": generation.created_at,
            }
        )
    for decision in decisions:
        if decision.pk in seen_decisions:
            continue
        rows.append(
            {
                "type": decision.kind,
                "decision": str(decision.pk),
                "requester": decision.requester.username if decision.requester else None,
                "use": decision.use,
                "verdict": decision.effective_verdict,
                "as_cameo": key in decision.cameos,
                "reasons": [r for r in decision.reasons if r.get("likeness_id") == key],
                "at": decision.created_at,
            }
        )
    for row in rows:
        row["how"], row["outcome"] = _how(row), row.get("status") or row.get("verdict")
    return sorted(rows, key=lambda row: row["at"], reverse=True)


def _how(row: dict[str, Any]) -> list[str]:
    """Say in words how the likeness was involved: cast, seen, named, described, in a reference."""
    how = ["cast as a cameo"] if row["as_cameo"] else []
    if row.get("seen_in_output"):
        how.append("seen in the released output")
    how.extend(reason["detail"] for reason in row["reasons"] if reason.get("detail"))
    return how
