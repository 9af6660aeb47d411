"""POST /api/v1/checks/ and /api/v1/scans/ through the real gate: real names index, real sentence
model, real default face engine, real registry. Each reason code appears here with its Decision checked."""

import io
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from consent import services
from consent.models import ConsentReceipt, ConsentRequest
from moderation.models import Decision, Flag
from moderation.reasons import ReasonCode, Verdict
from tests.consent.faces import gradient, on_canvas, photo_bytes, photo_image

pytestmark = pytest.mark.django_db


def check(api_client, user, prompt="", use="personal", cameos=(), images=()):
    api_client.force_authenticate(user)
    body = {"prompt": prompt, "use": use}
    if images:
        body["images"] = [SimpleUploadedFile(name, data) for name, data in images]
        if cameos:
            body["cameos"] = [str(c) for c in cameos]
        response = api_client.post("/api/v1/checks/", body, format="multipart")
    else:
        body["cameos"] = [str(c) for c in cameos]
        response = api_client.post("/api/v1/checks/", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def as_moderator(api_client, registry, decision):
    """The Decision as a moderator reads it: whole (a creator reads only the people they may know)."""
    api_client.force_authenticate(registry.moderator)
    return api_client.get("/api/v1/decisions/%s/" % decision["id"]).json()


def codes(decision):
    return [reason["code"] for reason in decision["reasons"]]


def reason(decision, code):
    found = [item for item in decision["reasons"] if item["code"] == code]
    assert found, (code, decision["reasons"])
    return found[0]


def test_naming_a_protected_person_blocks_with_the_reasons_spelled_out(api_client, registry):
    decision = check(api_client, registry.creator, "Robin Williams telling jokes on a stage")

    assert decision["verdict"] == Verdict.BLOCK
    assert decision["gate_verdict"] == Verdict.BLOCK and decision["final_verdict"] == ""
    assert decision["kind"] == "check" and decision["state"] == "done"
    assert decision["requester"] == "cleo" and decision["use"] == "personal"
    assert decision["prompt"] == "Robin Williams telling jokes on a stage"
    assert decision["flag"] is None
    named = reason(decision, ReasonCode.REGISTERED_NAME)
    assert named["likeness_id"] == str(registry.robin.pk)
    assert named["span"] == [0, 14] and named["verdict"] == "allow" and named["stage"] == "names"
    protected = reason(decision, ReasonCode.PROTECTED_ENTRY)
    assert protected["likeness_id"] == str(registry.robin.pk)
    assert protected["verdict"] == "block" and protected["stage"] == "consent" and protected["found_by"] == "name"
    assert "Robin Williams" in protected["detail"]
    assert decision["engines"]["policy"]["version"]
    text_model = decision["engines"]["text_model"]
    assert text_model["name"] == "sentence-transformers/all-MiniLM-L6-v2" and len(text_model["sha256"]) == 64
    assert "path" not in text_model
    assert set(decision["engines"]["timings_ms"]) >= {"policy", "names", "descriptors"}
    stored = Decision.objects.get(pk=decision["id"])
    assert stored.verdict == "block" and stored.requester == registry.creator


EVASIONS = {
    "misspelled": "Robin Wiliams at a party",
    "lower case": "robin williams at a party",
    "diacritics": "Rôbin Wïlliams at a party",
    "cyrillic confusables": "R\u043ebin Willi\u0430ms at a party",
    "zero-width": "Rob\u200bin Willi\u200cams at a party",
    "leetspeak": "R0b1n W1ll14m5 at a party",
    "spaced letters": "R o b i n  W i l l i a m s at a party",
    "joined with punctuation": "robin_williams at a party",
    "hyphenated": "robin-williams at a party",
    "reversed": "Williams, Robin at a party",
}


@pytest.mark.parametrize("prompt", EVASIONS.values(), ids=EVASIONS.keys())
def test_disguised_names_are_still_found(api_client, registry, prompt):
    decision = check(api_client, registry.creator, prompt)

    assert decision["verdict"] == Verdict.BLOCK, decision["reasons"]
    assert reason(decision, ReasonCode.REGISTERED_NAME)["likeness_id"] == str(registry.robin.pk)
    assert reason(decision, ReasonCode.PROTECTED_ENTRY)["likeness_id"] == str(registry.robin.pk)


def test_a_described_person_is_found_by_meaning(api_client, registry):
    decision = check(api_client, registry.creator, "the actor who played the genie in Aladdin doing stand-up comedy")

    assert decision["verdict"] == Verdict.BLOCK
    described = reason(decision, ReasonCode.REGISTERED_DESCRIPTOR)
    assert described["likeness_id"] == str(registry.robin.pk) and described["stage"] == "descriptors"
    assert described["score"] > 0
    assert reason(decision, ReasonCode.PROTECTED_ENTRY)["found_by"] == "descriptor"


INNOCENT = [
    "a bush in the garden at sunset",
    "a baker icing a cake",
    "a golden retriever playing fetch",
    "a rose in a glass vase",
    "a kit of watercolour paints on a desk",
    "will you paint a lighthouse in a storm",
]


@pytest.mark.parametrize("prompt", INNOCENT)
def test_innocent_prompts_with_name_like_words_are_allowed(api_client, registry, prompt):
    decision = check(api_client, registry.creator, prompt)

    assert decision["verdict"] == Verdict.ALLOW, decision["reasons"]
    assert decision["reasons"] == []


def test_consent_that_covers_the_request_allows_and_the_check_writes_nothing_else(api_client, registry):
    receipts, requests = ConsentReceipt.objects.count(), ConsentRequest.objects.count()

    decision = check(api_client, registry.creator, "Kit Harington riding a horse on a beach", use="parody")

    assert decision["verdict"] == Verdict.ALLOW
    assert codes(decision) == [ReasonCode.REGISTERED_NAME, ReasonCode.CONSENT_ALLOWS]
    allowed = reason(decision, ReasonCode.CONSENT_ALLOWS)
    assert allowed["likeness_id"] == str(registry.kit.pk) and allowed["consent_version"] == 2
    # A check is a dry run: no receipt (a release issues it), no request, no notification.
    assert "receipt" not in allowed and "receipts" not in decision
    assert ConsentReceipt.objects.count() == receipts and ConsentRequest.objects.count() == requests
    assert mail.outbox == []


def test_a_use_the_consent_does_not_grant_blocks(api_client, registry):
    decision = check(api_client, registry.creator, "Kit Harington in a car advert", use="commercial")

    assert decision["verdict"] == Verdict.BLOCK
    assert reason(decision, ReasonCode.USE_NOT_ALLOWED)["use"] == "commercial"


def test_a_forbidden_topic_blocks(api_client, registry):
    decision = check(api_client, registry.creator, "Kit Harington raising a pint of beer in a pub")

    forbidden = reason(decision, ReasonCode.FORBIDDEN_TOPIC)
    assert decision["verdict"] == Verdict.BLOCK
    assert forbidden["topic"] == "never show me drinking alcohol" and forbidden["span"][1] > forbidden["span"][0]


def test_a_cameo_is_allowed_only_for_the_audience_it_was_granted_to(api_client, registry):
    for_friend = check(api_client, registry.friend, "a portrait in a garden", cameos=[registry.rose.pk])
    for_stranger = check(api_client, registry.creator, "a portrait in a garden", cameos=[registry.rose.pk])
    other_use = check(
        api_client, registry.friend, "a portrait in a garden", use="commercial", cameos=[registry.rose.pk]
    )

    assert for_friend["verdict"] == Verdict.ALLOW
    assert reason(for_friend, ReasonCode.CONSENT_ALLOWS)["found_by"] == "cameo"
    assert for_stranger["verdict"] == Verdict.BLOCK
    # To a stranger, Rose's id is one nobody has (issue 15); the moderator reads why.
    assert codes(for_stranger) == [ReasonCode.CAMEO_UNAVAILABLE]
    assert codes(as_moderator(api_client, registry, for_stranger)) == [ReasonCode.REQUESTER_NOT_IN_AUDIENCE]
    assert other_use["verdict"] == Verdict.BLOCK and codes(other_use) == [ReasonCode.USE_NOT_ALLOWED]


def test_revoked_expired_and_not_yet_valid_consent_block(api_client, registry):
    services.consent_set(
        actor=registry.kit_owner, likeness=registry.kit, audience="everyone", uses=["personal"],
        valid_from=timezone.now() - timedelta(days=10), valid_until=timezone.now() - timedelta(days=1),
    )  # fmt: skip
    assert codes(check(api_client, registry.creator, "a portrait", cameos=[registry.kit.pk])) == [
        ReasonCode.CONSENT_EXPIRED
    ]
    services.consent_set(
        actor=registry.kit_owner,
        likeness=registry.kit,
        audience="everyone",
        uses=["personal"],
        valid_from=timezone.now() + timedelta(days=1),
    )
    assert codes(check(api_client, registry.creator, "a portrait", cameos=[registry.kit.pk])) == [
        ReasonCode.CONSENT_NOT_YET_VALID
    ]
    services.consent_revoke(actor=registry.kit_owner, likeness=registry.kit)
    revoked = check(api_client, registry.creator, "a portrait", cameos=[registry.kit.pk])
    # Revoked, Kit consents to nobody: to the creator he is no one (issue 15); the moderator reads why.
    assert codes(revoked) == [ReasonCode.CAMEO_UNAVAILABLE] and revoked["verdict"] == Verdict.BLOCK
    assert codes(as_moderator(api_client, registry, revoked)) == [ReasonCode.CONSENT_REVOKED]


def test_per_use_approval_says_the_person_would_be_asked_and_asks_nobody(api_client, registry):
    services.consent_set(
        actor=registry.kit_owner, likeness=registry.kit, audience="everyone", uses=["personal"], per_use_approval=True
    )

    decision = check(api_client, registry.creator, "a portrait by a lake", cameos=[registry.kit.pk])

    assert decision["verdict"] == Verdict.REVIEW
    waiting = reason(decision, ReasonCode.APPROVAL_REQUIRED)
    assert waiting["likeness_id"] == str(registry.kit.pk) and "consent_request" not in waiting
    assert not ConsentRequest.objects.filter(likeness=registry.kit).exists()
    assert mail.outbox == []

    # Answered requests (a generation's) are what a later check reads.
    request = services.consent_request_open(
        likeness=registry.kit, requester=registry.creator, use="personal", prompt="a portrait by a lake"
    )
    services.consent_request_decide(actor=registry.kit_owner, request=request, approve=False)
    denied = check(api_client, registry.creator, "a portrait by a lake", cameos=[registry.kit.pk])
    assert codes(denied) == [ReasonCode.APPROVAL_DENIED] and denied["verdict"] == Verdict.BLOCK


def test_a_policy_category_blocks(api_client, registry):
    decision = check(api_client, registry.creator, "a graphic photo of a man being decapitated, blood everywhere")

    violation = reason(decision, ReasonCode.POLICY_VIOLATION)
    assert decision["verdict"] == Verdict.BLOCK
    assert violation["category"] == "graphic_violence" and violation["stage"] == "policy"


def test_a_reference_photo_of_a_protected_person_blocks_even_when_the_prompt_names_nobody(api_client, registry):
    decision = check(
        api_client,
        registry.creator,
        "a man smiling at a press conference",
        images=[("ref.jpg", photo_bytes("obama/obama2.jpg"))],
    )

    assert decision["verdict"] == Verdict.BLOCK
    face = reason(decision, ReasonCode.REGISTERED_FACE)
    assert face["likeness_id"] == str(registry.obama.pk) and face["score"] <= decision["engines"]["faces"]["match"]
    assert set(face["box"]) == {"x", "y", "width", "height"} and face["file"] == 0 and "frame" not in face
    assert reason(decision, ReasonCode.PROTECTED_ENTRY)["found_by"] == "face"
    assert decision["media"][0]["kind"] == "image" and len(decision["media"][0]["sha256"]) == 64


def test_an_unknown_face_goes_to_review(api_client, registry):
    decision = check(
        api_client, registry.creator, "a portrait", images=[("ref.png", photo_bytes("alex_lacamoire/img1.jpg"))]
    )

    assert decision["verdict"] == Verdict.REVIEW
    assert codes(decision) == [ReasonCode.UNKNOWN_FACE]
    assert Flag.objects.get(pk=decision["flag"]).severity == 1


def test_the_requesters_own_likeness_is_allowed_for_them(api_client, registry):
    decision = check(
        api_client,
        registry.kit_owner,
        "me as a knight",
        images=[("me.jpg", photo_bytes("kit_harington/johnsnow_test1.jpg"))],
    )

    assert decision["verdict"] == Verdict.ALLOW
    assert codes(decision) == [ReasonCode.OWN_LIKENESS]
    assert reason(decision, ReasonCode.OWN_LIKENESS)["likeness_id"] == str(registry.kit.pk)


def test_a_near_match_goes_to_review(api_client, registry, face_thresholds):
    # Stricter thresholds make the second Obama photo (0.73 from the enrolled one) a lookalike rather than a match.
    face_thresholds(0.5, 0.9)
    decision = check(api_client, registry.creator, "a portrait", images=[("ref.jpg", photo_bytes("obama/obama2.jpg"))])

    near = reason(decision, ReasonCode.FACE_NEAR_MATCH)
    assert decision["verdict"] == Verdict.REVIEW
    assert near["likeness_id"] == str(registry.obama.pk) and 0.5 < near["score"] <= 0.9
    assert Flag.objects.get(pk=decision["flag"]).severity == 2


def test_an_undecodable_file_blocks(api_client, registry):
    decision = check(
        api_client, registry.creator, "a portrait", images=[("evil.jpg", b"GIF89a this is not really anything")]
    )

    assert decision["verdict"] == Verdict.BLOCK
    undecodable = reason(decision, ReasonCode.MEDIA_UNDECODABLE)
    assert undecodable["file"] == 0 and "evil.jpg" in undecodable["detail"]


def test_a_missing_cameo_blocks(api_client, registry):
    decision = check(api_client, registry.creator, "a portrait", cameos=[uuid.uuid4()])
    assert codes(decision) == [ReasonCode.CAMEO_UNAVAILABLE] and decision["verdict"] == Verdict.BLOCK


def test_a_disputed_cameo_grants_nothing(api_client, registry, make_user):
    from accounts.roles import Role
    from tests.moderation.conftest import photos

    impostor = make_user(Role.RIGHTS_HOLDER)
    disputed = services.likeness_enroll(
        owner=impostor, display_name="Not Kit", photos=photos("kit_harington/johnsnow_test1.jpg")
    ).likeness
    assert disputed.status == "disputed"

    decision = check(api_client, registry.creator, "a portrait", cameos=[disputed.pk])
    assert codes(decision) == [ReasonCode.CAMEO_UNAVAILABLE] and decision["verdict"] == Verdict.BLOCK
    assert codes(as_moderator(api_client, registry, decision)) == [ReasonCode.LIKENESS_DISPUTED]


def test_an_erased_name_stays_a_do_not_generate_entry(api_client, registry):
    services.likeness_erase(actor=registry.rose_owner, likeness=registry.rose, keep_name=True)

    decision = check(api_client, registry.creator, "Rose Leslie walking in the Highlands")

    assert decision["verdict"] == Verdict.BLOCK
    # The creator typed the name; that she registered and erased is hers to tell (issue 15).
    assert codes(decision) == [ReasonCode.REGISTERED_NAME, ReasonCode.NO_CONSENT]
    seen = as_moderator(api_client, registry, decision)
    assert reason(seen, ReasonCode.DO_NOT_GENERATE)["likeness_id"] == str(registry.rose.pk)


def test_an_unverified_estate_blocks(api_client, registry, make_user):
    from accounts.roles import Role
    from consent.enrollment import PhotoInput
    from tests.moderation.conftest import photos

    representative = make_user(Role.ESTATE_REPRESENTATIVE)
    services.likeness_enroll(
        owner=representative, display_name="Alex Lacamoire", subject="deceased", date_of_death=timezone.now().date() - timedelta(days=30),
        photos=photos("alex_lacamoire/img1.jpg"), estate_document=PhotoInput(name="letters.pdf", data=b"%PDF letters"),
    )  # fmt: skip

    decision = check(api_client, registry.creator, "Alex Lacamoire conducting an orchestra")

    assert reason(decision, ReasonCode.NO_CONSENT)["found_by"] == "name"
    assert decision["verdict"] == Verdict.BLOCK
    assert reason(as_moderator(api_client, registry, decision), ReasonCode.ESTATE_UNVERIFIED)["found_by"] == "name"


def test_a_face_engine_that_cannot_run_fails_closed(api_client, registry, settings):
    from consent.faces import clear_engine_cache

    settings.SIGILLO_FACE_ENGINE = "insightface"  # no model pack here: the engine is unavailable
    settings.SIGILLO_INSIGHTFACE_MODEL_DIR = "/nonexistent/pack"
    clear_engine_cache()
    try:
        decision = check(
            api_client, registry.creator, "a portrait", images=[("ref.jpg", photo_bytes("obama/obama2.jpg"))]
        )
    finally:
        clear_engine_cache()

    failed = reason(decision, ReasonCode.STAGE_FAILED)
    assert decision["verdict"] == Verdict.REVIEW
    assert failed["stage"] == "media" and failed["error"] == "EngineUnavailable"


def test_a_model_that_cannot_load_fails_closed(api_client, registry, settings):
    from moderation.policy import clear_policy_cache
    from moderation.text_model import clear_model_cache

    settings.SIGILLO_SENTENCE_MODEL_DIR = "/nonexistent/model"
    clear_model_cache()
    clear_policy_cache()
    try:
        decision = check(api_client, registry.creator, "a quiet street at night")
    finally:
        settings.SIGILLO_SENTENCE_MODEL_DIR = ""
        clear_model_cache()
        clear_policy_cache()

    assert decision["verdict"] == Verdict.REVIEW
    assert {item["stage"] for item in decision["reasons"] if item["code"] == ReasonCode.STAGE_FAILED} >= {
        "policy",
        "descriptors",
    }


def test_a_check_that_times_out_fails_closed(api_client, registry, settings):
    from config.celery import app

    settings.SIGILLO_GATE_EXECUTION = "worker"  # and no worker is running
    settings.SIGILLO_GATE_TIMEOUT = 1.0
    app.control.purge()
    try:
        decision = check(api_client, registry.creator, "Kit Harington on a horse")
    finally:
        app.control.purge()

    assert decision["verdict"] == Verdict.REVIEW and decision["state"] == "failed"
    assert codes(decision) == [ReasonCode.GATE_TIMEOUT]


def test_a_video_is_scanned_frame_by_frame(api_client, registry):
    import av
    import numpy as np

    portrait = photo_image("obama/obama2.jpg")
    portrait = portrait.resize((round(portrait.width * 480 / portrait.height), 480))
    frames = [on_canvas(portrait, (640, 480), (100, 0)), gradient(640, 480)]
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=4)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        for image in [frames[1]] * 4 + [frames[0]] * 4:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.asarray(image), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    api_client.force_authenticate(registry.creator)

    response = api_client.post(
        "/api/v1/scans/", {"file": SimpleUploadedFile("clip.mp4", buffer.getvalue())}, format="multipart"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["media"][0]["kind"] == "video" and body["media"][0]["frames"] == 8
    matched = [face for face in body["faces"] if face["best"]]
    assert matched and all(face["frame"] >= 4 for face in matched)
    assert matched[0]["best"]["likeness_id"] == str(registry.obama.pk)
    assert body["decision"]["verdict"] == Verdict.BLOCK and body["decision"]["kind"] == "scan"
    assert reason(body["decision"], ReasonCode.REGISTERED_FACE)["frame"] >= 4


def test_scan_of_an_image_lists_faces_with_boxes_and_best_matches(api_client, registry):
    api_client.force_authenticate(registry.creator)
    data = photo_bytes("groups/obama_and_biden_two_people.jpg")

    body = api_client.post("/api/v1/scans/", {"file": SimpleUploadedFile("group.jpg", data)}, format="multipart").json()

    assert len(body["faces"]) == 2
    best = {face["best"]["likeness_id"] if face["best"] else None for face in body["faces"]}
    assert best == {str(registry.obama.pk), None}
    assert body["decision"]["verdict"] == Verdict.BLOCK  # Obama is protected; the unknown face alone would be review


BAD_CHECKS = {
    "nothing to check": ({"prompt": "  "}, "non_field_errors"),
    "overlong prompt": ({"prompt": "p" * 2001}, "prompt"),
    "prompt not text": ({"prompt": {"a": 1}}, "prompt"),
    "unknown use": ({"prompt": "a cat", "use": "evil"}, "use"),
    "cameo not a uuid": ({"prompt": "a cat", "cameos": ["kit"]}, "cameos"),
    "cameos not a list": ({"prompt": "a cat", "cameos": "kit"}, "cameos"),
}


@pytest.mark.parametrize(("body", "field"), BAD_CHECKS.values(), ids=BAD_CHECKS.keys())
def test_bad_checks_are_refused_and_nothing_is_stored(api_client, registry, body, field):
    api_client.force_authenticate(registry.creator)
    response = api_client.post("/api/v1/checks/", body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not Decision.objects.exists()


def test_scan_needs_a_file(api_client, registry):
    api_client.force_authenticate(registry.creator)
    response = api_client.post("/api/v1/scans/", {}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()["error"]["fields"]
    assert not Decision.objects.exists()


def test_only_creators_integrators_and_moderators_call_the_gate(api_client, registry):
    api_client.force_authenticate(registry.rose_owner)  # a rights holder only
    assert api_client.post("/api/v1/checks/", {"prompt": "a cat"}, format="json").status_code == 403
    api_client.force_authenticate(None)
    assert api_client.post("/api/v1/checks/", {"prompt": "a cat"}, format="json").status_code == 401


def test_decisions_are_readable_by_their_requester_and_moderators_only(api_client, registry):
    decision = check(api_client, registry.creator, "a cat on a sofa")
    url = "/api/v1/decisions/%s/" % decision["id"]
    for user, expected in ((registry.creator, 200), (registry.moderator, 200), (registry.friend, 404)):
        api_client.force_authenticate(user)
        assert api_client.get(url).status_code == expected


def test_moderators_approve_and_reject_reviews_and_the_decision_follows(api_client, registry):
    image = [("ref.png", photo_bytes("alex_lacamoire/img1.jpg"))]
    first = check(api_client, registry.creator, "a portrait", images=image)
    second = check(api_client, registry.creator, "another portrait", images=image)
    api_client.force_authenticate(registry.moderator)

    no_note = api_client.post(
        "/api/v1/moderation/flags/%s/decision/" % first["flag"], {"decision": "approve"}, format="json"
    )
    assert no_note.status_code == 400 and "note" in no_note.json()["error"]["fields"]
    approved = api_client.post(
        "/api/v1/moderation/flags/%s/decision/" % first["flag"],
        {"decision": "approve", "note": "A consenting friend."},
        format="json",
    )
    rejected = api_client.post(
        "/api/v1/moderation/flags/%s/decision/" % second["flag"],
        {"decision": "reject", "note": "Unknown person."},
        format="json",
    )

    assert approved.status_code == rejected.status_code == 200
    after_approval = api_client.get("/api/v1/decisions/%s/" % first["id"]).json()
    after_rejection = api_client.get("/api/v1/decisions/%s/" % second["id"]).json()
    assert (after_approval["verdict"], after_approval["gate_verdict"]) == ("allow", "review")
    assert reason(after_approval, ReasonCode.MODERATOR_APPROVED)["detail"] == "A consenting friend."
    assert after_rejection["verdict"] == "block"
    assert reason(after_rejection, ReasonCode.MODERATOR_REJECTED)["moderator"] == "mod"


def test_escalation_keeps_the_flag_open_and_raises_it_in_the_queue(api_client, registry):
    low = check(api_client, registry.creator, "a portrait", images=[("a.png", photo_bytes("alex_lacamoire/img1.jpg"))])
    high = check(
        api_client, registry.creator, "a portrait", images=[("b.png", photo_bytes("alex_lacamoire/alex-lacamoire.png"))]
    )
    api_client.force_authenticate(registry.moderator)

    response = api_client.post(
        "/api/v1/moderation/flags/%s/decision/" % high["flag"],
        {"decision": "escalate", "note": "Needs a senior look."},
        format="json",
    )

    assert response.status_code == 200 and response.json()["status"] == "escalated"
    queue = [item["id"] for item in api_client.get("/api/v1/moderation/flags/").json()]
    assert queue.index(high["flag"]) < queue.index(low["flag"])


def test_a_check_no_worker_finished_closes_as_review_when_polled(api_client, registry, settings):
    from moderation.gate import gate_open

    pending = gate_open(requester=registry.creator, prompt="a portrait of Robin Williams")
    api_client.force_authenticate(registry.creator)
    assert api_client.get("/api/v1/decisions/%s/" % pending.pk).json()["state"] == "pending"

    Decision.objects.filter(pk=pending.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.SIGILLO_GATE_ASYNC_TIMEOUT + 1)
    )
    body = api_client.get("/api/v1/decisions/%s/" % pending.pk).json()

    assert body["state"] == "failed" and body["verdict"] == Verdict.REVIEW
    assert codes(body) == [ReasonCode.GATE_TIMEOUT] and body["flag"]


def test_wait_must_be_a_boolean(api_client, registry):
    api_client.force_authenticate(registry.creator)

    response = api_client.post("/api/v1/checks/?wait=perhaps", {"prompt": "a lake"}, format="json")

    assert response.status_code == 400 and response.json()["error"]["fields"]["wait"]
    assert not Decision.objects.filter(requester=registry.creator).exists()
