"""The creator studio's pages: who may see them, the cameo picker, the form and a blocked request's reasons."""

import uuid

import pytest

from accounts.roles import Role
from consent import services as consent_services
from generation.models import Generation
from generation.selectors import cameos_for
from tests.moderation.conftest import registry  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def detail_url(generation: Generation) -> str:
    return "/studio/generations/%s/" % generation.pk


def test_studio_is_for_creators_only(client, make_user):
    assert client.get("/studio/").status_code == 302  # to sign in
    client.force_login(make_user(Role.RIGHTS_HOLDER, username="rita"))
    assert client.get("/studio/").status_code == 403
    client.force_login(make_user(Role.CREATOR, username="cara"))
    response = client.get("/studio/")
    assert response.status_code == 200
    assert b"Gallery" in response.content


def test_the_cameo_picker_lists_only_people_whose_consent_covers_the_user(client, registry):  # noqa: F811
    client.force_login(registry.creator)
    page = client.get("/studio/").content.decode()
    assert "Kit Harington" in page and str(registry.kit.pk) in page
    assert "Rose Leslie" not in page  # approved for "friend" only
    assert "Barack Obama" not in page  # protected
    assert [cameo.name for cameo in cameos_for(registry.creator)] == ["Kit Harington"]
    assert cameos_for(registry.creator)[0].uses == ["personal", "parody"]
    assert {cameo.name for cameo in cameos_for(registry.friend)} == {"Kit Harington", "Rose Leslie"}


def test_a_revoked_consent_takes_the_person_off_the_picker(registry):  # noqa: F811
    consent_services.consent_set(actor=registry.kit_owner, likeness=registry.kit, audience="nobody", uses=[])
    assert cameos_for(registry.creator) == []


def test_bad_input_is_refused_with_errors_and_nothing_is_created(client, registry):  # noqa: F811
    client.force_login(registry.creator)
    response = client.post("/studio/", {"prompt": "", "kind": "painting", "use": "personal"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="error-prompt"' in page and 'data-testid="error-kind"' in page
    response = client.post(
        "/studio/", {"prompt": "a portrait", "kind": "image", "use": "personal", "cameos": [str(registry.rose.pk)]}
    )
    assert response.status_code == 400  # not a cameo this user may pick
    assert 'data-testid="error-cameos"' in response.content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/studio/",
        {
            "prompt": "@nobody_at_all in a garden",
            "kind": "image",
            "use": "personal",
            "reference": SimpleUploadedFile("notes.png", b"not pixels at all"),
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="error-reference"' in page and "not a readable image" in page
    assert "@nobody_at_all in a garden</textarea>" in page  # what was typed is kept
    response = client.post("/studio/", {"prompt": "@nobody_at_all in a garden", "kind": "image", "use": "personal"})
    assert "Nobody you may cast goes by @nobody_at_all." in response.content.decode()
    assert not Generation.objects.exists()


def test_a_blocked_request_shows_its_reasons_in_plain_words(client, registry, django_capture_on_commit_callbacks):  # noqa: F811
    client.force_login(registry.creator)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/studio/",
            {
                "prompt": "Kit Harington drinking beer at a bar",
                "kind": "image",
                "use": "personal",
                "cameos": [str(registry.kit.pk)],
            },
        )
    generation = Generation.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(generation)
    assert generation.status == Generation.Status.BLOCKED
    assert callbacks == []  # nothing queued for a worker
    page = client.get(detail_url(generation)).content.decode()
    assert 'data-status="blocked"' in page
    reasons = generation.pre_decision.reasons
    blocking = [reason for reason in reasons if reason["verdict"] == "block"]
    assert blocking
    for reason in blocking:
        assert reason["detail"] in page or reason["detail"].replace("'", "&#x27;") in page


def test_someone_elses_generation_page_is_not_found(client, registry):  # noqa: F811
    client.force_login(registry.creator)
    client.post("/studio/", {"prompt": "a portrait", "kind": "image", "use": "personal"})
    generation = Generation.objects.get()
    assert client.get(detail_url(generation)).status_code == 200
    client.force_login(registry.friend)
    assert client.get(detail_url(generation)).status_code == 404
    assert client.get("/studio/generations/%s/" % uuid.uuid4()).status_code == 404


def test_released_generations_appear_in_the_gallery_with_a_download_button(client, registry):  # noqa: F811
    released = Generation.objects.create(
        requester=registry.creator, prompt="a sunset", kind="image", use="personal", backend="animatic",
        status=Generation.Status.RELEASED,
    )  # fmt: skip
    Generation.objects.create(
        requester=registry.creator, prompt="a storm", kind="image", use="personal", backend="animatic",
        status=Generation.Status.BLOCKED,
    )  # fmt: skip
    client.force_login(registry.creator)
    page = client.get("/studio/").content.decode()
    gallery = page[page.index('data-testid="gallery"') :]
    assert "a sunset" in gallery and "a storm" not in gallery
    assert 'href="/api/v1/generations/%s/output/" download' % released.pk in gallery
