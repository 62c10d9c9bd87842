"""The live view through the app: the poll endpoint, presence, and its cost."""
import re
from contextlib import contextmanager

import pytest
from voortgang.database import writing

from .conftest import PASSWORD
from .helpers import HX, counting_statements, planned, question_ids, save


@pytest.fixture
def cid(team, login_as):
    return planned(login_as(team.mia), team.eva)


def live_state(client, cid):
    """What the conversation page would poll with: the other side's change count and the revision."""
    page = client.get(f"/conversations/{cid}").get_data(as_text=True)
    since = re.search(r'id="live-revision" name="since" value="(\d+)"', page).group(1)
    seen = re.search(r'id="live-seen" name="seen" value="(\d+)"', page).group(1)
    status = re.search(r'id="live-status" name="status" value="([a-z_]+)"', page).group(1)
    progress = re.search(r'id="live-progress" name="progress" value="([0-9.-]+)"', page).group(1)
    return {"since": since, "seen": seen, "status": status, "progress": progress}


def poll(client, cid, state, phase="looking_back", presence=""):
    return client.get(f"/conversations/{cid}/updates",
                      query_string={**state, "phase": phase, "presence": presence}, headers=HX)


def test_unchanged_poll_answers_204(app, team, login_as, cid):
    eva = login_as(team.eva)
    response = poll(eva, cid, live_state(eva, cid))
    assert response.status_code == 204 and response.data == b""
    # The person's own changes are already on their page: still nothing to fetch.
    state = live_state(eva, cid)
    save(eva, cid, question_ids(app, cid)[0], "Mijn eigen antwoord", 0)
    assert poll(eva, cid, state).status_code == 204


def test_changed_poll_carries_the_other_participants_answer_out_of_band(app, team, login_as, cid):
    eva, mia = login_as(team.eva), login_as(team.mia)
    since = live_state(eva, cid)
    qid = question_ids(app, cid)[0]
    save(mia, cid, qid, "Mia typed this", 0)
    save(eva, cid, question_ids(app, cid)[1], "Eva's own text", 0)
    response = poll(eva, cid, since)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body
    assert f'id="answer-{qid}-manager" hx-swap-oob="true"' in body and "Mia typed this" in body
    # Never this person's own answers.
    assert "Eva&#39;s own text" not in body and "Eva's own text" not in body
    assert 'data-autosave' not in body
    # The new revision comes last, and a polite summary for screen readers.
    assert body.rstrip().endswith("</div>") and body.rfind('id="live-state"') > body.rfind("answer-")
    assert f'name="since" value="{live_state(eva, cid)["since"]}"' in body
    assert "Mia heeft een antwoord gewijzigd." in body  # Eva reads Dutch
    # Up to date again: 204.
    assert poll(eva, cid, live_state(eva, cid)).status_code == 204


def test_poll_refused_for_anyone_but_the_participants(team, login_as, cid, client):
    for person in (team.tom, team.max, team.admin):
        assert poll(login_as(person), cid, {"since": 0, "seen": 1}).status_code == 404
    assert client.get(f"/conversations/{cid}/updates?since=1").status_code == 302


def test_presence_shows_the_other_participant_and_fades(app, team, login_as, cid, monkeypatch):
    eva, mia = login_as(team.eva), login_as(team.mia)
    since = live_state(eva, cid)
    assert mia.post(f"/conversations/{cid}/presence", data={"phase": "looking_forward"}).status_code == 204
    response = poll(eva, cid, since)  # presence changed from "" to looking_forward
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Mia is hier, in fase 2: Vooruitkijken" in body
    assert 'name="presence" value="looking_forward"' in body
    assert poll(eva, cid, since, presence="looking_forward").status_code == 204

    # Mia leaves: the presence fades.
    mia.post(f"/conversations/{cid}/presence", data={"left": "1"})
    body = poll(eva, cid, since, presence="looking_forward").get_data(as_text=True)
    assert "Mia is nu niet op deze pagina" in body
    # Or stops sending heartbeats: after the timeout she counts as gone.
    mia.post(f"/conversations/{cid}/presence", data={"phase": "agreements"})
    from voortgang.conversations import live_state as queries
    monkeypatch.setattr(queries, "PRESENCE_TIMEOUT", queries.PRESENCE_TIMEOUT * 0 - queries.PRESENCE_TIMEOUT)
    assert poll(eva, cid, since, presence="").status_code == 204


