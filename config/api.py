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
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


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
    ERROR = "error"


_MESSAGES = {
    ApiErrorCode.INVALID: "Some fields are not valid.",
}


def _field_errors(detail: Any) -> Any:
    """Turn DRF's nested ErrorDetail structure into lists of {code, message}."""
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail) for item in detail):
            return [{"code": item.code, "message": str(item)} for item in detail]
        return [_field_errors(item) for item in detail]
    if isinstance(detail, dict):
        return {key: _field_errors(value) for key, value in detail.items()}
    if isinstance(detail, exceptions.ErrorDetail):
        return [{"code": detail.code, "message": str(detail)}]
    return detail


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every API error in the one shape described above."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_errors(exc.detail)
        if isinstance(fields, list):
            fields = {"non_field_errors": fields}
        body = {
            "code": ApiErrorCode.INVALID.value,
            "message": _MESSAGES[ApiErrorCode.INVALID],
            "fields": fields,
        }
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        code = getattr(detail, "code", None) or exc.default_code
        body = {"code": str(code), "message": str(detail)}
    else:  # pragma: no cover - DRF renders nothing but APIException.
        body = {"code": ApiErrorCode.ERROR.value, "message": str(exc)}
    response.data = {"error": body}
    return response
