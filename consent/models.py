"""The likeness registry: who is registered, what their face looks like to the machine,
and what they allowed (SPEC section 3).

Biometric data (photos and face embeddings) is stored encrypted (``consent/crypto.py``).
Consent versions are immutable: a change is a new row.
"""

import uuid

from django.conf import settings
from django.db import models


class Subject(models.TextChoices):
    SELF = "self", "The person themself"
    DECEASED = "deceased", "A person who has died"


class LikenessStatus(models.TextChoices):
    PENDING_VERIFICATION = "pending_verification", "Pending verification"
    ACTIVE = "active", "Active"
    DISPUTED = "disputed", "Disputed"
    REVOKED = "revoked", "Consent revoked"
    ERASED = "erased", "Erased"


class Likeness(models.Model):
    """A registered person: names, faces, status and (through versions) consent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="likenesses"
    )
    display_name = models.CharField(max_length=200)
    #: What creators type to put this person in a prompt ("@ada_lovelace"); see consent/handles.py.
    handle = models.CharField(max_length=30, unique=True, null=True, blank=True)
    aliases = models.JSONField(default=list, blank=True)
    descriptors = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=16, choices=Subject.choices, default=Subject.SELF)
    date_of_death = models.DateField(null=True, blank=True)
    jurisdiction = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, choices=LikenessStatus.choices, db_index=True)
    #: Entered by a moderator (public figure) or left after erasure: enforced, never grants.
    protected = models.BooleanField(default=False)
    #: After erasure with "keep my name": a name-only "do not generate" entry.
    do_not_generate = models.BooleanField(default=False)
    #: Set while a moderator has suspended the likeness: it then grants nothing, whatever its consent says.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: The moderator's note on the suspension, shown to the person.
    suspension_note = models.TextField(blank=True)
    #: When the person was verified to be the one in the photos, and how: {"by": "liveness", "check": id}
    #: or {"by": "moderator", "moderator": username, "note": ...}. Unset: not yet verified.
    verified_at = models.DateTimeField(null=True, blank=True)
    verification = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("owner", "status"))]

    def __str__(self) -> str:
        return self.display_name

    @property
    def names(self) -> list[str]:
        return [self.display_name, *self.aliases]

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None


class LikenessPhoto(models.Model):
    """A reference photo, stored encrypted with its metadata (EXIF, GPS) stripped."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    likeness = models.ForeignKey(Likeness, on_delete=models.CASCADE, related_name="photos")
    original_name = models.CharField(max_length=255, blank=True)
    #: Path of the encrypted file, relative to MEDIA_ROOT.
    file_path = models.CharField(max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at",)

    def __str__(self) -> str:
        return "photo %s of %s" % (self.pk, self.likeness_id)


class Face(models.Model):
    """One enrolled face: its box on the photo and its embedding (encrypted), per engine and model."""

    likeness = models.ForeignKey(Likeness, on_delete=models.CASCADE, related_name="faces")
    photo = models.ForeignKey(LikenessPhoto, null=True, blank=True, on_delete=models.CASCADE, related_name="faces")
    engine = models.CharField(max_length=32)
    model = models.CharField(max_length=128)
    dimension = models.PositiveSmallIntegerField()
    embedding = models.BinaryField()  # encrypted float32 vector
    box = models.JSONField()
    detection_score = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=("engine", "model"))]

    def __str__(self) -> str:
        return "face %s of %s (%s)" % (self.pk, self.likeness_id, self.engine)