def test_presence_refused_for_others(team, login_as, cid):
    assert login_as(team.tom).post(f"/conversations/{cid}/presence", data={"phase": "looking_back"}).status_code == 404
    assert login_as(team.admin).post(f"/conversations/{cid}/presence", data={"phase": "looking_back"}).status_code == 404


def test_idle_poll_runs_at_most_two_sql_statements(app, team, login_as, cid):
    eva = login_as(team.eva)
    since = live_state(eva, cid)
    with counting_statements(app) as statements:
        response = poll(eva, cid, since)
    assert response.status_code == 204
    assert len(statements) <= 2, statements
    # In a settled session the quick path answers: one statement, the session cookie untouched.
    with counting_statements(app) as statements:
        response = poll(eva, cid, since)
    assert response.status_code == 204 and "Set-Cookie" not in response.headers
    assert len(statements) == 1, statements
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


@contextmanager
def full_path_only(app):
    """Serve polls without the quick idle-poll path, as the view alone would."""
    from voortgang.conversations.live import answer_idle_poll

    funcs = app.before_request_funcs[None]
    index = funcs.index(answer_idle_poll)
    funcs.remove(answer_idle_poll)
    try:
        yield
    finally:
        funcs.insert(index, answer_idle_poll)


def twin(app, client):
    """A second browser with the same cookies."""
    other = app.test_client()
    for name in ("voortgang_session", "voortgang_remember"):
        cookie = client.get_cookie(name)
        if cookie is not None:
            other.set_cookie(name, cookie.value)
    return other


def _session(client, **changes):
    with client.session_transaction() as session:
        for key, delta in changes.items():
            session[key] -= delta


# scenario: (what happens after the page's last poll, the status both paths must answer)
SCENARIOS = {
    "idle": (lambda ctx: None, 204),
    "other saved": (lambda ctx: save(ctx.mia, ctx.cid, ctx.qid, "Mia", 0), 200),
    "other came in": (lambda ctx: ctx.mia.post(f"/conversations/{ctx.cid}/presence", data={"phase": "agreements"}),
                      200),
    "signed out elsewhere": (lambda ctx: ctx.other_device.post("/logout"), 401),
    "deactivated": (lambda ctx: ctx.deactivate(), 401),
    "idle too long": (lambda ctx: _session(ctx.eva, seen_at=ctx.app.config["SESSION_IDLE_MINUTES"] * 60 + 1), 401),
    "lifetime over": (lambda ctx: _session(ctx.eva, signed_in_at=ctx.app.config["SESSION_ABSOLUTE_HOURS"] * 3600 + 1),
                      401),
    "idle clock due": (lambda ctx: _session(ctx.eva, seen_at=61), 204),
    "another browser": (lambda ctx: ctx.headers.update({"User-Agent": "Another browser/1.0"}), 204),
    "wrong since": (lambda ctx: ctx.state.update(since="7"), 200),
    "garbage since": (lambda ctx: ctx.state.update(since="x"), 200),
    "not a participant": (lambda ctx: setattr(ctx, "eva", ctx.login_as(ctx.team.tom)), 404),
    "remembered only": (lambda ctx: setattr(ctx, "eva", ctx.remembered()), 204),
}
CSRF_VALUE = re.compile(r'(csrf[-_]token"[^>]*(?:value|content)=")[^"]+')


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_quick_idle_poll_answers_exactly_as_the_full_view(app, team, login_as, cid, scenario):
    """The quick path may only answer 204 where the view would, and leave the rest to it."""
    from types import SimpleNamespace

    from voortgang.models import User
    from voortgang.extensions import db

    def deactivate():
        with app.app_context(), writing():
            db.session.get(User, team.eva.id).active = False

    def remembered():
        client = app.test_client()
        assert client.post("/login", data={"email": team.eva.email, "password": PASSWORD,
                                            "remember": "y"}).status_code == 303
        only = app.test_client()
        only.set_cookie("voortgang_remember", client.get_cookie("voortgang_remember").value)
        return only

    eva = login_as(team.eva)
    ctx = SimpleNamespace(app=app, team=team, cid=cid, qid=question_ids(app, cid)[0], eva=eva,
                          mia=login_as(team.mia), other_device=login_as(team.eva), login_as=login_as,
                          deactivate=deactivate, remembered=remembered, headers={},
                          state=live_state(eva, cid))
    poll(eva, cid, ctx.state)  # settle the session as a page does
    change, expected = SCENARIOS[scenario]
    change(ctx)
    other = twin(app, ctx.eva)  # the same cookies, before either request changes them
    quick = ctx.eva.get(f"/conversations/{cid}/updates", headers={**HX, **ctx.headers},
                        query_string={**ctx.state, "phase": "looking_back", "presence": ""})
    with full_path_only(app):
        full = other.get(f"/conversations/{cid}/updates", headers={**HX, **ctx.headers},
                         query_string={**ctx.state, "phase": "looking_back", "presence": ""})
    assert quick.status_code == full.status_code == expected
    assert CSRF_VALUE.sub(r"\1", quick.get_data(as_text=True)) == CSRF_VALUE.sub(r"\1", full.get_data(as_text=True))
    assert ("Set-Cookie" in quick.headers) == ("Set-Cookie" in full.headers)


