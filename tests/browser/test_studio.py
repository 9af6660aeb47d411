"""A real browser in the studio: request an image with a consented cameo and watch it be released."""

import re

import pytest

from generation.models import Generation
from tests.conftest import sign_in
from tests.consent.faces import photo_path

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker, pytest.mark.once]

DETAIL_URL = re.compile(r"/studio/generations/[0-9a-f-]{36}/$")


def test_creator_casts_a_cameo_by_handle_with_a_reference_and_watches_it_released(
    registry, celery_worker_process, page
):
    sign_in(page, registry.creator.username)

    page.goto("/studio/")
    assert page.get_by_test_id("cameo").count() == 1  # Kit; not Rose, not Obama
    page.fill("textarea[name=prompt]", "a portrait in a sunny garden")
    page.click("[data-testid=mention]")  # inserts @kit_harington at the caret
    assert page.input_value("textarea[name=prompt]") == "a portrait in a sunny garden @kit_harington "
    page.check("input[name=kind][value=image]")
    page.select_option("select[name=use]", "personal")
    page.set_input_files("input[name=reference]", str(photo_path("kit_harington/johnsnow_test1.jpg")))
    page.click("form[data-testid=studio-form] button[type=submit]")
    page.wait_for_url(DETAIL_URL)
    url = page.url

    status = page.get_by_test_id("status")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=status]').dataset.status === 'released'", timeout=120_000
    )
    assert status.inner_text() == "Released"
    assert page.get_by_test_id("cameos").inner_text() == "Kit Harington"
    assert page.url == url  # updated in place, no reload
    image = page.locator("[data-testid=output] img[data-testid=output-media]")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    generation = Generation.objects.get()
    assert generation.status == Generation.Status.RELEASED
    assert generation.cameos == [str(registry.kit.pk)]  # cast by the mention
    assert generation.reference_path and generation.model_prompt.endswith("Kit Harington")
    assert image.get_attribute("src") == "/api/v1/generations/%s/output/" % generation.pk
    assert page.get_by_test_id("download").get_attribute("href") == image.get_attribute("src")

    page.goto("/studio/")
    assert page.get_by_test_id("gallery-item").count() == 1
    assert page.locator("[data-testid=gallery] [data-testid=download]").count() == 1
