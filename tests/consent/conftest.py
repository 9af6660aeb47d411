"""Fixtures of the registry tests: enroll real photos through the real API."""

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import Role
from tests.consent.faces import photo_bytes


def stored() -> tuple:
    """Every row and file registration can write; equal before and after means nothing was stored."""
    from consent.models import ConsentVersion, EstateClaim, Face, FaceIndexChange, Likeness, LikenessPhoto
    from moderation.models import AuditEvent, Flag

    media = Path(settings.MEDIA_ROOT)
    files = sorted(str(path) for path in media.rglob("*") if path.is_file()) if media.exists() else []
    return (
        Likeness.objects.count(),
        LikenessPhoto.objects.count(),
        Face.objects.count(),
        FaceIndexChange.objects.count(),
        ConsentVersion.objects.count(),
        EstateClaim.objects.count(),
        Flag.objects.count(),
        AuditEvent.objects.count(),
        files,
    )


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def enroll(api_client: Any, make_user: Any) -> Any:
    """POST a likeness through the API as ``user`` (a new rights holder by default)."""

    def enroll(
        *paths: str, user: Any = None, name: str = "Sam Someone", expect: int | None = 201, **fields: Any
    ) -> Any:
        user = user or make_user(Role.RIGHTS_HOLDER)
        api_client.force_authenticate(user)
        files = [upload(path.rsplit("/", 1)[-1], photo_bytes(path)) for path in paths]
        response = api_client.post(
            "/api/v1/likenesses/", {"display_name": name, "photos": files, **fields}, format="multipart"
        )
        if expect is not None:
            assert response.status_code == expect, response.content
        api_client.force_authenticate(None)
        return response

    return enroll
