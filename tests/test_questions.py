"""Question templates through the app: the list, one template per phase, every write with and
without htmx, every refusal, and that conversations keep their own copy of the questions."""
import re

import pytest
from sqlalchemy import func, select

from voortgang.extensions import db
from voortgang.models import (
    PHASES,
    Conversation,
    ConversationQuestion,
    Template,
    TemplateQuestion,
)
from voortgang.questions import service
from voortgang.errors import Invalid

from .helpers import HX, new_id, planned

BASE = "/admin/templates"
DEFAULT_ID = 1  # the migration's template with the article's twelve questions


@pytest.fixture
def team(people):
    """Administrator Hanna; manager Mia with employee Eva."""
    class Team:
        admin = people.add("hanna@example.org", "Hanna", is_admin=True)
        mia = people.add("mia@example.org", "Mia")
    Team.eva = people.add("eva@example.org", "Eva", manager=Team.mia)
    return Team


@pytest.fixture
def admin(team, login_as):
    return login_as(team.admin)


# --- Helpers --------------------------------------------------------------------------------


def rows(app, template_id):
    """The template's questions as (phase, position, text_nl, text_en), in order."""
    with app.app_context():
        return [(q.phase, q.position, q.text_nl, q.text_en) for q in db.session.scalars(
            select(TemplateQuestion).where(TemplateQuestion.template_id == template_id)
            .order_by(TemplateQuestion.phase_order, TemplateQuestion.position))]


def question_ids(app, template_id, phase):
    with app.app_context():
        return list(db.session.scalars(
            select(TemplateQuestion.id)
            .where(TemplateQuestion.template_id == template_id, TemplateQuestion.phase == phase)
            .order_by(TemplateQuestion.position)))


def defaults(app):
    with app.app_context():
        return list(db.session.scalars(select(Template.id).where(Template.is_default.is_(True))))


def template_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Template))


def conversation_rows(app, conversation_id):
    with app.app_context():
        return [(q.phase, q.phase_order, q.position, q.text_nl, q.text_en) for q in db.session.scalars(
            select(ConversationQuestion).where(ConversationQuestion.conversation_id == conversation_id)
            .order_by(ConversationQuestion.phase_order, ConversationQuestion.position))]


def database_state(app):
    """Everything these routes could change."""
    with app.app_context():
        templates = [(t.id, t.name, t.is_default) for t in db.session.scalars(select(Template).order_by(Template.id))]
        questions = [(q.id, q.template_id, q.phase, q.position, q.text_nl, q.text_en)
                     for q in db.session.scalars(select(TemplateQuestion).order_by(TemplateQuestion.id))]
        return templates, questions


def create(client, name, copy_from="", **headers):
    return client.post(f"{BASE}/", data={"name": name, "copy_from": copy_from}, headers=headers)


def new_template(client, name="Short check-in", copy_from=""):
    return new_id(create(client, name, copy_from))


def add(client, template_id, phase, text_nl, text_en, **headers):
    return client.post(f"{BASE}/{template_id}/phases/{phase}/questions",
                       data={"text_nl": text_nl, "text_en": text_en}, headers=headers)


def update(client, template_id, question_id, text_nl, text_en, **headers):
    return client.post(f"{BASE}/{template_id}/questions/{question_id}",
                       data={"text_nl": text_nl, "text_en": text_en}, headers=headers)


def remove(client, template_id, question_id, **headers):
    return client.post(f"{BASE}/{template_id}/questions/{question_id}/delete", headers=headers)


def move(client, template_id, question_id, direction, **headers):
    return client.post(f"{BASE}/{template_id}/questions/{question_id}/move", data={"direction": direction},
                       headers=headers)


def make_default(client, template_id, **headers):
    return client.post(f"{BASE}/{template_id}/default", headers=headers)


def fragment(response, status=200):
    """The body of an htmx answer: a fragment, never a whole page."""
    assert response.status_code == status, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    assert "<html" not in html
    return html


