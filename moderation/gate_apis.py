"""The gate as a service: POST /api/v1/checks/, POST /api/v1/scans/, GET /api/v1/decisions/{id}/."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import HasRole
from accounts.roles import Role
from config.throttles import COSTLY_THROTTLES
from moderation.gate import MediaInput, decision_close_if_stale, gate_check
from moderation.gate_serializers import (
    CheckInputSerializer,
    DecisionOutputSerializer,
    ScanInputSerializer,
    ScanOutputSerializer,
    WaitSerializer,
)
from moderation.models import Decision

GATE_ROLES = (Role.CREATOR, Role.INTEGRATOR, Role.MODERATOR)


class CheckApi(APIView):
    """A dry run of the gate: the Decision a generation of this request would get, and nothing else."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]
    permission_classes = [HasRole(*GATE_ROLES)]
    throttle_classes = COSTLY_THROTTLES
    throttle_scope = "checks"

    @extend_schema(
        request=CheckInputSerializer,
        parameters=[
            OpenApiParameter(
                "wait",
                bool,
                description="false: answer 202 at once with the pending Decision and its URL to poll "
                "(GET /api/v1/decisions/{id}/). Default true: wait up to SIGILLO_GATE_TIMEOUT seconds.",
            )
        ],
        responses={200: DecisionOutputSerializer, 202: DecisionOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        wait = WaitSerializer(data=request.query_params)
        wait.is_valid(raise_exception=True)
        serializer = CheckInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        decision = gate_check(
            requester=request.user,
            prompt=data["prompt"],
            use=data["use"],
            cameos=[str(cameo) for cameo in data["cameos"]],
            media=[MediaInput(name=upload.name or "file", data=upload.read()) for upload in data["images"]],
            wait=wait.validated_data["wait"],
        )
        body = DecisionOutputSerializer(decision, context={"viewer": request.user}).data
        if decision.state != Decision.State.PENDING:
            return Response(body)
        url = reverse("api-decision", kwargs={"decision_id": decision.pk})
        return Response(
            {**body, "url": request.build_absolute_uri(url)},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": url},
        )


class ScanApi(APIView):
    parser_classes = [MultiPartParser]
    permission_classes = [HasRole(*GATE_ROLES)]
    throttle_classes = COSTLY_THROTTLES
    throttle_scope = "scans"

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
        body = DecisionOutputSerializer(decision, context={"viewer": request.user}).data
        faces = next((item["faces"] for item in body["media"] if "faces" in item), [])
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
        return Response(
            DecisionOutputSerializer(decision_close_if_stale(decision), context={"viewer": request.user}).data
        )
