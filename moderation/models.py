"""Moderation: flags for humans to decide, and the hash-chained audit trail."""

import uuid

from django.conf import settings
from django.db import models


class Flag(models.Model):
    """Something a moderator must look at: a dispute, an estate claim, a gate review."""

    class Kind(models.TextChoices):
        DISPUTE = "dispute", "Disputed likeness"
        ESTATE = "estate", "Estate verification"
        GATE_REVIEW = "gate_review", "Gate review"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DECIDED = "decided", "Decided"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    likeness = models.ForeignKey(
        "consent.Likeness", null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    reason = models.CharField(max_length=64)
    detail = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    decision = models.CharField(max_length=32, blank=True)
    decision_note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at",)

    def __str__(self) -> str:
        return "%s flag %s (%s)" % (self.kind, self.pk, self.status)


class AuditEvent(models.Model):
    """One entry of the append-only audit trail; each row carries the hash of the one before."""

    seq = models.BigAutoField(primary_key=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)  # kept when the user is deleted
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ("seq",)

    def __str__(self) -> str:
        return "%d %s" % (self.seq, self.action)
