"""The live view through the app: the poll endpoint, presence, and its cost."""
import re

import pytest


from .helpers import HX, counting_statements, plan, question_ids, save


@pytest.fixture
def cid(team, login_as):
    response = plan(login_as(team.mia), team.eva)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def live_state(client, cid):
    """What the conversation page would poll with: the other side's change count and the revision."""
    page = client.get(f"/conversations/{cid}").get_data(as_text=True)
    since = re.search(r'id="live-revision" name="since" value="(\d+)"', page).group(1)
    seen = re.search(r'id="live-seen" name="seen" value="(\d+)"', page).group(1)
    status = re.search(r'id="live-status" name="status" value="([a-z_]+)"', page).group(1)
    return {"since": since, "seen": seen, "status": status}


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
    from voortgang.conversations import live
    monkeypatch.setattr(live, "PRESENCE_TIMEOUT", live.PRESENCE_TIMEOUT * 0 - live.PRESENCE_TIMEOUT)
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
