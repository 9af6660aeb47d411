"""Consent policies: versions, revocation, evaluation reasons and receipts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from consent.errors import ConsentReason
from consent.evaluation import consent_evaluate, receipt_draft
from consent.models import ConsentReceipt, ConsentVersion, Likeness
from moderation.audit import audit_verify
from moderation.models import AuditEvent

pytestmark = pytest.mark.django_db

OPEN_POLICY = {
    "audience": "everyone",
    "uses": ["personal", "parody"],
    "forbidden_topics": ["never show me drinking alcohol"],
}


@pytest.fixture
def owner(make_user):
    return make_user(Role.RIGHTS_HOLDER, username="rita")


@pytest.fixture
def likeness(enroll, owner):
    return Likeness.objects.get(pk=enroll("rose_leslie/img1.jpg", user=owner, name="Rose Leslie").json()["id"])


def put_consent(api_client, user, likeness, body):
    api_client.force_authenticate(user)
    return api_client.put("/api/v1/likenesses/%s/consent/" % likeness.pk, body, format="json")


def no_topics(**kwargs):
    return []


def test_each_change_is_a_new_version_and_the_old_ones_stay(api_client, owner, likeness):
    first = put_consent(api_client, owner, likeness, OPEN_POLICY)
    second = put_consent(api_client, owner, likeness, {**OPEN_POLICY, "uses": ["personal"]})

    assert first.status_code == second.status_code == 200
    assert (first.json()["number"], second.json()["number"]) == (2, 3)
    history = api_client.get("/api/v1/likenesses/%s/consent/" % likeness.pk).json()
    assert [v["number"] for v in history["history"]] == [3, 2, 1]
    assert history["history"][1]["uses"] == ["parody", "personal"]
    assert history["current"]["summary"].startswith("Anyone may use this likeness for personal use")
    assert audit_verify() is None
    assert AuditEvent.objects.filter(action="consent.set", target_id=str(likeness.pk)).count() == 2


def test_an_evaluation_writes_nothing_and_its_receipt_cites_the_version(api_client, owner, likeness, make_user):
    put_consent(api_client, owner, likeness, OPEN_POLICY)
    creator = make_user(Role.CREATOR)

    result = consent_evaluate(
        likeness=likeness, requester=creator, use="personal", prompt="Rose reading in a garden", topic_matcher=no_topics
    )

    assert result.allowed, result.reasons
    assert result.codes == [ConsentReason.ALLOWED]
    assert not ConsentReceipt.objects.exists()  # evaluating is a dry run: a release writes the receipt
    receipt = receipt_draft(evaluation=result, likeness=likeness, requester=creator, use="personal")
    receipt.save()
    assert receipt.consent_version.number == 2
    assert (receipt.requester, receipt.use, receipt.likeness) == (creator, "personal", likeness)

    put_consent(api_client, owner, likeness, {**OPEN_POLICY, "uses": ["personal", "commercial"]})
    later = consent_evaluate(likeness=likeness, requester=creator, use="commercial", topic_matcher=no_topics)
    assert later.allowed and later.version.number == 3
    api_client.post("/api/v1/likenesses/%s/revoke/" % likeness.pk)
    refused = consent_evaluate(likeness=likeness, requester=creator, use="commercial", topic_matcher=no_topics)
    with pytest.raises(ValueError):
        receipt_draft(evaluation=refused, likeness=likeness, requester=creator, use="commercial")


def test_revocation_is_immediate(api_client, owner, likeness, make_user):
    put_consent(api_client, owner, likeness, OPEN_POLICY)
    creator = make_user(Role.CREATOR)
    assert consent_evaluate(likeness=likeness, requester=creator, use="personal", topic_matcher=no_topics).allowed

    response = api_client.post("/api/v1/likenesses/%s/revoke/" % likeness.pk)

    assert response.status_code == 200 and response.json()["revoked"] is True
    likeness.refresh_from_db()
    assert likeness.status == "revoked"
    result = consent_evaluate(likeness=likeness, requester=creator, use="personal", topic_matcher=no_topics)
    assert not result.allowed
    assert result.codes == [ConsentReason.CONSENT_REVOKED]


def test_each_kind_of_refusal_has_its_own_reason(api_client, owner, likeness, make_user):
    creator = make_user(Role.CREATOR)
    now = timezone.now()
    cases = [
        (
            {
                **OPEN_POLICY,
                "valid_until": (now - timedelta(days=1)).isoformat(),
                "valid_from": (now - timedelta(days=9)).isoformat(),
            },
            "personal",
            ConsentReason.EXPIRED,
        ),
        ({**OPEN_POLICY, "valid_from": (now + timedelta(days=1)).isoformat()}, "personal", ConsentReason.NOT_YET_VALID),
        (
            {**OPEN_POLICY, "audience": "approved_users", "approved_users": [owner.pk]},
            "personal",
            ConsentReason.REQUESTER_NOT_IN_AUDIENCE,
        ),
        ({**OPEN_POLICY, "audience": "verified_users"}, "personal", ConsentReason.REQUESTER_NOT_IN_AUDIENCE),
        (OPEN_POLICY, "commercial", ConsentReason.USE_NOT_ALLOWED),
        (OPEN_POLICY, "adult", ConsentReason.USE_NOT_ALLOWED),
        ({**OPEN_POLICY, "per_use_approval": True}, "personal", ConsentReason.APPROVAL_REQUIRED),
    ]
    for body, use, code in cases:
        assert put_consent(api_client, owner, likeness, body).status_code == 200, body
        result = consent_evaluate(
            likeness=likeness, requester=creator, use=use, prompt="Rose in a garden", topic_matcher=no_topics
        )
        assert not result.allowed
        assert result.codes == [code], (body, use, result.codes)


def test_forbidden_topic_is_found_in_the_prompt_by_meaning(api_client, owner, likeness, make_user):
    put_consent(api_client, owner, likeness, OPEN_POLICY)
    creator = make_user(Role.CREATOR)

    result = consent_evaluate(
        likeness=likeness, requester=creator, use="personal", prompt="Rose sipping a glass of red wine at a bar"
    )

    assert not result.allowed
    assert result.codes == [ConsentReason.FORBIDDEN_TOPIC]
    assert result.reasons[0].extra["topic"] == "never show me drinking alcohol"
    harmless = consent_evaluate(
        likeness=likeness, requester=creator, use="personal", prompt="Rose reading a book in a library"
    )
    assert harmless.allowed


def test_a_topic_check_that_cannot_run_denies(api_client, owner, likeness, make_user):
    put_consent(api_client, owner, likeness, OPEN_POLICY)

    def broken(**kwargs):
        raise RuntimeError("model missing")

    result = consent_evaluate(
        likeness=likeness,
        requester=make_user(Role.CREATOR),
        use="personal",
        prompt="Rose at a party",
        topic_matcher=broken,
    )
    assert not result.allowed
    assert result.codes == [ConsentReason.TOPIC_CHECK_FAILED]


def test_verified_users_are_in_a_verified_audience(api_client, owner, likeness, make_user):
    put_consent(api_client, owner, likeness, {**OPEN_POLICY, "audience": "verified_users"})
    verified = make_user(Role.CREATOR, verified_at=timezone.now())
    assert consent_evaluate(likeness=likeness, requester=verified, use="personal", topic_matcher=no_topics).allowed


def test_evaluation_at_a_past_time_reads_the_version_then_in_force(api_client, owner, likeness, make_user):
    put_consent(api_client, owner, likeness, OPEN_POLICY)
    between = timezone.now()
    api_client.post("/api/v1/likenesses/%s/revoke/" % likeness.pk)

    creator = make_user(Role.CREATOR)
    then = consent_evaluate(likeness=likeness, requester=creator, use="personal", at=between, topic_matcher=no_topics)
    now = consent_evaluate(likeness=likeness, requester=creator, use="personal", topic_matcher=no_topics)
    assert then.allowed and then.version.number == 2
    assert not now.allowed


BAD_POLICIES = {
    "missing audience": ({"uses": []}, "audience"),
    "unknown audience": ({"audience": "friends", "uses": []}, "audience"),
    "uses not a list": ({"audience": "everyone", "uses": "personal"}, "uses"),
    "unknown use": ({"audience": "everyone", "uses": ["evil"]}, "uses"),
    "approved users empty": ({"audience": "approved_users", "uses": ["personal"]}, "approved_users"),
    "unknown approved user": (
        {"audience": "approved_users", "uses": ["personal"], "approved_users": [987654]},
        "approved_users",
    ),
    "approved user not a number": (
        {"audience": "approved_users", "uses": ["personal"], "approved_users": ["bob"]},
        "approved_users",
    ),
    "end before start": (
        {
            "audience": "everyone",
            "uses": [],
            "valid_from": "2030-01-02T00:00:00Z",
            "valid_until": "2030-01-01T00:00:00Z",
        },
        "valid_until",
    ),
    "bad date": ({"audience": "everyone", "uses": [], "valid_until": "soon"}, "valid_until"),
    "overlong topic": ({"audience": "everyone", "uses": [], "forbidden_topics": ["t" * 301]}, "forbidden_topics"),
    "approval not a boolean": ({"audience": "everyone", "uses": [], "per_use_approval": "perhaps"}, "per_use_approval"),
}


@pytest.mark.parametrize(("body", "field"), BAD_POLICIES.values(), ids=BAD_POLICIES.keys())
def test_bad_policies_are_refused_and_no_version_is_written(api_client, owner, likeness, body, field):
    before = ConsentVersion.objects.count()
    response = put_consent(api_client, owner, likeness, body)

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert ConsentVersion.objects.count() == before


def test_other_people_cannot_read_or_change_consent(api_client, likeness, make_user):
    for user in (make_user(Role.RIGHTS_HOLDER), make_user(Role.CREATOR)):
        api_client.force_authenticate(user)
        assert api_client.get("/api/v1/likenesses/%s/consent/" % likeness.pk).status_code == 404
        assert put_consent(api_client, user, likeness, OPEN_POLICY).status_code == 404
        assert api_client.post("/api/v1/likenesses/%s/revoke/" % likeness.pk).status_code == 404
    assert ConsentVersion.objects.filter(likeness=likeness).count() == 1


def test_per_use_approval_waits_for_the_rights_holders_answer(api_client, owner, likeness, make_user):
    from consent.services import consent_request_open

    put_consent(api_client, owner, likeness, {**OPEN_POLICY, "per_use_approval": True})
    creator = make_user(Role.CREATOR)
    prompt = "Rose reading in a garden"
    first = consent_evaluate(
        likeness=likeness, requester=creator, use="personal", prompt=prompt, topic_matcher=no_topics
    )
    assert first.codes == [ConsentReason.APPROVAL_REQUIRED]
    pending = consent_request_open(likeness=likeness, requester=creator, use="personal", prompt=prompt)
    assert consent_request_open(likeness=likeness, requester=creator, use="personal", prompt=prompt) == pending

    api_client.force_authenticate(owner)
    listed = api_client.get("/api/v1/likenesses/%s/requests/" % likeness.pk).json()
    assert [(item["id"], item["status"]) for item in listed] == [(str(pending.pk), "pending")]
    bad = api_client.post(
        "/api/v1/likenesses/%s/requests/%s/decision/" % (likeness.pk, pending.pk), {"approve": "perhaps"}, format="json"
    )
    assert bad.status_code == 400
    answer = api_client.post(
        "/api/v1/likenesses/%s/requests/%s/decision/" % (likeness.pk, pending.pk), {"approve": True}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["status"] == "approved"
    again = api_client.post(
        "/api/v1/likenesses/%s/requests/%s/decision/" % (likeness.pk, pending.pk), {"approve": False}, format="json"
    )
    assert again.status_code == 400

    assert consent_evaluate(
        likeness=likeness, requester=creator, use="personal", prompt=prompt, topic_matcher=no_topics
    ).allowed
    other_prompt = consent_evaluate(
        likeness=likeness, requester=creator, use="personal", prompt="Rose on a horse", topic_matcher=no_topics
    )
    assert other_prompt.codes == [ConsentReason.APPROVAL_REQUIRED]


def test_a_denied_request_denies_with_its_own_reason(api_client, owner, likeness, make_user):
    from consent.services import consent_request_decide, consent_request_open

    put_consent(api_client, owner, likeness, {**OPEN_POLICY, "per_use_approval": True})
    creator = make_user(Role.CREATOR)
    request = consent_request_open(likeness=likeness, requester=creator, use="parody", prompt="Rose as a pirate")
    consent_request_decide(actor=owner, request=request, approve=False)

    result = consent_evaluate(
        likeness=likeness, requester=creator, use="parody", prompt="Rose as a pirate", topic_matcher=no_topics
    )
    assert result.codes == [ConsentReason.APPROVAL_DENIED]
    api_client.force_authenticate(make_user(Role.RIGHTS_HOLDER))
    assert api_client.get("/api/v1/likenesses/%s/requests/" % likeness.pk).status_code == 404
