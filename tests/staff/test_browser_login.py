"""In chromium against the Procfile's gunicorn: signing in, the policy headers, a phone-sized screen."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_sign_in_through_the_form_and_out_again(signed_in_page, screenshot):
    page = signed_in_page("supervisor")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    nav = page.get_by_role("navigation", name="Console")
    assert nav.get_by_role("link", name="Dashboard").is_visible()
    screenshot(page, "home-supervisor")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/staff/login")
    assert page.get_by_text("You are signed out.").is_visible()
