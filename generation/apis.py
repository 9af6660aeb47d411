"""POST /api/v1/generations/, GET /api/v1/generations/{id}/ and the released output."""

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import HasRole
from accounts.roles import Role
from config.throttles import COSTLY_THROTTLES
from consent.models import Use
from generation.access import access_generation_by_id
from generation.models import Generation
from generation.services import (
    BACKENDS,
    generation_expire_waiting,
    generation_output_download,
    generation_request,
)
from moderation.gate import MAX_CAMEOS, MediaInput
from moderation.gate_serializers import CheckInputSerializer, DecisionOutputSerializer


class GenerationInputSerializer(serializers.Serializer):
    prompt = serializers.CharField(max_length=2000)
    kind = serializers.ChoiceField(choices=Generation.Kind.choices)
    use = serializers.ChoiceField(choices=Use.choices, default=Use.PERSONAL)
    cameos = serializers.ListField(child=serializers.UUIDField(), required=False, default=list, max_length=MAX_CAMEOS)
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, allow_null=True, default=None)
    reference = serializers.FileField(required=False, allow_null=True, default=None, allow_empty_file=True)
    backend = serializers.ChoiceField(choices=BACKENDS, required=False, allow_null=True, default=None)
    steps = serializers.IntegerField(min_value=1, max_value=1000, required=False, allow_null=True, default=None)
    width = serializers.IntegerField(min_value=1, max_value=10_000, required=False, allow_null=True, default=None)
    height = serializers.IntegerField(min_value=1, max_value=10_000, required=False, allow_null=True, default=None)
    frames = serializers.IntegerField(min_value=1, max_value=1000, required=False, allow_null=True, default=None)

    validate_prompt = CheckInputSerializer.validate_prompt


class GenerationOutputSerializer(serializers.ModelSerializer):
    decisions = serializers.SerializerMethodField()
    output_url = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    has_reference = serializers.SerializerMethodField()

    class Meta:
        model = Generation
        fields = (
            "id", "status", "kind", "prompt", "use", "cameos", "backend", "model", "seed", "steps", "width", "height",
            "frames", "has_reference", "progress", "reason",
            "decisions", "output_url", "watermark", "created_at", "started_at", "finished_at",
        )  # fmt: skip

    def get_has_reference(self, generation: Generation) -> bool:
        return bool(generation.reference_path)

    def get_progress(self, generation: Generation) -> dict:
        return {"step": generation.progress_step, "total": generation.progress_total}

    def get_decisions(self, generation: Generation) -> dict:
        decisions = {"pre_generation": generation.pre_decision, "output": generation.output_decision}
        return {
            stage: DecisionOutputSerializer(decision, context=self.context).data if decision else None
            for stage, decision in decisions.items()
        }

    def get_output_url(self, generation: Generation) -> str | None:
        if generation.status != Generation.Status.RELEASED:
            return None
        return "/api/v1/generations/%s/output/" % generation.pk


class GenerationCreateApi(APIView):
    """Ask for a generation: JSON, or multipart when a reference image comes with it."""

    permission_classes = [HasRole(Role.CREATOR)]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    throttle_classes = COSTLY_THROTTLES
    throttle_scope = "generations"

    @extend_schema(request=GenerationInputSerializer, responses={202: GenerationOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = GenerationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["reference"]
        generation = generation_request(
            requester=request.user,
            prompt=data["prompt"],
            kind=data["kind"],
            use=data["use"],
            cameos=[str(cameo) for cameo in data["cameos"]],
            seed=data["seed"],
            reference=MediaInput(name=upload.name or "reference", data=upload.read()) if upload else None,
            **{name: data[name] for name in ("backend", "steps", "width", "height", "frames")},
        )
        return Response(
            GenerationOutputSerializer(generation, context={"viewer": request.user}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class GenerationDetailApi(APIView):
    @extend_schema(responses={200: GenerationOutputSerializer})
    def get(self, request: Request, generation_id: str) -> Response:
        generation_expire_waiting()
        generation = access_generation_by_id(request.user, generation_id)
        return Response(GenerationOutputSerializer(generation, context={"viewer": request.user}).data)


class GenerationOutputApi(APIView):
    """The released file, to its creator only (never from a public media path)."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, generation_id: str) -> HttpResponse:
        generation = access_generation_by_id(request.user, generation_id)
        if generation.status != Generation.Status.RELEASED:
            raise exceptions.NotFound("This generation has no released output.")
        response = HttpResponse(
            generation_output_download(actor=request.user, generation=generation),
            content_type=generation.output_content_type,
        )
        extension = "mp4" if generation.kind == Generation.Kind.VIDEO else "png"
        response["Content-Disposition"] = 'attachment; filename="sigillo-%s.%s"' % (generation.pk, extension)
        response["Cache-Control"] = "private, no-store"
        return response
