"""A manager opens a round, plans a conversation from it, and the counts move; axe-core
finds nothing serious on the round's pages, in English and in Dutch."""
from datetime import date

import pytest
from playwright.sync_api import expect

from voortgang.extensions import db
from voortgang.models import User
from voortgang.rounds.service import start_round

from .helpers import sign_in
from .test_accessibility import scan


@pytest.fixture
def round_id(app, people):
    hanna = people.add("hanna@example.org", "Hanna", is_admin=True, locale="nl")
    mia = people.add("mia@example.org", "Mia", locale="en")
    people.add("eva@example.org", "Eva", manager=mia, locale="nl")
    people.add("ann@example.org", "Ann", manager=mia)
    with app.test_request_context():
        return start_round(db.session.get(User, hanna.id), name="Spring 2027", starts_on=date(2027, 1, 1),
                           ends_on=date(2027, 3, 31)).id


def test_a_manager_plans_from_the_round_and_the_count_changes(browser, live_server, round_id):
    base = live_server.url
    context, page = sign_in(browser, base, "mia@example.org")
    page.get_by_role("link", name="Plan 2 conversations for round Spring 2027 (until 31 Mar)").click()
    expect(page.locator("h1")).to_contain_text("Round Spring 2027")
    expect(page.locator("#count-to_plan")).to_have_text("2")
    expect(page.locator("#count-planned")).to_have_text("0")
    expect(page.locator("#round-progress-text")).to_have_text("0 of 2 conversations completed (0 %)")
    page.get_by_label("Date and time of the conversation with Eva").fill("2027-02-03T10:00")
    page.get_by_label("Place of the conversation with Eva").fill("Room 4")
    page.get_by_role("button", name="Plan the conversation with Eva").click()
    expect(page.locator("#count-planned")).to_have_text("1")
    expect(page.locator("#count-to_plan")).to_have_text("1")
    expect(page.get_by_role("status")).to_contain_text("Planned: the conversation with Eva")
    expect(page.locator("#round-planned")).to_be_focused()  # keyboard users land on what happened
    expect(page.get_by_label("Date and time of the conversation with Eva")).to_have_count(0)
    # The conversation's page names the round, and leads back to it.
    page.get_by_role("link", name="Open the conversation").click()
    expect(page.locator(".facts")).to_contain_text("Part of round")
    page.get_by_role("link", name="Spring 2027").click()
    expect(page.locator("#count-planned")).to_have_text("1")
    # A date outside the round: the sentence next to the row, the typed place kept.
    page.get_by_label("Date and time of the conversation with Ann").fill("2027-04-02T10:00")
    page.get_by_label("Place of the conversation with Ann").fill("Room 5")
    page.get_by_role("button", name="Plan the conversation with Ann").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose a date within the round")
    expect(page.get_by_label("Place of the conversation with Ann")).to_have_value("Room 5")
    expect(page.get_by_label("Date and time of the conversation with Ann")).to_be_focused()
    expect(page.locator("#count-to_plan")).to_have_text("1")
    assert [e for e in page.errors if "status of 422" not in e] == []  # (the refusal itself)
    context.close()


@pytest.mark.parametrize(("email", "locale", "heading"), [
    ("mia@example.org", "en-GB", "Round Spring 2027"),
    ("hanna@example.org", "nl-NL", "Ronde Spring 2027"),
], ids=["manager-en", "administrator-nl"])
def test_the_round_pages_have_no_serious_accessibility_violations(browser, live_server, round_id, email, locale,
                                                                   heading):
    base = live_server.url
    context, page = sign_in(browser, base, email, locale=locale)
    problems: list[str] = []
    for path in ("/rounds/", "/rounds/new", f"/rounds/{round_id}"):
        page.errors.clear()
        response = page.goto(base + path)
        assert response is not None and response.ok, path
        scan(page, path, problems)
    expect(page.locator("h1")).to_contain_text(heading)
    assert page.locator("html").get_attribute("lang") == locale[:2]
    # With an error shown next to a row (422).
    first = page.locator("form.plan-row").first
    first.locator("input[name=scheduled_at]").fill("2026-01-01T10:00")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        first.locator("button").click()
    assert posted.value.status == 422
    expect(page.get_by_role("alert")).to_be_visible()
    page.errors[:] = [e for e in page.errors if "status of 422" not in e]
    scan(page, f"/rounds/{round_id} (with an error)", problems)
    page.emulate_media(color_scheme="dark")
    page.goto(base + f"/rounds/{round_id}")
    scan(page, f"/rounds/{round_id} (dark)", problems)
    context.close()
    assert not problems, "\n".join(problems)


def test_starting_a_round_and_planning_from_it_work_without_javascript(browser, live_server, round_id):
    base = live_server.url
    context, page = sign_in(browser, base, "mia@example.org", java_script_enabled=False)
    page.goto(base + "/rounds/new")
    page.get_by_label("Name").fill("Team spring")
    page.get_by_label("From").fill("2027-04-01")
    page.get_by_label("Until").fill("2027-05-31")
    page.get_by_role("button", name="Start the round").click()
    expect(page.locator("h1")).to_contain_text("Round Team spring")
    expect(page.locator("#count-to_plan")).to_have_text("2")
    page.get_by_label("Date and time of the conversation with Ann").fill("2027-04-15T09:30")
    page.get_by_role("button", name="Plan the conversation with Ann").click()
    expect(page.locator("#count-planned")).to_have_text("1")
    expect(page.get_by_role("status")).to_contain_text("Planned: the conversation with Ann")
    context.close()
