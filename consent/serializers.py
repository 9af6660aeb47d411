"""API shapes of the registry. Embeddings are never part of any of them."""

from django.conf import settings
from rest_framework import serializers

from consent.models import Audience, ConsentVersion, Likeness, Subject, Use
from consent.selectors import consent_current

NAME_LIST = serializers.ListField(
    child=serializers.CharField(max_length=200, allow_blank=False), required=False, max_length=50
)


class LikenessCreateInputSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=200)
    handle = serializers.CharField(max_length=31, required=False, allow_blank=True, default="")
    aliases = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=50, default=list
    )
    descriptors = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, max_length=50, default=list
    )
    subject = serializers.ChoiceField(choices=Subject.choices, default=Subject.SELF)
    date_of_death = serializers.DateField(required=False, allow_null=True, default=None)
    jurisdiction = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    photos = serializers.ListField(child=serializers.FileField(allow_empty_file=True), min_length=1)
    face_index = serializers.ListField(
        child=serializers.IntegerField(min_value=-1, max_value=1000), required=False, default=list
    )
    estate_document = serializers.FileField(required=False, allow_null=True, default=None, allow_empty_file=True)

    def validate_photos(self, photos: list) -> list:
        if len(photos) > settings.SIGILLO_ENROLL_MAX_PHOTOS:
            raise serializers.ValidationError(
                "At most %d photos in one enrollment." % settings.SIGILLO_ENROLL_MAX_PHOTOS
            )
        return photos

    def validate(self, data: dict) -> dict:
        if data["face_index"] and len(data["face_index"]) != len(data["photos"]):
            raise serializers.ValidationError({"face_index": ["Give one face index per photo (-1 for automatic)."]})
        return data


class PhotosInputSerializer(serializers.Serializer):
    photos = serializers.ListField(child=serializers.FileField(allow_empty_file=True), min_length=1)
    face_index = serializers.ListField(
        child=serializers.IntegerField(min_value=-1, max_value=1000), required=False, default=list
    )

    def validate(self, data: dict) -> dict:
        if len(data["photos"]) > settings.SIGILLO_ENROLL_MAX_PHOTOS:
            raise serializers.ValidationError({"photos": ["At most %d photos." % settings.SIGILLO_ENROLL_MAX_PHOTOS]})
        if data["face_index"] and len(data["face_index"]) != len(data["photos"]):
            raise serializers.ValidationError({"face_index": ["Give one face index per photo (-1 for automatic)."]})
        return data


class LikenessUpdateInputSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=200, required=False)
    handle = serializers.CharField(max_length=31, required=False)
    aliases = serializers.ListField(child=serializers.CharField(max_length=200), required=False, max_length=50)
    descriptors = serializers.ListField(child=serializers.CharField(max_length=500), required=False, max_length=50)
    jurisdiction = serializers.CharField(max_length=64, required=False, allow_blank=True)


class ProtectedCreateInputSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=200)
    aliases = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=50, default=list
    )
    descriptors = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, max_length=50, default=list
    )
    jurisdiction = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class LikenessSuspensionInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="Why; the person sees the note of a suspension.")


class EraseInputSerializer(serializers.Serializer):
    keep_name = serializers.BooleanField(default=False)


class ConsentInputSerializer(serializers.Serializer):
    audience = serializers.ChoiceField(choices=Audience.choices)
    uses = serializers.ListField(
        child=serializers.ChoiceField(choices=Use.choices), max_length=len(Use.choices), allow_empty=True
    )
    approved_users = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list, max_length=1000
    )
    forbidden_topics = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False, default=list, max_length=50
    )
    per_use_approval = serializers.BooleanField(default=False)
    valid_from = serializers.DateTimeField(required=False, allow_null=True, default=None)
    valid_until = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate(self, data: dict) -> dict:
        if data["valid_from"] and data["valid_until"] and data["valid_until"] <= data["valid_from"]:
            raise serializers.ValidationError({"valid_until": ["The end of validity must come after its start."]})
        if data["audience"] == Audience.APPROVED_USERS and not data["approved_users"]:
            raise serializers.ValidationError({"approved_users": ["Name at least one approved user."]})
        return data


class ConsentVersionOutputSerializer(serializers.ModelSerializer):
    summary = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", default=None)

    class Meta:
        model = ConsentVersion
        fields = (
            "id", "number", "audience", "approved_users", "uses", "forbidden_topics", "per_use_approval",
            "valid_from", "valid_until", "revoked", "created_by", "created_at", "summary",
        )  # fmt: skip

    def get_summary(self, version: ConsentVersion) -> str:
        from consent.summary import consent_summary

        return consent_summary(version)


class LikenessOutputSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", default=None)
    photos = serializers.SerializerMethodField()
    consent = serializers.SerializerMethodField()
    faces_enrolled = serializers.SerializerMethodField()
    #: Suspended by a moderator: grants nothing; ``suspension_note`` says why (who suspended stays with moderators).
    suspended = serializers.BooleanField(read_only=True)

    class Meta:
        model = Likeness
        fields = (
            "id", "display_name", "handle", "aliases", "descriptors", "subject", "date_of_death", "jurisdiction", "status",
            "protected", "do_not_generate", "owner", "created_at", "updated_at", "faces_enrolled", "photos", "consent",
            "suspended", "suspended_at", "suspension_note", "verified_at", "verification",
        )  # fmt: skip

    def get_faces_enrolled(self, likeness: Likeness) -> int:
        return getattr(likeness, "face_count", None) if hasattr(likeness, "face_count") else likeness.faces.count()

    def get_photos(self, likeness: Likeness) -> list[dict]:
        return [
            {
                "id": str(photo.pk),
                "name": photo.original_name,
                "width": photo.width,
                "height": photo.height,
                "url": "/api/v1/likenesses/%s/photos/%s/" % (likeness.pk, photo.pk),
                "faces": [{"box": face.box, "engine": face.engine, "model": face.model} for face in photo.faces.all()],
            }
            for photo in likeness.photos.all()
        ]

    def get_consent(self, likeness: Likeness) -> dict | None:
        version = consent_current(likeness)
        return ConsentVersionOutputSerializer(version).data if version else None


class ConsentRequestDecisionInputSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
