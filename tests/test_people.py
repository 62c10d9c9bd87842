"""People administration, CSV import, password links, profile and forgotten passwords,
through the app."""
import html
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from voortgang.auth.service import make_password_token
from voortgang.database import writing
from voortgang.errors import Invalid
from voortgang.extensions import db
from voortgang.models import User

from .conftest import PASSWORD, login
from .helpers import HX


@pytest.fixture
def org(people):
    """Admin Hanna; Mia manages Eva; Tom reports to Eva."""
    class Org:
        hanna = people.add("hanna@example.org", "Hanna", is_admin=True)
        mia = people.add("mia@example.org", "Mia")
    Org.eva = people.add("eva@example.org", "Eva", manager=Org.mia)
    Org.tom = people.add("tom@example.org", "Tom", manager=Org.eva)
    return Org


@pytest.fixture
def admin(org, login_as):
    return login_as(org.hanna)


def user_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def get_user(app, user_id=None, email=None):
    with app.app_context():
        if email:
            user = db.session.scalar(select(User).where(User.email == email))
        else:
            user = db.session.get(User, user_id)
        db.session.expunge_all()
        return user


def people_state(app):
    with app.app_context():
        return db.session.execute(
            select(User.id, User.email, User.name, User.manager_id, User.is_admin, User.locale, User.active,
                   User.session_token, User.password_hash).order_by(User.id)
        ).all()


def person_data(**changes):
    data = {"name": "Noor", "email": "noor@example.org", "manager": "", "locale": "en"}
    data.update(changes)
    return data


def edit_data(user, **changes):
    data = {"name": user.name, "email": user.email, "manager": user.manager_id or "",
            "locale": user.locale or ""}
    if user.is_admin:
        data["is_admin"] = "y"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def link_in(page):
    match = re.search(r'id="password-link-url" value="([^"]+)"', page)
    return match.group(1) if match else None


def path_of(link):
    return link[link.index("/password/"):]


# --- Who may ------------------------------------------------------------------------------


def admin_routes(app, user_id):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("people."):
            path = rule.rule.replace("<int:user_id>", str(user_id))
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, path


def test_every_admin_route_is_404_for_everyone_else_and_changes_nothing(app, org, login_as):
    routes = list(admin_routes(app, org.eva.id))
    assert len(routes) >= 11
    before = people_state(app)
    data = {**person_data(), "csv_text": "email,name\nnew@example.org,New\n"}
    for who in (org.mia, org.eva, org.tom):
        client = login_as(who)
        for method, path in routes:
            response = client.open(path, method=method, data=data)
            assert response.status_code == 404, (who.email, method, path, response.status_code)
            assert "eva@example.org" not in response.get_data(as_text=True) or who is org.eva
    assert people_state(app) == before


def test_anonymous_visitors_are_sent_to_sign_in(app, org, client):
    for method, path in admin_routes(app, org.eva.id):
        response = client.open(path, method=method, data=person_data())
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/login")
    for path in ("/profile",):
        assert client.get(path).headers["Location"].startswith("/login")
    assert client.post("/profile/password", data={}).headers["Location"].startswith("/login")
    assert client.post("/profile/language", data={"locale": "nl"}).headers["Location"].startswith("/login")


def test_navigation_shows_people_to_admins_and_profile_to_everyone(org, admin, login_as):
    page = admin.get("/").get_data(as_text=True)
    assert 'href="/admin/people/"' in page and 'href="/profile"' in page
    page = login_as(org.mia).get("/").get_data(as_text=True)
    assert 'href="/admin/people/"' not in page and 'href="/profile"' in page


# --- The list -------------------------------------------------------------------------------


