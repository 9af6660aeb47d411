"""A moderator in a real browser reviews two gate checks: sees the face found, approves one, rejects the other."""

import re

import pytest

from moderation.gate import MediaInput, gate_check
from moderation.models import Decision, Flag
from moderation.reasons import ReasonCode, Verdict
from tests.browser.test_enroll import relative_box
from tests.conftest import sign_in
from tests.consent.faces import photo_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.once]

FLAG_URL = re.compile(r"/moderation/flags/[0-9a-f-]{36}/$")
QUEUE_URL = re.compile(r"/moderation/$")
BOX = "[data-testid=evidence-image] [data-testid=face-box]"


def check_going_to_review(requester, prompt: str) -> Decision:
    decision = gate_check(
        requester=requester, prompt=prompt, media=[MediaInput("ref.png", photo_bytes("alex_lacamoire/img1.jpg"))]
    )
    assert decision.verdict == Verdict.REVIEW
    return decision


def open_first_flag(page) -> None:
    page.goto("/moderation/")
    page.locator("[data-testid=flag-row] a").first.click()
    page.wait_for_url(FLAG_URL)


def test_moderator_approves_one_review_and_rejects_another(registry, page):
    first = check_going_to_review(registry.creator, "a portrait")
    second = check_going_to_review(registry.creator, "a portrait in oils")
    sign_in(page, "mod")

    open_first_flag(page)
    assert page.url.endswith("/moderation/flags/%s/" % first.flags.get().pk)
    image = page.locator("[data-testid=evidence-image] img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    box = page.locator(BOX)
    assert box.count() == 1 and box.is_visible()
    assert "unknown_face" in box.inner_text()
    found = next(reason for reason in first.reasons if reason["code"] == ReasonCode.UNKNOWN_FACE)
    evidence = next(item["evidence"] for item in first.media if "evidence" in item)[0]
    expected = tuple(
        found["box"][key] / evidence[size]
        for key, size in (("x", "width"), ("y", "height"), ("width", "width"), ("height", "height"))
    )
    assert relative_box(page, BOX, "[data-testid=evidence-image] img") == pytest.approx(expected, abs=0.02)

    page.click("button[name=decision][value=approve]")
    page.wait_for_load_state()
    assert "a note is required" in page.locator("[data-field=note]").inner_text()
    assert Flag.objects.get(gate_decision=first).status == Flag.Status.OPEN
    page.fill("textarea[name=note]", "An adult stock photo; nobody registered.")
    page.click("button[name=decision][value=approve]")
    page.wait_for_url(QUEUE_URL)
    assert "Flag decided: approve." in page.locator(".messages").inner_text()

    open_first_flag(page)
    assert page.url.endswith("/moderation/flags/%s/" % second.flags.get().pk)
    page.fill("textarea[name=note]", "Looks like a real person who has not consented.")
    page.click("button[name=decision][value=reject]")
    page.wait_for_url(QUEUE_URL)
    assert "Flag decided: reject." in page.locator(".messages").inner_text()
    assert page.locator("[data-testid=flag-row]").count() == 0

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.effective_verdict == Verdict.ALLOW
    assert second.effective_verdict == Verdict.BLOCK


@pytest.mark.parametrize("width", [1280, 390])
def test_a_face_followed_across_a_reference_video_is_one_line_with_its_frames(registry, page, width):
    """The evidence of a video: one reason per face on screen, saying across how many frames and when."""
    import os

    from PIL import Image

    from tests.consent.faces import photo_image
    from tests.generation.test_scan import make_video

    face = photo_image("alex_lacamoire/img1.jpg").resize((320, 440))
    blank = Image.new("RGB", (320, 440), (50, 60, 70))
    data = make_video([blank] * 4 + [face] * 8 + [blank] * 4, fps=8)  # the face from 0.5 s to 1.5 s
    decision = gate_check(requester=registry.creator, prompt="a portrait", media=[MediaInput("ref.mp4", data)])
    [unknown] = [reason for reason in decision.reasons if reason["code"] == ReasonCode.UNKNOWN_FACE]
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "mod")

    page.goto("/moderation/flags/%s/" % decision.flags.get().pk)

    line = page.get_by_text("one face followed across %d frames" % len(unknown["frames"]))
    assert line.is_visible()
    assert "%.2f" % unknown["times"][0] in line.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # nothing overflows
    # The face is boxed, with its reason, on every frame of the evidence it is in, not only the nearest.
    assert page.locator(BOX).count() == len([frame for frame in unknown["frames"] if frame is not None]) >= 4
    if os.environ.get("SIGILLO_SCREENSHOT_DIR"):
        page.screenshot(
            path=os.path.join(os.environ["SIGILLO_SCREENSHOT_DIR"], "flag-video-%d.png" % width), full_page=True
        )
