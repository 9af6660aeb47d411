"""``consent_evaluate``: does this likeness's consent cover this requester, this use, this prompt, now?

Returns allow or deny with every reason that applies (stable codes in ``consent.errors``) and
the consent version it read. Evaluating has no side effects: the gate and ``POST /api/v1/checks/``
only say what would happen. ``receipt_draft`` makes the consent receipt a release cites; the
release saves it, once, when the output is released.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts.models import User
from consent.access import audience_includes
from consent.errors import ConsentReason
from consent.models import (
    Audience,
    ConsentReceipt,
    ConsentRequest,
    ConsentVersion,
    EstateClaim,
    Likeness,
    LikenessStatus,
    Subject,
    Use,
)
from consent.selectors import consent_current


@dataclass(frozen=True)
class Reason:
    code: ConsentReason
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "detail": self.detail, **self.extra}


@dataclass(frozen=True)
class ConsentEvaluation:
    allowed: bool
    reasons: tuple[Reason, ...]
    likeness_id: str
    version: ConsentVersion | None
    at: datetime | None = None

    @property
    def codes(self) -> list[str]:
        return [reason.code.value for reason in self.reasons]

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "likeness": self.likeness_id,
            "consent_version": self.version.number if self.version else None,
            "reasons": [reason.as_dict() for reason in self.reasons],
        }


TopicMatcher = Callable[..., list[Any]]


def _default_topic_matcher(*, prompt: str, topics: list[str]) -> list[Any]:
    from consent.topics import topic_hits

    return topic_hits(prompt=prompt, topics=topics)


def _status_reasons(likeness: Likeness) -> list[Reason]:
    if likeness.status == LikenessStatus.ERASED:
        return [Reason(ConsentReason.LIKENESS_ERASED, "This likeness was erased; its name is a do-not-generate entry.")]
    if likeness.protected:
        return [
            Reason(ConsentReason.PROTECTED_ENTRY, "%s is a protected entry: never allowed." % likeness.display_name)
        ]
    if likeness.suspended_at is not None:
        # The moderator's note is for the person; creators learn only that nothing is granted.
        return [Reason(ConsentReason.LIKENESS_SUSPENDED, "A moderator suspended this likeness: it grants nothing.")]
    if likeness.status == LikenessStatus.DISPUTED:
        return [
            Reason(
                ConsentReason.LIKENESS_DISPUTED,
                "This likeness is disputed; it grants nothing until a moderator decides.",
            )
        ]
    if (
        likeness.subject == Subject.DECEASED
        and not likeness.estate_claims.filter(status=EstateClaim.Status.VERIFIED).exists()
    ):
        return [
            Reason(ConsentReason.ESTATE_UNVERIFIED, "No verified estate speaks for this person: nothing is allowed.")
        ]
    if likeness.status == LikenessStatus.PENDING_VERIFICATION:
        return [Reason(ConsentReason.PENDING_VERIFICATION, "This likeness is waiting for verification.")]
    return []


def consent_evaluate(
    *,
    likeness: Likeness,
    requester: User,
    use: str,
    prompt: str = "",
    at: datetime | None = None,
    topic_matcher: TopicMatcher | None = None,
) -> ConsentEvaluation:
    """Evaluate the consent in force at ``at`` (now by default) for one requested use; write nothing."""
    at = at or timezone.now()
    use = Use(use)
    version = consent_current(likeness, at=at if at < timezone.now() else None)
    reasons = _status_reasons(likeness)
    if not reasons:
        reasons = _policy_reasons(
            version, likeness, requester, use, prompt, at, topic_matcher or _default_topic_matcher
        )
    if reasons:
        return ConsentEvaluation(False, tuple(reasons), str(likeness.pk), version, at)
    allowed = Reason(
        ConsentReason.ALLOWED, "Consent version %d allows %s for this requester." % (version.number, use.label)
    )
    return ConsentEvaluation(True, (allowed,), str(likeness.pk), version, at)


def receipt_draft(*, evaluation: ConsentEvaluation, likeness: Likeness, requester: User, use: str) -> ConsentReceipt:
    """The receipt of an evaluation that allowed — which consent version covered which use, for whom,
    and how the person was verified — unsaved: a release signs it into the output's credentials
    and saves it with the release, the one step that uses a consent."""
    if not evaluation.allowed or evaluation.version is None:
        raise ValueError("Only a consent that allows is receipted.")
    return ConsentReceipt(
        likeness=likeness,
        consent_version=evaluation.version,
        requester=requester,
        use=Use(use),
        issued_at=evaluation.at or timezone.now(),
        verification={**likeness.verification, "verified_at": likeness.verified_at.isoformat()}
        if likeness.verified_at
        else {},
    )


def _policy_reasons(
    version: ConsentVersion | None,
    likeness: Likeness,
    requester: User,
    use: Use,
    prompt: str,
    at: datetime,
    topic_matcher: TopicMatcher,
) -> list[Reason]:
    if version is None:
        return [Reason(ConsentReason.NO_CONSENT, "No consent was ever given.")]
    if version.revoked:
        return [Reason(ConsentReason.CONSENT_REVOKED, "Consent was revoked (version %d)." % version.number)]
    reasons = []
    if version.valid_from and at < version.valid_from:
        reasons.append(Reason(ConsentReason.NOT_YET_VALID, "Consent starts on %s." % version.valid_from.isoformat()))
    if version.valid_until and at >= version.valid_until:
        reasons.append(Reason(ConsentReason.EXPIRED, "Consent ended on %s." % version.valid_until.isoformat()))
    if not audience_includes(version, likeness, requester):
        reasons.append(
            Reason(
                ConsentReason.REQUESTER_NOT_IN_AUDIENCE,
                "This person's consent covers %s, which does not include this requester."
                % Audience(version.audience).label.lower(),
            )
        )
    if use.value not in version.uses:
        reasons.append(Reason(ConsentReason.USE_NOT_ALLOWED, "%s use is not allowed." % use.label, {"use": use.value}))
    if version.forbidden_topics and prompt:
        try:
            hits = topic_matcher(prompt=prompt, topics=list(version.forbidden_topics))
        except Exception as error:  # a check that cannot run does not pass
            reasons.append(
                Reason(ConsentReason.TOPIC_CHECK_FAILED, "Forbidden topics could not be checked: %s" % error)
            )
        else:
            for hit in hits:
                reasons.append(
                    Reason(
                        ConsentReason.FORBIDDEN_TOPIC,
                        "The prompt touches a forbidden topic: %s." % hit.topic,
                        {"topic": hit.topic, "score": round(float(hit.score), 3), "span": list(hit.span)},
                    )
                )
    if not reasons and version.per_use_approval and not (likeness.owner_id and requester.pk == likeness.owner_id):
        answered = (
            ConsentRequest.objects.filter(consent_version=version, requester=requester, use=use.value, prompt=prompt)
            .exclude(status=ConsentRequest.Status.PENDING)
            .order_by("-decided_at")
            .first()
        )
        if answered is None:
            reasons.append(Reason(ConsentReason.APPROVAL_REQUIRED, "Each use needs the rights holder's approval."))
        elif answered.status == ConsentRequest.Status.DENIED:
            reasons.append(
                Reason(
                    ConsentReason.APPROVAL_DENIED,
                    "The rights holder said no to this request.",
                    {"request": str(answered.pk)},
                )
            )
    return reasons
