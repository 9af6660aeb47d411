"""The pipeline's powers are in the audit trail: the output scan's decision, the review it opens,
the release or the withholding, and every download of a released output."""

import pytest

from consent import services as consent_services
from generation import services
from generation.models import Generation
from moderation.audit import audit_verify
from moderation.models import AuditEvent, Flag
from tests.moderation.conftest import registry  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
Status = Generation.Status


def events(action: str, target: object) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=action, target_type=target._meta.label_lower, target_id=str(target.pk))
    )


def generated(registry) -> Generation:  # noqa: F811
    generation = services.generation_request(
        requester=registry.creator, prompt="a portrait", kind="image", use="personal", cameos=[str(registry.kit.pk)]
    )
    services.generation_generate(generation_id=str(generation.pk))
    return generation


def test_a_release_audits_the_output_decision_and_the_release_and_each_download(api_client, registry):  # noqa: F811
    generation = generated(registry)
    services.generation_scan(generation_id=str(generation.pk))
    generation.refresh_from_db()
    assert generation.status == Status.RELEASED

    [decided] = events("gate.decision", generation.output_decision)
    assert decided.actor == registry.creator
    assert (decided.data["kind"], decided.data["verdict"]) == ("output", "allow")
    [released] = events("generation.release", generation)
    assert released.actor == registry.creator
    assert released.data["watermark"] == generation.watermark
    assert released.data["output_decision"] == str(generation.output_decision_id)
    assert not events("generation.download", generation)

    # Someone else asking for it gets nothing, and nothing is recorded as taken.
    api_client.force_authenticate(registry.friend)
    assert api_client.get("/api/v1/generations/%s/output/" % generation.pk).status_code == 404
    assert not events("generation.download", generation)

    api_client.force_authenticate(registry.creator)
    response = api_client.get("/api/v1/generations/%s/output/" % generation.pk)
    assert response.status_code == 200
    [downloaded] = events("generation.download", generation)
    assert (downloaded.actor, downloaded.data["bytes"]) == (registry.creator, len(response.content))
    assert audit_verify() is None


def test_a_withheld_output_is_audited_with_the_consent_that_stopped_it(registry):  # noqa: F811
    generation = generated(registry)
    consent_services.consent_revoke(actor=registry.kit_owner, likeness=registry.kit)

    services.generation_scan(generation_id=str(generation.pk))

    generation.refresh_from_db()
    assert generation.status == Status.WITHHELD
    [withheld] = events("generation.withhold", generation)
    assert withheld.actor == registry.creator
    assert "Kit Harington" in withheld.data["denied"][0]
    assert not events("generation.release", generation)


def test_an_output_held_for_review_audits_its_decision_and_the_flag_it_opens(registry, monkeypatch):  # noqa: F811
    from generation import scan

    generation = generated(registry)

    def broken(image):
        raise RuntimeError("NudeNet is not here")

    monkeypatch.setattr(scan, "nsfw_detect", broken)
    services.generation_scan(generation_id=str(generation.pk))

    generation.refresh_from_db()
    assert generation.status == Status.IN_REVIEW
    decision = generation.output_decision
    [decided] = events("gate.decision", decision)
    assert (decided.actor, decided.data["kind"], decided.data["verdict"]) == (registry.creator, "output", "review")
    flag = Flag.objects.get(gate_decision=decision)
    [opened] = events("flag.open", flag)
    assert opened.actor == registry.creator
    assert (opened.data["kind"], opened.data["gate_decision"]) == ("gate_review", str(decision.pk))
    # The flag is opened before the decision's row is written: both in the one transaction.
    assert opened.seq < decided.seq
    assert [item for item in decision.media if "evidence" in item]  # the frames a moderator must see
