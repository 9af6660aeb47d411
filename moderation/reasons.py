"""Every reason the gate gives, with the verdict it implies (SPEC section 2). Tests import these."""

from enum import StrEnum


class Verdict(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        return {Verdict.ALLOW: 0, Verdict.REVIEW: 1, Verdict.BLOCK: 2}[self]


class ReasonCode(StrEnum):
    # Prompt stage.
    POLICY_VIOLATION = "policy_violation"
    REGISTERED_NAME = "registered_name"
    REGISTERED_DESCRIPTOR = "registered_descriptor"
    # Reference media stage.
    REGISTERED_FACE = "registered_face"
    FACE_NEAR_MATCH = "face_near_match"
    #: A face about as close to two likenesses a moderator marked as different people: neither's consent covers it.
    FACE_AMBIGUOUS = "face_ambiguous"
    #: A disputed registration of a face that an established likeness holds: that one's consent governs.
    DISPUTED_DUPLICATE = "disputed_duplicate"
    UNKNOWN_FACE = "unknown_face"
    OWN_LIKENESS = "own_likeness"
    MEDIA_UNDECODABLE = "media_undecodable"
    # Consent stage (one code per consent outcome; see consent.errors.ConsentReason).
    CONSENT_ALLOWS = "consent_allows"
    CONSENT_REVOKED = "consent_revoked"
    NO_CONSENT = "no_consent"
    CONSENT_EXPIRED = "consent_expired"
    CONSENT_NOT_YET_VALID = "consent_not_yet_valid"
    REQUESTER_NOT_IN_AUDIENCE = "requester_not_in_audience"
    USE_NOT_ALLOWED = "use_not_allowed"
    FORBIDDEN_TOPIC = "forbidden_topic"
    APPROVAL_REQUIRED = "approval_required"
    APPROVAL_DENIED = "approval_denied"
    PROTECTED_ENTRY = "protected_entry"
    DO_NOT_GENERATE = "likeness_erased"
    ESTATE_UNVERIFIED = "estate_unverified"
    LIKENESS_PENDING_VERIFICATION = "likeness_pending_verification"
    LIKENESS_DISPUTED = "likeness_disputed"
    LIKENESS_SUSPENDED = "likeness_suspended"
    CAMEO_UNAVAILABLE = "cameo_unavailable"
    # Failures: a check that could not run never allows.
    STAGE_FAILED = "stage_failed"
    GATE_TIMEOUT = "gate_timeout"
    # Moderation.
    MODERATOR_APPROVED = "moderator_approved"
    MODERATOR_REJECTED = "moderator_rejected"


#: The verdict each reason implies on its own; a policy category carries its configured action instead.
VERDICTS: dict[ReasonCode, Verdict] = {
    ReasonCode.POLICY_VIOLATION: Verdict.BLOCK,
    ReasonCode.REGISTERED_NAME: Verdict.ALLOW,  # the consent stage decides
    ReasonCode.REGISTERED_DESCRIPTOR: Verdict.ALLOW,  # the consent stage decides
    ReasonCode.REGISTERED_FACE: Verdict.ALLOW,  # the consent stage decides
    ReasonCode.FACE_NEAR_MATCH: Verdict.REVIEW,
    ReasonCode.FACE_AMBIGUOUS: Verdict.REVIEW,
    ReasonCode.DISPUTED_DUPLICATE: Verdict.ALLOW,  # adds nothing that allows: the original's consent decides
    ReasonCode.UNKNOWN_FACE: Verdict.REVIEW,  # configurable: SIGILLO_GATE_UNKNOWN_FACE
    ReasonCode.OWN_LIKENESS: Verdict.ALLOW,
    ReasonCode.MEDIA_UNDECODABLE: Verdict.BLOCK,
    ReasonCode.CONSENT_ALLOWS: Verdict.ALLOW,
    ReasonCode.CONSENT_REVOKED: Verdict.BLOCK,
    ReasonCode.NO_CONSENT: Verdict.BLOCK,
    ReasonCode.CONSENT_EXPIRED: Verdict.BLOCK,
    ReasonCode.CONSENT_NOT_YET_VALID: Verdict.BLOCK,
    ReasonCode.REQUESTER_NOT_IN_AUDIENCE: Verdict.BLOCK,
    ReasonCode.USE_NOT_ALLOWED: Verdict.BLOCK,
    ReasonCode.FORBIDDEN_TOPIC: Verdict.BLOCK,
    ReasonCode.APPROVAL_REQUIRED: Verdict.REVIEW,
    ReasonCode.APPROVAL_DENIED: Verdict.BLOCK,
    ReasonCode.PROTECTED_ENTRY: Verdict.BLOCK,
    ReasonCode.DO_NOT_GENERATE: Verdict.BLOCK,
    ReasonCode.ESTATE_UNVERIFIED: Verdict.BLOCK,
    ReasonCode.LIKENESS_PENDING_VERIFICATION: Verdict.BLOCK,
    ReasonCode.LIKENESS_DISPUTED: Verdict.BLOCK,
    ReasonCode.LIKENESS_SUSPENDED: Verdict.BLOCK,
    ReasonCode.CAMEO_UNAVAILABLE: Verdict.BLOCK,
    ReasonCode.STAGE_FAILED: Verdict.REVIEW,
    ReasonCode.GATE_TIMEOUT: Verdict.REVIEW,
    ReasonCode.MODERATOR_APPROVED: Verdict.ALLOW,
    ReasonCode.MODERATOR_REJECTED: Verdict.BLOCK,
}

#: How urgent a review is in the moderators' queue (higher first).
SEVERITY: dict[ReasonCode, int] = {
    ReasonCode.POLICY_VIOLATION: 3,
    ReasonCode.FACE_NEAR_MATCH: 2,
    ReasonCode.FACE_AMBIGUOUS: 2,
    ReasonCode.STAGE_FAILED: 2,
    ReasonCode.GATE_TIMEOUT: 2,
    ReasonCode.APPROVAL_REQUIRED: 1,
    ReasonCode.UNKNOWN_FACE: 1,
}
