"""Languages: locale choice, the switch, and a complete Dutch catalog."""
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from voortgang.extensions import db
from voortgang.models import User

from .conftest import login

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations" / "nl" / "LC_MESSAGES" / "messages.po"


def test_default_locale_without_preference_or_header(instance_path, database_url):
    from voortgang import create_app

    from .conftest import BASE_CONFIG

    config = {k: v for k, v in BASE_CONFIG.items() if k != "DEFAULT_LOCALE"}
    client = create_app({**config, "SQLALCHEMY_DATABASE_URI": database_url}).test_client()
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="nl">' in page
    assert "Inloggen" in page


def test_accept_language_is_used(client):
    page = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Sign in" in page
    page = client.get("/login", headers={"Accept-Language": "de, nl;q=0.5"}).get_data(as_text=True)
    assert '<html lang="nl">' in page


def test_configured_default_locale(app, client):
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    app.config["DEFAULT_LOCALE"] = "nl"
    assert '<html lang="nl">' in client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)


def test_saved_preference_wins_over_header(client, people):
    people.add("eva@example.org", "Eva", locale="nl")
    login(client, "eva@example.org")
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="nl">' in page
    assert "Welkom, Eva" in page


def test_switch_saves_preference_when_signed_in(app, client, people):
    user = people.add("eva@example.org", "Eva", locale="nl")
    login(client, "eva@example.org")
    response = client.post("/language", data={"locale": "en", "next": "/"})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    with app.app_context():
        assert db.session.get(User, user.id).locale == "en"
    assert "Welcome, Eva" in client.get("/").get_data(as_text=True)


def test_switch_when_signed_out_is_remembered_in_the_session(client):
    response = client.post("/language", data={"locale": "nl", "next": "/login"})
    assert response.headers["Location"] == "/login"
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="nl">' in page


def test_switch_refuses_unknown_locale_and_foreign_next(client):
    assert client.post("/language", data={"locale": "de"}).status_code == 400
    response = client.post("/language", data={"locale": "en", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_translated_messages_from_code(client, people):
    people.add("eva@example.org", locale="nl")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl"
    response = login(client, "eva@example.org", "wrong password")
    assert "Het e-mailadres of wachtwoord klopt niet." in response.get_data(as_text=True)


def test_dutch_catalog_is_complete():
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == []
    assert fuzzy == []


def test_extraction_finds_no_string_missing_from_the_catalog(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as handle:
        extracted = {m.id for m in read_po(handle) if m.id}
    with PO.open("rb") as handle:
        translated = {m.id for m in read_po(handle) if m.id and m.string}
    assert sorted(extracted - translated) == []


def test_dates_and_times_as_people_write_them_in_both_languages(app, team, login_as):
    from .helpers import planned

    mia, eva = login_as(team.mia), login_as(team.eva)  # Mia reads English, Eva Dutch
    cid = planned(mia, team.eva, when="2026-12-01T10:00")
    english = mia.get(f"/conversations/{cid}").get_data(as_text=True)
    dutch = eva.get(f"/conversations/{cid}").get_data(as_text=True)
    assert "Tue 1 Dec 2026, 10:00" in english
    assert "di 1 dec 2026, 10:00" in dutch
    for page in (english, dutch, mia.get("/conversations/").get_data(as_text=True),
                 eva.get("/").get_data(as_text=True)):
        assert not re.search(r"\d:\d\d:\d\d", page), "seconds shown"
        assert "Central European" not in page and "Midden-Europese" not in page


def test_the_zone_is_named_only_when_it_is_not_the_organisations(app):
    from datetime import UTC, datetime

    from flask_babel import force_locale, refresh

    from voortgang.i18n import moment

    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    babel = app.extensions["babel"]
    with app.test_request_context(), force_locale("en"):
        assert moment(at) == "Tue 1 Dec 2026, 10:00"  # Europe/Amsterdam, the organisation's
        babel.timezone_selector = lambda: "America/New_York"
        refresh()
        try:
            assert moment(at) == "Tue 1 Dec 2026, 04:00 EST"
        finally:
            babel.timezone_selector = None


def test_every_refusal_code_has_one_sentence():
    """The areas' refusal codes share one table (labels.ERRORS): no code may name two sentences."""
    from voortgang import labels

    areas = (labels.PEOPLE_ERRORS, labels.TEMPLATE_ERRORS, labels.CONVERSATION_ERRORS, labels.ROUND_ERRORS)
    codes = [code for area in areas for code in area]
    assert len(codes) == len(set(codes)) == len(labels.ERRORS)
