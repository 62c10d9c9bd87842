"""Helpers shared by the browser tests."""
import re

from playwright.sync_api import expect

from ..conftest import PASSWORD


def sign_in(browser, base, email, locale="en-GB", password=PASSWORD, **context_options):
    """A new browser context signed in through the real form; page.errors collects console errors."""
    context = browser.new_context(locale=locale, **context_options)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_be_visible()
    page.errors = errors
    return context, page


def wait_saved(page, question_id):
    expect(page.locator(f"#answer-{question_id}-state")).to_contain_text(re.compile(r"Saved|Opgeslagen"))
