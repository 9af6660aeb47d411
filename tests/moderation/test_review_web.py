"""Gate reviews on the moderators' web pages: the queue, the evidence, and approve / reject / escalate."""

import io
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from accounts.roles import Role
from consent.models import ConsentVersion
from consent.summary import consent_summary
from moderation.gate import MediaInput, gate_check
from moderation.models import AuditEvent, Decision, Flag
from moderation.reasons import ReasonCode, Verdict
from tests.consent.faces import photo_bytes
from tests.consent.test_web import csrf_post, text

pytestmark = pytest.mark.django_db

UNKNOWN_FACE = "alex_lacamoire/img1.jpg"  # nobody in the registry fixture


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=True)


def review(requester: Any, prompt: str = "a portrait") -> Flag:
    """Run a real check whose reference photo shows a face not in the registry: it goes to review."""
    decision = gate_check(requester=requester, prompt=prompt, media=[MediaInput("ref.png", photo_bytes(UNKNOWN_FACE))])
    assert decision.verdict == Verdict.REVIEW, decision.reasons
    return decision.flags.get(kind=Flag.Kind.GATE_REVIEW)


@pytest.fixture
def kit_review(registry: Any) -> Flag:
    """Kit Harington named in the prompt (his consent allows it), beside an unknown face."""
    return review(registry.creator, "Kit Harington as a knight in armour")


def flag_url(flag: Flag) -> str:
    return "/moderation/flags/%s/" % flag.pk


def evidence_url(flag: Flag, index: int = 0) -> str:
    return "/moderation/decisions/%s/evidence/%d/" % (flag.gate_decision_id, index)


# --- the queue ---------------------------------------------------------------------------


def test_queue_orders_by_severity_then_age_and_highlights_escalations(client, registry):
    now = timezone.now()
    flags = {}
    for name, severity, status, age in [
        ("low_old", 1, Flag.Status.OPEN, 50),
        ("high_new", 3, Flag.Status.OPEN, 1),
        ("high_old", 3, Flag.Status.OPEN, 20),
        ("escalated", 2, Flag.Status.ESCALATED, 5),
        ("decided", 9, Flag.Status.DECIDED, 60),
    ]:
        flag = Flag.objects.create(
            kind=Flag.Kind.GATE_REVIEW, severity=severity, status=status, reason=ReasonCode.UNKNOWN_FACE, detail=name
        )
        Flag.objects.filter(pk=flag.pk).update(created_at=now - timedelta(minutes=age))
        flags[name] = flag
    client.force_login(registry.moderator)
    content = client.get("/moderation/").content.decode()

    positions = [content.index('data-flag="%s"' % flags[name].pk) for name in ("high_old", "high_new", "escalated")]
    assert positions == sorted(positions)
    assert positions[-1] < content.index('data-flag="%s"' % flags["low_old"].pk)
    assert str(flags["decided"].pk) not in content
    assert '<tr data-flag="%s" data-testid="flag-row" class="escalated">' % flags["escalated"].pk in content
    assert content.count('class="escalated"') == 1
    assert 'class="badge severity severity-3"' in content
    assert '<span class="status status-escalated">Escalated</span>' in content


def test_queue_filters_by_kind(client, registry, kit_review):
    dispute = Flag.objects.create(kind=Flag.Kind.DISPUTE, reason="face_matches_registered", detail="a dispute")
    client.force_login(registry.moderator)

    everything = client.get("/moderation/").content.decode()
    reviews = client.get("/moderation/?kind=gate_review").content.decode()
    disputes = client.get("/moderation/?kind=dispute").content.decode()
    nonsense = client.get("/moderation/?kind=nonsense").content.decode()

    assert str(kit_review.pk) in everything and str(dispute.pk) in everything
    assert str(kit_review.pk) in reviews and str(dispute.pk) not in reviews
    assert str(kit_review.pk) not in disputes and str(dispute.pk) in disputes
    assert str(kit_review.pk) in nonsense and str(dispute.pk) in nonsense
    assert 'href="/moderation/?kind=gate_review" aria-current="page"' in reviews
    for label in ("Gate reviews", "Disputes", "Estates"):
        assert label in everything


# --- the evidence ------------------------------------------------------------------------


