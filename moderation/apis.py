"""The moderation API: the review queue and decisions."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import HasRole
from accounts.roles import Role
from moderation import selectors, services
from moderation.models import Flag
from moderation.serializers import FlagDecisionInputSerializer, FlagOutputSerializer


class FlagListApi(APIView):
    permission_classes = [HasRole(Role.MODERATOR)]

    @extend_schema(responses={200: FlagOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        status = request.query_params.get("status", Flag.Status.OPEN)
        kind = request.query_params.get("kind")
        flags = selectors.flag_queue(status=None if status == "all" else status, kind=kind)
        return Response(FlagOutputSerializer(flags, many=True).data)


class FlagDecisionApi(APIView):
    permission_classes = [HasRole(Role.MODERATOR)]

    @extend_schema(request=FlagDecisionInputSerializer, responses={200: FlagOutputSerializer})
    def post(self, request: Request, flag_id: str) -> Response:
        flag = get_object_or_404(Flag, pk=flag_id)
        serializer = FlagDecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        flag = services.flag_decide(moderator=request.user, flag=flag, **serializer.validated_data)
        return Response(FlagOutputSerializer(flag).data)
