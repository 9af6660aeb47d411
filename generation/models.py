"""Generation requests, their outputs and what was released (for reverse search and appearances)."""

import uuid

from django.conf import settings
from django.db import models


class Generation(models.Model):
    """One request to generate an image or a clip, from the gate's first decision to release."""

    class Kind(models.TextChoices):
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"

    class Status(models.TextChoices):
        #: The gate is checking the request in a worker (the web process loads no models).
        CHECKING = "checking", "Checking"
        BLOCKED = "blocked", "Blocked"
        QUEUED = "queued", "Queued"
        AWAITING_CONSENT = "awaiting_consent", "Waiting for consent"
        RUNNING = "running", "Generating"
        SCANNING = "scanning", "Scanning the output"
        IN_REVIEW = "in_review", "In review"
        RELEASED = "released", "Released"
        WITHHELD = "withheld", "Withheld"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generations")
    prompt = models.TextField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    use = models.CharField(max_length=16)
    cameos = models.JSONField(default=list, blank=True)
    backend = models.CharField(max_length=32)
    #: The model that made the output (named in its content credentials), set when it is generated.
    model = models.CharField(max_length=200, blank=True)
    seed = models.BigIntegerField(default=0)
    #: The prompt the model sees: each @handle replaced by the person's name.
    model_prompt = models.TextField(blank=True)
    #: Shape asked for (empty: the backend's defaults), within the configured limits.
    steps = models.PositiveSmallIntegerField(null=True, blank=True)
    width = models.PositiveSmallIntegerField(null=True, blank=True)
    height = models.PositiveSmallIntegerField(null=True, blank=True)
    frames = models.PositiveSmallIntegerField(null=True, blank=True)
    #: The creator's reference image (checked by the gate), encrypted, relative to MEDIA_ROOT.
    reference_path = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, db_index=True)
    progress_step = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    pre_decision = models.ForeignKey(
        "moderation.Decision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    output_decision = models.ForeignKey(
        "moderation.Decision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: Issued at release, one per consent the output used (the gate and checks issue none).
    receipts = models.ManyToManyField("consent.ConsentReceipt", blank=True, related_name="generations")
    #: The rights holders' answers this request waits for (opened when the gate says approval is required).
    consent_requests = models.ManyToManyField("consent.ConsentRequest", blank=True, related_name="generations")
    #: Relative to MEDIA_ROOT; never under a public URL (served by a view that checks the requester).
    output_path = models.CharField(max_length=255, blank=True)
    output_content_type = models.CharField(max_length=32, blank=True)
    watermark = models.CharField(max_length=32, blank=True)  # hex payload embedded in the output
    phash = models.CharField(max_length=64, blank=True, db_index=True)
    reason = models.TextField(blank=True)  # why it was withheld or failed
    attempts = models.PositiveSmallIntegerField(default=0)
    #: The task this generation waits for, written with the status that needs it and cleared once the
    #: broker took it (generation/outbox.py): a task lost while the broker was down is sent again.
    pending_task = models.CharField(max_length=40, blank=True, db_index=True)
    pending_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return "%s %s (%s)" % (self.kind, self.pk, self.status)


class ReleasedFace(models.Model):
    """A face seen in a released output and the registered likeness it matched (for appearances)."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="released_faces")
    likeness = models.ForeignKey(
        "consent.Likeness", null=True, blank=True, on_delete=models.SET_NULL, related_name="appearances"
    )
    box = models.JSONField()
    frame = models.IntegerField(null=True, blank=True)
    #: The face's embedding (encrypted like the registry's), for reverse search of releases.
    engine = models.CharField(max_length=32, blank=True)
    model = models.CharField(max_length=64, blank=True)
    embedding = models.BinaryField(null=True, blank=True)

    def __str__(self) -> str:
        return "face in %s" % self.generation_id
