"""A real browser registers a likeness: the face boxes are drawn before confirming, on the real dlib engine."""

import re

import pytest

from accounts.roles import Role
from consent.models import Face, Likeness, LikenessStatus
from tests.conftest import sign_in
from tests.consent.faces import FACES_DIR

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.once]

DETAIL_URL = re.compile(r"/likenesses/[0-9a-f-]{36}/$")


def relative_box(page, box_selector: str, image_selector: str) -> tuple[float, ...]:
    """Where a drawn box sits on its image, as fractions of the image's displayed size."""
    box = page.locator(box_selector).bounding_box()
    image = page.locator(image_selector).bounding_box()
    return (
        (box["x"] - image["x"]) / image["width"],
        (box["y"] - image["y"]) / image["height"],
        box["width"] / image["width"],
        box["height"] / image["height"],
    )


def test_rights_holder_sees_the_face_box_before_registering_and_after(make_user, page):
    make_user(Role.RIGHTS_HOLDER, username="rita")
    sign_in(page, "rita")

    page.goto("/likenesses/new/")
    page.fill("input[name=display_name]", "Barack Obama")
    page.set_input_files("input[name=photos]", str(FACES_DIR / "obama" / "obama.jpg"))

    boxes = page.locator("#photo-previews [data-testid=face-box]")
    boxes.first.wait_for(state="visible")
    assert boxes.count() == 1
    assert "Face found" in page.locator("#photo-previews .photo-status").inner_text()
    assert page.locator("input[type=hidden][name=face_index]").input_value() == "-1"
    # Drawn where the engine found the face on the 910 × 1137 photo.
    from consent.faces import get_engine, load_image

    found = get_engine().analyze(load_image((FACES_DIR / "obama" / "obama.jpg").read_bytes()))[0].box
    drawn = relative_box(page, "#photo-previews [data-testid=face-box]", "#photo-previews img")
    assert drawn == pytest.approx((found.x / 910, found.y / 1137, found.width / 910, found.height / 1137), abs=0.02)

    page.click("form.enroll button[type=submit]:text('Register')")
    page.wait_for_url(DETAIL_URL)

    assert page.get_by_test_id("status").inner_text() == "Active"
    assert "is registered" in page.locator(".messages").inner_text()
    photo = page.locator("[data-testid=photo] img")
    photo.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    stored_box = page.locator("[data-testid=photo] [data-testid=face-box]")
    assert stored_box.count() == 1 and stored_box.is_visible()
    face = Face.objects.get()
    box = face.box
    drawn = relative_box(page, "[data-testid=photo] [data-testid=face-box]", "[data-testid=photo] img")
    assert drawn == pytest.approx((box["x"] / 910, box["y"] / 1137, box["width"] / 910, box["height"] / 1137), abs=0.02)
    assert face.likeness.status == LikenessStatus.ACTIVE


def test_the_person_clicks_their_face_on_a_group_photo_and_it_enrolls(make_user, page):
    make_user(Role.RIGHTS_HOLDER, username="rita")
    sign_in(page, "rita")

    page.goto("/likenesses/new/")
    page.fill("input[name=display_name]", "Barack Obama")
    page.set_input_files("input[name=photos]", str(FACES_DIR / "groups" / "obama_and_biden_two_people.jpg"))

    boxes = page.locator("#photo-previews [data-testid=face-box]")
    boxes.first.wait_for(state="visible")
    assert boxes.count() == 2
    status = page.locator("#photo-previews .photo-status")
    assert status.get_attribute("data-code") == "several_faces"
    assert "Click the box around the face" in status.inner_text()

    left = min(range(2), key=lambda index: boxes.nth(index).bounding_box()["x"])
    boxes.nth(left).click()
    page.wait_for_function(
        "() => document.querySelector('#photo-previews .photo-status').textContent.includes('highlighted face')"
    )
    chosen = page.locator("#photo-previews [data-testid=face-box].chosen")
    assert chosen.count() == 1
    assert chosen.get_attribute("data-face") == str(left)
    assert page.locator("input[type=hidden][name=face_index]").input_value() == str(left)

    page.click("form.enroll button[type=submit]:text('Register')")
    page.wait_for_url(DETAIL_URL)

    assert page.get_by_test_id("status").inner_text() == "Active"
    assert page.locator("[data-testid=photo] [data-testid=face-box]").count() == 1
    likeness = Likeness.objects.get()
    assert likeness.faces.get().box["x"] < 1126 / 2  # the face on the left
