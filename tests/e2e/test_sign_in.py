"""Signing in through the real page in a real browser, in Dutch and in English."""
import re

import pytest
from playwright.sync_api import expect

from ..conftest import PASSWORD


@pytest.mark.parametrize(
    ("browser_locale", "labels"),
    [
        ("nl-NL", {"email": "E-mailadres", "password": "Wachtwoord", "submit": "Inloggen",
                   "welcome": "Welkom, Eva", "out": "Uitloggen", "signed_out": "Je bent uitgelogd."}),
        ("en-GB", {"email": "Email address", "password": "Password", "submit": "Sign in",
                   "welcome": "Welcome, Eva", "out": "Sign out", "signed_out": "You are signed out."}),
    ],
)
def test_sign_in_and_out(browser, live_server, people, browser_locale, labels):
    people.add("eva@example.org", "Eva", locale=None)
    context = browser.new_context(locale=browser_locale)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)$"))
    page.get_by_label(labels["email"]).fill("eva@example.org")
    page.get_by_label(labels["password"], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=labels["submit"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(labels["welcome"])
    page.get_by_role("button", name=labels["out"]).click()
    expect(page.get_by_text(labels["signed_out"])).to_be_visible()
    assert errors == []  # no CSP violation or script error
    context.close()


def test_language_switch_in_the_header(browser, live_server, people):
    people.add("eva@example.org", "Eva", locale="en")
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(live_server.url + "/login")
    page.get_by_label("Email address").fill("eva@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Nederlands").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom, Eva")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    context.close()
