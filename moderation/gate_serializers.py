"""API shapes of the gate: checks, scans and decisions."""

from django.conf import settings
from rest_framework import serializers

from consent.models import Use
from moderation.disclosure import decision_disclosed
from moderation.gate import MAX_CAMEOS
from moderation.models import Decision


class CheckInputSerializer(serializers.Serializer):
    prompt = serializers.CharField(max_length=10_000, allow_blank=True, default="", trim_whitespace=False)
    use = serializers.ChoiceField(choices=Use.choices, default=Use.PERSONAL)
    cameos = serializers.ListField(child=serializers.UUIDField(), required=False, default=list, max_length=MAX_CAMEOS)
    images = serializers.ListField(child=serializers.FileField(allow_empty_file=True), required=False, default=list)

    def validate_prompt(self, prompt: str) -> str:
        if len(prompt) > settings.SIGILLO_PROMPT_MAX_LENGTH:
            raise serializers.ValidationError("At most %d characters." % settings.SIGILLO_PROMPT_MAX_LENGTH)
        return prompt

    def validate_images(self, images: list) -> list:
        if len(images) > settings.SIGILLO_GATE_MAX_FILES:
            raise serializers.ValidationError("At most %d files." % settings.SIGILLO_GATE_MAX_FILES)
        return images

    def validate(self, data: dict) -> dict:
        if not data["prompt"].strip() and not data["images"] and not data["cameos"]:
            raise serializers.ValidationError("Give a prompt, images or cameos to check.")
        return data


class WaitSerializer(serializers.Serializer):
    wait = serializers.BooleanField(default=True)


class ScanInputSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    use = serializers.ChoiceField(choices=Use.choices, default=Use.PERSONAL)


class SampledFrameSerializer(serializers.Serializer):
    frame = serializers.IntegerField(allow_null=True, help_text="Frame number in the video; null for a still image.")
    time = serializers.FloatField(allow_null=True, help_text="Seconds from the start of the video.")
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class ScannedMediaSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=["image", "animation", "video"],
        required=False,
        help_text="animation: a GIF, APNG or animated WebP, every frame checked (thinned evenly past the frame cap).",
    )
    size = serializers.IntegerField()
    sha256 = serializers.CharField(required=False)
    frames = serializers.IntegerField(required=False, help_text="How many frames were sampled and checked.")
    duration = serializers.FloatField(allow_null=True, required=False)
    sampled = SampledFrameSerializer(many=True, required=False, help_text="Every frame checked, with its size.")
    error = serializers.CharField(required=False, help_text="Why the file could not be read (nothing else is set).")


class ScannedFaceSerializer(serializers.Serializer):
    file = serializers.IntegerField()
    frame = serializers.IntegerField(allow_null=True)
    time = serializers.FloatField(allow_null=True)
    box = serializers.DictField(child=serializers.IntegerField(), help_text="x, y, width, height in frame pixels.")
    track = serializers.IntegerField(
        required=False, help_text="In a video: the face's track (the same face followed across frames)."
    )
    best = serializers.DictField(allow_null=True, help_text="The nearest registered likeness, if any is close.")
    hits = serializers.ListField(child=serializers.DictField(), help_text="Every likeness the face is close to.")


class DecisionOutputSerializer(serializers.ModelSerializer):
    requester = serializers.CharField(source="requester.username", default=None)
    verdict = serializers.CharField(source="effective_verdict")
    gate_verdict = serializers.CharField(source="verdict")
    flag = serializers.SerializerMethodField()
    media = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = (
            "id", "kind", "state", "verdict", "gate_verdict", "final_verdict", "reasons", "engines",
            "requester", "prompt", "use", "cameos", "media", "flag", "created_at", "decided_at",
        )  # fmt: skip

    def get_media(self, decision: Decision) -> list[dict]:
        """The files checked (and the faces found); the stored evidence is for moderators' pages only."""
        return [item for item in decision.media if "evidence" not in item]

    def to_representation(self, decision: Decision) -> dict:
        """Name to the reader (``context["viewer"]``; none: nobody in particular) only the registered
        people they may know (moderation/disclosure.py)."""
        data = super().to_representation(decision)
        data["reasons"], data["media"] = decision_disclosed(
            self.context.get("viewer"), reasons=data["reasons"] or [], media=data["media"]
        )
        return data

    def get_flag(self, decision: Decision) -> str | None:
        flag = decision.flags.order_by("-created_at").first()
        return str(flag.pk) if flag else None


class ScanOutputSerializer(serializers.Serializer):
    faces = ScannedFaceSerializer(many=True)
    media = ScannedMediaSerializer(many=True)
    decision = DecisionOutputSerializer(help_text="The stored Decision, as GET /api/v1/decisions/{id}/ returns it.")