def test_completed_conversation_does_not_poll(app, team, login_as, cid):
    eva, mia = login_as(team.eva), login_as(team.mia)
    mia.post(f"/conversations/{cid}/next-evaluation", data={"next_evaluation": "2027-06-01"})
    mia.post(f"/conversations/{cid}/propose-close")
    since = live_state(eva, cid)
    eva.post(f"/conversations/{cid}/sign")
    mia.post(f"/conversations/{cid}/sign")
    body = poll(eva, cid, since).get_data(as_text=True)
    assert '<div id="live" hx-swap-oob="delete"></div>' in body  # the poller removes itself
    page = eva.get(f"/conversations/{cid}").get_data(as_text=True)
    assert 'id="live"' not in page


def test_changed_poll_carries_only_what_the_other_changed(app, team, login_as, cid):
    eva, mia = login_as(team.eva), login_as(team.mia)
    first, second = question_ids(app, cid)[:2]
    save(mia, cid, first, "Eerste", 0)  # planned → in progress
    state = live_state(eva, cid)
    save(mia, cid, second, "Tweede", 0)
    body = poll(eva, cid, state).get_data(as_text=True)
    assert f'id="answer-{second}-manager"' in body and f'id="answer-{first}-manager"' not in body
    assert 'id="talking-points-looking_back-list"' not in body and 'id="status"' not in body
    state = live_state(eva, cid)
    mia.post(f"/conversations/{cid}/talking-points", data={"phase": "looking_back", "text": "Punt"})
    body = poll(eva, cid, state).get_data(as_text=True)
    assert 'id="talking-points-looking_back-list"' in body and "Punt" in body
    assert 'id="answer-' not in body
    state = live_state(eva, cid)
    mia.post(f"/conversations/{cid}/next-evaluation", data={"next_evaluation": "2027-06-01"})
    mia.post(f"/conversations/{cid}/propose-close")
    body = poll(eva, cid, state).get_data(as_text=True)
    assert 'id="status"' in body and "Wacht op ondertekening" in body


def test_first_change_moves_the_status_on_the_other_page(app, team, login_as, cid):
    eva, mia = login_as(team.eva), login_as(team.mia)
    state = live_state(eva, cid)
    save(mia, cid, question_ids(app, cid)[0], "Begin", 0)
    body = poll(eva, cid, {**state, "status": "planned"}).get_data(as_text=True)
    assert 'id="status"' in body and "Bezig" in body


