"""Provenance verification, for anyone: POST /api/v1/provenance/verify/ and the page at /verify/."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.throttles import COSTLY_THROTTLES, page_throttled
from generation.verify import VerifyUnavailable, provenance_verify_job
from moderation.media import MediaUndecodable

#: The API's error code for a file that is neither a PNG, a JPEG nor a video.
UNDECODABLE = "undecodable"
#: The API's error code when no worker finished the check within SIGILLO_VERIFY_TIMEOUT (503).
UNAVAILABLE = "unavailable"
UNAVAILABLE_MESSAGE = "The file could not be checked now (it took too long, or no worker answered); try again later."


class VerifyInputSerializer(serializers.Serializer):
    file = serializers.FileField()


class ProvenanceVerifyApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    parser_classes = [MultiPartParser]
    throttle_classes = COSTLY_THROTTLES
    throttle_scope = "verify"

    @extend_schema(request=VerifyInputSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        serializer = VerifyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            result = provenance_verify_job(name=upload.name or "file", data=upload.read())
        except MediaUndecodable as error:
            message = "Not an image or a video Sigillo can read: %s." % error.message
            return Response({"error": {"code": UNDECODABLE, "message": message}}, status=status.HTTP_400_BAD_REQUEST)
        except VerifyUnavailable:
            body = {"error": {"code": UNAVAILABLE, "message": UNAVAILABLE_MESSAGE}}
            return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(result.as_dict())


class VerifyForm(forms.Form):
    file = forms.FileField(label="Image or video", help_text="A PNG, a JPEG or an MP4.")


def verify_page(request: HttpRequest) -> HttpResponse:
    form = VerifyForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and (wait := page_throttled(request, "verify")) is not None:
        form.add_error(None, "Too many files checked from here; try again in %d seconds." % wait)
        response = render(request, "generation/verify.html", {"form": form, "result": None}, status=429)
        response["Retry-After"] = str(wait)
        return response
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = provenance_verify_job(name=upload.name or "file", data=upload.read())
        except MediaUndecodable as error:
            form.add_error("file", "Not an image or a video Sigillo can read: %s." % error.message)
        except VerifyUnavailable:
            form.add_error(None, UNAVAILABLE_MESSAGE)
            return render(request, "generation/verify.html", {"form": form, "result": None}, status=503)
    status_code = 400 if form.errors else 200
    return render(request, "generation/verify.html", {"form": form, "result": result}, status=status_code)
