"""The registry's web pages: register, edit, consent, revoke and erase, on the real dlib engine."""

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from accounts.roles import Role
from consent.enrollment import PhotoInput
from consent.errors import EnrollmentError
from consent.models import (
    ConsentVersion,
    EstateClaim,
    Face,
    Likeness,
    LikenessPhoto,
    LikenessStatus,
    Subject,
    Use,
)
from consent.services import likeness_enroll
from moderation.models import AuditEvent, Flag
from tests.consent.conftest import stored, upload
from tests.consent.faces import encode, gradient, photo_bytes

pytestmark = pytest.mark.django_db

OBAMA = "obama/obama.jpg"
GROUP = "groups/obama_and_biden_two_people.jpg"


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf_post(client: Client, url: str, data: dict, *, page: str | None = None, **extra: Any) -> Any:
    """POST as a browser does: open the page holding the form first, send its CSRF token back."""
    client.get(page or url)
    return client.post(url, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}, **extra)


def text(response: Any) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def enrolled(owner: Any, path: str = OBAMA, name: str = "Barack") -> Likeness:
    return likeness_enroll(
        owner=owner, display_name=name, photos=[PhotoInput(name=path.rsplit("/", 1)[-1], data=photo_bytes(path))]
    ).likeness


@pytest.fixture
def owner(make_user: Any) -> Any:
    return make_user(Role.RIGHTS_HOLDER, username="rita")


@pytest.fixture
def likeness(owner: Any) -> Likeness:
    return enrolled(owner)


# --- who may open which page -------------------------------------------------------------

LIKENESS_PAGES = ("/likenesses/{id}/", "/likenesses/{id}/consent/")
LIKENESS_ACTIONS = ("/likenesses/{id}/revoke/", "/likenesses/{id}/erase/")


def test_anonymous_visitors_are_sent_to_sign_in(client, likeness):
    for path in ("/likenesses/", "/likenesses/new/", "/likenesses/all/", *LIKENESS_PAGES):
        response = client.get(path.format(id=likeness.pk))
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), path
    for path in (*LIKENESS_PAGES, *LIKENESS_ACTIONS):
        response = csrf_post(client, path.format(id=likeness.pk), {"confirm_name": "Barack"}, page="/accounts/login/")
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), path
    assert Likeness.objects.get().status == LikenessStatus.ACTIVE


def test_creators_are_refused_every_page(client, make_user, likeness):
    client.force_login(make_user(Role.CREATOR))
    for path in ("/likenesses/", "/likenesses/new/", "/likenesses/all/", *LIKENESS_PAGES):
        assert client.get(path.format(id=likeness.pk)).status_code == 403, path
    for path in LIKENESS_ACTIONS:
        response = csrf_post(client, path.format(id=likeness.pk), {"confirm_name": "Barack"}, page="/")
        assert response.status_code == 403, path
    assert Likeness.objects.get().status == LikenessStatus.ACTIVE


def test_another_rights_holder_gets_not_found_and_changes_nothing(client, make_user, likeness):
    client.force_login(make_user(Role.RIGHTS_HOLDER))
    for path in LIKENESS_PAGES:
        assert client.get(path.format(id=likeness.pk)).status_code == 404, path
    before = stored()
    for path in (*LIKENESS_PAGES, *LIKENESS_ACTIONS):
        response = csrf_post(
            client, path.format(id=likeness.pk), {"display_name": "Mine", "confirm_name": "Barack"}, page="/likenesses/"
        )
        assert response.status_code == 404, path
    assert stored() == before
    assert client.get("/likenesses/").content.decode().count(str(likeness.pk)) == 0