def test_answers_only_poll_sends_the_same_answers_as_the_full_reply_and_the_stepper_when_counts_move(
        app, team, login_as, cid):
    eva, mia = login_as(team.eva), login_as(team.mia)
    first, second = question_ids(app, cid, "looking_back")[:2]
    save(mia, cid, first, "Eerste versie", 0)  # planned → in progress, a question answered
    state = live_state(eva, cid)
    save(mia, cid, first, "Tweede versie", 1)  # only the text changes: the counts stay
    with counting_statements(app) as statements:
        quick = poll(eva, cid, state)
    body = quick.get_data(as_text=True)
    assert quick.status_code == 200 and "Tweede versie" in body
    assert 'id="stepper"' not in body and 'id="answer-' + str(second) not in body
    assert "Mia heeft een antwoord gewijzigd." in body
    assert len(statements) <= 6, statements
    # A page whose counts differ gets the stepper and the same answer fragment.
    full = poll(eva, cid, {**state, "progress": "old"}).get_data(as_text=True)
    assert 'id="stepper"' in full

    def fragment(html):
        return re.search(rf'<div class="answer-read" id="answer-{first}-manager".*?</div>', html, re.S).group(0)

    assert fragment(body) == fragment(full)
    # An answer emptied or filled moves the counts: the stepper comes along by itself.
    state = live_state(eva, cid)
    save(mia, cid, second, "Nu ook deze", 0)
    body = poll(eva, cid, state).get_data(as_text=True)
    assert 'id="stepper"' in body and "Nu ook deze" in body
    assert "Mia: 2 van" in body or "Mia: 2 of" in body



# The last element of a reply to a poll: the new state, or the poller deleted.
REPLY_END = re.compile(r'<div id="(live-state|live)" hx-swap-oob="(?:true|delete)">(?:(?!<div).)*?</div>\s*$', re.S)


def test_every_reply_ends_with_its_new_state_and_carries_it_once(app, team, login_as, cid):
    """app.js keeps the page's state when it skipped a piece of the reply: that works only
    because every piece comes before the state, which live.reply appends after them."""
    eva, mia = login_as(team.eva), login_as(team.mia)
    first, second = question_ids(app, cid)[:2]

    def reply_end(change, state=None, **extra):
        state = state or live_state(eva, cid)
        change()
        body = poll(eva, cid, state, **extra).get_data(as_text=True)
        assert "<div" in body and REPLY_END.search(body), body[-300:]
        assert body.count('id="live-state"') + body.count('id="live" ') == 1, body
        return REPLY_END.search(body).group(1)

    assert reply_end(lambda: save(mia, cid, first, "Eerste", 0)) == "live-state"  # the status moves too
    assert reply_end(lambda: save(mia, cid, first, "Tweede", 1)) == "live-state"  # answers only
    assert reply_end(lambda: save(mia, cid, second, "Nu ook", 0)) == "live-state"  # and the stepper
    assert reply_end(lambda: mia.post(f"/conversations/{cid}/talking-points",
                                      data={"phase": "looking_back", "text": "Punt"})) == "live-state"
    assert reply_end(lambda: mia.post(f"/conversations/{cid}/presence", data={"phase": "agreements"}),
                     presence="") == "live-state"  # presence only
    old_page = {**live_state(eva, cid), "since": "0", "seen": ""}  # without `seen`: everything
    assert reply_end(lambda: None, old_page, presence="agreements") == "live-state"
    state = live_state(eva, cid)
    mia.post(f"/conversations/{cid}/next-evaluation", data={"next_evaluation": "2027-06-01"})
    mia.post(f"/conversations/{cid}/propose-close")
    eva.post(f"/conversations/{cid}/sign")
    assert reply_end(lambda: mia.post(f"/conversations/{cid}/sign"), state, phase="agreements",
                     presence="agreements") == "live"  # completed: the poller goes
