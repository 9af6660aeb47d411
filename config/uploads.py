"""Request bodies and uploads bounded while they stream in, before anything is kept.

Two limits, both checked before the bytes are read, not after:

- a body larger than ``SIGILLO_REQUEST_MAX_BYTES`` (by its ``Content-Length``) is answered 413 by
  :class:`RequestSizeMiddleware` without reading a byte of it — JSON bodies included, which
  Django's own ``DATA_UPLOAD_MAX_MEMORY_SIZE`` does not cover when DRF reads the stream;
- a file larger than ``SIGILLO_UPLOAD_MAX_BYTES`` is stopped by :class:`LimitedUploadHandler`
  at the first chunk past the limit: the multipart parser reads no further, nothing is written
  to disk, and the view answers 413 (:func:`config.api.exception_handler` for the API, the
  middleware for pages).

A reverse proxy in front should refuse larger bodies itself (nginx ``client_max_body_size``
set to ``SIGILLO_REQUEST_MAX_BYTES``), so that they never reach a web process.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, JsonResponse


class UploadTooLarge(RequestDataTooBig):
    """A body or a file over its limit; the message says which limit."""


def too_large_message(limit: int, what: str) -> str:
    return "The %s is larger than %s, the most Sigillo accepts." % (what, _size(limit))


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return "%g MiB" % round(count / (1024 * 1024), 1)
    if count >= 1024:
        return "%g KiB" % round(count / 1024, 1)
    return "%d bytes" % count


class LimitedUploadHandler(FileUploadHandler):
    """First of ``FILE_UPLOAD_HANDLERS``: stop a file at ``SIGILLO_UPLOAD_MAX_BYTES`` while it streams.

    It passes every chunk on to the handlers after it (memory, then a temporary file) until the
    file grows past the limit; then it raises, and the rest of the body is never read.
    """

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        limit = settings.SIGILLO_UPLOAD_MAX_BYTES
        if self.received > limit:
            raise UploadTooLarge(too_large_message(limit, "file %r" % (self.file_name or "uploaded")))
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler builds the file


def too_large_response(request: HttpRequest, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        from config.api import ApiErrorCode

        return JsonResponse({"error": {"code": ApiErrorCode.TOO_LARGE.value, "message": message}}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


class RequestSizeMiddleware:
    """Refuse a body whose declared length is over ``SIGILLO_REQUEST_MAX_BYTES`` unread (413), and
    answer 413 when a view's upload stopped at the file limit (:class:`UploadTooLarge`)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.SIGILLO_REQUEST_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads nothing of a body whose length it cannot parse
        if limit and length > limit:
            return too_large_response(request, too_large_message(limit, "request"))
        if request.method == "POST" and request.content_type == "multipart/form-data":
            # Parse the form here, where a file over the limit can be answered 413: the CSRF
            # check would parse it next and turn the error into a bare 400.
            try:
                request.FILES  # noqa: B018 - reading it parses the body
            except UploadTooLarge as error:
                return too_large_response(request, str(error))
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, UploadTooLarge):
            return too_large_response(request, str(exception))
        return None
