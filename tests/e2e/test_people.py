"""The administrator adds a person and copies the invitation link; the person sets a
password in their own browser and signs in."""
import re

from playwright.sync_api import expect

from .helpers import sign_in


def test_admin_adds_a_person_who_sets_a_password_and_signs_in(browser, live_server, people):
    people.add("hanna@example.org", "Hanna", is_admin=True, locale="en")
    people.add("mia@example.org", "Mia", locale="en")
    base = live_server.url

    admin_ctx, admin = sign_in(browser, base, "hanna@example.org",
                               permissions=["clipboard-read", "clipboard-write"])
    admin.get_by_role("link", name="People").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("People")

    # Searching narrows the list in place (htmx), without leaving the page.
    admin.get_by_label("Search by name or email address").fill("mia")
    expect(admin.locator("#people-list")).to_contain_text("1 found for “mia”")
    expect(admin.locator("#people-list")).not_to_contain_text("Hanna")

    admin.get_by_role("link", name="Add a person").click()
    admin.get_by_label("Name").fill("Noor de Vries")
    admin.get_by_label("Email address").fill("noor@example.org")
    admin.get_by_label("Manager").select_option(label="Mia (mia@example.org)")
    admin.get_by_label("Language").select_option("en")
    admin.get_by_role("button", name="Add").click()

    expect(admin.get_by_text("Noor de Vries has been added.")).to_be_visible()
    link_field = admin.get_by_role("textbox", name="Password link")
    expect(link_field).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/password/"))
    link = link_field.input_value()

    admin.get_by_role("button", name="Copy link").click()
    expect(admin.locator("#password-link-state")).to_have_text("Copied")
    assert admin.evaluate("navigator.clipboard.readText()") == link
    assert admin.errors == []  # no CSP violation or script error

    # Noor, in a browser of her own.
    noor_ctx = browser.new_context(locale="en-GB")
    noor = noor_ctx.new_page()
    noor.goto(link)
    expect(noor.get_by_role("heading", level=1)).to_have_text("Set your password")
    noor.get_by_label("New password").fill("password123")
    noor.get_by_label("Repeat the password").fill("password123")
    noor.get_by_role("button", name="Set password").click()
    expect(noor.get_by_text("This is one of the most common passwords.")).to_be_visible()
    noor.get_by_label("New password").fill("tulips along the canal")
    noor.get_by_label("Repeat the password").fill("tulips along the canal")
    noor.get_by_role("button", name="Set password").click()
    expect(noor.get_by_role("heading", level=1)).to_have_text("Welcome, Noor de Vries")
    noor.get_by_role("button", name="Sign out").click()

    noor.get_by_label("Email address").fill("noor@example.org")
    noor.get_by_label("Password", exact=True).fill("tulips along the canal")
    noor.get_by_role("button", name="Sign in").click()
    expect(noor.get_by_role("heading", level=1)).to_have_text("Welcome, Noor de Vries")

    # The link worked once.
    noor.goto(link)
    expect(noor.get_by_role("heading", level=1)).to_have_text("This link is not valid")
    noor_ctx.close()
    admin_ctx.close()


def test_people_pages_have_no_serious_accessibility_violations(browser, live_server, people):
    from axe_playwright_python.sync_playwright import Axe

    people.add("hanna@example.org", "Hanna", is_admin=True, locale="en")
    mia = people.add("mia@example.org", "Mia", locale="en")
    eva = people.add("eva@example.org", "Eva", manager=mia, locale="nl")
    base = live_server.url
    context, page = sign_in(browser, base, "hanna@example.org")
    axe, problems = Axe(), []

    def check(url=None):
        if url:
            page.goto(base + url)
        page.wait_for_load_state("load")
        # A refused form answers 422 on purpose; Chromium logs that as a failed load.
        problems.extend(f"{page.url}: {error}" for error in page.errors if "status of 422" not in error)
        page.errors.clear()
        for violation in axe.run(page).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                problems.append(f"{page.url}: {violation['id']} {violation['help']}")

    for url in ("/admin/people/", "/admin/people/new", f"/admin/people/{eva.id}", "/admin/people/import", "/profile"):
        check(url)
    page.goto(f"{base}/admin/people/{eva.id}")
    page.get_by_role("button", name="Make a password link").click()
    check()
    page.goto(base + "/admin/people/import")
    page.get_by_label("Or paste the text of the file").fill("email,name,manager email,language\n"
                                                           "eva@example.org,Eva,,xx\nnew@example.org,New,,\n")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_text("Rows with problems: 1 of 2.")).to_be_visible()
    check()
    page.goto(base + "/admin/people/new")
    page.get_by_role("button", name="Add").click()  # empty: errors on the fields
    check()
    context.close()
    anonymous = browser.new_context(locale="en-GB").new_page()
    anonymous.errors = []
    anonymous.on("console", lambda msg: anonymous.errors.append(msg.text) if msg.type == "error" else None)
    page = anonymous
    check("/forgot-password")
    assert problems == []
