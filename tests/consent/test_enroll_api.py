"""Enrollment through POST /api/v1/likenesses/ on the real default (sface) engine and the real photos."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.roles import Role
from config.api import ApiErrorCode
from consent import crypto
from consent.errors import EnrollmentError
from consent.faces import get_engine
from consent.matching import image_match
from consent.models import Face, Likeness, LikenessPhoto, LikenessStatus
from tests.consent.conftest import stored, upload
from tests.consent.faces import (
    blurred,
    brightness,
    crop,
    encode,
    faces_manifest,
    gradient,
    jpeg,
    on_canvas,
    photo_bytes,
    photo_image,
    resize,
    rotate,
)

pytestmark = pytest.mark.django_db


def variations(path: str) -> list[tuple[str, Image.Image]]:
    image = photo_image(path)
    box = get_engine().analyze(image)[0].box
    return [
        ("original", image),
        ("crop", crop(image, box, margin=0.5)),
        ("rotate 12°", rotate(image, 12)),
        ("rotate -10°", rotate(image, -10)),
        ("half size", resize(image, 0.5) if min(image.size) > 300 else image),
        ("jpeg q25", jpeg(image, 25)),
        ("darker", brightness(image, 0.6)),
        ("brighter", brightness(image, 1.4)),
    ]


def test_every_person_is_found_again_from_every_other_photo_and_nobody_else_matches(enroll):
    identities = faces_manifest()["identities"]
    enrolled = {identity: enroll(paths[0], name=identity).json()["id"] for identity, paths in identities.items()}
    engine = get_engine()

    for identity, paths in identities.items():
        for path in paths:
            for label, image in variations(path):
                matches = image_match(image=image, engine=engine)
                assert len(matches) == 1, (path, label)
                hits = matches[0].hits
                found = [hit.likeness_id for hit in hits if hit.outcome == "match"]
                assert found == [enrolled[identity]], (identity, path, label, [h.as_dict() for h in hits])
                assert all(hit.likeness_id == enrolled[identity] for hit in hits), (path, label)
                assert matches[0].thresholds["engine"] == "sface"


def test_both_people_in_the_group_photo_are_found_and_identified(enroll):
    obama = enroll("obama/obama.jpg", name="Obama").json()["id"]
    biden = enroll("biden/biden.jpg", name="Biden").json()["id"]
    ((group, people),) = faces_manifest()["groups"].items()

    matches = image_match(image=photo_image(group))

    assert len(matches) == 2
    found = {match.best.likeness_id for match in matches if match.best and match.best.outcome == "match"}
    assert found == {obama, biden}
    assert people == ["obama", "biden"]


def test_enrollment_answers_status_and_faces_and_never_embeddings(enroll):
    body = enroll("obama/obama.jpg", "obama/obama2.jpg", name="Barack").json()

    assert body["status"] == LikenessStatus.ACTIVE
    assert body["faces_enrolled"] == 2
    assert body["consent"]["number"] == 1 and body["consent"]["audience"] == "nobody"
    assert "embedding" not in str(body)
    assert all(face["box"]["width"] > 50 for photo in body["photos"] for face in photo["faces"])


def test_photos_and_embeddings_are_encrypted_and_exif_is_stripped(enroll, tmp_path):
    image = photo_image("kit_harington/john1.jpg")
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS
    data = encode(image, "JPEG", exif=exif.tobytes(), quality=95)
    assert b"SpyCam" in data
    user_body = enroll_bytes(enroll, data)

    photo = LikenessPhoto.objects.get(likeness_id=user_body["id"])
    raw = (Path(settings.MEDIA_ROOT) / photo.file_path).read_bytes()
    assert raw.startswith(b"gAAAAA") and b"\x89PNG" not in raw  # a Fernet token on disk, not the image
    clear = crypto.read_encrypted_file(photo.file_path)
    assert clear.startswith(b"\x89PNG")
    assert b"SpyCam" not in clear and b"eXIf" not in clear
    with Image.open(__import__("io").BytesIO(clear)) as stored:
        assert not stored.getexif()
    face = Face.objects.get(likeness_id=user_body["id"])
    assert len(bytes(face.embedding)) > 128 * 4  # a Fernet token, not the raw vector
    assert crypto.decrypt_embedding(face.embedding).shape == (128,)
    assert (face.engine, face.model) == ("sface", "sface_2021dec_int8bq")


def enroll_bytes(enroll, data: bytes, name: str = "photo.jpg"):
    from rest_framework.test import APIClient

    from tests.factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory(roles=[Role.RIGHTS_HOLDER]))
    response = client.post(
        "/api/v1/likenesses/", {"display_name": "Kit Harington", "photos": [upload(name, data)]}, format="multipart"
    )
    assert response.status_code == 201, response.content
    return response.json()


def post_photos(api_client, user, files, **fields):
    api_client.force_authenticate(user)
    return api_client.post(
        "/api/v1/likenesses/", {"display_name": "Sam Someone", "photos": files, **fields}, format="multipart"
    )


def small_face_photo() -> bytes:
    image = photo_image("obama/obama.jpg")
    return encode(on_canvas(resize(image, 0.12), (900, 700), (400, 300)), "JPEG", quality=95)


BAD_PHOTOS = {
    "not an image": (lambda: b"%PDF-1.4 this is not an image", EnrollmentError.NOT_AN_IMAGE),
    "empty file": (lambda: b"", EnrollmentError.EMPTY_FILE),
    "truncated jpeg": (lambda: photo_bytes("obama/obama.jpg")[:2000], EnrollmentError.NOT_AN_IMAGE),
    "no face": (lambda: encode(gradient(), "PNG"), EnrollmentError.NO_FACE),
    "face too small": (small_face_photo, EnrollmentError.FACE_TOO_SMALL),
    "face too blurred": (
        lambda: encode(blurred(photo_image("obama/obama.jpg"), 6), "JPEG"),
        EnrollmentError.FACE_TOO_BLURRED,
    ),
    "several faces": (lambda: photo_bytes("groups/obama_and_biden_two_people.jpg"), EnrollmentError.SEVERAL_FACES),
}


@pytest.mark.parametrize(("make", "code"), BAD_PHOTOS.values(), ids=BAD_PHOTOS.keys())
def test_bad_photo_is_refused_with_its_reason_and_nothing_is_stored(api_client, make_user, make, code):
    user = make_user(Role.RIGHTS_HOLDER)
    before = stored()

    response = post_photos(
        api_client, user, [upload("good.jpg", photo_bytes("obama/obama.jpg")), upload("bad.jpg", make())]
    )

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == ApiErrorCode.ENROLLMENT_REJECTED
    assert [(p["index"], p["name"], p["code"]) for p in error["photos"]] == [(1, "bad.jpg", code)]
    assert error["photos"][0]["message"]
    assert stored() == before


def test_photos_of_different_people_are_refused(api_client, make_user):
    user = make_user(Role.RIGHTS_HOLDER)
    before = stored()
    files = [
        upload(name, photo_bytes(path))
        for name, path in (("a.jpg", "obama/obama.jpg"), ("b.jpg", "obama/obama2.jpg"), ("c.jpg", "biden/biden.jpg"))
    ]

    response = post_photos(api_client, user, files)

    assert response.status_code == 400
    assert [(p["name"], p["code"]) for p in response.json()["error"]["photos"]] == [
        ("c.jpg", EnrollmentError.DIFFERENT_PEOPLE)
    ]
    assert stored() == before


def test_several_faces_enroll_when_the_request_says_which(api_client, make_user):
    user = make_user(Role.RIGHTS_HOLDER)
    group = "groups/obama_and_biden_two_people.jpg"
    faces = get_engine().analyze(photo_image(group))
    biden_index = min(
        range(len(faces)),
        key=lambda i: get_engine().distance(
            faces[i].embedding, get_engine().analyze(photo_image("biden/biden.jpg"))[0].embedding
        ),
    )

    response = post_photos(api_client, user, [upload("group.jpg", photo_bytes(group))], face_index=[biden_index])

    assert response.status_code == 201, response.content
    matches = image_match(image=photo_image("biden/biden.jpg"))
    assert matches[0].best.likeness_id == response.json()["id"]


def test_a_face_choice_that_does_not_exist_is_refused(api_client, make_user):
    response = post_photos(
        api_client,
        make_user(Role.RIGHTS_HOLDER),
        [upload("group.jpg", photo_bytes("groups/obama_and_biden_two_people.jpg"))],
        face_index=[5],
    )
    assert response.status_code == 400
    assert response.json()["error"]["photos"][0]["code"] == EnrollmentError.FACE_CHOICE_INVALID


BAD_FIELDS = {
    "missing name": ({"display_name": ""}, "display_name"),
    "overlong name": ({"display_name": "n" * 201}, "display_name"),
    "overlong alias": ({"aliases": ["a" * 201]}, "aliases"),
    "unknown subject": ({"subject": "robot"}, "subject"),
    "bad date of death": ({"date_of_death": "yesterday"}, "date_of_death"),
    "overlong jurisdiction": ({"jurisdiction": "j" * 65}, "jurisdiction"),
    "face index not a number": ({"face_index": ["first"]}, "face_index"),
    "face index count differs": ({"face_index": [0, 0]}, "face_index"),
    "date of death for a living person": ({"date_of_death": "2020-01-01"}, "date_of_death"),
}


@pytest.mark.parametrize(("change", "field"), BAD_FIELDS.values(), ids=BAD_FIELDS.keys())
def test_bad_fields_are_refused_and_nothing_is_stored(api_client, make_user, change, field):
    api_client.force_authenticate(make_user(Role.RIGHTS_HOLDER))
    before = stored()
    body = {"display_name": "Sam Someone", "photos": [upload("a.jpg", photo_bytes("obama/obama.jpg"))], **change}

    response = api_client.post("/api/v1/likenesses/", body, format="multipart")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert stored() == before


def test_missing_photos_and_a_string_instead_of_a_file_are_refused(api_client, make_user):
    api_client.force_authenticate(make_user(Role.RIGHTS_HOLDER))
    assert (
        "photos"
        in api_client.post("/api/v1/likenesses/", {"display_name": "X"}, format="multipart").json()["error"]["fields"]
    )
    response = api_client.post("/api/v1/likenesses/", {"display_name": "X", "photos": "not a file"}, format="multipart")
    assert response.status_code == 400
    assert "photos" in response.json()["error"]["fields"]
    assert not Likeness.objects.exists()


def test_too_many_photos_are_refused(api_client, make_user, settings):
    settings.SIGILLO_ENROLL_MAX_PHOTOS = 2
    api_client.force_authenticate(make_user(Role.RIGHTS_HOLDER))
    files = [upload("%d.jpg" % i, photo_bytes("obama/obama.jpg")) for i in range(3)]
    response = api_client.post("/api/v1/likenesses/", {"display_name": "X", "photos": files}, format="multipart")
    assert response.status_code == 400
    assert not Likeness.objects.exists()


def test_creators_cannot_register_likenesses(api_client, make_user):
    api_client.force_authenticate(make_user(Role.CREATOR))
    response = api_client.post(
        "/api/v1/likenesses/",
        {"display_name": "X", "photos": [upload("a.jpg", photo_bytes("obama/obama.jpg"))]},
        format="multipart",
    )
    assert response.status_code == 403
    assert not Likeness.objects.exists()


def test_registering_the_same_face_twice_is_refused(enroll, make_user):
    owner = make_user(Role.RIGHTS_HOLDER)
    enroll("obama/obama.jpg", user=owner)
    before = stored()

    response = enroll("obama/obama2.jpg", user=owner, expect=400)

    assert response.json()["error"]["photos"][0]["code"] == EnrollmentError.ALREADY_REGISTERED
    assert stored() == before


def test_preview_draws_boxes_without_storing_anything(api_client, make_user):
    api_client.force_authenticate(make_user(Role.RIGHTS_HOLDER))
    before = stored()

    response = api_client.post(
        "/api/v1/likenesses/preview/",
        {"photos": [upload("g.jpg", photo_bytes("groups/obama_and_biden_two_people.jpg"))], "face_index": [0]},
        format="multipart",
    )

    assert response.status_code == 200, response.content
    photo = response.json()["photos"][0]
    assert len(photo["faces"]) == 2 and photo["chosen"] == 0
    assert stored() == before


@pytest.mark.django_db
def test_a_registration_when_the_face_engine_cannot_load_is_503_and_stores_nothing(api_client, make_user, settings):
    from consent.faces import clear_engine_cache
    from consent.models import Likeness

    settings.SIGILLO_FACE_ENGINE = "insightface"
    settings.SIGILLO_INSIGHTFACE_MODEL_DIR = "/nonexistent/pack"
    clear_engine_cache()
    api_client.force_authenticate(make_user(Role.RIGHTS_HOLDER))
    try:
        response = api_client.post(
            "/api/v1/likenesses/",
            {
                "display_name": "Kit Harington",
                "photos": [SimpleUploadedFile("kit.jpg", photo_bytes("kit_harington/john1.jpg"))],
            },
            format="multipart",
        )
    finally:
        clear_engine_cache()

    assert response.status_code == 503, response.content
    error = response.json()["error"]
    assert error["code"] == "enrollment_rejected" and [p["code"] for p in error["photos"]] == ["engine_unavailable"]
    assert "/nonexistent" not in response.content.decode()  # the reason stays in the log
    assert not Likeness.objects.exists()
