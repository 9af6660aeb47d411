"""Stable codes of the registry: enrollment errors, refused names and consent reasons. Tests import these."""

from enum import StrEnum


class EnrollmentError(StrEnum):
    EMPTY_FILE = "empty_file"
    NOT_AN_IMAGE = "not_an_image"
    IMAGE_TOO_LARGE = "image_too_large"
    ANIMATED_IMAGE = "animated_image"
    FILE_TOO_LARGE = "file_too_large"
    NO_FACE = "no_face"
    FACE_TOO_SMALL = "face_too_small"
    FACE_TOO_BLURRED = "face_too_blurred"
    SEVERAL_FACES = "several_faces"
    FACE_CHOICE_INVALID = "face_choice_invalid"
    DIFFERENT_PEOPLE = "different_people"
    ALREADY_REGISTERED = "already_registered"
    NO_PHOTOS = "no_photos"
    TOO_MANY_PHOTOS = "too_many_photos"
    ENGINE_UNAVAILABLE = "engine_unavailable"


class NameRejection(StrEnum):
    """Why a name or alias was refused: it would match everyday prompts."""

    TOO_SHORT = "name_too_short"
    COMMON_WORD = "name_common_word"


class ConsentReason(StrEnum):
    ALLOWED = "consent_allows"
    LIKENESS_ERASED = "likeness_erased"
    PROTECTED_ENTRY = "protected_entry"
    LIKENESS_SUSPENDED = "likeness_suspended"
    LIKENESS_DISPUTED = "likeness_disputed"
    PENDING_VERIFICATION = "likeness_pending_verification"
    ESTATE_UNVERIFIED = "estate_unverified"
    CONSENT_REVOKED = "consent_revoked"
    NO_CONSENT = "no_consent"
    NOT_YET_VALID = "consent_not_yet_valid"
    EXPIRED = "consent_expired"
    REQUESTER_NOT_IN_AUDIENCE = "requester_not_in_audience"
    USE_NOT_ALLOWED = "use_not_allowed"
    FORBIDDEN_TOPIC = "forbidden_topic"
    TOPIC_CHECK_FAILED = "topic_check_failed"
    APPROVAL_REQUIRED = "approval_required"
    APPROVAL_DENIED = "approval_denied"
