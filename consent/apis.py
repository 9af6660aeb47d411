"""The registry's API: likenesses, their photos and consent (SPEC section 4)."""

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import HasRole
from accounts.roles import Role
from consent import crypto, selectors, services
from consent.access import access_likeness_by_id, can_see_photos
from consent.enrollment import PhotoInput, photo_inputs
from consent.jobs import likeness_add_photos_job, likeness_enroll_job, photos_preview_job
from consent.serializers import (
    ConsentInputSerializer,
    ConsentRequestDecisionInputSerializer,
    ConsentVersionOutputSerializer,
    EraseInputSerializer,
    LikenessCreateInputSerializer,
    LikenessOutputSerializer,
    LikenessSuspensionInputSerializer,
    LikenessUpdateInputSerializer,
    PhotosInputSerializer,
    ProtectedCreateInputSerializer,
)


class LikenessListCreateApi(APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(responses={200: LikenessOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        everyone = request.query_params.get("all") in ("1", "true")
        likenesses = (
            selectors.likeness_list_all(request.user) if everyone else selectors.likeness_list_for(request.user)
        )
        return Response(LikenessOutputSerializer(likenesses, many=True).data)

    @extend_schema(request=LikenessCreateInputSerializer, responses={201: LikenessOutputSerializer})
    def post(self, request: Request) -> Response:
        if not (request.user.has_role(Role.RIGHTS_HOLDER) or request.user.has_role(Role.ESTATE_REPRESENTATIVE)):
            raise exceptions.PermissionDenied(
                "Registering a likeness needs the rights holder or estate representative role."
            )
        serializer = LikenessCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        document = data["estate_document"]
        likeness, disputed = likeness_enroll_job(
            owner=request.user,
            display_name=data["display_name"],
            handle=data["handle"] or None,
            aliases=data["aliases"],
            descriptors=data["descriptors"],
            subject=data["subject"],
            date_of_death=data["date_of_death"],
            jurisdiction=data["jurisdiction"],
            photos=photo_inputs(data["photos"], data["face_index"]),
            estate_document=PhotoInput(name=document.name, data=document.read()) if document else None,
        )
        body = LikenessOutputSerializer(likeness).data
        body["disputed_with_count"] = disputed
        return Response(body, status=status.HTTP_201_CREATED)


class LikenessPreviewApi(APIView):
    """Detect the faces on photos without storing anything (for the registration page)."""

    parser_classes = [MultiPartParser]
    permission_classes = [HasRole(Role.RIGHTS_HOLDER, Role.ESTATE_REPRESENTATIVE, Role.MODERATOR)]

    @extend_schema(request=PhotosInputSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        serializer = PhotosInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        inputs = photo_inputs(serializer.validated_data["photos"], serializer.validated_data["face_index"])
        return Response(photos_preview_job(actor=request.user, photos=inputs))


class LikenessDetailApi(APIView):
    @extend_schema(responses={200: LikenessOutputSerializer})
    def get(self, request: Request, likeness_id: str) -> Response:
        likeness = access_likeness_by_id(request.user, likeness_id)
        return Response(LikenessOutputSerializer(likeness).data)

    @extend_schema(request=LikenessUpdateInputSerializer, responses={200: LikenessOutputSerializer})
    def patch(self, request: Request, likeness_id: str) -> Response:
        likeness = access_likeness_by_id(request.user, likeness_id)
        serializer = LikenessUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        likeness = services.likeness_update(actor=request.user, likeness=likeness, **serializer.validated_data)
        return Response(LikenessOutputSerializer(likeness).data)

    @extend_schema(request=EraseInputSerializer, responses={200: LikenessOutputSerializer})
    def delete(self, request: Request, likeness_id: str) -> Response:
        likeness = access_likeness_by_id(request.user, likeness_id)
        serializer = EraseInputSerializer(data=request.data or request.query_params)
        serializer.is_valid(raise_exception=True)
        likeness = services.likeness_erase(actor=request.user, likeness=likeness, **serializer.validated_data)
        return Response(LikenessOutputSerializer(likeness).data)


class LikenessPhotosApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(request=PhotosInputSerializer, responses={201: LikenessOutputSerializer})
    def post(self, request: Request, likeness_id: str) -> Response:
        likeness = access_likeness_by_id(request.user, likeness_id)
        serializer = PhotosInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        inputs = photo_inputs(serializer.validated_data["photos"], serializer.validated_data["face_index"])
        likeness = likeness_add_photos_job(actor=request.user, likeness=likeness, photos=inputs)
        return Response(LikenessOutputSerializer(likeness).data, status=status.HTTP_201_CREATED)


class LikenessPhotoFileApi(APIView):
    """The photo itself (decrypted), for its owner, their estate representatives and moderators."""

    @extend_schema(responses={(200, "image/png"): bytes})
    def get(self, request: Request, likeness_id: str, photo_id: str) -> HttpResponse:
        likeness = access_likeness_by_id(request.user, likeness_id)
        if not can_see_photos(request.user, likeness):
            raise exceptions.NotFound()
        photo = get_object_or_404(likeness.photos, pk=photo_id)
        response = HttpResponse(crypto.read_encrypted_file(photo.file_path), content_type="image/png")
        response["Cache-Control"] = "private, no-store"
        return response


class ConsentApi(APIView):
    @extend_schema(responses={200: ConsentVersionOutputSerializer})
    def get(self, request: Request, likeness_id: str) -> Response:
        likeness = access_likeness_by_id(request.user, likeness_id)
        history = selectors.consent_history(likeness)
        current = history.first()
        return Response(
            {
                "current": ConsentVersionOutputSerializer(current).data if current else None,
                "history": ConsentVersionOutputSerializer(history, many=True).data,
            }
        )

    @extend_schema(request=ConsentInputSerializer, responses={200: ConsentVersionOutputSerializer})
    def put(self, request: Request, likeness_id: str) -> Response:
        likeness = access_likeness_by_id(request.user, likeness_id)
        serializer = ConsentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = services.consent_set(actor=request.user, likeness=likeness, **serializer.validated_data)
        return Response(ConsentVersionOutputSerializer(version).data)


class RevokeApi(APIView):
    @extend_schema(request=None, responses={200: ConsentVersionOutputSerializer})
    def post(self, request: Request, likeness_id: str) -> Response:
        likeness = access_likeness_by_id(request.user, likeness_id)
        version = services.consent_revoke(actor=request.user, likeness=likeness)
        return Response(ConsentVersionOutputSerializer(version).data)


class _SuspensionApi(APIView):
    """A moderator suspends or lifts a suspension, with a note (the holder sees a suspension's note)."""

    permission_classes = [HasRole(Role.MODERATOR)]
    service: Any = None

    @extend_schema(request=LikenessSuspensionInputSerializer, responses={200: LikenessOutputSerializer})
    def post(self, request: Request, likeness_id: str) -> Response:
        likeness = access_likeness_by_id(request.user, likeness_id)
        serializer = LikenessSuspensionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        likeness = self.service(moderator=request.user, likeness=likeness, **serializer.validated_data)
        return Response(LikenessOutputSerializer(likeness).data)


class LikenessSuspendApi(_SuspensionApi):
    """A moderator suspends a likeness (it grants nothing) with a note the person sees."""

    service = staticmethod(services.likeness_suspend)


class LikenessLiftSuspensionApi(_SuspensionApi):
    """A moderator lifts a suspension, with a note for the audit trail."""

    service = staticmethod(services.likeness_lift_suspension)


class ProtectedCreateApi(APIView):
    permission_classes = [HasRole(Role.MODERATOR)]

    @extend_schema(request=ProtectedCreateInputSerializer, responses={201: LikenessOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = ProtectedCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        likeness = services.likeness_register_protected(moderator=request.user, **serializer.validated_data)
        return Response(LikenessOutputSerializer(likeness).data, status=status.HTTP_201_CREATED)


class ProtectedImportApi(APIView):
    permission_classes = [HasRole(Role.MODERATOR)]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
        },
        responses={201: dict},
    )
    def post(self, request: Request) -> Response:
        upload = request.data.get("file")
        if upload is None or not hasattr(upload, "read"):
            raise exceptions.ValidationError({"file": ["Attach a CSV file."]})
        created = services.protected_entries_import_csv(moderator=request.user, data=upload.read())
        return Response(
            {"created": len(created), "ids": [str(likeness.pk) for likeness in created]}, status=status.HTTP_201_CREATED
        )


class ConsentRequestListApi(APIView):
    """Requests to use a likeness that wait for (or got) the rights holder's answer."""

    @extend_schema(responses={200: dict})
    def get(self, request: Request, likeness_id: str) -> Response:
        likeness = access_likeness_by_id(request.user, likeness_id)
        return Response(
            [
                {
                    "id": str(item.pk),
                    "requester": item.requester.username,
                    "use": item.use,
                    "prompt": item.prompt,
                    "status": item.status,
                    "consent_version": item.consent_version.number,
                    "created_at": item.created_at,
                    "decided_at": item.decided_at,
                }
                for item in likeness.consent_requests.select_related("requester", "consent_version")
            ]
        )


class ConsentRequestDecisionApi(APIView):
    @extend_schema(request=ConsentRequestDecisionInputSerializer, responses={200: dict})
    def post(self, request: Request, likeness_id: str, request_id: str) -> Response:
        likeness = access_likeness_by_id(request.user, likeness_id)
        item = get_object_or_404(likeness.consent_requests, pk=request_id)
        serializer = ConsentRequestDecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.consent_request_decide(
            actor=request.user, request=item, approve=serializer.validated_data["approve"]
        )
        return Response({"id": str(item.pk), "status": item.status})


class AppearancesApi(APIView):
    """Every generation (and check) that used or matched this likeness."""

    @extend_schema(responses={200: dict})
    def get(self, request: Request, likeness_id: str) -> Response:
        from generation.appearances import likeness_appearances

        likeness = access_likeness_by_id(request.user, likeness_id)
        return Response(likeness_appearances(likeness))


class LivenessChallengeApi(APIView):
    """The person asks for a live selfie challenge for their likeness (head turns and a code)."""

    @extend_schema(request=None, responses={201: dict})
    def post(self, request: Request, likeness_id: str) -> Response:
        from consent.verification import liveness_challenge_start

        likeness = access_likeness_by_id(request.user, likeness_id)
        check, token = liveness_challenge_start(actor=request.user, likeness=likeness)
        return Response(
            {
                "id": str(check.pk),
                "token": token,
                "steps": check.steps,
                "code": check.code,
                "expires_at": check.expires_at,
                "instructions": "Record a short video: look at the camera, then turn your head %s, in that order,"
                " holding up or saying the code %s; send it with the token within the time limit."
                % (" then ".join(check.steps), check.code),
            },
            status=status.HTTP_201_CREATED,
        )


class LivenessSubmitApi(APIView):
    """The person sends the video recorded for a challenge; the answer is the check's verdict."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"token": {"type": "string"}, "video": {"type": "string", "format": "binary"}},
                "required": ["token", "video"],
            }
        },
        responses={200: dict},
    )
    def post(self, request: Request, likeness_id: str) -> Response:
        from consent.verification import liveness_submit

        likeness = access_likeness_by_id(request.user, likeness_id)
        token, video = request.data.get("token"), request.data.get("video")
        missing = {
            name: ["This field is required."] for name, value in (("token", token), ("video", video)) if not value
        }
        if missing:
            raise exceptions.ValidationError(missing)
        check = liveness_submit(actor=request.user, likeness=likeness, token=str(token), data=video.read())
        return _liveness_answer(check)


def _liveness_answer(check: Any) -> Response:
    """A check as its person sees it: the outcome, why, and the measurements; never a frame.
    202 while a worker is still judging it (``GET …/liveness/{check}/`` tells when it is done)."""
    check.user.refresh_from_db(fields=["verified_at"])
    body = {
        "id": str(check.pk),
        "outcome": check.status,
        "reasons": check.reasons,
        "measurements": check.measurements,
        "steps": check.steps,
        "verified": check.user.verified_at is not None,
    }
    return Response(body, status=status.HTTP_202_ACCEPTED if check.status == "analyzing" else status.HTTP_200_OK)


class LivenessCheckApi(APIView):
    """One live selfie check of a likeness, as its person (or a moderator) sees it."""

    @extend_schema(responses={200: dict, 202: dict})
    def get(self, request: Request, likeness_id: str, check_id: str) -> Response:
        from consent.access import can_act_for, is_moderator
        from consent.models import LivenessCheck

        likeness = access_likeness_by_id(request.user, likeness_id)
        if not (can_act_for(request.user, likeness) or is_moderator(request.user)):
            raise exceptions.NotFound()
        check = get_object_or_404(LivenessCheck.objects.select_related("user"), pk=check_id, likeness=likeness)
        return _liveness_answer(check)


class LikenessVerifyApi(APIView):
    """A moderator verifies, with a note, that a self-registered likeness's owner is the person in its photos."""

    permission_classes = [HasRole(Role.MODERATOR)]

    @extend_schema(request=LikenessSuspensionInputSerializer, responses={200: LikenessOutputSerializer})
    def post(self, request: Request, likeness_id: str) -> Response:
        likeness = access_likeness_by_id(request.user, likeness_id)
        serializer = LikenessSuspensionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        likeness = services.likeness_verify(moderator=request.user, likeness=likeness, **serializer.validated_data)
        return Response(LikenessOutputSerializer(likeness).data)
