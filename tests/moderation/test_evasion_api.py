"""Hostile prompts through POST /api/v1/checks/: each of these was allowed with no reasons before.

One normalisation and tokenisation (moderation.text) serves every prompt stage: names glued to
other words by symbols, handles in checks, policy words in leetspeak, small capitals, names
spelled in sound-alike syllables, text written backwards or behind a right-to-left override.
"""

import pytest

from config.api import ApiErrorCode
from moderation.reasons import ReasonCode
from tests.moderation.conftest import registry  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def check(api_client, user, prompt, use="personal"):
    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/checks/", {"prompt": prompt, "use": use}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def named(body):
    return {reason.get("likeness_id") for reason in body["reasons"] if reason["code"] == ReasonCode.REGISTERED_NAME}


@pytest.mark.parametrize(
    "prompt",
    [
        "Obama@Biden shaking hands",
        "Barack Obama@home eating ice cream",
        "obama#speech at a podium",
        "barack_obama_2024 waving",
        "ʙᴀʀᴀᴄᴋ ᴏʙᴀᴍᴀ waving from a balcony",
        "Barrack Oh-bah-mah giving a speech",
        "amabO kcaraB at a desk",
        "\u202eamabo kcarab\u202c at a desk",
        "𝐁𝐚𝐫𝐚𝐜𝐤 𝐎𝐛𝐚𝐦𝐚 in the rain",
    ],
)
def test_a_protected_name_is_found_however_it_is_disguised(api_client, registry, prompt):  # noqa: F811
    body = check(api_client, registry.creator, prompt)

    assert body["verdict"] == "block", body
    assert str(registry.obama.pk) in named(body)


def test_the_span_of_a_glued_name_points_at_the_prompt_as_written(api_client, registry):  # noqa: F811
    prompt = "Obama@Biden shaking hands"
    body = check(api_client, registry.creator, prompt)

    span = next(r["span"] for r in body["reasons"] if r.get("likeness_id") == str(registry.obama.pk))
    assert prompt[span[0] : span[1]] == "Obama"


def test_a_handle_in_a_check_brings_the_persons_forbidden_topics(api_client, registry):  # noqa: F811
    body = check(api_client, registry.creator, "@%s drinking alcohol at a pub" % registry.kit.handle)

    assert body["verdict"] == "block", body
    codes = {(r["code"], r.get("likeness_id")) for r in body["reasons"]}
    assert (ReasonCode.FORBIDDEN_TOPIC, str(registry.kit.pk)) in codes


def test_a_handle_in_a_check_is_a_cameo_whose_consent_is_evaluated(api_client, registry):  # noqa: F811
    allowed = check(api_client, registry.creator, "@%s walking on a beach" % registry.kit.handle)
    refused = check(api_client, registry.creator, "@%s walking on a beach" % registry.rose.handle)

    assert allowed["verdict"] == "allow", allowed
    assert any(r["code"] == ReasonCode.CONSENT_ALLOWS for r in allowed["reasons"])
    assert refused["verdict"] == "block", refused
    assert any(r["code"] == ReasonCode.REQUESTER_NOT_IN_AUDIENCE for r in refused["reasons"])


def test_an_unknown_handle_in_a_check_is_a_clear_400_and_stores_nothing(api_client, registry):  # noqa: F811
    from moderation.models import Decision

    api_client.force_authenticate(registry.creator)
    before = Decision.objects.count()
    response = api_client.post("/api/v1/checks/", {"prompt": "@nobody_here on a beach"}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == ApiErrorCode.INVALID and "@nobody_here" in error["fields"]["prompt"][0]["message"]
    assert Decision.objects.count() == before


@pytest.mark.parametrize("prompt", ["a n4ked man on a beach", "two people having s3x", "a n.u.d.e photo shoot"])
def test_policy_words_in_leetspeak_and_spaced_out_are_read(api_client, registry, prompt):  # noqa: F811
    body = check(api_client, registry.creator, prompt)

    assert body["verdict"] == "block", body
    assert any(r.get("category") == "sexual_content" for r in body["reasons"])


@pytest.mark.parametrize(
    "prompt", ["a lighthouse in a 4k photo, 35mm film", "a boat on a lake at dawn", "email me at kit@example.org"]
)
def test_innocent_prompts_stay_allowed(api_client, registry, prompt):  # noqa: F811
    body = check(api_client, registry.creator, prompt)

    assert body["verdict"] == "allow", body
