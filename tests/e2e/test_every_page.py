"""Every page of the app, in a real browser, as each kind of person: no CSP violation, no script error."""
import re

from sqlalchemy import select

from voortgang.demo import fill_demo
from voortgang.extensions import db
from voortgang.models import Conversation, Template, User

NOT_PAGES = (".json", ".csv", ".ics", "/healthz", "/updates", "/static/")


def page_paths(app, viewer_email):
    """Every GET page of the url map, with ids the viewer may see filled in."""
    with app.app_context():
        viewer = db.session.scalar(select(User).where(User.email == viewer_email))
        conversations = [c.id for c in db.session.scalars(select(Conversation)) if viewer.id in (c.employee_id, c.manager_id)
                         or (viewer.is_admin and c.status == "completed")]
        ids = {"conversation_id": conversations[0], "person_id": viewer.id, "user_id": viewer.id,
               "template_id": db.session.scalar(select(Template.id)), "phase": "agreements"}
        has_team = db.session.scalar(select(User.id).where(User.manager_id == viewer.id).limit(1)) is not None
    paths = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if any(part in rule.rule for part in ("<token>", "<int:question_id>", "<int:point_id>", "<int:agreement_id>")):
            continue
        if rule.rule.startswith("/admin") and not viewer.is_admin:
            continue
        if rule.rule.startswith("/overview") and not (viewer.is_admin or has_team):
            continue  # 404 for them, tested elsewhere
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(ids[m.group(1)]), rule.rule)
        if not any(part in path for part in NOT_PAGES):
            paths.add(path)
    for cid in conversations:
        for phase in ("looking_back", "looking_forward", "agreements"):
            paths.add(f"/conversations/{cid}/phases/{phase}")
    return sorted(paths)


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
