"""The live selfie check in a real browser: Chromium's fake camera plays a clip built from the
shared photos (Obama looking at the camera, turning to his right, back), MediaRecorder records
it while the page shows the challenge, and the API's verdict comes back on the page."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from accounts.roles import Role
from consent.models import Likeness, LikenessStatus
from tests.conftest import CHROMIUM, sign_in
from tests.consent.test_liveness import framed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.once]


def y4m(path: Path, images: list[Image.Image], fps: int = 8) -> None:
    """Write ``images`` as a raw YUV 4:2:0 video, the format Chromium's fake camera reads."""
    width, height = images[0].size
    with path.open("wb") as out:
        out.write(b"YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n" % (width, height, fps))
        for image in images:
            luma, blue, red = image.convert("YCbCr").split()
            out.write(b"FRAME\n")
            out.write(luma.tobytes())
            out.write(blue.resize((width // 2, height // 2)).tobytes())
            out.write(red.resize((width // 2, height // 2)).tobytes())


@pytest.fixture
def camera_page(live_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from django.db import connections
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("%s is missing: run scripts/ensure-chromium.sh (make test does)" % CHROMIUM)
    looking = framed("obama/obama_small.jpg")
    turned = framed("obama/obama2.jpg")  # turned to his right
    clip = tmp_path / "camera.y4m"
    y4m(clip, [looking] * 16 + [turned] * 8 + [looking] * 8)  # a 4 s loop
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                "--use-file-for-fake-video-capture=%s" % clip,
            ],
        )
        context = browser.new_context(base_url=live_server.url, permissions=["camera"])
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
            connections.close_all()


def test_the_person_records_the_challenge_in_the_browser_and_is_verified(
    camera_page: Any, make_user: Any, settings: Any
) -> None:
    from consent import services
    from consent.enrollment import PhotoInput
    from tests.consent.faces import photo_bytes

    settings.SIGILLO_LIVENESS_REQUIRED = True
    settings.SIGILLO_LIVENESS_STEPS = ("right",)
    settings.SIGILLO_LIVENESS_STEP_COUNT = 1
    owner = make_user(Role.RIGHTS_HOLDER, username="barack")
    likeness = services.likeness_enroll(
        owner=owner, display_name="Barack Obama", photos=[PhotoInput("obama.jpg", photo_bytes("obama/obama.jpg"))]
    ).likeness
    assert likeness.status == LikenessStatus.PENDING_VERIFICATION
    page = camera_page
    sign_in(page, "barack")

    page.goto("/likenesses/%s/" % likeness.pk)
    page.click("[data-testid=verify-link]")
    page.click("[data-testid=liveness-start]")

    page.wait_for_selector("[data-testid=liveness-challenge]:not([hidden])")
    assert len(page.locator("[data-testid=liveness-code]").inner_text()) == 4
    page.wait_for_selector("[data-testid=liveness-instruction]:has-text('Turn your head to your right')")
    result = page.locator("[data-testid=liveness-result]")
    result.wait_for(state="visible", timeout=90_000)
    assert result.get_attribute("data-outcome") == "passed", result.inner_text()
    assert "Verified" in result.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    if os.environ.get("SIGILLO_SCREENSHOT_DIR"):
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(
                path=os.path.join(os.environ["SIGILLO_SCREENSHOT_DIR"], "verify-%d.png" % width), full_page=True
            )
    assert Likeness.objects.get(pk=likeness.pk).status == LikenessStatus.ACTIVE
    owner.refresh_from_db()
    assert owner.verified_at is not None