def test_unknown_likeness_is_not_found(client, owner):
    client.force_login(owner)
    assert client.get("/likenesses/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_moderators_open_any_likeness_and_the_list_of_all(client, make_user, likeness):
    client.force_login(make_user(Role.MODERATOR))
    assert client.get("/likenesses/%s/" % likeness.pk).status_code == 200
    response = client.get("/likenesses/all/")
    assert response.status_code == 200
    assert "Barack" in response.content.decode()


def test_rights_holders_cannot_list_everyone(client, owner):
    client.force_login(owner)
    assert client.get("/likenesses/all/").status_code == 403
    assert "/likenesses/all/" not in client.get("/likenesses/").content.decode()


def test_a_rights_holder_who_moderates_gets_a_link_to_all_likenesses(client, make_user):
    client.force_login(make_user(Role.RIGHTS_HOLDER, Role.MODERATOR))
    assert 'href="/likenesses/all/"' in client.get("/likenesses/").content.decode()


# --- the list ----------------------------------------------------------------------------


def test_my_likenesses_lists_name_status_faces_and_consent(client, owner, likeness, make_user):
    joe = enrolled(make_user(Role.RIGHTS_HOLDER), "biden/biden.jpg", name="Joe Biden")
    client.force_login(owner)
    content = client.get("/likenesses/").content.decode()

    # Someone else's likeness is not listed (its name alone could be a random user's, in the header).
    assert "Barack" in content and "Joe Biden" not in content and str(joe.pk) not in content
    assert "Active" in content
    assert "Nobody may use this likeness." in content
    assert "/likenesses/%s/" % likeness.pk in content


# --- registering -------------------------------------------------------------------------


def test_register_with_a_real_photo_makes_an_active_likeness(client, owner):
    client.force_login(owner)
    response = csrf_post(
        client,
        "/likenesses/new/",
        {
            "display_name": "Barack Obama",
            "aliases": "Barry\n\n  44th president ",
            "descriptors": "former US president",
            "jurisdiction": "US",
            "subject": "self",
            "photos": [upload("obama.jpg", photo_bytes(OBAMA))],
        },
    )

    likeness = Likeness.objects.get()
    assert response.status_code == 302
    assert response["Location"] == "/likenesses/%s/" % likeness.pk
    assert likeness.status == LikenessStatus.ACTIVE
    assert likeness.owner == owner
    assert likeness.aliases == ["Barry", "44th president"]
    assert likeness.faces.count() == 1
    page = client.get(response["Location"])
    content = page.content.decode()
    assert "is registered" in content
    assert 'data-testid="status">Active<' in content
    photo = likeness.photos.get()
    assert "/api/v1/likenesses/%s/photos/%s/" % (likeness.pk, photo.pk) in content
    assert content.count('data-testid="face-box"') == 1
    box = likeness.faces.get().box
    assert "--x:%d;--y:%d;--w:%d;--h:%d" % (box["x"], box["y"], box["width"], box["height"]) in content
    image = client.get("/api/v1/likenesses/%s/photos/%s/" % (likeness.pk, photo.pk))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"


def test_register_page_offers_deceased_people_only_to_estate_representatives(client, make_user):
    client.force_login(make_user(Role.RIGHTS_HOLDER))
    content = client.get("/likenesses/new/").content.decode()
    assert 'value="deceased"' not in content and "date_of_death" not in content

    client.force_login(make_user(Role.ESTATE_REPRESENTATIVE))
    content = client.get("/likenesses/new/").content.decode()
    assert 'value="deceased"' in content and 'name="date_of_death"' in content and 'name="estate_document"' in content


def test_page_loads_the_preview_script_with_the_preview_api(client, owner):
    client.force_login(owner)
    content = client.get("/likenesses/new/").content.decode()
    assert 'data-preview-url="/api/v1/likenesses/preview/"' in content
    assert "js/enroll.js" in content
    assert 'multiple accept="image/*"' in content or ("multiple" in content and 'accept="image/*"' in content)


GOOD = {"display_name": "Barack", "subject": "self"}

BAD_REGISTRATIONS = {
    "missing name": ({"display_name": ""}, OBAMA, "This field is required."),
    "blank name": ({"display_name": "   "}, OBAMA, "This field is required."),
    "overlong name": ({"display_name": "n" * 201}, OBAMA, "Ensure this value has at most 200 characters"),
    "overlong alias": ({"aliases": "ok\n" + "a" * 201}, OBAMA, "Each line may have at most 200 characters"),
    "overlong descriptor": ({"descriptors": "d" * 501}, OBAMA, "Each line may have at most 500 characters"),
    "too many aliases": ({"aliases": "\n".join("alias %d" % n for n in range(51))}, OBAMA, "At most 50 lines."),
    "overlong jurisdiction": ({"jurisdiction": "j" * 65}, OBAMA, "Ensure this value has at most 64 characters"),
    "deceased by a rights holder": ({"subject": "deceased"}, OBAMA, "Select a valid choice."),
    "no photo": ({}, None, "This field is required."),
}


@pytest.mark.parametrize(("change", "photo", "message"), BAD_REGISTRATIONS.values(), ids=BAD_REGISTRATIONS.keys())
def test_register_rejects_bad_fields_and_stores_nothing(client, owner, change, photo, message):
    client.force_login(owner)
    before = stored()
    photos = [upload("obama.jpg", photo_bytes(photo))] if photo else []
    response = csrf_post(client, "/likenesses/new/", {**GOOD, **change, "photos": photos})

    assert response.status_code == 400
    assert message in text(response)
    assert stored() == before


BAD_PHOTOS = {
    "not an image": (b"this is a text file, not a photo", "notes.jpg", EnrollmentError.NOT_AN_IMAGE),
    "no face": (encode(gradient()), "gradient.jpg", EnrollmentError.NO_FACE),
    "several faces, none chosen": (photo_bytes(GROUP), "group.jpg", EnrollmentError.SEVERAL_FACES),
}


@pytest.mark.parametrize(("data", "name", "code"), BAD_PHOTOS.values(), ids=BAD_PHOTOS.keys())
def test_register_shows_each_photos_problem_and_stores_nothing(client, owner, data, name, code):
    client.force_login(owner)
    before = stored()
    response = csrf_post(
        client,
        "/likenesses/new/",
        {**GOOD, "photos": [upload("obama.jpg", photo_bytes(OBAMA)), upload(name, data)]},
    )

    assert response.status_code == 400
    content = text(response)
    assert "Nothing was registered" in content
    assert 'data-code="%s" data-index="1"' % code in content
    assert "<strong>%s</strong>" % name in content
    assert stored() == before


def test_empty_file_is_refused(client, owner):
    client.force_login(owner)
    before = stored()
    response = csrf_post(client, "/likenesses/new/", {**GOOD, "photos": [upload("empty.jpg", b"")]})
    assert response.status_code == 400
    assert "The submitted file is empty." in text(response)
    assert stored() == before


def test_several_faces_enroll_with_the_chosen_face(client, owner):
    client.force_login(owner)
    response = csrf_post(
        client,
        "/likenesses/new/",
        {**GOOD, "photos": [upload("group.jpg", photo_bytes(GROUP))], "face_index": ["1"]},
    )
    assert response.status_code == 302
    face = Face.objects.get()
    assert face.likeness.status == LikenessStatus.ACTIVE
    from consent.faces import get_engine, load_image

    first, second = get_engine().analyze(load_image(photo_bytes(GROUP)))
    assert face.box == second.box.as_dict() != first.box.as_dict()  # the face chosen, not the first one found


def test_a_face_choice_that_does_not_exist_is_refused(client, owner):
    client.force_login(owner)
    before = stored()
    response = csrf_post(
        client, "/likenesses/new/", {**GOOD, "photos": [upload("group.jpg", photo_bytes(GROUP))], "face_index": ["7"]}
    )
    assert response.status_code == 400
    assert 'data-code="%s"' % EnrollmentError.FACE_CHOICE_INVALID in text(response)
    assert stored() == before


def test_someone_elses_face_is_registered_as_disputed_and_the_page_says_so(client, likeness, make_user):
    client.force_login(make_user(Role.RIGHTS_HOLDER))
    response = csrf_post(
        client, "/likenesses/new/", {**GOOD, "photos": [upload("obama2.jpg", photo_bytes("obama/obama2.jpg"))]}
    )

    assert response.status_code == 302
    disputed = Likeness.objects.exclude(pk=likeness.pk).get()
    assert disputed.status == LikenessStatus.DISPUTED
    content = client.get(response["Location"]).content.decode()
    assert "disputed" in content and "A moderator will review it" in content
    assert Flag.objects.filter(likeness=disputed, kind=Flag.Kind.DISPUTE, status=Flag.Status.OPEN).exists()


def test_estate_representative_registers_a_deceased_person_pending_verification(client, make_user):
    client.force_login(make_user(Role.ESTATE_REPRESENTATIVE))
    response = csrf_post(
        client,
        "/likenesses/new/",
        {
            "display_name": "Late Person",
            "subject": "deceased",
            "date_of_death": "2001-02-03",
            "estate_document": upload("letters.pdf", b"%PDF-1.4 letters testamentary", "application/pdf"),
            "photos": [upload("biden.jpg", photo_bytes("biden/biden.jpg"))],
        },
    )

    assert response.status_code == 302
    likeness = Likeness.objects.get()
    assert likeness.subject == Subject.DECEASED
    assert likeness.date_of_death == datetime.date(2001, 2, 3)
    assert likeness.status == LikenessStatus.PENDING_VERIFICATION
    assert EstateClaim.objects.get().document_name == "letters.pdf"
    assert "verify the estate" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"date_of_death": ""}, "Give the date of death."),
        ({"date_of_death": "2999-01-01"}, "The date of death cannot be in the future."),
        ({"date_of_death": "yesterday"}, "Enter a valid date."),
        ({"estate_document": None}, "Attach a document proving your authority over the estate."),
    ],
)
def test_estate_registration_needs_a_date_and_a_document(client, make_user, change, message):
    client.force_login(make_user(Role.ESTATE_REPRESENTATIVE))
    data = {
        "display_name": "Late Person",
        "subject": "deceased",
        "date_of_death": "2001-02-03",
        "estate_document": upload("letters.pdf", b"%PDF-1.4 letters", "application/pdf"),
        "photos": [upload("biden.jpg", photo_bytes("biden/biden.jpg"))],
        **change,
    }
    before = stored()
    response = csrf_post(client, "/likenesses/new/", {key: value for key, value in data.items() if value is not None})

    assert response.status_code == 400
    assert message in text(response)
    assert stored() == before


