"""Moderation: flags for humans to decide, and the hash-chained audit trail."""

import uuid

from django.conf import settings
from django.db import models


class Decision(models.Model):
    """What the gate decided about one request, with every reason, engine and consent it relied on."""

    class Kind(models.TextChoices):
        CHECK = "check", "Check"
        SCAN = "scan", "Scan"
        GENERATION = "generation", "Before generation"
        OUTPUT = "output", "Output scan"
        RELEASE = "release", "Release"

    class State(models.TextChoices):
        PENDING = "pending", "Being checked"
        DONE = "done", "Decided"
        FAILED = "failed", "Could not be checked"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    verdict = models.CharField(max_length=8)  # moderation.reasons.Verdict
    reasons = models.JSONField(default=list, blank=True)
    engines = models.JSONField(default=dict, blank=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    prompt = models.TextField(blank=True)
    use = models.CharField(max_length=16, blank=True)
    cameos = models.JSONField(default=list, blank=True)
    #: Every registered likeness the decision is about: its cameos and those its reasons name.
    #: A relation, not a lookup in the JSON above, so "where was this face used" is one indexed
    #: query on every database (SQLite has no JSON containment); kept by ``decision_subjects_set``.
    likenesses = models.ManyToManyField("consent.Likeness", blank=True, related_name="decisions")
    media = models.JSONField(default=list, blank=True)  # per file: name, kind, size, sha256, frames, faces
    #: After a moderator's review: the verdict that now holds.
    final_verdict = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return "%s %s (%s)" % (self.kind, self.pk, self.verdict)

    @property
    def effective_verdict(self) -> str:
        return self.final_verdict or self.verdict


class Flag(models.Model):
    """Something a moderator must look at: a dispute, an estate claim, a gate review."""

    class Kind(models.TextChoices):
        DISPUTE = "dispute", "Disputed likeness"
        ESTATE = "estate", "Estate verification"
        GATE_REVIEW = "gate_review", "Gate review"
        LIVENESS = "liveness", "Live selfie check"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ESCALATED = "escalated", "Escalated"
        DECIDED = "decided", "Decided"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    likeness = models.ForeignKey(
        "consent.Likeness", null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    gate_decision = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    severity = models.PositiveSmallIntegerField(default=1)
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
        ordering = ("-severity", "created_at")

    def __str__(self) -> str:
        return "%s flag %s (%s)" % (self.kind, self.pk, self.status)


class AuditImmutable(Exception):
    """Raised on any attempt to change or remove an audit entry."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise AuditImmutable("Audit entries cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditImmutable("Audit entries cannot be removed.")


class AuditEvent(models.Model):
    """One entry of the append-only audit trail; ``hash`` is an HMAC (``moderation.audit``, keyed
    outside the database) of every other column, ``prev_hash`` the one of the entry before.

    Nothing in the application can change or remove an entry: the model and its queryset
    refuse; on PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE (see the migrations), and
    the application's role may only INSERT and SELECT (``manage.py audit_grants``).
    """

    seq = models.BigAutoField(primary_key=True)
    # No database constraint: deleting a user must not touch the trail (actor_label stays).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150, blank=True)  # kept when the user is deleted
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ("seq",)

    def __str__(self) -> str:
        return "%d %s" % (self.seq, self.action)

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise AuditImmutable("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AuditImmutable("Audit entries cannot be removed.")


class LikenessDistinction(models.Model):
    """A moderator's finding that two registered likenesses are different people (lookalikes).

    Recorded when a disputed registration is judged legitimate. Matching still evaluates every
    likeness within the thresholds; the record only lets a face that is clearly nearer one of the
    two count as that one's alone (``consent.matching``). ``likeness_a`` sorts before ``likeness_b``.
    """

    likeness_a = models.ForeignKey("consent.Likeness", on_delete=models.CASCADE, related_name="+")
    likeness_b = models.ForeignKey("consent.Likeness", on_delete=models.CASCADE, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: The dispute it decided, when there was one.
    flag = models.ForeignKey(Flag, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at",)
        constraints = [
            models.UniqueConstraint(fields=("likeness_a", "likeness_b"), name="likeness_distinction_unique_pair"),
            models.CheckConstraint(
                condition=models.Q(likeness_a__lt=models.F("likeness_b")), name="likeness_distinction_ordered_pair"
            ),
        ]

    def __str__(self) -> str:
        return "%s is not %s" % (self.likeness_a_id, self.likeness_b_id)
