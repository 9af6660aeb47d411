"""One write path for decisions and flags (``moderation.decisions``): each write has its audit row,
and the outcome of a review reaches other apps as a signal sent after commit."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from moderation.audit import audit_verify
from moderation.decisions import flag_close
from moderation.gate import MediaInput, gate_check
from moderation.models import AuditEvent, Decision, Flag
from moderation.reasons import ReasonCode, Verdict
from moderation.signals import review_decided
from tests.consent.faces import photo_bytes
from tests.moderation.test_disputes import decide_dispute, enroll, troll  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

UNKNOWN_FACE = "alex_lacamoire/img1.jpg"  # nobody in the registry fixture


def events(action: str, target: Any) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=action, target_type=target._meta.label_lower, target_id=str(target.pk))
    )


@pytest.fixture
def review(registry: Any) -> Flag:
    """A real check that goes to review: the reference shows a face not in the registry."""
    decision = gate_check(
        requester=registry.creator, prompt="a portrait", media=[MediaInput("ref.png", photo_bytes(UNKNOWN_FACE))]
    )
    assert decision.verdict == Verdict.REVIEW, decision.reasons
    return decision.flags.get(kind=Flag.Kind.GATE_REVIEW)


@pytest.fixture
def sent() -> Any:
    """What ``review_decided`` carried, each time it was sent."""
    calls: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        calls.append({"sender": sender, **kwargs})

    review_decided.connect(receiver, dispatch_uid="test.review_decided")
    yield calls
    review_decided.disconnect(dispatch_uid="test.review_decided")


def test_a_decision_that_asks_for_review_audits_the_flag_it_opens(registry, review):
    decision = review.gate_decision
    [opened] = events("flag.open", review)
    assert (opened.actor, opened.data["kind"]) == (registry.creator, "gate_review")
    assert opened.data["gate_decision"] == str(decision.pk)
    assert opened.data["reason"] == review.reason == ReasonCode.UNKNOWN_FACE
    [decided] = events("gate.decision", decision)
    assert (decided.actor, decided.data["kind"], decided.data["verdict"]) == (registry.creator, "check", "review")


@pytest.mark.parametrize(("choice", "verdict"), [("approve", Verdict.ALLOW), ("reject", Verdict.BLOCK)])
def test_a_review_decided_through_the_api_is_audited_and_announced_after_commit(
    api_client, registry, review, sent, django_capture_on_commit_callbacks, choice, verdict
):
    api_client.force_authenticate(registry.moderator)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_client.post(
            "/api/v1/moderation/flags/%s/decision/" % review.pk,
            {"decision": choice, "note": "Compared by hand."},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert sent == []  # nothing is announced before the decision is committed
    for callback in callbacks:
        callback()

    decision = Decision.objects.get(pk=review.gate_decision_id)
    assert decision.final_verdict == verdict
    assert sent == [
        {"sender": Decision, "signal": review_decided, "decision_id": decision.pk, "kind": "check", "verdict": verdict}
    ]
    [closed] = events("flag.decide", review)
    assert closed.actor == registry.moderator
    assert (closed.data["decision"], closed.data["note"]) == (choice, "Compared by hand.")
    assert (closed.data["gate_decision"], closed.data["verdict"]) == (str(decision.pk), verdict)
    [final] = events("gate.final_verdict", decision)
    assert (final.actor, final.data["final_verdict"], final.data["verdict"]) == (registry.moderator, verdict, "review")
    assert audit_verify() is None


def test_an_escalation_is_audited_and_announces_nothing(
    api_client, registry, review, sent, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(registry.moderator)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/moderation/flags/%s/decision/" % review.pk,
            {"decision": "escalate", "note": "A second pair of eyes."},
            format="json",
        )

    assert response.status_code == 200, response.content
    [escalated] = events("flag.escalate", review)
    assert (escalated.actor, escalated.data) == (registry.moderator, {"note": "A second pair of eyes."})
    assert not events("flag.decide", review)
    assert sent == []


def test_a_refused_decision_writes_nothing(api_client, registry, review, make_user):
    from accounts.roles import Role

    api_client.force_authenticate(make_user(Role.CREATOR))
    response = api_client.post(
        "/api/v1/moderation/flags/%s/decision/" % review.pk, {"decision": "approve", "note": "mine"}, format="json"
    )

    assert response.status_code == 403
    assert not events("flag.decide", review)
    assert not events("gate.final_verdict", review.gate_decision)


def test_a_dispute_is_opened_and_decided_on_the_record(api_client, registry, troll):  # noqa: F811
    duplicate = enroll(api_client, troll, "obama/obama2.jpg", "Tobias Fenwright")
    flag = Flag.objects.get(kind=Flag.Kind.DISPUTE, likeness_id=duplicate["id"])
    [opened] = events("flag.open", flag)
    assert (opened.actor, opened.data["kind"], opened.data["likeness"]) == (troll, "dispute", duplicate["id"])

    decide_dispute(api_client, registry.moderator, duplicate["id"], "rejected", note="Obama's photo.")

    [closed] = events("flag.decide", flag)
    assert closed.actor == registry.moderator
    assert (closed.data["decision"], closed.data["note"], closed.data["likeness"]) == (
        "rejected",
        "Obama's photo.",
        duplicate["id"],
    )


def test_a_decided_flag_is_not_decided_again(registry, review):
    flag_close(flag=review, actor=registry.moderator, decision="approve", note="once")

    with pytest.raises(ValidationError):
        flag_close(flag=review, actor=registry.moderator, decision="reject", note="twice")

    assert len(events("flag.decide", review)) == 1