def test_registering_without_a_csrf_token_is_refused(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post("/likenesses/new/", {**GOOD, "photos": [upload("obama.jpg", photo_bytes(OBAMA))]})
    assert response.status_code == 403
    assert not Likeness.objects.exists()


# --- names and descriptions --------------------------------------------------------------


def test_owner_edits_names_and_descriptors(client, owner, likeness):
    client.force_login(owner)
    url = "/likenesses/%s/" % likeness.pk
    response = csrf_post(
        client,
        url,
        {"display_name": "Barack H. Obama", "aliases": "Barry\nObama", "descriptors": "tall man", "jurisdiction": "US"},
    )

    assert response.status_code == 302
    likeness.refresh_from_db()
    assert (likeness.display_name, likeness.aliases, likeness.descriptors, likeness.jurisdiction) == (
        "Barack H. Obama",
        ["Barry", "Obama"],
        ["tall man"],
        "US",
    )
    content = client.get(url).content.decode()
    assert "Names and descriptions saved." in content
    assert "Barry\nObama</textarea>" in content
    assert AuditEvent.objects.filter(action="likeness.update").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"display_name": ""}, "This field is required."),
        ({"display_name": "n" * 201}, "Ensure this value has at most 200 characters"),
        ({"aliases": "a" * 201}, "Each line may have at most 200 characters"),
        ({"jurisdiction": "j" * 65}, "Ensure this value has at most 64 characters"),
    ],
)
def test_editing_names_rejects_bad_input(client, owner, likeness, change, message):
    client.force_login(owner)
    before = stored()
    response = csrf_post(client, "/likenesses/%s/" % likeness.pk, {"display_name": "Other", **change})

    assert response.status_code == 400
    assert message in text(response)
    likeness.refresh_from_db()
    assert likeness.display_name == "Barack"
    assert stored() == before