def test_list_and_search(org, admin):
    page = admin.get("/admin/people/").get_data(as_text=True)
    for name in ("Hanna", "Mia", "Eva", "Tom"):
        assert f">{name}</a>" in page
    page = admin.get("/admin/people/?q=EVA").get_data(as_text=True)
    assert ">Eva</a>" in page and ">Mia</a>" not in page
    page = admin.get("/admin/people/?q=tom@exa").get_data(as_text=True)
    assert ">Tom</a>" in page and ">Eva</a>" not in page
    page = admin.get("/admin/people/?q=%25").get_data(as_text=True)  # % is a character, not a wildcard
    assert "Nobody matches this search." in page
    # A NUL (which PostgreSQL cannot compare) is dropped, here and in the planning form's search.
    page = admin.get("/admin/people/?q=E%00VA").get_data(as_text=True)
    assert ">Eva</a>" in page and ">Mia</a>" not in page
    assert admin.get("/conversations/new?q=%00").status_code == 200


def test_search_answers_htmx_with_the_list_fragment(org, admin):
    response = admin.get("/admin/people/?q=mia", headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert 'id="people-list"' in body and ">Mia</a>" in body and ">Eva</a>" not in body
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" in admin.get("/admin/people/?q=mia").get_data(as_text=True)



def add_many(app, count: int, *, name="Person", active=lambda n: True) -> None:
    """`count` people inserted at once (with the columns create_user sets)."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    with app.app_context(), writing():
        db.session.execute(insert(User), [
            {"email": f"{name.lower()}{n:03}@example.org", "name": f"{name} {n:03}", "is_admin": False,
             "locale": "en", "active": active(n), "session_token": f"bulk{name}{n}",
             "created_at": datetime.now(UTC)} for n in range(count)])


def test_the_list_shows_50_a_page_with_the_total_and_links_that_keep_the_search(app, org, admin):
    add_many(app, 120, active=lambda n: n % 10 != 0)  # 12 of them deactivated: listed last
    first = admin.get("/admin/people/").get_data(as_text=True)
    assert "Everybody (124)" in first
    names = re.findall(r'<a href="/admin/people/\d+">([^<]+)</a>', first)
    assert len(names) == 50 and names[:4] == ["Eva", "Hanna", "Mia", "Person 001"]
    assert '<nav class="pagination" aria-label="Pages of the list of people">' in first
    assert "Page 1 of 3" in first and 'aria-current="page"' in first
    seen = []
    for number in (1, 2, 3):
        page = admin.get(f"/admin/people/?page={number}").get_data(as_text=True)
        seen += re.findall(r'<a href="/admin/people/(\d+)">', page)
    assert len(seen) == len(set(seen)) == 124
    last = admin.get("/admin/people/?page=3").get_data(as_text=True)
    assert last.count('class="inactive"') == 12 and "Person 110" in last  # the deactivated ones, last
    assert admin.get("/admin/people/?page=999").get_data(as_text=True).count('class="inactive"') == 12
    # A search narrows the list and its total; the page links keep it.
    found = admin.get("/admin/people/?q=person%200").get_data(as_text=True)
    assert "found for “person 0”" in found and "100 found" in found
    assert 'href="/admin/people/?page=2&amp;q=person+0"' in found or 'href="/admin/people/?q=person+0&amp;page=2"' in found
    second = admin.get("/admin/people/?q=person%200&page=2", headers=HX).get_data(as_text=True)
    assert "<html" not in second and "Page 2 of 2" in second
    assert len(re.findall(r'<a href="/admin/people/\d+">', second)) == 50

# --- Adding, with the password link ---------------------------------------------------------


def test_admin_adds_a_person_and_the_invitation_link_works_once(app, org, admin):
    response = admin.post("/admin/people/", data=person_data(manager=org.mia.id, locale="nl", is_admin="y"))
    assert response.status_code == 303
    noor = get_user(app, email="noor@example.org")
    assert (noor.name, noor.manager_id, noor.locale, noor.is_admin, noor.password_hash) == (
        "Noor", org.mia.id, "nl", True, None)
    assert response.headers["Location"] == f"/admin/people/{noor.id}#password-link"

    page = admin.get(f"/admin/people/{noor.id}").get_data(as_text=True)
    assert "Noor has been added." in page
    link = link_in(page)
    assert link and link.startswith("http://localhost/password/")
    assert 'data-copy="#password-link-url"' in page
    # Shown once: a reload no longer carries it.
    assert link_in(admin.get(f"/admin/people/{noor.id}").get_data(as_text=True)) is None

    newcomer = app.test_client()
    assert newcomer.get(path_of(link)).status_code == 200
    response = newcomer.post(path_of(link), data={"password": "my own long passphrase",
                                                  "confirm": "my own long passphrase"})
    assert response.status_code == 303
    assert newcomer.get("/").status_code == 200
    assert app.test_client().get(path_of(link)).status_code == 404  # used
    assert login(app.test_client(), "noor@example.org", "my own long passphrase").status_code == 303


def test_base_url_is_used_for_links(app, org, admin):
    app.config["BASE_URL"] = "https://voortgang.example.org/"
    admin.post("/admin/people/", data=person_data())
    noor = get_user(app, email="noor@example.org")
    link = link_in(admin.get(f"/admin/people/{noor.id}").get_data(as_text=True))
    assert link.startswith("https://voortgang.example.org/password/")


@pytest.mark.parametrize("changes, field, message", [
    ({"email": "EVA@Example.org"}, "email", "Someone with this email address exists already."),
    ({"email": "not an address"}, "email", "Enter a valid email address"),
    ({"email": ""}, "email", "Enter a valid email address"),
    ({"name": "  "}, "name", "Enter a name."),
    ({"manager": "99999"}, "manager", "Choose a manager from the list."),
    ({"manager": "x"}, "manager", "Choose a manager from the list."),
    ({"locale": "de"}, "locale", "Choose Nederlands or English."),
])
def test_adding_refuses_bad_input_and_keeps_what_was_typed(app, org, admin, changes, field, message):
    before = user_count(app)
    data = person_data(name="Noor van Dam", **{k: v for k, v in changes.items() if k != "name"})
    if "name" in changes:
        data["name"] = changes["name"]
    response = admin.post("/admin/people/", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f'id="{field}-error"' in page
    assert re.search(rf'aria-describedby="[^"]*{field}-error"', page)
    if "name" not in changes:
        assert 'value="Noor van Dam"' in page
    assert user_count(app) == before


def test_deactivated_person_cannot_become_manager(app, org, admin):
    admin.post(f"/admin/people/{org.mia.id}/deactivate")
    response = admin.post("/admin/people/", data=person_data(manager=org.mia.id))
    assert response.status_code == 422
    assert "Mia is deactivated and cannot be a manager." in response.get_data(as_text=True)


# --- Changing ------------------------------------------------------------------------------------


def test_admin_edits_a_person(app, org, admin):
    page = admin.get(f"/admin/people/{org.tom.id}").get_data(as_text=True)
    assert 'value="Tom"' in page and 'value="tom@example.org"' in page
    response = admin.post(f"/admin/people/{org.tom.id}", data=edit_data(
        org.tom, name="Tom de Wit", email="Tom.deWit@Example.org", manager=org.mia.id, locale="nl", is_admin="y"))
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/people/{org.tom.id}"
    tom = get_user(app, org.tom.id)
    assert (tom.name, tom.email, tom.manager_id, tom.locale, tom.is_admin) == (
        "Tom de Wit", "tom.dewit@example.org", org.mia.id, "nl", True)
    # No manager, no language preference.
    admin.post(f"/admin/people/{org.tom.id}", data=edit_data(get_user(app, org.tom.id), manager="", locale=""))
    tom = get_user(app, org.tom.id)
    assert (tom.manager_id, tom.locale) == (None, None)


def test_email_of_someone_else_is_refused_on_edit(app, org, admin):
    before = people_state(app)
    response = admin.post(f"/admin/people/{org.tom.id}", data=edit_data(org.tom, email="MIA@example.org", name="Tommy"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Someone with this email address exists already." in page and 'value="Tommy"' in page
    assert people_state(app) == before


def test_self_management_is_refused(app, org, admin):
    before = people_state(app)
    response = admin.post(f"/admin/people/{org.mia.id}", data=edit_data(org.mia, manager=org.mia.id))
    assert response.status_code == 422
    assert "Nobody can be their own manager." in response.get_data(as_text=True)
    assert people_state(app) == before


@pytest.mark.parametrize("who, new_manager", [("mia", "eva"), ("mia", "tom"), ("eva", "tom")])
def test_manager_cycles_are_refused(app, org, admin, who, new_manager):
    """Mia manages Eva manages Tom: neither Eva nor Tom can become Mia's manager, nor Tom Eva's."""
    before = people_state(app)
    person, manager = getattr(org, who), getattr(org, new_manager)
    response = admin.post(f"/admin/people/{person.id}", data=edit_data(person, manager=manager.id))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"{manager.name} already reports to this person (directly or through others)" in page
    assert 'id="manager-error"' in page
    assert people_state(app) == before


def test_would_create_cycle(app, org):
    from voortgang.people.service import would_create_cycle

    with app.app_context():
        assert would_create_cycle(org.mia.id, org.eva.id)
        assert would_create_cycle(org.mia.id, org.tom.id)
        assert would_create_cycle(org.mia.id, org.mia.id)
        assert not would_create_cycle(org.tom.id, org.mia.id)
        assert not would_create_cycle(org.mia.id, org.hanna.id)
        assert not would_create_cycle(org.mia.id, None)


def test_last_active_admin_keeps_the_admin_flag(app, org, admin, login_as):
    before = people_state(app)
    response = admin.post(f"/admin/people/{org.hanna.id}", data=edit_data(org.hanna, is_admin=None))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "You are the last active administrator." in page and 'id="is_admin-error"' in page
    assert people_state(app) == before
    # With a second administrator Hanna may step down; she then lands on the home page.
    admin.post(f"/admin/people/{org.mia.id}", data=edit_data(org.mia, is_admin="y"))
    response = admin.post(f"/admin/people/{org.hanna.id}", data=edit_data(org.hanna, is_admin=None))
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert get_user(app, org.hanna.id).is_admin is False
    assert admin.get("/admin/people/").status_code == 404


# --- Deactivating ----------------------------------------------------------------------------------


def test_deactivation_ends_the_persons_sessions_at_once_and_keeps_the_record(app, org, admin):
    eva = app.test_client()
    login(eva, "eva@example.org", remember="y")
    remember = eva.get_cookie("voortgang_remember").value
    assert eva.get("/").status_code == 200
    response = admin.post(f"/admin/people/{org.eva.id}/deactivate")
    assert response.status_code == 303
    assert "Eva is deactivated and signed out everywhere." in admin.get(
        response.headers["Location"]).get_data(as_text=True)
    assert eva.get("/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("voortgang_remember", remember)
    assert replay.get("/").status_code == 302
    assert login(app.test_client(), "eva@example.org").status_code == 401
    stored = get_user(app, org.eva.id)
    assert stored.active is False and stored.manager_id == org.mia.id
    assert get_user(app, org.tom.id).manager_id == org.eva.id  # her team still points at her
    assert "Deactivated" in admin.get("/admin/people/").get_data(as_text=True)

    assert admin.post(f"/admin/people/{org.eva.id}/reactivate").status_code == 303
    assert get_user(app, org.eva.id).active is True
    assert login(app.test_client(), "eva@example.org").status_code == 303


def test_admin_cannot_deactivate_themselves(app, org, admin):
    before = people_state(app)
    response = admin.post(f"/admin/people/{org.hanna.id}/deactivate")
    assert response.status_code == 422
    assert "You cannot deactivate yourself." in response.get_data(as_text=True)
    assert people_state(app) == before
    assert admin.get("/admin/people/").status_code == 200


def test_unknown_person_is_404(org, admin):
    assert admin.get("/admin/people/99999").status_code == 404
    assert admin.post("/admin/people/99999/deactivate").status_code == 404
    assert admin.post("/admin/people/99999/password-link").status_code == 404


# --- Password links ---------------------------------------------------------------------------------


def test_admin_makes_a_new_password_link_at_any_time(app, org, admin):
    response = admin.post(f"/admin/people/{org.eva.id}/password-link")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/people/{org.eva.id}#password-link"
    link = link_in(admin.get(f"/admin/people/{org.eva.id}").get_data(as_text=True))
    client = app.test_client()
    response = client.post(path_of(link), data={"password": "a brand new passphrase",
                                                "confirm": "a brand new passphrase"})
    assert response.status_code == 303
    assert login(app.test_client(), "eva@example.org", "a brand new passphrase").status_code == 303
    assert login(app.test_client(), "eva@example.org", PASSWORD).status_code == 401
    assert app.test_client().get(path_of(link)).status_code == 404  # once only


def test_password_link_of_another_person_is_not_shown_elsewhere(app, org, admin):
    admin.post(f"/admin/people/{org.eva.id}/password-link")
    assert link_in(admin.get(f"/admin/people/{org.tom.id}").get_data(as_text=True)) is None
    assert link_in(admin.get(f"/admin/people/{org.eva.id}").get_data(as_text=True))


def test_no_password_link_for_a_deactivated_person(app, org, admin):
    admin.post(f"/admin/people/{org.eva.id}/deactivate")
    response = admin.post(f"/admin/people/{org.eva.id}/password-link")
    assert response.status_code == 422
    assert "Eva is deactivated. Reactivate them first" in response.get_data(as_text=True)


def test_invitation_link_expires(app, org, admin, monkeypatch):
    import voortgang.auth.service as auth_service

    admin.post("/admin/people/", data=person_data())
    noor = get_user(app, email="noor@example.org")
    link = link_in(admin.get(f"/admin/people/{noor.id}").get_data(as_text=True))
    monkeypatch.setattr(auth_service, "PASSWORD_TOKEN_MAX_AGE", timedelta(seconds=-1))
    response = app.test_client().get(path_of(link))
    assert response.status_code == 404
    assert "This link is not valid" in response.get_data(as_text=True)


# --- Password rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["password123", "PassWord123", "wachtwoord", "Welkom01", "qwerty123",
                                      "voortgang123"])
def test_common_passwords_are_refused_when_setting_a_password(app, org, password):
    with app.app_context():
        token = make_password_token(db.session.get(User, org.eva.id))
    before = people_state(app)
    response = app.test_client().post(f"/password/{token}", data={"password": password, "confirm": password})
    assert response.status_code == 422
    assert "This is one of the most common passwords." in response.get_data(as_text=True)
    assert people_state(app) == before


def test_long_passphrases_are_accepted_up_to_1024_characters(app, org):
    with app.app_context():
        token = make_password_token(db.session.get(User, org.eva.id))
    too_long = "a" * 1025
    response = app.test_client().post(f"/password/{token}", data={"password": too_long, "confirm": too_long})
    assert response.status_code == 422
    passphrase = "word " * 204 + "done"  # 1024 characters
    assert len(passphrase) == 1024
    response = app.test_client().post(f"/password/{token}", data={"password": passphrase, "confirm": passphrase})
    assert response.status_code == 303
    assert login(app.test_client(), "eva@example.org", passphrase).status_code == 303


def test_common_password_refused_in_setup_and_command_line(app, client, runner):
    from voortgang.auth.service import create_setup_token

    with app.app_context():
        token = create_setup_token()
    response = client.post(f"/setup/{token}", data={"name": "Hanna", "email": "hanna@example.org", "locale": "en",
                                                    "password": "iloveyou1", "confirm": "iloveyou1"})
    assert response.status_code == 422
    assert "This is one of the most common passwords." in response.get_data(as_text=True)
    result = runner.invoke(args=["user", "add", "--email", "x@example.org", "--name", "X", "--password-stdin"],
                           input="password1\n")
    assert result.exit_code != 0 and "most common" in result.output
    assert user_count(app) == 0


def test_password_rules_directly(app):
    from voortgang.people.service import check_password_rules, common_passwords

    assert len(common_passwords()) >= 900
    with app.app_context():
        for bad, code in (("short", "password_short"), ("x" * 1025, "password_long"), ("PASSWORD1", "password_common")):
            with pytest.raises(Invalid) as refusal:
                check_password_rules(bad)
            assert refusal.value.code == code
        check_password_rules("correct horse battery staple")
        check_password_rules("kort maar krachtig genoeg")


# --- Import from CSV ------------------------------------------------------------------------------------

GOOD_CSV = """email,name,manager email,language
sam@example.org,Sam,lea@example.org,en
lea@example.org,Lea,mia@example.org,nl
ben@example.org,Ben,,
"""


def test_import_preview_writes_nothing_then_apply_adds_everyone(app, org, admin):
    before = user_count(app)
    response = admin.post("/admin/people/import", data={"csv_text": GOOD_CSV})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "No problems found. People to add: 3." in page
    for email in ("sam@example.org", "lea@example.org", "ben@example.org"):
        assert email in page
    assert user_count(app) == before
    text = re.search(r'name="csv_text" value="([^"]*)"', page, re.S).group(1)
    response = admin.post("/admin/people/import/apply", data={"csv_text": html.unescape(text)})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/people/"
    assert "People imported: 3." in admin.get("/admin/people/").get_data(as_text=True)
    assert user_count(app) == before + 3
    sam, lea, ben = (get_user(app, email=f"{n}@example.org") for n in ("sam", "lea", "ben"))
    assert (sam.manager_id, sam.locale, lea.manager_id, lea.locale, ben.manager_id, ben.locale) == (
        lea.id, "en", org.mia.id, "nl", None, None)
    assert sam.password_hash is None and sam.active and not sam.is_admin


def test_import_of_an_uploaded_excel_file_with_semicolons(app, org, admin):
    data = "\ufeffE-mail;Naam;Leidinggevende;Taal\r\njoost@example.org;Joost Pérez;MIA@example.org;Nederlands\r\n"
    upload = (io.BytesIO(data.encode("cp1252", errors="ignore")), "mensen.csv")
    response = admin.post("/admin/people/import", data={"file": upload, "csv_text": ""},
                          content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Joost Pérez" in response.get_data(as_text=True)
    assert admin.post("/admin/people/import/apply", data={"csv_text": data}).status_code == 303
    joost = get_user(app, email="joost@example.org")
    assert (joost.name, joost.manager_id, joost.locale) == ("Joost Pérez", org.mia.id, "nl")


BAD_CSV = """email,name,manager email,language
ok@example.org,Okay,,en
eva@example.org,Eva again,,
not-an-address,Nobody,,
twice@example.org,Twice,,
twice@example.org,Twice again,,
x@example.org,X,nobody@example.org,
y@example.org,Y,,de
a@example.org,A,b@example.org,
b@example.org,B,c@example.org,
c@example.org,C,a@example.org,
self@example.org,Self,self@example.org,
noname@example.org,,,
"""


def test_import_preview_lists_every_problem_and_apply_writes_nothing(app, org, admin):
    before_count, before = user_count(app), people_state(app)
    response = admin.post("/admin/people/import", data={"csv_text": BAD_CSV})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for message in (
        "Someone with this email address exists already.",
        "Enter a valid email address",
        "This email address is also on line 5.",
        "Unknown manager nobody@example.org: not in Voortgang and not in this file.",
        "Unknown language “de”: use nl or en.",
        "Managers in a circle: a@example.org → b@example.org → c@example.org → a@example.org.",
        "Managers in a circle: b@example.org → c@example.org → a@example.org → b@example.org.",
        "Nobody can be their own manager.",
        "Enter a name.",
        "Rows with problems: 10 of 12.",
    ):
        assert message in page, message
    assert "Import everyone" not in page  # no apply button
    # Posting the text to apply anyway changes nothing at all.
    response = admin.post("/admin/people/import/apply", data={"csv_text": BAD_CSV})
    assert response.status_code == 422
    assert "nothing was imported" in response.get_data(as_text=True)
    assert user_count(app) == before_count and people_state(app) == before


@pytest.mark.parametrize("text, message", [
    ("", "Choose a CSV file or paste its text."),
    ("mail,naam\nx@example.org,X\n", "Unknown column “mail”."),
    ("email,language\nx@example.org,nl\n", "The name column is missing."),
    ("email,name,email\nx@example.org,X,y@example.org\n", "appears twice"),
    ("email,name\n", "The file has no people in it."),
    ("email,name\nx@example.org,X,extra\n", "This line has more values than there are columns."),
    ("email,name\nx@example.org,X\x00\n", "This is not a CSV text file."),
])
def test_import_refuses_bad_files(app, org, admin, text, message):
    before = user_count(app)
    response = admin.post("/admin/people/import", data={"csv_text": text})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    if text:
        assert admin.post("/admin/people/import/apply", data={"csv_text": text}).status_code == 422
    assert user_count(app) == before


def test_import_refuses_a_file_that_is_too_large(app, org, admin):
    from voortgang.people.imports import MAX_IMPORT_BYTES

    text = "email,name\n" + "".join(f"p{n}@example.org,Person {n}\n" for n in range(MAX_IMPORT_BYTES // 20))
    text = text[:MAX_IMPORT_BYTES + 100]  # just over the limit: far larger bodies are refused with 413
    response = admin.post("/admin/people/import", data={"csv_text": text})
    assert response.status_code == 422
    assert "The file is too large" in response.get_data(as_text=True)
    assert user_count(app) == 4


def test_apply_checks_again(app, org, admin, people):
    """Between preview and apply someone added one of the people: nobody from the file is added."""
    assert admin.post("/admin/people/import", data={"csv_text": GOOD_CSV}).status_code == 200
    people.add("lea@example.org", "Lea (added meanwhile)")
    before = user_count(app)
    response = admin.post("/admin/people/import/apply", data={"csv_text": GOOD_CSV})
    assert response.status_code == 422
    assert "Someone with this email address exists already." in response.get_data(as_text=True)
    assert user_count(app) == before
    assert get_user(app, email="sam@example.org") is None


def test_import_is_one_transaction(app, org, monkeypatch):
    """A failure while writing (here: a conflict when the rows are written) leaves nobody
    from the file behind."""
    from voortgang.people import imports as service

    before = user_count(app)
    with app.test_request_context():
        original = db.session.flush

        def failing_flush():
            original()
            raise service.IntegrityError("INSERT", {}, Exception("simulated"))

        monkeypatch.setattr(db.session, "flush", failing_flush)
        with pytest.raises(Invalid):
            service.import_people(GOOD_CSV)
        monkeypatch.setattr(db.session, "flush", original)
    assert user_count(app) == before


# --- Profile ----------------------------------------------------------------------------------------------


def test_profile_shows_the_person_and_saves_the_language(app, org, login_as):
    eva = login_as(org.eva)
    page = eva.get("/profile").get_data(as_text=True)
    assert "eva@example.org" in page and "Mia" in page
    response = eva.post("/profile/language", data={"locale": "nl"})
    assert response.status_code == 303 and response.headers["Location"] == "/profile"
    assert get_user(app, org.eva.id).locale == "nl"
    assert '<html lang="nl">' in eva.get("/profile").get_data(as_text=True)
    assert eva.post("/profile/language", data={"locale": "de"}).status_code == 422
    assert get_user(app, org.eva.id).locale == "nl"


def test_password_change_needs_the_current_password_and_ends_other_sessions(app, org, login_as):
    here = app.test_client()
    login(here, "eva@example.org", remember="y")
    elsewhere = login_as(org.eva)
    elsewhere_remember = app.test_client()
    login(elsewhere_remember, "eva@example.org", remember="y")
    new = "a fresh passphrase for eva"

    before = people_state(app)
    response = here.post("/profile/password", data={"current": "not my password", "password": new, "confirm": new})
    assert response.status_code == 422
    assert "This is not your current password." in response.get_data(as_text=True)
    response = here.post("/profile/password", data={"current": PASSWORD, "password": "welkom123",
                                                    "confirm": "welkom123"})
    assert response.status_code == 422
    assert "This is one of the most common passwords." in response.get_data(as_text=True)
    response = here.post("/profile/password", data={"current": PASSWORD, "password": new, "confirm": "other"})
    assert response.status_code == 422
    assert people_state(app) == before

    response = here.post("/profile/password", data={"current": PASSWORD, "password": new, "confirm": new})
    assert response.status_code == 303
    assert "You are signed out on your other devices." in here.get("/profile").get_data(as_text=True)
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    assert elsewhere_remember.get("/").status_code == 302
    assert login(app.test_client(), "eva@example.org", new).status_code == 303
    assert login(app.test_client(), "eva@example.org", PASSWORD).status_code == 401


def test_guessing_the_current_password_is_throttled(app, org, login_as):
    eva = login_as(org.eva)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        eva.post("/profile/password", data={"current": "guess", "password": "a fresh passphrase",
                                            "confirm": "a fresh passphrase"})
    response = eva.post("/profile/password", data={"current": PASSWORD, "password": "a fresh passphrase",
                                                   "confirm": "a fresh passphrase"})
    assert response.status_code == 429
    assert login(app.test_client(), "eva@example.org", "a fresh passphrase").status_code == 429


# --- Forgotten password ----------------------------------------------------------------------------------


def test_sign_in_page_links_to_forgot_password(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/forgot-password"' in page and "Forgot password?" in page


def answer(client, email):
    response = client.post("/forgot-password", data={"email": email})
    follow = client.get(response.headers["Location"])
    page = follow.get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    page = page.replace(token, "")  # the CSRF token differs per session
    return response.status_code, response.headers["Location"], follow.status_code, page


def test_forgot_password_gives_the_same_answer_for_every_address(app, org, people):
    people.add("gone@example.org", active=False)
    before = people_state(app)
    answers = [answer(app.test_client(), email) for email in
               ("eva@example.org", "nobody@example.org", "gone@example.org", "EVA@example.org")]
    assert all(a == answers[0] for a in answers)
    status, location, follow_status, page = answers[0]
    assert (status, location, follow_status) == (303, "/forgot-password?sent=1", 200)
    assert "ask an administrator" in page
    assert people_state(app) == before
    response = app.test_client().post("/forgot-password", data={"email": ""})
    assert response.status_code == 422


def test_forgot_password_with_mail_configured_sends_only_to_known_people(app, org):
    from voortgang.models import OutgoingMail

    # A mail server nobody reaches (port 9): what was queued stays in the outbox to look at.
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=9, SMTP_STARTTLS=False, BASE_URL="https://vg.example.org")
    known = answer(app.test_client(), "eva@example.org")
    unknown = answer(app.test_client(), "nobody@example.org")
    assert known == unknown
    assert "a link to set a new password is on its way" in known[3]
    with app.app_context():
        [mail] = db.session.scalars(select(OutgoingMail)).all()
        assert (mail.kind, mail.to_address) == ("password_link", "eva@example.org")
        assert b"https://vg.example.org/password/" in mail.message


def test_send_password_link_without_smtp_returns_false(app, org):
    from voortgang.people.service import send_password_link

    with app.test_request_context():
        user = db.session.get(User, org.eva.id)
        assert send_password_link(user, "http://localhost/password/x") is False