def field_error(html, field_id):
    """The error linked to a field (aria-describedby → the message next to it)."""
    tag = re.search(rf'<(?:input|textarea|select)\b[^>]*\bid="{field_id}"[^>]*>', html)
    assert tag, html
    assert 'aria-invalid="true"' in tag.group(0) and f'aria-describedby="{field_id}-error"' in tag.group(0)
    match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    assert match, html
    return match.group(1)


def textarea(html, field_id):
    match = re.search(rf'<textarea id="{field_id}"[^>]*>([^<]*)</textarea>', html)
    assert match, field_id
    return match.group(1)


# --- Who may use it -----------------------------------------------------------------------


def every_route(app, template_id, question_id):
    """(method, path) of every route of the blueprint, with real ids filled in."""
    values = {"template_id": template_id, "question_id": question_id, "phase": "looking_back"}
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("questions."):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(values[m.group(1)]), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return found


def test_every_route_is_404_for_everyone_but_administrators(app, team, admin, login_as):
    spare = new_template(admin, "Spare")
    add(admin, spare, "looking_back", "Vraag", "Question")
    qid = question_ids(app, spare, "looking_back")[0]
    routes = every_route(app, spare, qid)
    assert len(routes) == 10 and sum(m == "POST" for m, _ in routes) == 8
    data = {"name": "Taken over", "text_nl": "x", "text_en": "y", "direction": "up", "copy_from": ""}
    before = database_state(app)
    for person in (team.mia, team.eva):
        client = login_as(person)
        for method, path in routes:
            for headers in ({}, HX):
                response = client.open(path, method=method, data=data, headers=headers)
                assert response.status_code == 404, (person.name, method, path, response.status_code)
                assert "Spare" not in response.get_data(as_text=True)
        assert 'href="/admin/templates/"' not in client.get("/").get_data(as_text=True)
    anonymous = app.test_client()
    for method, path in routes:
        response = anonymous.open(path, method=method, data=data)
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/login")
    assert database_state(app) == before


def test_administrator_sees_the_nav_link(admin):
    page = admin.get("/").get_data(as_text=True)
    assert 'href="/admin/templates/"' in page and ">Questions</a>" in page


def test_unknown_template_question_or_phase_is_404(app, admin):
    other = new_template(admin, "Other")
    add(admin, other, "looking_back", "Vraag", "Question")
    foreign = question_ids(app, other, "looking_back")[0]
    before = database_state(app)
    assert admin.get(f"{BASE}/999").status_code == 404
    assert make_default(admin, 999).status_code == 404
    assert admin.post(f"{BASE}/999/name", data={"name": "x"}).status_code == 404
    assert admin.post(f"{BASE}/999/delete").status_code == 404
    assert add(admin, 999, "looking_back", "a", "b").status_code == 404
    assert add(admin, DEFAULT_ID, "somewhere", "a", "b").status_code == 404
    # A question of another template, named through this one.
    assert update(admin, DEFAULT_ID, foreign, "a", "b").status_code == 404
    assert remove(admin, DEFAULT_ID, foreign).status_code == 404
    assert move(admin, DEFAULT_ID, foreign, "up").status_code == 404
    assert update(admin, DEFAULT_ID, 9999, "a", "b", **HX).status_code == 404
    assert database_state(app) == before


# --- The list ----------------------------------------------------------------------------------


def test_list_shows_templates_counts_and_the_default(admin):
    page = admin.get(f"{BASE}/").get_data(as_text=True)
    assert "Question templates" in page and "Voortgangsgesprek" in page
    row = re.search(r'<tr id="template-1" class="is-default">(.*?)</tr>', page, re.DOTALL).group(1)
    assert "<td>14</td>" in row and "Default" in row and "Make default" not in row
    # The new-template form offers every template to copy from.
    assert '<option selected value="">Start empty</option>' in page and '<option value="1">Voortgangsgesprek</option>' in page