def test_an_erased_likeness_cannot_be_edited(client, owner, likeness):
    likeness.status = LikenessStatus.ERASED
    likeness.save()
    client.force_login(owner)
    response = csrf_post(client, "/likenesses/%s/" % likeness.pk, {"display_name": "Back again"})

    assert response.status_code == 400
    assert "An erased likeness cannot be changed." in text(response)
    likeness.refresh_from_db()
    assert likeness.display_name == "Barack"


# --- consent -----------------------------------------------------------------------------


def test_consent_editor_starts_from_the_current_policy_with_adult_unticked(client, owner, likeness):
    client.force_login(owner)
    content = client.get("/likenesses/%s/consent/" % likeness.pk).content.decode()

    assert "never implied" in content
    assert 'name="uses" value="adult"' in content
    assert 'value="adult" id="id_uses_5" checked' not in content
    assert 'name="audience" value="nobody" required id="id_audience_0" checked' in content
    assert 'type="datetime-local"' in content


def test_saving_consent_writes_version_two_and_shows_its_summary(client, owner, likeness, make_user):
    friend = make_user(Role.CREATOR, username="Fran")
    client.force_login(owner)
    url = "/likenesses/%s/consent/" % likeness.pk
    response = csrf_post(
        client,
        url,
        {
            "audience": "approved_users",
            "uses": ["personal", "parody"],
            "approved_users": "fran\n",
            "forbidden_topics": "alcohol\ngambling",
            "per_use_approval": "on",
            "valid_from": "2030-01-01T09:30",
            "valid_until": "2031-01-01T00:00",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/likenesses/%s/" % likeness.pk
    version = ConsentVersion.objects.get(likeness=likeness, number=2)
    assert version.approved_users == [friend.pk]
    assert version.uses == ["parody", "personal"]
    assert version.forbidden_topics == ["alcohol", "gambling"]
    assert version.per_use_approval
    assert version.valid_from == datetime.datetime(2030, 1, 1, 9, 30, tzinfo=datetime.UTC)
    summary = (
        "Only the 1 people you approved may use this likeness for parody or satire and personal use, each request "
        "waits for your yes or no, never for: alcohol; gambling, from 01 January 2030, until 01 January 2031, "
        "never in adult content."
    )
    content = client.get(response["Location"]).content.decode()
    assert "Consent saved (version 2)." in content
    assert summary in content
    assert "<td>2</td><td>rita</td>" in content  # the history: version 2 by the owner
    assert "<td>1</td><td>rita</td>" in content

    content = client.get(url).content.decode()
    assert "Fran</textarea>" in content
    assert 'value="2030-01-01T09:30"' in content


def test_preview_shows_the_summary_without_saving(client, owner, likeness):
    client.force_login(owner)
    response = csrf_post(
        client,
        "/likenesses/%s/consent/" % likeness.pk,
        {"audience": "everyone", "uses": ["news"], "preview": "1"},
    )

    assert response.status_code == 200
    assert "Anyone may use this likeness for news or documentary use, never in adult content." in text(response)
    assert ConsentVersion.objects.filter(likeness=likeness).count() == 1


BAD_CONSENT = {
    "unknown approved user": (
        {"audience": "approved_users", "approved_users": "nobody-here"},
        "No user has the name: nobody-here.",
    ),
    "approved audience without users": ({"audience": "approved_users"}, "Name at least one approved user."),
    "end before start": (
        {"valid_from": "2030-01-02T00:00", "valid_until": "2030-01-01T00:00"},
        "The end of validity must come after its start.",
    ),
    "bad date": ({"valid_from": "soon"}, "Enter a valid date/time."),
    "unknown use": ({"uses": ["wizardry"]}, "Select a valid choice. wizardry is not one of the available choices."),
    "unknown audience": ({"audience": "aliens"}, "Select a valid choice. aliens is not one of the available choices."),
    "overlong topic": ({"forbidden_topics": "t" * 301}, "Each line may have at most 300 characters"),
}


@pytest.mark.parametrize(("change", "message"), BAD_CONSENT.values(), ids=BAD_CONSENT.keys())
def test_consent_editor_rejects_bad_input_and_writes_no_version(client, owner, likeness, change, message):
    client.force_login(owner)
    before = stored()
    response = csrf_post(
        client, "/likenesses/%s/consent/" % likeness.pk, {"audience": "everyone", "uses": ["personal"], **change}
    )

    assert response.status_code == 400
    assert message in text(response)
    assert stored() == before


def test_adult_use_is_allowed_only_when_ticked(client, owner, likeness):
    client.force_login(owner)
    url = "/likenesses/%s/consent/" % likeness.pk
    csrf_post(client, url, {"audience": "everyone", "uses": ["personal"]})
    assert Use.ADULT not in ConsentVersion.objects.get(likeness=likeness, number=2).uses
    csrf_post(client, url, {"audience": "everyone", "uses": ["personal", "adult"]})
    assert Use.ADULT in ConsentVersion.objects.get(likeness=likeness, number=3).uses


# --- revoke and erase --------------------------------------------------------------------


def test_revoke_makes_a_revoked_version_and_says_so(client, owner, likeness):
    client.force_login(owner)
    csrf_post(client, "/likenesses/%s/consent/" % likeness.pk, {"audience": "everyone", "uses": ["personal"]})
    response = csrf_post(
        client, "/likenesses/%s/revoke/" % likeness.pk, {}, page="/likenesses/%s/" % likeness.pk, follow=True
    )

    likeness.refresh_from_db()
    assert likeness.status == LikenessStatus.REVOKED
    assert ConsentVersion.objects.filter(likeness=likeness).order_by("-number").first().revoked
    content = response.content.decode()
    assert "Consent revoked: nobody may use this likeness any more." in content
    assert "Consent was revoked: nobody may use this likeness." in content


def test_revoke_refuses_get(client, owner, likeness):
    client.force_login(owner)
    assert client.get("/likenesses/%s/revoke/" % likeness.pk).status_code == 405


@pytest.mark.parametrize("typed", ["", "Barak", "Someone else"])
def test_erase_needs_the_name_typed_and_keeps_everything_otherwise(client, owner, likeness, typed):
    client.force_login(owner)
    before = stored()
    response = csrf_post(
        client, "/likenesses/%s/erase/" % likeness.pk, {"confirm_name": typed}, page="/likenesses/%s/" % likeness.pk
    )

    assert response.status_code == 400
    assert ("This field is required." if not typed else "Type the name exactly as registered to confirm.") in text(
        response
    )
    assert stored() == before
    likeness.refresh_from_db()
    assert likeness.status == LikenessStatus.ACTIVE


@pytest.mark.parametrize("keep_name", [True, False])
def test_erase_removes_photos_faces_and_files(client, owner, likeness, keep_name, django_capture_on_commit_callbacks):
    client.force_login(owner)
    media = Path(settings.MEDIA_ROOT)
    assert any(path.is_file() for path in media.rglob("*"))
    data = {"confirm_name": " barack ", **({"keep_name": "on"} if keep_name else {})}
    with django_capture_on_commit_callbacks(execute=True):
        response = csrf_post(client, "/likenesses/%s/erase/" % likeness.pk, data, page="/likenesses/%s/" % likeness.pk)

    assert response.status_code == 302
    likeness.refresh_from_db()
    assert likeness.status == LikenessStatus.ERASED
    assert likeness.do_not_generate is keep_name
    assert likeness.display_name == ("Barack" if keep_name else "(erased)")
    assert not LikenessPhoto.objects.exists() and not Face.objects.exists()
    assert not any(path.is_file() for path in media.rglob("*"))
    content = client.get(response["Location"]).content.decode()
    assert "Every photo and all face data were erased." in content
    assert 'data-testid="status">Erased<' in content
    assert 'data-testid="erase-form"' not in content
