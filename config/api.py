"""What every API answer shares: one error shape with stable codes.

An error answer looks like::

    {"error": {"code": "invalid", "message": "Some fields are not valid.",
               "fields": {"username": [{"code": "unique", "message": "..."}]}}}

``code`` values are members of :class:`ApiErrorCode` (or a field validator's code);
tests import the enum instead of retyping strings.
"""

from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.uploads import UploadTooLarge
from consent.enrollment import EnrollmentRejected
from consent.errors import EnrollmentError
from consent.services import CsvImportRejected


class ApiErrorCode(StrEnum):
    INVALID = "invalid"
    PARSE_ERROR = "parse_error"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    ENROLLMENT_REJECTED = "enrollment_rejected"
    IMPORT_REJECTED = "import_rejected"
    CONFLICT = "conflict"
    TOO_LARGE = "too_large"
    ERROR = "error"


class ApiError(exceptions.APIException):
    """An error with a stable code and extra members in the body (e.g. per-photo reasons)."""

    def __init__(self, *, code: ApiErrorCode, message: str, status_code: int = 400, **extra: Any) -> None:
        super().__init__(detail=message, code=code.value)
        self.status_code = status_code
        self.extra = extra


_MESSAGES = {
    ApiErrorCode.INVALID: "Some fields are not valid.",
}


def _flatten(detail: Any, path: str = "") -> list[dict[str, str]]:
    """Flatten nested errors (list items, nested objects) into {code, message, path} entries."""
    if isinstance(detail, dict):
        return [
            entry
            for key, value in detail.items()
            for entry in _flatten(value, "%s.%s" % (path, key) if path else str(key))
        ]
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail) for item in detail):
            return [_entry(item, path) for item in detail]
        return [entry for index, item in enumerate(detail) for entry in _flatten(item, "%s.%d" % (path, index))]
    return [_entry(detail, path)]


def _entry(detail: Any, path: str) -> dict[str, str]:
    entry = {"code": getattr(detail, "code", None) or ApiErrorCode.INVALID.value, "message": str(detail)}
    if path:
        entry["path"] = path
    return entry


def _is_leaf(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, exceptions.ErrorDetail) for item in value)


def _field_errors(detail: Any) -> dict[str, list[dict[str, str]]]:
    """Turn DRF's ErrorDetail structure into {field: [{code, message[, path]}]}.

    Errors inside a field (an item of a list, a key of a nested object) stay under the
    top-level field; ``path`` says where, e.g. ``roles.0``.
    """
    if not isinstance(detail, dict):
        return {"non_field_errors": _flatten(detail)}
    return {str(field): _flatten(value, "" if _is_leaf(value) else str(field)) for field, value in detail.items()}


def _from_service(exc: Exception) -> Exception:
    """Turn what a service raises into the DRF error it answers as; views let it propagate.

    A Django ValidationError keeps its fields and each field error's code (a refused name says
    why by its code); one without fields goes under ``non_field_errors``. A PermissionError a
    service raises (it has no errno, unlike the operating system's) is a 403 saying why. The
    registry's refusals that list every problem say so per photo or per CSV row.
    """
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        if not hasattr(exc, "error_dict"):
            return exceptions.ValidationError({"non_field_errors": exc.messages})
        return exceptions.ValidationError(
            {
                field: [
                    exceptions.ErrorDetail(message, code=item.code or ApiErrorCode.INVALID.value)
                    for item in items
                    for message in item
                ]
                for field, items in exc.error_dict.items()
            }
        )
    if isinstance(exc, UploadTooLarge):
        return ApiError(code=ApiErrorCode.TOO_LARGE, message=str(exc), status_code=413)
    if isinstance(exc, PermissionError) and exc.errno is None:
        return exceptions.PermissionDenied(str(exc))
    if isinstance(exc, EnrollmentRejected):
        # The face engine could not run: the service is unavailable (503), not the photos wrong.
        unavailable = all(error.code == EnrollmentError.ENGINE_UNAVAILABLE for error in exc.errors)
        return ApiError(
            code=ApiErrorCode.ENROLLMENT_REJECTED,
            message="Nothing was registered: %s" % exc,
            status_code=503 if unavailable else 400,
            photos=[error.as_dict() for error in exc.errors],
        )
    if isinstance(exc, CsvImportRejected):
        return ApiError(
            code=ApiErrorCode.IMPORT_REJECTED,
            message="Nothing was imported: %s" % exc,
            rows=[{"line": error.line, "message": error.message} for error in exc.errors],
        )
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every API error in the one shape described above."""
    exc = _from_service(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_errors(exc.detail)
        body = {
            "code": ApiErrorCode.INVALID.value,
            "message": _MESSAGES[ApiErrorCode.INVALID],
            "fields": fields,
        }
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        code = getattr(detail, "code", None) or exc.default_code
        body = {"code": str(code), "message": str(detail), **getattr(exc, "extra", {})}
    else:  # pragma: no cover - DRF renders nothing but APIException.
        body = {"code": ApiErrorCode.ERROR.value, "message": str(exc)}
    response.data = {"error": body}
    return response


#: What an error answer says when Django itself (not a DRF view) produced it.
_PLAIN_ERRORS = {
    400: (ApiErrorCode.INVALID, "The request could not be understood."),
    403: (ApiErrorCode.PERMISSION_DENIED, "You do not have permission to perform this action."),
    404: (ApiErrorCode.NOT_FOUND, "Not found."),
    405: (ApiErrorCode.METHOD_NOT_ALLOWED, "Method not allowed."),
    413: (ApiErrorCode.TOO_LARGE, "The request is larger than Sigillo accepts."),
}
_SERVER_ERROR = (ApiErrorCode.ERROR, "Something went wrong on our side; it was logged. Please try again later.")


class ApiErrorMiddleware:
    """Answer every error under ``/api/`` in the one JSON shape, whatever the settings say.

    DRF renders its own errors through :func:`exception_handler`; this catches what Django
    renders instead: an unknown URL, an exception a view did not handle, a rejected host or
    an oversized body. With ``DEBUG`` on, Django would answer those with its HTML debug page,
    which shows the settings and environment to whoever called the API.
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        if response.status_code < 400 or not request.path.startswith("/api/") or isinstance(response, Response):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response  # already in the API's shape (e.g. a body refused as too large)
        from django.http import JsonResponse

        code, message = _PLAIN_ERRORS.get(response.status_code, _SERVER_ERROR)
        if response.status_code < 500 and response.status_code not in _PLAIN_ERRORS:
            code, message = ApiErrorCode.INVALID, "The request could not be handled."
        return JsonResponse({"error": {"code": code.value, "message": message}}, status=response.status_code)


#: What any operation may answer besides its own success, in the one error shape above.
ERROR_STATUSES = {
    "400": "The request is not valid; `fields` says which field and why.",
    "401": "No credentials, or wrong ones.",
    "403": "Signed in, but not allowed to do this.",
    "404": "No such object, or not one you may see.",
    "405": "The operation does not take this method.",
    "413": "A file or the whole body is larger than Sigillo accepts.",
    "415": "The body's content type is not one the operation reads.",
    "429": "Too many requests; `Retry-After` says when to try again.",
    "503": "A worker the operation needs did not answer in time (nothing was concluded).",
}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "path": {"type": "string"},
                            },
                        },
                    },
                },
            },
            "additionalProperties": True,  # per-photo or per-row reasons of a refusal
        }
    },
}


def error_responses_hook(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing: document the error answers every operation may give."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status_code, description in ERROR_STATUSES.items():
                responses.setdefault(status_code, {"description": description, "content": error})
    return result
