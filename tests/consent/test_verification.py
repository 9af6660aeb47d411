"""A likeness grants nothing before its person is verified (issue 13), through the HTTP API.

With ``SIGILLO_LIVENESS_REQUIRED`` on (the product's default; the suite at large runs without a
camera and turns it off explicitly): a self-registered likeness waits in `pending_verification`,
protects its face and names and grants nothing; the person's live selfie check (or a moderator,
with a note) makes it active; consent receipts cite the verification.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from accounts.roles import Role
from consent.evaluation import consent_evaluate, receipt_draft
from consent.models import ConsentReceipt, Likeness, LikenessStatus
from moderation.models import AuditEvent
from moderation.reasons import ReasonCode, Verdict
from tests.consent.faces import photo_bytes
from tests.consent.test_liveness_api import challenge, submit, turning_as, video
from tests.moderation.test_disputes import as_moderator, check, consent_to_everyone

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _liveness_required(settings: Any) -> None:
    settings.SIGILLO_LIVENESS_REQUIRED = True


@pytest.fixture
def people(api_client: Any, make_user: Any, enroll: Any) -> dict[str, Any]:
    barack = make_user(Role.RIGHTS_HOLDER, username="barack")
    likeness = enroll("obama/obama.jpg", user=barack, name="Barack Obama").json()
    consent_to_everyone(api_client, barack, likeness["id"])
    return {
        "barack": barack,
        "likeness": likeness,
        "creator": make_user(Role.CREATOR, username="cleo"),
        "moderator": make_user(Role.MODERATOR, username="mod"),
    }


def codes_for(decision: dict, likeness_id: str) -> set[str]:
    return {reason["code"] for reason in decision["reasons"] if reason.get("likeness_id") == likeness_id}


def test_a_self_registered_likeness_protects_but_grants_nothing_until_verified(api_client, people):
    assert people["likeness"]["status"] == LikenessStatus.PENDING_VERIFICATION
    assert people["likeness"]["verified_at"] is None

    decision = check(api_client, people["creator"], "obama/obama2.jpg")

    assert decision["verdict"] != Verdict.ALLOW  # the face is protected...
    decision = as_moderator(api_client, people["moderator"], decision)  # (the creator is not told why: issue 15)
    assert ReasonCode.LIKENESS_PENDING_VERIFICATION in codes_for(decision, people["likeness"]["id"])  # ...not granted
    assert not ConsentReceipt.objects.exists()


def test_the_persons_live_selfie_check_makes_it_active_and_receipts_cite_it(api_client, people, settings):
    likeness = people["likeness"]
    api_client.force_authenticate(people["barack"])
    issued = challenge(api_client, likeness, settings, ("right", "left"))
    shots = turning_as(issued["steps"])
    settings.SIGILLO_LIVENESS_STEPS = ("left", "right", "up")

    result = submit(api_client, likeness, issued["token"], video(*shots)).json()

    assert result["outcome"] == "passed", result
    verified = Likeness.objects.get(pk=likeness["id"])
    assert verified.status == LikenessStatus.ACTIVE and verified.verified_at is not None
    assert verified.verification == {"by": "liveness", "check": result["id"], "user": "barack"}
    assert AuditEvent.objects.filter(action="likeness.verified", target_id=str(verified.pk)).exists()

    decision = check(api_client, people["creator"], "obama/obama2.jpg")

    assert decision["verdict"] == Verdict.ALLOW, decision["reasons"]
    # The receipt a release of this use would sign cites how the person was verified.
    creator = User.objects.get(username=decision["requester"])
    evaluation = consent_evaluate(likeness=verified, requester=creator, use="personal", prompt="")
    receipt = receipt_draft(evaluation=evaluation, likeness=verified, requester=creator, use="personal").as_dict()
    assert receipt["verification"]["by"] == "liveness" and receipt["verification"]["check"] == result["id"]


def test_a_failed_check_leaves_it_waiting(api_client, people, settings):
    likeness = people["likeness"]
    api_client.force_authenticate(people["barack"])
    issued = challenge(api_client, likeness, settings, ("left",))
    kit = (("kit_harington/john1.jpg", False), ("kit_harington/johnsnow_test1.jpg", False))

    assert submit(api_client, likeness, issued["token"], video(*kit)).json()["outcome"] == "failed"

    assert Likeness.objects.get(pk=likeness["id"]).status == LikenessStatus.PENDING_VERIFICATION


def test_a_moderator_verifies_with_a_note_and_nobody_else_can(api_client, people):
    likeness = people["likeness"]
    url = "/api/v1/likenesses/%s/verify/" % likeness["id"]
    api_client.force_authenticate(people["barack"])
    assert api_client.post(url, {"note": "It is me"}, format="json").status_code == 403
    api_client.force_authenticate(people["moderator"])
    assert api_client.post(url, {"note": ""}, format="json").status_code == 400

    response = api_client.post(url, {"note": "Passport checked in a video call."}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == LikenessStatus.ACTIVE and body["verified_at"]
    assert body["verification"] == {"by": "moderator", "moderator": "mod", "note": "Passport checked in a video call."}


def test_likenesses_active_before_the_check_existed_keep_working_shown_as_not_verified(
    api_client, make_user, enroll, settings
):
    settings.SIGILLO_LIVENESS_REQUIRED = False
    owner = make_user(Role.RIGHTS_HOLDER, username="kit")
    likeness = enroll("kit_harington/john1.jpg", user=owner, name="Kit Harington").json()
    settings.SIGILLO_LIVENESS_REQUIRED = True
    api_client.force_authenticate(owner)

    body = api_client.get("/api/v1/likenesses/%s/" % likeness["id"]).json()

    assert body["status"] == LikenessStatus.ACTIVE and body["verified_at"] is None


def test_the_likeness_page_says_what_it_waits_for_and_then_how_it_was_verified(client, api_client, people):
    client.force_login(people["barack"])
    url = "/likenesses/%s/" % people["likeness"]["id"]
    page = client.get(url).content.decode()
    assert 'data-testid="verification-notice"' in page and "waits for a live selfie check" in page

    api_client.force_authenticate(people["moderator"])
    api_client.post(
        "/api/v1/likenesses/%s/verify/" % people["likeness"]["id"], {"note": "Seen in person."}, format="json"
    )

    page = client.get(url).content.decode()
    assert "waits for a live selfie check" not in page and "(by a moderator)" in page


def test_an_impostor_who_registered_someone_elses_face_loses_to_the_person_verified_live(
    api_client, make_user, enroll, settings
):
    """Account A registered B's face (before the check was required) and granted its use; B registers,
    is disputed, verifies live: B's likeness is active, A's is frozen at once, and a moderator sees both."""
    from generation import services as generation_services
    from generation.models import Generation
    from moderation.models import Flag

    creator = make_user(Role.CREATOR, username="cleo")
    impostor = make_user(Role.RIGHTS_HOLDER, username="troll")
    settings.SIGILLO_LIVENESS_REQUIRED = False  # how a registry from before the check looks
    stolen = enroll("obama/obama.jpg", user=impostor, name="Barack Obama").json()
    consent_to_everyone(api_client, impostor, stolen["id"])
    assert check(api_client, creator, "obama/obama2.jpg")["verdict"] == Verdict.ALLOW  # the hole
    waiting = generation_services.generation_request(
        requester=creator, prompt="a portrait", kind="image", use="personal", cameos=[stolen["id"]]
    )
    generation_services.generation_generate(generation_id=str(waiting.pk))
    settings.SIGILLO_LIVENESS_REQUIRED = True

    barack = make_user(Role.RIGHTS_HOLDER, username="barack")
    real = enroll("obama/obama2.jpg", user=barack, name="Barack Obama").json()
    assert real["status"] == LikenessStatus.DISPUTED  # the first registrant holds the face...
    api_client.force_authenticate(barack)
    issued = challenge(api_client, real, settings, ("right", "left"))
    shots = turning_as(issued["steps"])
    assert submit(api_client, real, issued["token"], video(*shots)).json()["outcome"] == "passed"

    # ...until the real person verifies live: their likeness is active, the impostor's frozen.
    assert Likeness.objects.get(pk=real["id"]).status == LikenessStatus.ACTIVE
    frozen = Likeness.objects.get(pk=stolen["id"])
    assert frozen.suspended_at is not None and "live selfie check" in frozen.suspension_note
    flag = Flag.objects.get(kind=Flag.Kind.DISPUTE, likeness=frozen, status=Flag.Status.OPEN)
    assert flag.evidence["verified_likeness"] == real["id"] and flag.evidence["verification"]["by"] == "liveness"
    assert flag.evidence["frozen_owner"] == "troll" and flag.evidence["frozen_verification"] is None
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"likeness.verified", "likeness.freeze", "likeness.activate"} <= actions
    # The impostor's consent stops at once: a new check is refused, the waiting generation withheld.
    after = check(api_client, creator, "obama/obama2.jpg")
    assert after["verdict"] != Verdict.ALLOW
    assert "suspended" not in str(after)  # the creator is not told why (issue 15); a moderator is
    after = as_moderator(api_client, make_user(Role.MODERATOR, username="mod"), after)
    assert ReasonCode.LIKENESS_SUSPENDED in codes_for(after, stolen["id"])
    generation_services.generation_scan(generation_id=str(waiting.pk))
    waiting.refresh_from_db()
    assert waiting.status in (Generation.Status.WITHHELD, Generation.Status.BLOCKED), waiting.status
    # The impostor sees why.
    api_client.force_authenticate(impostor)
    assert "live selfie check" in api_client.get("/api/v1/likenesses/%s/" % stolen["id"]).json()["suspension_note"]


def test_any_verified_user_means_someone_who_passed_the_check(api_client, people, make_user, enroll, settings, client):
    likeness = people["likeness"]
    api_client.force_authenticate(people["moderator"])
    api_client.post("/api/v1/likenesses/%s/verify/" % likeness["id"], {"note": "Seen in person."}, format="json")
    api_client.force_authenticate(people["barack"])
    response = api_client.put(
        "/api/v1/likenesses/%s/consent/" % likeness["id"],
        {"audience": "verified_users", "uses": ["personal"]},
        format="json",
    )
    assert response.status_code in (200, 201), response.content
    creator = make_user(Role.CREATOR, Role.RIGHTS_HOLDER, username="ada")
    before = check(api_client, creator, "obama/obama2.jpg")
    assert before["verdict"] != Verdict.ALLOW
    assert likeness["id"] not in str(before)  # not yet in the audience: not named (issue 15)
    before = as_moderator(api_client, people["moderator"], before)
    assert ReasonCode.REQUESTER_NOT_IN_AUDIENCE in codes_for(before, likeness["id"])

    # The creator verifies themselves: their own face, registered and checked live.
    own = enroll("kit_harington/john1.jpg", user=creator, name="Cleo Someone").json()
    api_client.force_authenticate(creator)
    issued = challenge(api_client, own, settings, ("left",))
    selfie = (
        ("kit_harington/john1.jpg", False),
        ("kit_harington/johnsnow_test1.jpg", False),
        ("kit_harington/john1.jpg", False),
    )
    assert submit(api_client, own, issued["token"], video(*selfie)).json()["outcome"] == "passed"
    creator.refresh_from_db()
    assert creator.verified_at is not None
    assert api_client.get("/api/v1/accounts/me/").json()["verified_at"]
    client.force_login(creator)
    assert 'data-testid="verified-user"' in client.get("/likenesses/").content.decode()

    after = check(api_client, creator, "obama/obama2.jpg")
    assert after["verdict"] == Verdict.ALLOW, after["reasons"]


def test_a_moderator_decides_the_frozen_side_lookalike_released_impostor_erased_or_likeness_transferred(
    api_client, make_user, enroll, settings
):
    from moderation.models import Flag

    moderator = make_user(Role.MODERATOR, username="mod")
    outcomes = {}
    owners = {}
    for decision in ("legitimate", "rejected", "transfer"):
        settings.SIGILLO_LIVENESS_REQUIRED = False
        other = enroll("obama/obama.jpg", user=make_user(Role.RIGHTS_HOLDER), name="Barack Obama").json()
        settings.SIGILLO_LIVENESS_REQUIRED = True
        barack = make_user(Role.RIGHTS_HOLDER)
        real = enroll("obama/obama2.jpg", user=barack, name="Barack Obama").json()
        api_client.force_authenticate(barack)
        issued = challenge(api_client, real, settings, ("right", "left"))
        shots = turning_as(issued["steps"])
        assert submit(api_client, real, issued["token"], video(*shots)).json()["outcome"] == "passed"
        flag = Flag.objects.get(likeness_id=other["id"], reason="verified_person_claims_face")
        api_client.force_authenticate(moderator)
        response = api_client.post(
            "/api/v1/moderation/flags/%s/decision/" % flag.pk, {"decision": decision, "note": "Looked."}, format="json"
        )
        assert response.status_code == 200, response.content
        outcomes[decision] = Likeness.objects.get(pk=other["id"])
        owners[decision] = barack.pk
        if decision == "transfer":
            transferred = outcomes[decision]
            assert transferred.consent_versions.order_by("-number").first().audience == "nobody"
            assert AuditEvent.objects.filter(action="likeness.transfer", target_id=str(transferred.pk)).exists()
        Likeness.objects.filter(pk__in=[other["id"], real["id"]]).delete()  # the next round starts clean
    assert outcomes["legitimate"].suspended_at is None  # a lookalike: released
    assert outcomes["rejected"].status == LikenessStatus.ERASED  # an impostor: erased
    transferred = outcomes["transfer"]  # the real person's now, its registrant's consent void
    assert transferred.owner_id == owners["transfer"] and transferred.suspended_at is None
    assert transferred.status == LikenessStatus.ACTIVE and transferred.verification["by"] == "transfer"


def test_only_a_likeness_frozen_for_a_verified_person_can_be_transferred(api_client, make_user, enroll, settings):
    from moderation.models import Flag

    settings.SIGILLO_LIVENESS_REQUIRED = False
    enroll("obama/obama.jpg", user=make_user(Role.RIGHTS_HOLDER), name="Barack Obama")
    disputed = enroll("obama/obama2.jpg", user=make_user(Role.RIGHTS_HOLDER), name="Barack Obama").json()
    flag = Flag.objects.get(kind=Flag.Kind.DISPUTE, likeness_id=disputed["id"])
    api_client.force_authenticate(make_user(Role.MODERATOR))

    response = api_client.post(
        "/api/v1/moderation/flags/%s/decision/" % flag.pk, {"decision": "transfer", "note": "Mine."}, format="json"
    )

    assert response.status_code == 400 and "frozen for a person verified live" in response.content.decode()


def test_a_check_the_analysis_cannot_decide_goes_to_a_moderator_with_the_evidence_on_one_screen(
    api_client, client, people, settings
):
    """The identity is unsure (thresholds set so the person's own face is only a near match): the
    moderator sees the photos, the best frames, the challenge and the scores, and verifies."""
    from moderation.models import Flag

    likeness = people["likeness"]
    api_client.force_authenticate(people["barack"])
    issued = challenge(api_client, likeness, settings, ("right", "left"))
    shots = turning_as(issued["steps"])
    settings.SIGILLO_FACE_THRESHOLDS = {"sface/sface_2021dec_int8bq": {"match": 0.2, "review": 1.1}}
    settings.SIGILLO_FACE_FPIR_TARGET = settings.SIGILLO_FACE_REVIEW_FPIR_TARGET = 0

    result = submit(api_client, likeness, issued["token"], video(*shots)).json()

    assert result["outcome"] == "review" and result["reasons"] == ["identity_unsure"], result
    flag = Flag.objects.get(kind=Flag.Kind.LIVENESS, likeness_id=likeness["id"])
    client.force_login(people["moderator"])
    page = client.get("/moderation/flags/%s/" % flag.pk).content.decode()
    assert 'data-testid="liveness-check"' in page and issued["code"] in page
    assert page.count('data-testid="liveness-frame"') == 3 and " then ".join(issued["steps"]) in page
    frame = client.get("/moderation/liveness/%s/frames/0/" % result["id"])
    assert frame.status_code == 200 and frame.content.startswith(b"\x89PNG")
    client.force_login(people["barack"])
    assert client.get("/moderation/liveness/%s/frames/0/" % result["id"]).status_code in (302, 403, 404)

    api_client.force_authenticate(people["moderator"])
    decided = api_client.post(
        "/api/v1/moderation/flags/%s/decision/" % flag.pk,
        {"decision": "verified", "note": "Same face as the photos, turning as asked, code shown."},
        format="json",
    )

    assert decided.status_code == 200, decided.content
    verified = Likeness.objects.get(pk=likeness["id"])
    assert verified.status == LikenessStatus.ACTIVE and verified.verification["by"] == "moderator"
    assert verified.verification["check"] == result["id"]
    assert AuditEvent.objects.filter(action="liveness.review").exists()


def test_an_estate_waits_for_its_document_and_for_its_representative_live(api_client, make_user, settings):
    from consent.models import EstateClaim
    from consent.services import estate_claim_decide
    from tests.consent.test_registry_lifecycle import estate_body

    representative = make_user(Role.ESTATE_REPRESENTATIVE, Role.RIGHTS_HOLDER, username="executor")
    api_client.force_authenticate(representative)
    estate = api_client.post("/api/v1/likenesses/", estate_body(), format="multipart").json()
    claim = EstateClaim.objects.get(likeness_id=estate["id"])

    estate_claim_decide(moderator=make_user(Role.MODERATOR), claim=claim, verified=True, note="Letters checked.")

    # The document is verified; the representative is not yet: the entry still grants nothing.
    assert Likeness.objects.get(pk=estate["id"]).status == LikenessStatus.PENDING_VERIFICATION
    own = api_client.post(
        "/api/v1/likenesses/",
        {
            "display_name": "Eve Executor",
            "photos": [SimpleUploadedFile("me.jpg", photo_bytes("kit_harington/john1.jpg"))],
        },
        format="multipart",
    ).json()
    issued = challenge(api_client, own, settings, ("left",))
    selfie = (
        ("kit_harington/john1.jpg", False),
        ("kit_harington/johnsnow_test1.jpg", False),
        ("kit_harington/john1.jpg", False),
    )
    assert submit(api_client, own, issued["token"], video(*selfie)).json()["outcome"] == "passed"

    assert Likeness.objects.get(pk=estate["id"]).status == LikenessStatus.ACTIVE
    assert AuditEvent.objects.filter(action="estate.activate", target_id=estate["id"]).exists()