class FaceIndexChange(models.Model):
    """Append-only log of enrolments and erasures, read by every process's search index.

    ``seq`` orders the log; an index that has applied changes up to ``seq`` brings itself up
    to date by reading the rows after it. No foreign key: the row outlives an erased face.
    """

    class Op(models.TextChoices):
        ADD = "add"
        REMOVE = "remove"

    seq = models.BigAutoField(primary_key=True)
    face_id = models.BigIntegerField()
    likeness_id = models.UUIDField()
    engine = models.CharField(max_length=32)
    model = models.CharField(max_length=128)
    op = models.CharField(max_length=8, choices=Op.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return "%d %s face %s" % (self.seq, self.op, self.face_id)


class Audience(models.TextChoices):
    NOBODY = "nobody", "Nobody"
    APPROVED_USERS = "approved_users", "Only the people I approve"
    VERIFIED_USERS = "verified_users", "Any verified user"
    EVERYONE = "everyone", "Everyone"


class Use(models.TextChoices):
    PERSONAL = "personal", "Personal"
    PARODY = "parody", "Parody or satire"
    COMMERCIAL = "commercial", "Commercial"
    NEWS = "news", "News or documentary"
    POLITICAL = "political", "Political"
    ADULT = "adult", "Adult"


class ConsentVersion(models.Model):
    """One immutable version of a likeness's consent policy. The newest is in force."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    likeness = models.ForeignKey(Likeness, on_delete=models.CASCADE, related_name="consent_versions")
    number = models.PositiveIntegerField()
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.NOBODY)
    approved_users = models.JSONField(default=list, blank=True)  # user ids, a snapshot
    uses = models.JSONField(default=list, blank=True)  # Use values allowed
    forbidden_topics = models.JSONField(default=list, blank=True)
    per_use_approval = models.BooleanField(default=False)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("likeness_id", "-number")
        constraints = [models.UniqueConstraint(fields=("likeness", "number"), name="consent_version_unique")]

    def __str__(self) -> str:
        return "%s v%d" % (self.likeness_id, self.number)


class ConsentReceipt(models.Model):
    """Proof that a use was allowed: which likeness, which consent version, who, what use, when."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    likeness = models.ForeignKey(Likeness, on_delete=models.CASCADE, related_name="receipts")
    consent_version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="receipts")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    use = models.CharField(max_length=16, choices=Use.choices)
    issued_at = models.DateTimeField()
    #: The likeness's verification when the receipt was issued (empty: not verified).
    verification = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-issued_at",)

    def __str__(self) -> str:
        return "receipt %s" % self.pk

    def as_dict(self) -> dict[str, object]:
        return {
            "id": str(self.id),
            "likeness": str(self.likeness_id),
            "consent_version": self.consent_version.number,
            "consent_version_id": str(self.consent_version_id),
            "requester": self.requester_id,
            "use": self.use,
            "issued_at": self.issued_at.isoformat(),
            "verification": self.verification or None,
        }


class EstateClaim(models.Model):
    """An estate representative's claim of authority over a deceased person's likeness."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    likeness = models.ForeignKey(Likeness, on_delete=models.CASCADE, related_name="estate_claims")
    representative = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="estate_claims")
    document_path = models.CharField(max_length=255, blank=True)  # encrypted, relative to MEDIA_ROOT
    document_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return "estate claim %s (%s)" % (self.pk, self.status)


class ConsentRequest(models.Model):
    """A request to use a likeness whose consent asks for approval of each use."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the rights holder"
        APPROVED = "approved", "Approved"
        DENIED = "denied", "Denied"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    likeness = models.ForeignKey(Likeness, on_delete=models.CASCADE, related_name="consent_requests")
    consent_version = models.ForeignKey(ConsentVersion, on_delete=models.CASCADE, related_name="requests")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    use = models.CharField(max_length=16, choices=Use.choices)
    prompt = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return "request %s (%s)" % (self.pk, self.status)


class LivenessCheck(models.Model):
    """One live selfie check: the challenge the server issued, and what the recorded video showed.

    The challenge is used once: a submission moves it out of ``issued`` for good. The best frames
    are biometric data: stored encrypted (``frames``: relative paths), erased with the likeness,
    never in an API response.
    """

    class Status(models.TextChoices):
        ISSUED = "issued"
        ANALYZING = "analyzing"
        PASSED = "passed"
        FAILED = "failed"
        REVIEW = "review"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    likeness = models.ForeignKey(Likeness, on_delete=models.CASCADE, related_name="liveness_checks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="liveness_checks")
    nonce = models.CharField(max_length=64, unique=True)
    steps = models.JSONField(default=list)
    code = models.CharField(max_length=16)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ISSUED, db_index=True)
    reasons = models.JSONField(default=list, blank=True)
    measurements = models.JSONField(default=dict, blank=True)
    frames = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return "liveness check %s (%s)" % (self.pk, self.status)
