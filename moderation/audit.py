"""The audit trail: an append-only, hash-chained log of every consent and moderation change.

Each row's hash covers its content and the previous row's hash, so editing or deleting a
row breaks the chain at that point (``audit_verify`` finds where).
"""

import hashlib
import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from moderation.models import AuditEvent

GENESIS = "0" * 64


def _digest(
    *, prev_hash: str, actor_id: Any, action: str, target_type: str, target_id: str, data: dict, created_at: str
) -> str:
    payload = json.dumps(
        [prev_hash, actor_id, action, target_type, target_id, data, created_at],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def audit_record(*, actor: Any, action: str, target: Any = None, data: dict | None = None) -> AuditEvent:
    """Append one event; must run inside the transaction of the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    data = json.loads(json.dumps(data or {}, default=str))
    # Serialise writers: the newest row is locked until this transaction ends.
    last = AuditEvent.objects.select_for_update().order_by("-seq").first()
    prev_hash = last.hash if last else GENESIS
    created_at = timezone.now()
    target_type = target._meta.label_lower if target is not None else ""
    target_id = str(target.pk) if target is not None else ""
    actor_id = getattr(actor, "pk", None)
    event = AuditEvent(
        actor=actor if actor_id else None,
        actor_label=str(getattr(actor, "username", "") or "system"),
        action=action,
        target_type=target_type,
        target_id=target_id,
        data=data,
        created_at=created_at,
        prev_hash=prev_hash,
    )
    event.hash = _digest(
        prev_hash=prev_hash,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        data=data,
        created_at=created_at.isoformat(),
    )
    event.save()
    return event


def audit_verify() -> int | None:
    """Return the seq of the first row whose hash does not hold, or None when the chain is whole."""
    prev_hash = GENESIS
    for event in AuditEvent.objects.order_by("seq").iterator():
        expected = _digest(
            prev_hash=prev_hash,
            actor_id=event.actor_id,
            action=event.action,
            target_type=event.target_type,
            target_id=event.target_id,
            data=event.data,
            created_at=event.created_at.isoformat(),
        )
        if event.prev_hash != prev_hash or event.hash != expected:
            return event.seq
        prev_hash = event.hash
    return None
