from rest_framework import serializers

from moderation.models import Flag


class FlagOutputSerializer(serializers.ModelSerializer):
    likeness_name = serializers.CharField(source="likeness.display_name", default=None)
    decided_by = serializers.CharField(source="decided_by.username", default=None)

    class Meta:
        model = Flag
        fields = (
            "id", "kind", "status", "likeness", "likeness_name", "reason", "detail", "evidence",
            "decision", "decision_note", "decided_by", "decided_at", "created_at",
        )  # fmt: skip


class FlagDecisionInputSerializer(serializers.Serializer):
    decision = serializers.CharField(max_length=32)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
