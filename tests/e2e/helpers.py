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


def plan_in_browser(page, base, employee_name=None, place="", purpose=""):
    """Plan a conversation through the form at /conversations/new; return its id once the
    new page has loaded (htmx ready before anyone types)."""
    page.goto(base + "/conversations/new")
    if employee_name:
        page.get_by_label("Employee").select_option(label=employee_name)
    page.get_by_label("Date and time").fill("2026-12-01T10:00")
    if place:
        page.get_by_label("Place").fill(place)
    if purpose:
        page.get_by_label("Purpose").fill(purpose)
    page.get_by_role("button", name="Plan").click()
    page.wait_for_url(re.compile(r"/conversations/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def first_question_id(page):
    """The id of the first question the page shows an own answer field for."""
    return int(page.locator("form.answer-form:not(.preparation-form) textarea[data-autosave]").first.get_attribute("id").split("-")[1])