def test_review_shows_the_marked_prompt_every_reason_the_boxes_and_the_consent(client, registry, kit_review):
    client.force_login(registry.moderator)
    response = client.get(flag_url(kit_review))
    content = text(response)
    decision = kit_review.gate_decision

    assert response.status_code == 200
    assert 'data-testid="requester">cleo<' in content
    assert 'data-testid="verdict">review<' in content
    named = next(reason for reason in decision.reasons if reason["code"] == ReasonCode.REGISTERED_NAME)
    assert named["span"] == [0, 13]
    assert (
        '<p class="prompt" data-testid="prompt"><mark data-code="registered_name" title="%s">Kit Harington</mark>'
        " as a knight in armour</p>" % named["detail"]
    ) in content
    for reason in decision.reasons:
        assert '<tr data-code="%s">' % reason["code"] in content
    assert "/likenesses/%s/" % registry.kit.pk in content

    unknown = next(reason for reason in decision.reasons if reason["code"] == ReasonCode.UNKNOWN_FACE)
    box = unknown["box"]
    images = content[content.index('data-testid="evidence-images"') :]
    assert images.count('data-testid="face-box"') == 1
    assert (
        'data-code="unknown_face" title="A face that is not in the registry." '
        'style="--x:%(x)s;--y:%(y)s;--w:%(width)s;--h:%(height)s"><span class="face-label">unknown_face</span>' % box
    ) in content
    assert '<img src="%s"' % evidence_url(kit_review) in content

    allowed = next(reason for reason in decision.reasons if reason["code"] == ReasonCode.CONSENT_ALLOWS)
    version = ConsentVersion.objects.get(likeness=registry.kit, number=allowed["consent_version"])
    assert version == ConsentVersion.objects.filter(likeness=registry.kit).order_by("-number").first()
    assert "Kit Harington</a> (version %d): %s" % (version.number, consent_summary(version)) in content
    for value in ("approve", "reject", "escalate"):
        assert 'name="decision" value="%s"' % value in content


def test_overlapping_spans_are_marked_run_by_run(client, registry):
    decision = Decision.objects.create(
        kind=Decision.Kind.CHECK,
        state=Decision.State.DONE,
        verdict=Verdict.REVIEW,
        requester=registry.creator,
        prompt="abcdefghijklmnopqrst",
        reasons=[
            {
                "code": ReasonCode.POLICY_VIOLATION,
                "verdict": "review",
                "stage": "policy",
                "detail": "P",
                "span": [0, 10],
            },
            {"code": ReasonCode.REGISTERED_NAME, "verdict": "allow", "stage": "names", "detail": "N", "span": [5, 15]},
            {
                "code": ReasonCode.REGISTERED_DESCRIPTOR,
                "verdict": "allow",
                "stage": "descriptors",
                "detail": "D",
                "span": [9, 9],
            },
        ],
    )
    flag = Flag.objects.create(kind=Flag.Kind.GATE_REVIEW, gate_decision=decision, reason=ReasonCode.POLICY_VIOLATION)
    client.force_login(registry.moderator)

    assert (
        '<p class="prompt" data-testid="prompt">'
        '<mark data-code="policy_violation" title="P">abcde</mark>'
        '<mark data-code="policy_violation registered_name" title="P; N" class="overlap">fghij</mark>'
        '<mark data-code="registered_name" title="N">klmno</mark>pqrst</p>'
    ) in text(client.get(flag_url(flag)))


def test_evidence_image_is_served_decrypted_as_png_to_moderators(client, registry, kit_review):
    client.force_login(registry.moderator)
    response = client.get(evidence_url(kit_review))
    stored = next(item["evidence"] for item in kit_review.gate_decision.media if "evidence" in item)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(response.content)).size == (stored[0]["width"], stored[0]["height"])
    assert client.get(evidence_url(kit_review, 1)).status_code == 404
    missing = "/moderation/decisions/00000000-0000-0000-0000-000000000000/evidence/0/"
    assert client.get(missing).status_code == 404


# --- who may look and decide -------------------------------------------------------------


def test_only_moderators_see_or_decide_a_review(client, make_user, registry, kit_review):
    others = [make_user(role) for role in (Role.RIGHTS_HOLDER, Role.ESTATE_REPRESENTATIVE, Role.ADMIN)]
    for user in [registry.creator, *others]:  # the requester first
        client.force_login(user)
        assert client.get(flag_url(kit_review)).status_code == 403, user.username
        assert client.get(evidence_url(kit_review)).status_code == 403, user.username
        response = csrf_post(client, flag_url(kit_review), {"decision": "approve", "note": "ok"}, page="/")
        assert response.status_code == 403, user.username
    kit_review.refresh_from_db()
    assert kit_review.status == Flag.Status.OPEN
    assert Decision.objects.get(pk=kit_review.gate_decision_id).final_verdict == ""


