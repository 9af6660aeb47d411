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
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from config.throttles import page_throttled
from generation.verify import provenance_verify
from moderation.media import MediaUndecodable

#: The API's error code for a file that is neither a PNG, a JPEG nor a video.
UNDECODABLE = "undecodable"


class VerifyInputSerializer(serializers.Serializer):
    file = serializers.FileField()


class ProvenanceVerifyApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    parser_classes = [MultiPartParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "verify"

    @extend_schema(request=VerifyInputSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        serializer = VerifyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            result = provenance_verify(name=upload.name or "file", data=upload.read())
        except MediaUndecodable as error:
            body = {"code": UNDECODABLE, "detail": "Not an image or a video Sigillo can read: %s." % error.message}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
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
            result = provenance_verify(name=upload.name or "file", data=upload.read())
        except MediaUndecodable as error:
            form.add_error("file", "Not an image or a video Sigillo can read: %s." % error.message)
    status_code = 400 if form.errors else 200
    return render(request, "generation/verify.html", {"form": form, "result": result}, status=status_code)
