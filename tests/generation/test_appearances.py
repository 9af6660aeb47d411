"""GET /api/v1/likenesses/{id}/appearances/: the rights holder sees who used or tried to use their face."""

import pytest

from consent import services as consent_services
from generation import services
from moderation.gate import gate_check
from moderation.reasons import ReasonCode
from tests.moderation.conftest import registry  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def test_appearances_list_cameos_withheld_jobs_and_blocked_attempts(api_client, registry):  # noqa: F811
    released = services.generation_request(
        requester=registry.creator, prompt="a portrait", kind="image", use="personal", cameos=[str(registry.kit.pk)]
    )
    services.generation_generate(generation_id=str(released.pk))
    services.generation_scan(generation_id=str(released.pk))
    blocked_check = gate_check(requester=registry.friend, prompt="Kit Harington in a car advert", use="commercial")
    withheld = services.generation_request(
        requester=registry.creator, prompt="a portrait", kind="image", use="personal", cameos=[str(registry.kit.pk)]
    )
    services.generation_generate(generation_id=str(withheld.pk))
    consent_services.consent_revoke(actor=registry.kit_owner, likeness=registry.kit)
    services.generation_scan(generation_id=str(withheld.pk))
    api_client.force_authenticate(registry.kit_owner)

    rows = api_client.get("/api/v1/likenesses/%s/appearances/" % registry.kit.pk).json()

    by_generation = {row.get("generation"): row for row in rows if row["type"] == "generation"}
    assert by_generation[str(released.pk)]["status"] == "released" and by_generation[str(released.pk)]["as_cameo"]
    assert by_generation[str(withheld.pk)]["status"] == "withheld"
    checks = [row for row in rows if row["type"] == "check"]
    assert [(row["decision"], row["requester"], row["verdict"]) for row in checks] == [
        (str(blocked_check.pk), "friend", "block")
    ]
    assert {reason["code"] for reason in checks[0]["reasons"]} == {
        ReasonCode.REGISTERED_NAME,
        ReasonCode.USE_NOT_ALLOWED,
    }
    api_client.force_authenticate(registry.rose_owner)
    assert api_client.get("/api/v1/likenesses/%s/appearances/" % registry.kit.pk).status_code == 404


def test_the_owner_sees_the_appearances_on_the_likeness_page(client, registry):  # noqa: F811
    released = services.generation_request(
        requester=registry.creator, prompt="a portrait", kind="image", use="personal", cameos=[str(registry.kit.pk)]
    )
    services.generation_generate(generation_id=str(released.pk))
    services.generation_scan(generation_id=str(released.pk))
    gate_check(requester=registry.friend, prompt="Kit Harington in a car advert", use="commercial")
    client.force_login(registry.kit_owner)

    page = client.get("/likenesses/%s/" % registry.kit.pk).content.decode()

    table = page[page.index('data-testid="appearances"') :]
    assert table.count('data-testid="appearance"') == 2
    assert "cast as a cameo; seen in the released output" in table and "released" in table
    assert "friend" in table and "block" in table
    client.force_login(registry.rose_owner)
    rose_page = client.get("/likenesses/%s/" % registry.rose.pk).content.decode()
    assert 'data-testid="no-appearances"' in rose_page