def test_create_an_empty_template(app, admin):
    response = create(admin, "  Short check-in  ")
    tid = new_id(response)
    assert rows(app, tid) == []
    assert defaults(app) == [DEFAULT_ID]
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "<h1>Short check-in</h1>" in page and "has been created" in page
    assert page.count("No questions in this phase yet.") == 3
    listing = admin.get(f"{BASE}/").get_data(as_text=True)
    row = re.search(rf'<tr id="template-{tid}">(.*?)</tr>', listing, re.DOTALL).group(1)
    assert "<td>0</td>" in row and "Make default" in row


def test_create_as_a_copy_which_is_independent(app, admin):
    original = rows(app, DEFAULT_ID)
    tid = new_template(admin, "Copy", copy_from=DEFAULT_ID)
    assert rows(app, tid) == original and len(original) == 14
    first = question_ids(app, tid, "looking_back")[0]
    assert update(admin, tid, first, "Nieuw", "New").status_code == 303
    assert remove(admin, tid, question_ids(app, tid, "agreements")[0]).status_code == 303
    assert rows(app, DEFAULT_ID) == original
    assert defaults(app) == [DEFAULT_ID]


@pytest.mark.parametrize("name, copy_from, message", [
    ("", "", "Enter a name for the template."),
    ("   ", "1", "Enter a name for the template."),
    ("x" * 201, "1", "Use at most 200 characters for the name."),
    ("Fine name", "999", "Choose a template to copy from, or start empty."),
    ("Fine name", "nonsense", "Choose a template to copy from, or start empty."),
])
def test_create_refusals_keep_what_was_typed(app, admin, name, copy_from, message):
    before = template_count(app)
    response = create(admin, name, copy_from)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    if name.strip():
        assert f'value="{name}"' in page
    if copy_from == "1":
        assert '<option selected value="1">' in page
    assert template_count(app) == before


# --- Renaming ------------------------------------------------------------------------------------


def test_rename_without_and_with_htmx(app, admin):
    tid = new_template(admin, "Old name")
    response = admin.post(f"{BASE}/{tid}/name", data={"name": "New name"})
    assert response.status_code == 303 and response.headers["Location"] == f"{BASE}/{tid}"
    html = fragment(admin.post(f"{BASE}/{tid}/name", data={"name": "Newer name"}, headers=HX))
    assert 'id="template-name"' in html and "<h1>Newer name</h1>" in html
    with app.app_context():
        assert db.session.get(Template, tid).name == "Newer name"


def test_rename_refusal_keeps_the_typed_name(app, admin):
    tid = new_template(admin, "Keep me")
    long_name = "Quite a long name " * 12
    page = admin.post(f"{BASE}/{tid}/name", data={"name": long_name}).get_data(as_text=True)
    assert "Use at most 200 characters for the name." in page
    html = fragment(admin.post(f"{BASE}/{tid}/name", data={"name": long_name}, headers=HX), 422)
    assert long_name.strip() in html and "<details class=\"rename\" open>" in html
    assert field_error(html, "name") == "Use at most 200 characters for the name."
    assert fragment(admin.post(f"{BASE}/{tid}/name", data={"name": " "}, headers=HX), 422)
    with app.app_context():
        assert db.session.get(Template, tid).name == "Keep me"


# --- Questions ------------------------------------------------------------------------------------


def test_add_question_without_javascript(app, admin):
    tid = new_template(admin)
    response = add(admin, tid, "looking_forward", " Wat wil je leren? ", "What do you want to learn?\r\nWhy?")
    assert response.status_code == 303
    qid = question_ids(app, tid, "looking_forward")[0]
    assert response.headers["Location"] == f"{BASE}/{tid}#question-{qid}"
    assert rows(app, tid) == [("looking_forward", 1, "Wat wil je leren?", "What do you want to learn?\nWhy?")]
    with app.app_context():
        assert db.session.get(TemplateQuestion, qid).phase_order == PHASES.index("looking_forward") + 1
    page = admin.get(f"{BASE}/{tid}").get_data(as_text=True)
    assert "Wat wil je leren?" in page and 'lang="nl"' in page


