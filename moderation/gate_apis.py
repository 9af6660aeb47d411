"""The gate as a service: POST /api/v1/checks/, POST /api/v1/scans/, GET /api/v1/decisions/{id}/."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import HasRole
from accounts.apis import as_api_validation_error
from accounts.roles import Role
from moderation.gate import MediaInput, gate_check
from moderation.gate_serializers import (
    CheckInputSerializer,
    DecisionOutputSerializer,
    ScanInputSerializer,
    ScanOutputSerializer,
)
from moderation.models import Decision

GATE_ROLES = (Role.CREATOR, Role.INTEGRATOR, Role.MODERATOR)


class CheckApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    permission_classes = [HasRole(*GATE_ROLES)]

    @extend_schema(request=CheckInputSerializer, responses={200: DecisionOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = CheckInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            decision = gate_check(
                requester=request.user,
                prompt=data["prompt"],
                use=data["use"],
                cameos=[str(cameo) for cameo in data["cameos"]],
                media=[MediaInput(name=upload.name or "file", data=upload.read()) for upload in data["images"]],
            )
        except DjangoValidationError as error:
            raise as_api_validation_error(error) from error
        return Response(DecisionOutputSerializer(decision).data)


class ScanApi(APIView):
    parser_classes = [MultiPartParser]
    permission_classes = [HasRole(*GATE_ROLES)]

    @extend_schema(request=ScanInputSerializer, responses={200: ScanOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = ScanInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        decision = gate_check(
            requester=request.user,
            kind=Decision.Kind.SCAN,
            use=serializer.validated_data["use"],
            media=[MediaInput(name=upload.name or "file", data=upload.read())],
        )
        body = DecisionOutputSerializer(decision).data
        faces = next((item["faces"] for item in decision.media if "faces" in item), [])
        return Response(
            {
                "faces": faces,
                "media": [item for item in decision.media if "kind" in item or "error" in item],
                "decision": body,
            }
        )


class DecisionApi(APIView):
    @extend_schema(responses={200: DecisionOutputSerializer})
    def get(self, request: Request, decision_id: str) -> Response:
        decision = get_object_or_404(Decision, pk=decision_id)
        if decision.requester_id != request.user.pk and not request.user.has_role(Role.MODERATOR):
            raise exceptions.NotFound()
        return Response(DecisionOutputSerializer(decision).data)
