"""Every generation that used or matched a likeness: what its rights holder is entitled to see."""

from typing import Any

from django.db.models import Q

from consent.models import Likeness
from generation.models import Generation
from moderation.models import Decision


def likeness_appearances(likeness: Likeness) -> list[dict[str, Any]]:
    """Return, newest first, each generation and each check that involved ``likeness``.

    A generation involves it when the likeness was a cameo, was found by the gate (named,
    described, seen in a reference), or was seen in the output. Checks that never became a
    generation (blocked at the gate, for example) are listed too.
    """
    key = str(likeness.pk)
    decisions = Decision.objects.filter(
        Q(cameos__contains=[key]) | Q(reasons__contains=[{"likeness_id": key}])
    ).select_related("requester")
    generations = (
        Generation.objects.filter(
            Q(cameos__contains=[key])
            | Q(released_faces__likeness=likeness)
            | Q(pre_decision__in=decisions)
            | Q(output_decision__in=decisions)
        )
        .distinct()
        .select_related("requester", "pre_decision", "output_decision")
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
    return sorted(rows, key=lambda row: row["at"], reverse=True)