def test_add_question_with_htmx_swaps_the_phase(app, admin):
    tid = new_template(admin)
    add(admin, tid, "agreements", "Eerste", "First")
    html = fragment(add(admin, tid, "agreements", "Tweede", "Second", **HX))
    assert html.lstrip().startswith('<section class="card template-phase" id="phase-agreements"')
    assert html.index("First") < html.index("Second")
    assert 'id="phase-looking_back"' not in html
    # The add form is empty again.
    assert textarea(html, "new-agreements-nl") == "" and textarea(html, "new-agreements-en") == ""
    assert [r[1:] for r in rows(app, tid)] == [(1, "Eerste", "First"), (2, "Tweede", "Second")]


@pytest.mark.parametrize("text_nl, text_en, errors", [
    ("", "Only English", {"new-looking_back-nl": "Enter the Dutch text."}),
    ("Alleen Nederlands", "  ", {"new-looking_back-en": "Enter the English text."}),
    ("", "", {"new-looking_back-nl": "Enter the Dutch text.", "new-looking_back-en": "Enter the English text."}),
    ("x" * 1001, "Fine", {"new-looking_back-nl": "Shorten the text to at most 1000 characters."}),
])
@pytest.mark.parametrize("headers", [{}, HX], ids=["no-js", "htmx"])
def test_add_question_refusals_answer_422_and_keep_the_text(app, admin, text_nl, text_en, errors, headers):
    tid = new_template(admin)
    response = add(admin, tid, "looking_back", text_nl, text_en, **headers)
    assert response.status_code == 422
    html = fragment(response, 422) if headers else response.get_data(as_text=True)
    for field_id, message in errors.items():
        assert field_error(html, field_id) == message
    assert textarea(html, "new-looking_back-nl") == text_nl.strip()
    assert textarea(html, "new-looking_back-en") == text_en.strip()
    assert rows(app, tid) == []


def test_exactly_the_limit_is_accepted(app, admin):
    tid = new_template(admin)
    long_text = "y" * 999 + "?"
    assert add(admin, tid, "looking_back", long_text, "z\r\n" * 333 + "z").status_code == 303
    assert rows(app, tid)[0][2] == long_text


def test_update_question_without_and_with_htmx(app, admin):
    tid = new_template(admin, copy_from=DEFAULT_ID)
    qid = question_ids(app, tid, "looking_forward")[1]
    response = update(admin, tid, qid, "Andere vraag", "Another question")
    assert response.status_code == 303 and response.headers["Location"] == f"{BASE}/{tid}#question-{qid}"
    html = fragment(update(admin, tid, qid, "Derde versie", "Third version", **HX))
    assert 'id="phase-looking_forward"' in html and "Third version" in html
    with app.app_context():
        question = db.session.get(TemplateQuestion, qid)
        assert (question.text_nl, question.text_en, question.position) == ("Derde versie", "Third version", 2)


@pytest.mark.parametrize("headers", [{}, HX], ids=["no-js", "htmx"])
def test_update_question_refusal_keeps_both_texts(app, admin, headers):
    tid = new_template(admin, copy_from=DEFAULT_ID)
    qid = question_ids(app, tid, "looking_back")[0]
    before = rows(app, tid)
    response = update(admin, tid, qid, "Mijn half getypte vraag", "", **headers)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert bool(headers) == ("<html" not in html)
    assert field_error(html, f"question-{qid}-en") == "Enter the English text."
    assert textarea(html, f"question-{qid}-nl") == "Mijn half getypte vraag"
    assert f'<li class="template-question" id="question-{qid}">' in html
    assert re.search(rf'id="question-{qid}".*?<details open>', html, re.DOTALL)
    response = update(admin, tid, qid, "", "My half-typed question", **headers)
    assert field_error(response.get_data(as_text=True), f"question-{qid}-nl") == "Enter the Dutch text."
    assert textarea(response.get_data(as_text=True), f"question-{qid}-en") == "My half-typed question"
    assert rows(app, tid) == before


