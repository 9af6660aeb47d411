"""Bodies and uploads over their limits are refused while they stream in: the web process reads
no further than the limit (a counting stream stands in for the socket), answers 413 in the API's
JSON shape or as a page, and keeps nothing."""

import pytest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, FakePayload, encode_multipart

from accounts.roles import Role
from config.api import ApiErrorCode
from consent.models import Likeness
from moderation.models import Decision

pytestmark = pytest.mark.django_db

LIMIT = 256 * 1024
#: The multipart parser reads ahead by a few of its 64 KiB chunks, never the rest of the body.
READ_AHEAD = 4 * 64 * 1024


class CountingPayload(FakePayload):
    """The request body as the socket would deliver it, counting what the server read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int = -1, /) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size: int = -1, /) -> bytes:
        line = super().readline(size)
        self.bytes_read += len(line)
        return line


def post(client, path, fields, **extra):
    body = encode_multipart(BOUNDARY, fields)
    payload = CountingPayload(body)
    response = client.generic(
        "POST",
        path,
        content_type=MULTIPART_CONTENT,
        **{"wsgi.input": payload, "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": MULTIPART_CONTENT},
        **extra,
    )
    return response, payload, len(body)


def upload(name: str, size: int):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, b"\x89PNG\r\n\x1a\n" + b"\0" * (size - 8), content_type="image/png")


@pytest.fixture
def limits(settings, tmp_path):
    settings.SIGILLO_UPLOAD_MAX_BYTES = LIMIT
    settings.SIGILLO_REQUEST_MAX_BYTES = 8 * LIMIT
    return settings


def stored_files(settings) -> list:
    return [path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()] if settings.MEDIA_ROOT.exists() else []


def test_a_file_over_the_limit_is_stopped_while_it_streams_and_nothing_is_kept(limits, api_client, make_user):
    api_client.force_authenticate(make_user(Role.CREATOR))

    response, payload, length = post(
        api_client, "/api/v1/checks/", {"prompt": "a lighthouse", "images": [upload("big.png", 6 * LIMIT)]}
    )

    assert response.status_code == 413, response.content
    error = response.json()["error"]
    assert error["code"] == ApiErrorCode.TOO_LARGE and "256 KiB" in error["message"]
    assert payload.bytes_read < LIMIT + READ_AHEAD < length  # the rest of the body was never read
    assert Decision.objects.count() == 0 and stored_files(limits) == []


def test_a_file_within_the_limit_still_passes(limits, api_client, make_user):
    api_client.force_authenticate(make_user(Role.CREATOR))
    from tests.consent.faces import encode, photo_image

    small = encode(photo_image("obama/obama2.jpg").resize((160, 200)), "JPEG")
    assert len(small) < LIMIT

    from django.core.files.uploadedfile import SimpleUploadedFile

    response, payload, length = post(
        api_client, "/api/v1/checks/", {"prompt": "a lighthouse", "images": [SimpleUploadedFile("ok.jpg", small)]}
    )

    assert response.status_code == 200, response.content
    assert payload.bytes_read == length


def test_a_body_declared_over_the_request_limit_is_refused_unread(limits, api_client, make_user):
    api_client.force_authenticate(make_user(Role.CREATOR))
    body = b'{"prompt": "' + b"a" * (9 * LIMIT) + b'"}'
    payload = CountingPayload(body)

    response = api_client.generic(
        "POST",
        "/api/v1/checks/",
        content_type="application/json",
        **{"wsgi.input": payload, "CONTENT_LENGTH": str(len(body))},
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == ApiErrorCode.TOO_LARGE
    assert payload.bytes_read == 0 and Decision.objects.count() == 0


def test_a_page_upload_over_the_limit_is_answered_413_before_the_csrf_check_reads_it(limits, client, make_user):
    owner = make_user(Role.RIGHTS_HOLDER)
    client.force_login(owner)

    response, payload, length = post(
        client,
        "/likenesses/new/",
        {"display_name": "Someone", "photos": [upload("me.png", 6 * LIMIT)], "csrfmiddlewaretoken": "x"},
    )

    assert response.status_code == 413
    assert "256 KiB" in response.content.decode()
    assert payload.bytes_read < LIMIT + READ_AHEAD < length
    assert Likeness.objects.count() == 0 and stored_files(limits) == []


def test_more_files_than_an_enrollment_carries_are_refused(limits, api_client, make_user, settings):
    api_client.force_authenticate(make_user(Role.CREATOR))
    images = [upload("f%d.png" % index, 1024) for index in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]

    response, _payload, _length = post(api_client, "/api/v1/checks/", {"prompt": "x", "images": images})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == ApiErrorCode.INVALID
    assert Decision.objects.count() == 0
