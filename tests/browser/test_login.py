"""A real browser signs in through the login page and sees the navigation of its roles."""

import pytest

from accounts.roles import Role
from tests.conftest import sign_in, totp_code, totp_enrol, totp_wrong_code
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.once]


def test_moderator_signs_in_and_sees_moderation_navigation(page, make_user):
    make_user(Role.MODERATOR, username="mona", display_name="Mona")

    sign_in(page, "mona")

    nav = page.get_by_test_id("main-nav")
    assert nav.get_by_role("link", name="Moderation").is_visible()
    assert nav.get_by_role("link", name="Studio").count() == 0
    assert nav.get_by_role("link", name="My likenesses").count() == 0
    assert nav.get_by_role("link", name="Users & roles").count() == 0
    page.click("[data-nav=queue]")
    assert page.locator("h1").inner_text() == "Moderation queue"


def test_creator_signs_in_and_cannot_open_moderation(page, make_user):
    make_user(Role.CREATOR, username="cleo")

    sign_in(page, "cleo")

    assert page.get_by_test_id("main-nav").get_by_role("link", name="Studio").is_visible()
    response = page.goto("/moderation/")
    assert response.status == 403


def test_wrong_password_shows_the_error(page, make_user):
    make_user(username="cleo")

    sign_in(page, "cleo", "not-the-password")

    assert "Please enter a correct username and password" in page.locator("[role=alert]").inner_text()
    assert page.get_by_test_id("main-nav").get_by_role("link").count() == 0


def test_moderator_types_the_code_of_their_app_after_the_password(page, make_user):
    mona = make_user(Role.MODERATOR, username="mona")
    secret, _ = totp_enrol(mona)
    page.goto("/moderation/")
    page.fill("input[name=username]", "mona")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_url("**/accounts/two-factor/")
    assert page.get_by_test_id("main-nav").get_by_role("link").count() == 0  # not signed in yet

    page.fill("input[name=code]", totp_wrong_code(secret))
    page.click("[data-testid=two-factor-form] button[type=submit]")
    assert "not right" in page.locator("[data-field=code]").inner_text()
    page.fill("input[name=code]", totp_code(mona))
    page.click("[data-testid=two-factor-form] button[type=submit]")

    page.wait_for_url("**/moderation/")
    assert page.locator("h1").inner_text() == "Moderation queue"


def test_the_forms_fit_a_phone(page, make_user):
    """At 390 px nothing overflows sideways: the studio's form (whose model list has a long option)
    and the two-factor enrolment a moderator meets after the password."""
    page.set_viewport_size({"width": 390, "height": 900})
    sign_in(page, make_user(Role.CREATOR).username)
    page.goto("/studio/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", make_user(Role.MODERATOR).username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/two-factor/setup/" in page.url
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