def test_remove_question_renumbers_the_phase(app, admin):
    tid = new_template(admin, copy_from=DEFAULT_ID)
    first, second, *rest = question_ids(app, tid, "looking_back")
    response = remove(admin, tid, second)
    assert response.status_code == 303 and response.headers["Location"] == f"{BASE}/{tid}#phase-looking_back"
    assert question_ids(app, tid, "looking_back") == [first, *rest]
    assert [r[1] for r in rows(app, tid) if r[0] == "looking_back"] == [1, 2, 3, 4, 5, 6]  # 7 looking back: 5 of the article, 2 of feedback
    html = fragment(remove(admin, tid, first, **HX))
    assert 'id="phase-looking_back"' in html and f'id="question-{first}"' not in html
    assert len(rows(app, tid)) == 12


def test_move_question_up_and_down_within_its_phase(app, admin):
    tid = new_template(admin)
    for n in (1, 2, 3):
        add(admin, tid, "looking_forward", f"Vraag {n}", f"Item {n}")
    add(admin, tid, "agreements", "Afspraak", "Agreement")
    one, two, three = question_ids(app, tid, "looking_forward")
    response = move(admin, tid, three, "up")
    assert response.status_code == 303 and response.headers["Location"] == f"{BASE}/{tid}#question-{three}"
    assert question_ids(app, tid, "looking_forward") == [one, three, two]
    html = fragment(move(admin, tid, one, "down", **HX))
    assert html.index("Item 3") < html.index("Item 1") < html.index("Item 2")
    assert question_ids(app, tid, "looking_forward") == [three, one, two]
    # At either end nothing changes; a question never leaves its phase.
    assert move(admin, tid, three, "up").status_code == 303
    assert move(admin, tid, two, "down").status_code == 303
    assert question_ids(app, tid, "looking_forward") == [three, one, two]
    assert [r[2] for r in rows(app, tid)] == ["Vraag 3", "Vraag 1", "Vraag 2", "Afspraak"]
    # The page offers no "up" for the first question and no "down" for the last.
    page = admin.get(f"{BASE}/{tid}").get_data(as_text=True)
    section = re.search(r'id="phase-looking_forward".*?</section>', page, re.DOTALL).group(0)
    assert section.count('value="up"') == 2 and section.count('value="down"') == 2


def test_move_with_a_bad_direction_is_400(app, admin):
    qid = question_ids(app, DEFAULT_ID, "looking_back")[0]
    before = database_state(app)
    assert move(admin, DEFAULT_ID, qid, "sideways").status_code == 400
    assert admin.post(f"{BASE}/{DEFAULT_ID}/questions/{qid}/move").status_code == 400
    assert database_state(app) == before


# --- The default ---------------------------------------------------------------------------------


def test_make_default_keeps_exactly_one(app, admin):
    first = new_template(admin, "First", copy_from=DEFAULT_ID)
    second = new_template(admin, "Second", copy_from=DEFAULT_ID)
    response = make_default(admin, first)
    assert response.status_code == 303 and response.headers["Location"] == f"{BASE}/"
    assert defaults(app) == [first]
    assert "“First” is now the default template." in admin.get(f"{BASE}/").get_data(as_text=True)
    html = fragment(make_default(admin, second, **HX))
    assert html.lstrip().startswith('<section id="templates-list"')
    assert re.search(rf'<tr id="template-{second}" class="is-default">', html)
    assert defaults(app) == [second]
    # Making the default the default again changes nothing.
    assert make_default(admin, second).status_code == 303
    assert defaults(app) == [second]
    with app.app_context():
        service.set_default_template(DEFAULT_ID)
        assert [t.id for t in db.session.scalars(select(Template).where(Template.is_default))] == [DEFAULT_ID]


