"""CSRF: every state-changing route refuses a request without a valid token or from another site;
no GET changes state."""
import re

from sqlalchemy import func, select

from voortgang.auth.service import create_setup_token
from voortgang.extensions import db
from voortgang.models import (
    Agreement, Answer, AuditEvent, Conversation, LoginFailure, Presence, Setting, TalkingPoint, User,
)

from .helpers import planned

IDS = {"conversation_id": 1, "question_id": 1, "point_id": 1, "agreement_id": 1, "token": "x", "phase": "looking_back"}


def state_changing_rules(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            yield rule, method


def fill(rule, ids):
    """The rule's path with every variable filled in (ids not named in `ids` become 1)."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(ids.get(m.group(1), 1)), rule.rule)


def url_for_rule(rule):
    return fill(rule, IDS)


def token_of(html):
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def csrf_on(app):
    """Switch CSRF protection on (the test clients signed in before, without a token)."""
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def test_every_state_changing_route_refuses_a_missing_token(app, team, login_as):
    client = login_as(team.mia)
    csrf_app = csrf_on(app)
    rules = list(state_changing_rules(csrf_app))
    assert len(rules) >= 15
    for rule, method in rules:
        response = client.open(url_for_rule(rule), method=method, data={"body": "x", "version": "0"})
        assert response.status_code == 400, (rule.rule, response.status_code)
        bad = client.open(url_for_rule(rule), method=method, data={"csrf_token": "forged"},
                          headers={"X-CSRFToken": "forged"})
        assert bad.status_code == 400, rule.rule


def test_token_from_another_session_is_refused(app, team, login_as):
    eva, mia = login_as(team.eva), login_as(team.mia)
    csrf_on(app)
    cid = planned(mia, team.eva, csrf_token=token_of(mia.get("/").get_data(as_text=True)))
    stolen = token_of(mia.get("/").get_data(as_text=True))
    response = eva.post(f"/conversations/{cid}/talking-points", data={"phase": "looking_back", "text": "x"},
                        headers={"X-CSRFToken": stolen})
    assert response.status_code == 400


def test_cross_site_referer_over_https_is_refused(app, team, login_as):
    mia = login_as(team.mia)
    csrf_on(app)
    base = "https://localhost"  # the test client keeps its cookies for localhost
    token = token_of(mia.get("/", base_url=base).get_data(as_text=True))
    cid = planned(mia, team.eva, csrf_token=token)
    url = f"/conversations/{cid}/talking-points"
    data = {"phase": "looking_back", "text": "x"}
    assert mia.post(url, data=data, base_url=base, headers={"X-CSRFToken": token,
                    "Referer": "https://evil.example/page"}).status_code == 400
    assert mia.post(url, data=data, base_url=base, headers={"X-CSRFToken": token}).status_code == 400  # no Referer
    ok = mia.post(url, data=data, base_url=base, headers={"X-CSRFToken": token,
                  "Referer": f"{base}/conversations/{cid}"})
    assert ok.status_code == 303


def test_csrf_token_lasts_the_whole_session(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None


def snapshot(app):
    with app.app_context():
        counts = tuple(db.session.scalar(select(func.count()).select_from(m)) for m in
                       (User, Conversation, Answer, TalkingPoint, Agreement, AuditEvent, LoginFailure, Setting, Presence))
        revisions = tuple(db.session.scalars(select(Conversation.revision).order_by(Conversation.id)))
        users = tuple(db.session.execute(select(User.id, User.locale, User.session_token, User.password_hash)).all())
    return counts, revisions, users


def test_no_get_changes_state(app, team, login_as, client):
    mia = login_as(team.mia)
    cid = planned(mia, team.eva)
    with app.app_context():
        token = create_setup_token() or "none"
    before = snapshot(app)
    ids = {**IDS, "conversation_id": cid, "token": token}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        path = fill(rule, ids)
        for who in (mia, client, login_as(team.eva), login_as(team.admin)):
            assert who.get(path).status_code < 500, path
    assert snapshot(app) == before
