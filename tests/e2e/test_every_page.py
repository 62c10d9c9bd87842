"""Every page of the app, in a real browser, as each kind of person: no CSP violation, no script error."""
from voortgang.demo import fill_demo

from ..helpers import page_paths


def test_every_page_without_console_errors(browser, live_server, app):
    with app.app_context():
        accounts = {email: password for _name, email, password, _role in fill_demo()}
    failures = []
    for email in ("hanna@demo.example", "mia@demo.example", "eva@demo.example"):
        context = browser.new_context(locale="nl-NL" if email != "mia@demo.example" else "en-GB")
        page = context.new_page()
        errors = []
        page.on("console", lambda msg, errors=errors: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        page.goto(live_server.url + "/login")
        page.locator("#email").fill(email)
        page.locator("#password").fill(accounts[email])
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(live_server.url + "/")
        paths = page_paths(app, email)
        assert len(paths) >= 8
        for path in paths:
            errors.clear()
            response = page.goto(live_server.url + path)
            page.wait_for_load_state("load")
            if response.status >= 400 or errors:
                failures.append((email, path, response.status, list(errors)))
        context.close()
    assert failures == []