@pytest.mark.parametrize("headers", [{}, HX], ids=["no-js", "htmx"])
def test_a_template_without_questions_cannot_be_made_default(app, admin, headers):
    empty = new_template(admin, "Empty")
    response = make_default(admin, empty, **headers)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    message = "A template without questions cannot be the default. Add questions first."
    assert re.search(rf'<p class="error" id="template-{empty}-error" role="alert">{re.escape(message)}</p>', html)
    assert f'aria-describedby="template-{empty}-error"' in html
    assert defaults(app) == [DEFAULT_ID]


def test_the_default_template_keeps_its_last_question(app, admin):
    tid = new_template(admin, "Minimal")
    add(admin, tid, "looking_back", "Hoe gaat het?", "How are you?")
    assert make_default(admin, tid).status_code == 303
    qid = question_ids(app, tid, "looking_back")[0]
    for headers in ({}, HX):
        response = remove(admin, tid, qid, **headers)
        assert response.status_code == 422
        assert "This is the only question of the default template" in response.get_data(as_text=True)
    assert len(rows(app, tid)) == 1
    # Once another template is the default, it can go.
    make_default(admin, DEFAULT_ID)
    assert remove(admin, tid, qid).status_code == 303
    assert rows(app, tid) == []


def test_delete_a_template_but_never_the_default(app, admin, team):
    tid = new_template(admin, "Doomed", copy_from=DEFAULT_ID)
    for headers in ({}, HX):
        response = admin.post(f"{BASE}/{DEFAULT_ID}/delete", headers=headers)
        assert response.status_code == 422
        assert "The default template cannot be deleted." in response.get_data(as_text=True)
    response = admin.post(f"{BASE}/{tid}/delete")
    assert response.status_code == 303 and response.headers["Location"] == f"{BASE}/"
    assert "“Doomed” has been deleted." in admin.get(f"{BASE}/").get_data(as_text=True)
    assert admin.get(f"{BASE}/{tid}").status_code == 404
    assert rows(app, tid) == []
    assert defaults(app) == [DEFAULT_ID]


def test_deleting_the_template_a_conversation_came_from_changes_nothing_there(app, admin, team, login_as):
    tid = new_template(admin, "Used once", copy_from=DEFAULT_ID)
    make_default(admin, tid)
    cid = planned(login_as(team.mia), team.eva)
    snapshot = conversation_rows(app, cid)
    make_default(admin, DEFAULT_ID)
    assert admin.post(f"{BASE}/{tid}/delete").status_code == 303
    assert conversation_rows(app, cid) == snapshot and len(snapshot) == 14


# --- Conversations keep their own copy ------------------------------------------------------------


def test_editing_the_template_never_changes_a_planned_conversation(app, admin, team, login_as):
    mia = login_as(team.mia)
    cid = planned(mia, team.eva)
    snapshot = conversation_rows(app, cid)
    assert [row[3:] for row in snapshot] == [row[2:] for row in rows(app, DEFAULT_ID)]
    back = question_ids(app, DEFAULT_ID, "looking_back")
    assert update(admin, DEFAULT_ID, back[0], "Veranderd", "Changed afterwards").status_code == 303
    assert remove(admin, DEFAULT_ID, back[1]).status_code == 303
    assert move(admin, DEFAULT_ID, back[4], "up", **HX).status_code == 200
    assert add(admin, DEFAULT_ID, "agreements", "Nieuw", "Added afterwards").status_code == 303
    assert admin.post(f"{BASE}/{DEFAULT_ID}/name", data={"name": "Renamed"}).status_code == 303
    assert rows(app, DEFAULT_ID) != [row[2:] for row in snapshot]
    assert conversation_rows(app, cid) == snapshot
    page = mia.get(f"/conversations/{cid}").get_data(as_text=True)
    assert "Changed afterwards" not in page
    assert "Have the personal and job-related goals been achieved?" in page