def test_anonymous_visitors_are_sent_to_sign_in(client, kit_review):
    for path in (flag_url(kit_review), evidence_url(kit_review)):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


# --- decisions ---------------------------------------------------------------------------


@pytest.mark.parametrize(("decision", "note"), [("approve", ""), ("reject", "   "), ("escalate", "")])
def test_a_decision_without_a_note_is_refused_and_nothing_changes(client, registry, kit_review, decision, note):
    client.force_login(registry.moderator)
    events = AuditEvent.objects.count()
    response = csrf_post(client, flag_url(kit_review), {"decision": decision, "note": note})

    assert response.status_code == 400
    assert '<div class="error" role="alert" data-field="note">Say why: a note is required' in text(response)
    kit_review.refresh_from_db()
    assert (kit_review.status, kit_review.severity, kit_review.decision) == (Flag.Status.OPEN, 1, "")
    assert Decision.objects.get(pk=kit_review.gate_decision_id).final_verdict == ""
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("decision", "verdict"), [("approve", Verdict.ALLOW), ("reject", Verdict.BLOCK)])
def test_approve_or_reject_sets_the_decisions_verdict(client, registry, kit_review, decision, verdict):
    client.force_login(registry.moderator)
    response = csrf_post(client, flag_url(kit_review), {"decision": decision, "note": "checked the photo"})

    assert response.status_code == 302 and response["Location"] == "/moderation/"
    assert "Flag decided: %s." % decision in client.get("/moderation/").content.decode()
    kit_review.refresh_from_db()
    gate_decision = Decision.objects.get(pk=kit_review.gate_decision_id)
    assert (kit_review.status, kit_review.decision, kit_review.decided_by) == (
        Flag.Status.DECIDED,
        decision,
        registry.moderator,
    )
    assert gate_decision.effective_verdict == verdict and gate_decision.verdict == Verdict.REVIEW
    assert gate_decision.reasons[-1]["detail"] == "checked the photo"
    content = client.get(flag_url(kit_review)).content.decode()
    assert 'data-testid="final-verdict">%s<' % verdict in content
    assert 'data-testid="decision-form"' not in content


def test_escalate_keeps_the_review_open_higher_in_the_queue(client, registry, kit_review):
    other = review(registry.creator, "a landscape")
    Flag.objects.filter(pk=other.pk).update(created_at=kit_review.created_at - timedelta(minutes=5))
    client.force_login(registry.moderator)
    response = csrf_post(client, flag_url(kit_review), {"decision": "escalate", "note": "needs a second look"})

    assert response.status_code == 302
    queue = client.get("/moderation/").content.decode()
    assert "Flag escalated (severity 2)." in queue
    assert queue.index(str(kit_review.pk)) < queue.index(str(other.pk))
    assert '<tr data-flag="%s" data-testid="flag-row" class="escalated">' % kit_review.pk in queue
    content = client.get(flag_url(kit_review)).content.decode()
    assert "Escalated: needs a second look" in content
    assert 'data-testid="decision-form"' in content
    assert Decision.objects.get(pk=kit_review.gate_decision_id).final_verdict == ""


def test_a_face_in_a_reference_video_is_one_reason_with_the_frames_it_is_in(client, registry):
    from tests.consent.faces import photo_image
    from tests.generation.test_scan import make_video

    face = photo_image(UNKNOWN_FACE).resize((320, 440))
    blank = Image.new("RGB", (320, 440), (50, 60, 70))
    data = make_video([blank] * 4 + [face] * 8 + [blank] * 4, fps=8)  # the face from 0.5 s to 1.5 s
    decision = gate_check(requester=registry.creator, prompt="a portrait", media=[MediaInput("ref.mp4", data)])

    [unknown] = [reason for reason in decision.reasons if reason["code"] == ReasonCode.UNKNOWN_FACE]
    assert len(unknown["frames"]) >= 4 and unknown["track"] == 0
    assert all(0.5 <= time < 1.5 for time in unknown["times"]) and unknown["times"] == sorted(unknown["times"])
    client.force_login(registry.moderator)
    page = text(client.get(flag_url(decision.flags.get(kind=Flag.Kind.GATE_REVIEW))))
    assert "one face followed across %d frames" % len(unknown["frames"]) in page