def test_a_new_conversation_gets_the_new_default_in_order(app, admin, team, login_as):
    mia = login_as(team.mia)
    earlier = planned(mia, team.eva)
    tid = new_template(admin, "Short")
    for phase, n in (("agreements", 1), ("looking_back", 1), ("looking_back", 2), ("looking_back", 3)):
        assert add(admin, tid, phase, f"{phase} NL {n}", f"{phase} EN {n}").status_code == 303
    third = question_ids(app, tid, "looking_back")[2]
    move(admin, tid, third, "up")
    move(admin, tid, third, "up")
    assert make_default(admin, tid).status_code == 303
    cid = planned(mia, team.eva)
    assert conversation_rows(app, cid) == [
        ("looking_back", 1, 1, "looking_back NL 3", "looking_back EN 3"),
        ("looking_back", 1, 2, "looking_back NL 1", "looking_back EN 1"),
        ("looking_back", 1, 3, "looking_back NL 2", "looking_back EN 2"),
        ("agreements", 3, 1, "agreements NL 1", "agreements EN 1"),
    ]
    page = mia.get(f"/conversations/{cid}").get_data(as_text=True)
    assert page.index("looking_back EN 3") < page.index("looking_back EN 1") < page.index("looking_back EN 2")
    # The conversation planned earlier kept the old questions.
    assert len(conversation_rows(app, earlier)) == 14
    with app.app_context():
        assert db.session.get(Conversation, earlier).questions[0].text_en.startswith("Have the personal")


# --- The rules directly ------------------------------------------------------------------------


def test_service_rules(app, team):
    with app.app_context():
        with pytest.raises(Invalid) as refused:
            service.add_question(DEFAULT_ID, "looking_back", "Vraag", "")
        assert (refused.value.code, refused.value.field) == ("text_en_missing", "text_en")
        with pytest.raises(Invalid):
            service.add_question(DEFAULT_ID, "elsewhere", "Vraag", "Question")
        with pytest.raises(Invalid) as refused:
            service.update_question(DEFAULT_ID, question_ids(app, DEFAULT_ID, "agreements")[0], "a" * 1001, "b")
        assert refused.value.code == "text_too_long"
        with pytest.raises(service.NotFound):
            service.rename_template(999, "Nobody")
        empty = service.create_template("Empty")
        with pytest.raises(Invalid) as refused:
            service.set_default_template(empty.id)
        assert refused.value.code == "default_empty"
        db.session.rollback()
        with pytest.raises(Invalid) as refused:
            service.delete_template(DEFAULT_ID)
        assert refused.value.code == "delete_default"
        db.session.rollback()
        assert service.add_question(empty.id, "looking_back", "Vraag\x00", "Question").text_nl == "Vraag"
        service.set_default_template(empty.id)
        assert [t.id for t, _count in service.list_templates() if t.is_default] == [empty.id]
        assert {t.id: count for t, count in service.list_templates()} == {DEFAULT_ID: 14, empty.id: 1}


def test_forms_carry_a_working_csrf_token(app, admin):
    app.config["WTF_CSRF_ENABLED"] = True
    page = admin.get(f"{BASE}/{DEFAULT_ID}").get_data(as_text=True)
    form = re.search(r'<form class="add-question".*?</form>', page, re.DOTALL).group(0)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert add(admin, DEFAULT_ID, "agreements", "Vraag", "Question").status_code == 400
    response = admin.post(f"{BASE}/{DEFAULT_ID}/phases/agreements/questions",
                          data={"text_nl": "Vraag", "text_en": "Question", "csrf_token": token})
    assert response.status_code == 303
    listing = admin.get(f"{BASE}/").get_data(as_text=True)
    token = re.search(r'id="new-template-title".*?name="csrf_token"[^>]*value="([^"]+)"', listing, re.DOTALL).group(1)
    response = admin.post(f"{BASE}/", data={"name": "With token", "copy_from": "", "csrf_token": token})
    assert response.status_code == 303
    listing = admin.get(f"{BASE}/", headers=HX)
    assert "HX-Request" in listing.headers["Vary"]
    assert fragment(listing).lstrip().startswith('<section id="templates-list"')
