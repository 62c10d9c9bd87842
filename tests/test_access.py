"""Access matrix: every route of the app, for every kind of visitor.

`MATRIX` holds one entry per (endpoint, method) of `app.url_map`; a route without an
entry (or an entry without a route) fails `test_every_route_has_a_matrix_entry`. Each
entry says, per actor, what the route answers:

- anonymous: a visitor who is not signed in;
- employee, manager: the two participants of the conversation;
- other_employee, other_manager: a participant pair of another conversation;
- admin: an administrator who takes no part in the conversation.

Conversation routes are checked twice: on an open conversation (`expect`) and on a
completed one (`completed`). A refusal must change nothing in the database, and no
response may show anything of a conversation the actor may not see.

Besides the matrix: ids of another conversation's questions, talking points and
agreements in a writable path (404, nothing changes); follow-ups of conversations the
planner may not see; form fields that name other people or objects (no effect).

The people and conversations (`populate`) are built once per run in a SQLite file that
every test copies; on PostgreSQL every test builds them.
"""
from __future__ import annotations

import io
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from voortgang import create_app
from voortgang.auth.service import make_password_token
from voortgang.conversations import answers, planning, points, preparation, signoff
from voortgang.extensions import db
from voortgang.models import (
    Agreement,
    Answer,
    Conversation,
    ConversationQuestion,
    Presence,
    TalkingPoint,
    Template,
    User,
)
from voortgang.questions import service as question_service
from voortgang.database import writing

from .conftest import BASE_CONFIG, PASSWORD, People
from .helpers import new_id

ANON, EMP, MGR, OEMP, OMGR, ADMIN = (
    "anonymous", "employee", "manager", "other_employee", "other_manager", "admin",
)
ACTORS = (ANON, EMP, MGR, OEMP, OMGR, ADMIN)
# Bystanders first: a participant's allowed write may change the state (e.g. completing
# the conversation by signing), which must not decide what a bystander gets.
ORDER = (ANON, OEMP, OMGR, ADMIN, EMP, MGR)
HX = {"HX-Request": "true"}


# --- Expected outcomes ------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """What one actor gets from one route."""

    statuses: frozenset[int]
    location: str | None = None  # the path a redirect must go to
    unchanged: bool = False  # the database must be exactly as before
    names_hidden: bool = False  # no name or e-mail of the employee of a conversation the actor may not see
    # Texts (purpose, place, answers, talking points, agreements, comments) of a conversation the actor
    # may not see are checked in every response, whatever the entry says.

    def __repr__(self) -> str:
        parts = [f"status {'/'.join(map(str, sorted(self.statuses)))}"]
        if self.location:
            parts.append(f"to {self.location}")
        if self.unchanged:
            parts.append("database unchanged")
        return ", ".join(parts)


def expect(*statuses: int, **options) -> Expect:
    return Expect(frozenset(statuses), **options)


SIGN_IN = expect(302, location="/login", unchanged=True, names_hidden=True)
PAGE = expect(200)
PAGE_BLIND = expect(200, names_hidden=True)  # a page that must not reveal the others' conversation
OK = expect(200, 303)  # allowed: the fragment (htmx) or Post/Redirect/Get
HIDDEN = expect(404, unchanged=True, names_hidden=True)
READ_ONLY = expect(403, unchanged=True)
REFUSED = expect(422, unchanged=True, names_hidden=True)
LIVE = expect(200, 204)  # the live view: changes, or nothing new


def actors(default: Expect | None = None, **by_actor: Expect) -> dict[str, Expect]:
    """Return an outcome for every actor: the named ones, the rest `default`."""
    unknown = by_actor.keys() - set(ACTORS)
    assert not unknown, f"unknown actors {unknown}"
    result = {actor: by_actor.get(actor, default) for actor in ACTORS}
    missing = [actor for actor, outcome in result.items() if outcome is None]
    assert not missing, f"no outcome for {missing}"
    return result


READ = actors(anonymous=SIGN_IN, employee=PAGE, manager=PAGE, default=HIDDEN)
READ_COMPLETED = actors(anonymous=SIGN_IN, employee=PAGE, manager=PAGE, admin=PAGE, default=HIDDEN)
# An administrator is not a participant: the app answers NotFound for their writes.
WRITE = actors(anonymous=SIGN_IN, employee=OK, manager=OK, default=HIDDEN)
WRITE_COMPLETED = actors(anonymous=SIGN_IN, employee=READ_ONLY, manager=READ_ONLY, default=HIDDEN)
# People are managed by administrators; anyone else gets 404, as if the pages did not exist.
ADMIN_ONLY_PAGE = actors(anonymous=SIGN_IN, admin=PAGE, default=HIDDEN)
ADMIN_ONLY_WRITE = actors(anonymous=SIGN_IN, admin=expect(303), default=HIDDEN)
# The overview: administrators see everyone, managers their own team, employees nothing.
OVERVIEW = actors(anonymous=SIGN_IN, manager=PAGE_BLIND, other_manager=PAGE_BLIND, admin=PAGE, default=HIDDEN)


# Rounds: administrators and managers; Mia's team round only for her and administrators.
ROUND_LIST = actors(anonymous=SIGN_IN, manager=PAGE_BLIND, other_manager=PAGE_BLIND, admin=PAGE, default=HIDDEN)
ROUND = actors(anonymous=SIGN_IN, manager=PAGE, admin=PAGE, default=HIDDEN)


# --- Routes ---------------------------------------------------------------------------------


@dataclass
class Ctx:
    """What a path or form is built from: the world, the conversation in the path, the
    conversation whose questions/points/agreements are named, and the actor."""

    world: SimpleNamespace
    conv: SimpleNamespace
    objs: SimpleNamespace
    actor: str

    @property
    def role(self) -> str:
        """The role whose own objects the actor uses (a bystander uses the employee's)."""
        return "manager" if self.actor in (MGR, OMGR) else "employee"


@dataclass(frozen=True)
class Route:
    path: Callable[[Ctx], str]
    expect: dict[str, Expect]
    completed: dict[str, Expect] | None = None  # conversation routes: on a completed conversation
    data: Callable[[Ctx], dict] | None = None
    awaiting: bool = False  # the open conversation awaits signatures before the test
    prepared: bool = False  # both current participants of the open conversation have prepared
    objects: bool = False  # the path names a question, talking point or agreement too
    why: str = ""  # why an entry deviates from the obvious

    @property
    def conversation(self) -> bool:
        return self.completed is not None


def conv_path(suffix: str = "") -> Callable[[Ctx], str]:
    return lambda t: f"/conversations/{t.conv.id}{suffix}"


def point_path(suffix: str = "") -> Callable[[Ctx], str]:
    return lambda t: f"/conversations/{t.conv.id}/talking-points/{t.objs.points[t.role]}{suffix}"


def password_path(t: Ctx) -> str:
    # A fresh one-time link for Eva at every request (a used link stops working).
    with t.world.app.app_context():
        return f"/password/{make_password_token(db.session.get(User, t.world.people[EMP].id))}"


NEW_PASSWORD = "a brand new passphrase"
IMPORT_CSV = "email,name,manager email,language\nimported@example.org,Imported Person,mia@example.org,en\n"


def round_path(suffix: str = "") -> Callable[[Ctx], str]:
    """The round of Mia's team (Eva), over the month of the conversations."""
    return lambda t: f"/rounds/{t.world.round}{suffix}"


def person_path(actor: str, suffix: str = "") -> Callable[[Ctx], str]:
    return lambda t: f"/admin/people/{t.world.people[actor].id}{suffix}"


def template_path(suffix: str = "") -> Callable[[Ctx], str]:
    """The spare template (not the default), which a test may change or delete."""
    return lambda t: f"/admin/templates/{t.world.templates.spare}{suffix}"


def template_question_path(suffix: str = "") -> Callable[[Ctx], str]:
    return lambda t: f"{template_path()(t)}/questions/{t.world.templates.spare_question}{suffix}"


AGREEMENT = {"text": "Follow a course", "owner": "employee", "due": "2027-03-01", "status": "open"}
SIGNED_IN_HOME = expect(302, location="/", unchanged=True)

MATRIX: dict[tuple[str, str], Route] = {
    # --- Signing in and out; links from e-mails --------------------------------------------
    ("auth.login", "GET"): Route(
        path=lambda t: "/login",
        expect=actors(anonymous=PAGE, default=SIGNED_IN_HOME),
        why="someone already signed in is sent home",
    ),
    ("auth.login", "POST"): Route(
        path=lambda t: "/login",
        data=lambda t: {"email": t.world.people[EMP].email, "password": PASSWORD},
        expect=actors(anonymous=expect(303, location="/"), default=SIGNED_IN_HOME),
        why="someone already signed in is sent home, not signed in as Eva",
    ),
    ("auth.logout", "POST"): Route(
        path=lambda t: "/logout",
        expect=actors(default=expect(303, location="/login")),
    ),
    ("auth.set_language", "POST"): Route(
        path=lambda t: "/language",
        data=lambda t: {"locale": "en", "next": "/conversations/"},
        expect=actors(default=expect(303, location="/conversations/")),
    ),
    ("auth.setup", "GET"): Route(
        path=lambda t: "/setup/any-token",
        expect=actors(default=HIDDEN),
        why="first-run setup exists only while nobody exists; here people exist",
    ),
    ("auth.setup", "POST"): Route(
        path=lambda t: "/setup/any-token",
        data=lambda t: {"name": "Intruder", "email": "intruder@example.org", "locale": "en",
                        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        expect=actors(default=HIDDEN),
        why="first-run setup exists only while nobody exists; here people exist",
    ),
    ("auth.set_password_with_token", "GET"): Route(
        path=password_path,
        expect=actors(default=PAGE),
        why="the one-time link is the credential: whoever holds it may use it",
    ),
    ("auth.set_password_with_token", "POST"): Route(
        path=password_path,
        data=lambda t: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        expect=actors(default=expect(303, location="/")),
        why="the one-time link is the credential: whoever holds it may use it",
    ),
    # --- Pages outside a conversation ------------------------------------------------------
    ("main.healthz", "GET"): Route(
        path=lambda t: "/healthz",
        expect=actors(default=expect(200, unchanged=True)),
    ),
    ("main.index", "GET"): Route(
        path=lambda t: "/",
        expect=actors(anonymous=SIGN_IN, other_employee=PAGE_BLIND, other_manager=PAGE_BLIND, default=PAGE),
    ),
    ("conversations.index", "GET"): Route(
        path=lambda t: "/conversations/",
        expect=actors(anonymous=SIGN_IN, other_employee=PAGE_BLIND, other_manager=PAGE_BLIND, default=PAGE),
        why="the administrator may see people's names and statuses, never texts",
    ),
    ("conversations.new", "GET"): Route(
        path=lambda t: f"/conversations/new?employee={t.world.people[EMP].id}",
        expect=actors(anonymous=SIGN_IN, other_employee=PAGE_BLIND, other_manager=PAGE_BLIND, default=PAGE),
        why="prefilling someone else only prefills; the admin chooses among everyone. "
            "A follow-up link (?follows=) has a test of its own",
    ),
    ("conversations.create", "POST"): Route(
        path=lambda t: "/conversations/",
        data=lambda t: {"employee": t.world.people[EMP].id, "scheduled_at": "2027-06-01T10:00",
                        "place": "Room 3", "purpose": "Half-yearly"},
        expect=actors(anonymous=SIGN_IN, employee=expect(303), manager=expect(303), admin=expect(303),
                      default=REFUSED),
        why="either participant or an administrator plans; nobody else (422, nothing created)",
    ),
    # --- People (administrators only) and everyone's own profile -------------------------------
    ("people.index", "GET"): Route(path=lambda t: "/admin/people/?q=e", expect=ADMIN_ONLY_PAGE),
    ("people.new", "GET"): Route(path=lambda t: "/admin/people/new", expect=ADMIN_ONLY_PAGE),
    ("people.create", "POST"): Route(
        path=lambda t: "/admin/people/",
        data=lambda t: {"name": "New Person", "email": "new.person@example.org",
                        "manager": t.world.people[MGR].id, "locale": "en"},
        expect=ADMIN_ONLY_WRITE,
    ),
    ("people.edit", "GET"): Route(path=person_path(EMP), expect=ADMIN_ONLY_PAGE),
    ("people.update", "POST"): Route(
        path=person_path(EMP),
        data=lambda t: {"name": "Eva Zuidema", "email": "eva@example.org",
                        "manager": t.world.people[MGR].id, "locale": "nl"},
        expect=ADMIN_ONLY_WRITE,
        why="the administrator changes Eva's language only",
    ),
    ("people.deactivate", "POST"): Route(
        path=person_path(OEMP, "/deactivate"), expect=ADMIN_ONLY_WRITE,
        why="Tom: his own requests come before the administrator's",
    ),
    ("people.reactivate", "POST"): Route(path=person_path(OEMP, "/reactivate"), expect=ADMIN_ONLY_WRITE),
    ("people.confirm_erase", "GET"): Route(path=person_path(OEMP, "/erase"), expect=ADMIN_ONLY_PAGE),
    ("people.erase", "POST"): Route(
        path=person_path(OEMP, "/erase"), data=lambda t: {"confirm": "yes"}, expect=ADMIN_ONLY_WRITE,
        why="Tom: his own requests come before the administrator's",
    ),
    ("people.password_link", "POST"): Route(path=person_path(EMP, "/password-link"), expect=ADMIN_ONLY_WRITE),
    ("people.import_people", "GET"): Route(path=lambda t: "/admin/people/import", expect=ADMIN_ONLY_PAGE),
    ("people.preview_import", "POST"): Route(
        path=lambda t: "/admin/people/import",
        data=lambda t: {"csv_text": IMPORT_CSV},
        expect=actors(anonymous=SIGN_IN, admin=expect(200, unchanged=True), default=HIDDEN),
        why="a preview writes nothing",
    ),
    ("people.apply_import", "POST"): Route(
        path=lambda t: "/admin/people/import/apply",
        data=lambda t: {"csv_text": IMPORT_CSV},
        expect=ADMIN_ONLY_WRITE,
    ),
    ("profile.show", "GET"): Route(
        path=lambda t: "/profile", expect=actors(anonymous=SIGN_IN, default=PAGE_BLIND)),
    ("profile.language", "POST"): Route(
        path=lambda t: "/profile/language",
        data=lambda t: {"locale": "nl"},
        expect=actors(anonymous=SIGN_IN, default=expect(303, location="/profile")),
    ),
    ("profile.password", "POST"): Route(
        path=lambda t: "/profile/password",
        data=lambda t: {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        expect=actors(anonymous=SIGN_IN, default=expect(303, location="/profile")),
        why="everyone changes their own password, knowing the current one",
    ),
    ("profile.forgot_password", "GET"): Route(
        path=lambda t: "/forgot-password", expect=actors(default=PAGE)),
    ("profile.forgot_password", "POST"): Route(
        path=lambda t: "/forgot-password",
        data=lambda t: {"email": t.world.people[EMP].email},
        expect=actors(default=expect(303, location="/forgot-password")),
        why="the same answer for everyone and every address; a link goes by e-mail only",
    ),
    # --- Question templates (administrators only) -------------------------------------------
    ("questions.index", "GET"): Route(path=lambda t: "/admin/templates/", expect=ADMIN_ONLY_PAGE),
    ("questions.create", "POST"): Route(
        path=lambda t: "/admin/templates/",
        data=lambda t: {"name": "New template", "copy_from": t.world.templates.default},
        expect=ADMIN_ONLY_WRITE,
    ),
    ("questions.show", "GET"): Route(path=template_path(), expect=ADMIN_ONLY_PAGE),
    ("questions.rename", "POST"): Route(
        path=template_path("/name"), data=lambda t: {"name": "Renamed template"}, expect=ADMIN_ONLY_WRITE),
    ("questions.make_default", "POST"): Route(path=template_path("/default"), expect=ADMIN_ONLY_WRITE),
    ("questions.delete", "POST"): Route(
        path=template_path("/delete"), expect=ADMIN_ONLY_WRITE, why="the spare template is not the default"),
    ("questions.add_question", "POST"): Route(
        path=template_path("/phases/looking_back/questions"),
        data=lambda t: {"text_nl": "Nieuwe vraag?", "text_en": "New question?"},
        expect=ADMIN_ONLY_WRITE,
    ),
    ("questions.update_question", "POST"): Route(
        path=template_question_path(),
        data=lambda t: {"text_nl": "Andere vraag?", "text_en": "Other question?"},
        expect=ADMIN_ONLY_WRITE,
    ),
    ("questions.remove_question", "POST"): Route(
        path=template_question_path("/delete"), expect=ADMIN_ONLY_WRITE),
    ("questions.move_question", "POST"): Route(
        path=template_question_path("/move"), data=lambda t: {"direction": "down"}, expect=ADMIN_ONLY_WRITE),
    # --- Overview and records -----------------------------------------------------------------
    ("records.overview", "GET"): Route(
        path=lambda t: "/overview",
        expect=OVERVIEW, why="administrators see everyone, managers their team; employees have none",
    ),
    ("records.overview_csv", "GET"): Route(path=lambda t: "/overview.csv", expect=OVERVIEW),
    ("records.agreements", "GET"): Route(path=lambda t: "/overview/agreements", expect=OVERVIEW),
    ("records.record", "GET"): Route(
        path=lambda t: f"/people/{t.world.people[EMP].id}/record",
        expect=actors(anonymous=SIGN_IN, employee=PAGE, manager=PAGE, admin=PAGE, default=HIDDEN),
        why="Eva's record: herself, her manager, and an administrator (completed conversations only)",
    ),
    ("records.record_pdf", "GET"): Route(
        path=lambda t: f"/people/{t.world.people[EMP].id}/record.pdf",
        expect=actors(anonymous=SIGN_IN, employee=PAGE, manager=PAGE, admin=PAGE, default=HIDDEN),
        why="as the record page: the PDF holds her completed conversations only",
    ),
    ("records.my_export", "GET"): Route(
        path=lambda t: "/me/export.json",
        expect=actors(anonymous=SIGN_IN, default=PAGE_BLIND),
        why="everyone exports what is stored about themselves, and only that",
    ),
    # --- Rounds: administrators and managers; a manager sees the rounds with her people -----
    ("rounds.index", "GET"): Route(path=lambda t: "/rounds/", expect=ROUND_LIST),
    ("rounds.new", "GET"): Route(path=lambda t: "/rounds/new", expect=ROUND_LIST),
    ("rounds.create", "POST"): Route(
        path=lambda t: "/rounds/",
        data=lambda t: {"name": "Autumn 2027", "starts_on": "2027-09-01", "ends_on": "2027-10-31",
                        "team": t.world.people[MGR].id},
        expect=actors(anonymous=SIGN_IN, manager=expect(303), admin=expect(303), other_manager=REFUSED,
                      default=HIDDEN),
        why="a round for Mia's team: Mia and an administrator may start it; Max only one for his own team",
    ),
    ("rounds.show", "GET"): Route(path=round_path(), expect=ROUND),
    ("rounds.export", "GET"): Route(path=round_path("/export.json"), expect=ROUND),
    ("rounds.export_csv", "GET"): Route(path=round_path("/export.csv"), expect=ROUND),
    ("rounds.plan", "POST"): Route(
        path=round_path("/plan"),
        data=lambda t: {"person": t.world.people[EMP].id, "scheduled_at": "2026-12-02T10:00"},
        expect=actors(anonymous=SIGN_IN, manager=REFUSED, admin=expect(422, unchanged=True), default=HIDDEN),
        why="Eva's open conversation belongs to the round already: planning her again is refused "
            "(the administrator sees her name on the round's page, never the conversation)",
    ),
    ("rounds.close", "POST"): Route(
        path=round_path("/close"),
        expect=actors(anonymous=SIGN_IN, manager=expect(303), admin=expect(303), default=HIDDEN),
        why="the round of Mia's team: she or an administrator closes it; closing it again changes nothing",
    ),
    # --- The conversation -------------------------------------------------------------------
    ("conversations.show", "GET"): Route(path=conv_path(), expect=READ, completed=READ_COMPLETED),
    ("conversations.phase", "GET"): Route(
        path=conv_path("/phases/looking_forward"), expect=READ, completed=READ_COMPLETED),
    ("conversations.export", "GET"): Route(
        path=conv_path("/export.json"), expect=READ, completed=READ_COMPLETED),
    ("conversations.record_pdf", "GET"): Route(
        path=conv_path("/record.pdf"), expect=READ, completed=READ_COMPLETED),
    ("conversations.calendar", "GET"): Route(
        path=conv_path("/calendar.ics"), expect=READ, completed=READ_COMPLETED),
    ("conversations.next_evaluation_calendar", "GET"): Route(
        path=conv_path("/next-evaluation.ics"), expect=READ, completed=READ_COMPLETED,
        why="both conversations have a next-evaluation date"),
    ("conversations.updates", "GET"): Route(
        path=conv_path("/updates?since=0&phase=looking_back&presence="),
        expect=actors(anonymous=SIGN_IN, employee=LIVE, manager=LIVE, default=HIDDEN),
        completed=actors(anonymous=SIGN_IN, employee=LIVE, manager=LIVE, default=HIDDEN),
        why="the live view is the participants' own; an administrator reads a completed record "
            "through the page and the export",
    ),
    ("conversations.presence", "POST"): Route(
        path=conv_path("/presence"),
        data=lambda t: {"phase": "looking_forward"},
        expect=actors(anonymous=SIGN_IN, employee=expect(204), manager=expect(204), default=HIDDEN),
        completed=actors(anonymous=SIGN_IN, employee=expect(204), manager=expect(204), default=HIDDEN),
        why="presence is not part of the record: a participant may still have a completed "
            "conversation open, so it is not refused with 403 like the writes",
    ),
    ("conversations.save_answer", "POST"): Route(
        path=lambda t: f"/conversations/{t.conv.id}/answers/{t.objs.question}",
        data=lambda t: {"body": f"Answer by {t.actor}", "version": 1},  # each side has saved once
        expect=WRITE, completed=WRITE_COMPLETED, objects=True,
    ),
    ("conversations.save_preparation", "POST"): Route(
        path=lambda t: f"/conversations/{t.conv.id}/preparation/{t.objs.question}",
        data=lambda t: {"body": f"Preparation by {t.actor}", "version": 1},  # each side has prepared once
        expect=WRITE, completed=WRITE_COMPLETED, objects=True, prepared=True,
    ),
    ("conversations.use_preparation", "POST"): Route(
        path=lambda t: f"/conversations/{t.conv.id}/preparation/{t.objs.question}/use",
        expect=WRITE, completed=WRITE_COMPLETED, objects=True, prepared=True,
    ),
    ("conversations.share_preparation", "POST"): Route(
        path=conv_path("/preparation/share"),
        data=lambda t: {"phase": "looking_back"},
        expect=WRITE, completed=WRITE_COMPLETED,
    ),
    ("conversations.guide_part", "POST"): Route(
        path=conv_path("/guide/looking_back"),
        data=lambda t: {"phase": "looking_back", "hidden": "1"},
        expect=WRITE, completed=actors(anonymous=SIGN_IN, employee=OK, manager=OK, default=HIDDEN),
        why="closing a part of the guide is the participant's own setting, not part of the record",
    ),
    ("conversations.add_talking_point", "POST"): Route(
        path=conv_path("/talking-points"),
        data=lambda t: {"phase": "looking_back", "text": f"Point by {t.actor}"},
        expect=WRITE, completed=WRITE_COMPLETED,
    ),
    ("conversations.edit_talking_point", "POST"): Route(
        path=point_path(),
        data=lambda t: {"phase": "looking_back", "text": f"Point edited by {t.actor}"},
        expect=WRITE, completed=WRITE_COMPLETED, objects=True,
        why="each participant edits their own point (only the author may)",
    ),
    ("conversations.remove_talking_point", "POST"): Route(
        path=point_path("/delete"),
        expect=WRITE, completed=WRITE_COMPLETED, objects=True,
        why="each participant removes their own point (only the author may)",
    ),
    ("conversations.mark_discussed", "POST"): Route(
        path=lambda t: f"/conversations/{t.conv.id}/talking-points/{t.objs.points['employee']}/discussed",
        data=lambda t: {"discussed": "1" if t.actor != MGR else "0"},
        expect=WRITE, completed=WRITE_COMPLETED, objects=True,
        why="either participant marks any point; the manager unmarks what the employee marked",
    ),
    ("conversations.add_agreement", "POST"): Route(
        path=conv_path("/agreements"),
        data=lambda t: {**AGREEMENT, "text": f"Agreement by {t.actor}"},
        expect=WRITE, completed=WRITE_COMPLETED,
    ),
    ("conversations.edit_agreement", "POST"): Route(
        path=lambda t: f"/conversations/{t.conv.id}/agreements/{t.objs.agreement}",
        data=lambda t: {**AGREEMENT, "text": f"Agreement edited by {t.actor}", "status": "done"},
        expect=WRITE, completed=WRITE_COMPLETED, objects=True,
    ),
    ("conversations.review_agreement", "POST"): Route(
        path=lambda t: f"/conversations/{t.conv.id}/agreements/{t.objs.carried}/review",
        data=lambda t: {"rating": "partly" if t.actor == MGR else "done", "comment": f"Review by {t.actor}"},
        expect=WRITE, completed=WRITE_COMPLETED, objects=True,
        why="each participant rates an agreement carried from the previous conversation",
    ),
    ("conversations.decide_agreement", "POST"): Route(
        path=lambda t: f"/conversations/{t.conv.id}/agreements/{t.objs.carried}/decision",
        data=lambda t: {"decision": "carried" if t.actor == MGR else "closed"},
        expect=WRITE, completed=WRITE_COMPLETED, objects=True,
        why="either participant records the decision on a carried agreement; the manager revises it",
    ),
    ("conversations.set_next_evaluation", "POST"): Route(
        path=conv_path("/next-evaluation"),
        data=lambda t: {"next_evaluation": "2027-07-01" if t.actor == EMP else "2027-08-01"},
        expect=WRITE, completed=WRITE_COMPLETED,
    ),
    ("conversations.propose_close", "POST"): Route(
        path=conv_path("/propose-close"),
        expect=WRITE, completed=WRITE_COMPLETED,
        why="the open conversation has a next-evaluation date; the second proposal is a no-op",
    ),
    ("conversations.reopen", "POST"): Route(
        path=conv_path("/reopen"),
        expect=WRITE, completed=WRITE_COMPLETED, awaiting=True,
        why="reopening needs a proposal to close; the second reopen is a no-op",
    ),
    ("conversations.sign", "POST"): Route(
        path=conv_path("/sign"),
        data=lambda t: {"comment": f"Signed by {t.actor}"},
        expect=WRITE, completed=WRITE_COMPLETED, awaiting=True,
        why="signing needs a proposal to close; after both signatures it is completed",
    ),
}


# --- The world every test starts from ---------------------------------------------------------


def secrets_of(key: str) -> list[str]:
    """Texts that exist only in conversation `key` (no HTML-escaping needed)."""
    return [f"xq-{key}-{part}" for part in (
        "purpose", "place", "answer-employee", "answer-manager", "point-employee", "point-manager",
        "agreement", "comment-employee", "comment-manager", "prep-employee", "prep-manager")]


def make_conversation(app, key: str, employee, manager, *, state: str, follows=None,
                      participants=(EMP, MGR)) -> SimpleNamespace:
    """Plan a conversation and fill it (answers, points, an agreement) through the domain functions."""
    texts = dict(zip(("purpose", "place", "ae", "am", "pe", "pm", "agreement", "ce", "cm", "prep_e", "prep_m"),
                     secrets_of(key)))
    # A request context: the domain functions build links (e.g. for e-mail) as in a request.
    with app.test_request_context():
        eva, mia = db.session.get(User, employee.id), db.session.get(User, manager.id)
        conversation = planning.plan_conversation(
            mia, employee_id=eva.id, manager_id=None, scheduled_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
            place=texts["place"], purpose=texts["purpose"], follows_id=follows.id if follows else None)
        cid = conversation.id
        question = conversation.questions[0].id
        # The open agreements of the conversation it follows came along, to be reviewed.
        carried = next((a.id for a in conversation.agreements if a.carried_from_id), None)
        answers.save_answer(eva, cid, question, texts["ae"], 0)
        answers.save_answer(mia, cid, question, texts["am"], 0)
        preparation.save_preparation(eva, cid, question, texts["prep_e"], 0)
        preparation.save_preparation(mia, cid, question, texts["prep_m"], 0)
        point_ids = {"employee": points.add_talking_point(eva, cid, "looking_back", texts["pe"]).id,
                     "manager": points.add_talking_point(mia, cid, "looking_back", texts["pm"]).id}
        agreement = points.add_agreement(mia, cid, text=texts["agreement"], owner="employee",
                                          due=date(2027, 3, 1), status="open").id
        points.set_next_evaluation(mia, cid, date(2027, 6, 1))
        if state in ("awaiting_signatures", "completed"):
            signoff.propose_close(eva, cid)
        if state == "completed":
            signoff.sign(eva, cid, texts["ce"])
            signoff.sign(mia, cid, texts["cm"])
        assert db.session.get(Conversation, cid).status == state
    return SimpleNamespace(key=key, id=cid, state=state, participants=participants, question=question,
                           points=point_ids, agreement=agreement, carried=carried,
                           texts=secrets_of(key), names=[employee.name.split()[-1], employee.email])


def populate(app) -> SimpleNamespace:
    """Admin Hanna; manager Mia with employee Eva; manager Max with employee Tom.

    Eva and Mia: `earlier` and `completed`, signed by both; `open`, in progress. Tom and
    Max: `other_earlier`, signed; `other`, in progress. Each follows the one before, so it
    holds a carried agreement (`carried`) to review.
    """
    people = People(app)
    admin = people.add("hanna@example.org", "Hanna Admin", is_admin=True)
    mia = people.add("mia@example.org", "Mia Manager")
    max_ = people.add("max@example.org", "Max Manager")
    eva = people.add("eva@example.org", "Eva Zuidema", manager=mia)
    tom = people.add("tom@example.org", "Tom Kuipers", manager=max_)
    earlier = make_conversation(app, "earlier", eva, mia, state="completed")
    completed = make_conversation(app, "completed", eva, mia, state="completed", follows=earlier)
    open_ = make_conversation(app, "open", eva, mia, state="in_progress", follows=completed)
    other_earlier = make_conversation(app, "other_earlier", tom, max_, state="completed",
                                      participants=(OEMP, OMGR))
    other = make_conversation(app, "other", tom, max_, state="in_progress", follows=other_earlier,
                              participants=(OEMP, OMGR))
    return SimpleNamespace(
        people={ANON: None, EMP: eva, MGR: mia, OEMP: tom, OMGR: max_, ADMIN: admin},
        conversations={c.key: c for c in (earlier, completed, open_, other_earlier, other)},
        templates=make_spare_template(app),
        round=make_round(app, mia),
    )


def make_round(app, manager) -> int:
    """A round of the manager's team, around the conversations' date."""
    from voortgang.rounds.service import start_round

    with app.test_request_context():
        return start_round(db.session.get(User, manager.id), name="December 2026", starts_on=date(2026, 12, 1),
                           ends_on=date(2026, 12, 31), team_id=manager.id).id


def make_spare_template(app) -> SimpleNamespace:
    """A copy of the default question template, next to it."""
    with app.test_request_context():
        default = db.session.scalar(select(Template).where(Template.is_default.is_(True)))
        spare = question_service.create_template("Spare", default.id)
        return SimpleNamespace(default=default.id, default_question=default.questions[0].id,
                               spare=spare.id, spare_question=spare.questions[0].id)


@pytest.fixture(scope="session")
def world_template(tmp_path_factory, migrated_sqlite, migrated_postgres):
    """On SQLite, the people and conversations are built once, in a file each test copies."""
    if migrated_postgres:
        return None  # PostgreSQL: every test builds them (see `world`)
    folder = tmp_path_factory.mktemp("access-world")
    path = folder / "world.db"
    shutil.copyfile(migrated_sqlite, path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VOORTGANG_INSTANCE_PATH", str(folder))
        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
        contents = populate(app)
        with app.app_context():
            db.engine.dispose()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # one file holds everything
    connection.close()
    return SimpleNamespace(path=path, contents=contents)


@pytest.fixture
def database_url(database_url, world_template):
    """This test's fresh database, with the people and conversations in it on SQLite."""
    if world_template is not None:
        shutil.copyfile(world_template.path, database_url.removeprefix("sqlite:///"))
    return database_url


class Clients(dict):
    """A client per actor, signed in (through the form) when first used."""

    def __init__(self, app, login_as, people):
        super().__init__()
        self.app, self.login_as, self.people = app, login_as, people

    def __missing__(self, actor: str):
        person = self.people[actor]
        client = self[actor] = self.login_as(person) if person else self.app.test_client()
        return client


@pytest.fixture
def world(app, login_as, world_template) -> SimpleNamespace:
    """The people and conversations of `populate`, and a signed-in client per actor."""
    contents = world_template.contents if world_template is not None else populate(app)
    people = contents.people
    conversations = {key: SimpleNamespace(**vars(c)) for key, c in contents.conversations.items()}
    return SimpleNamespace(
        app=app, people=people, conversations=conversations, templates=contents.templates, rows=None,
        round=contents.round,
        clients=Clients(app, login_as, people), adapter=app.url_map.bind("localhost"),
        open=conversations["open"], completed=conversations["completed"], other=conversations["other"],
    )


def prepare(world, route: Route) -> SimpleNamespace:
    """Put the open conversation in the state the route needs."""
    if route.awaiting:
        with world.app.test_request_context():
            signoff.propose_close(db.session.get(User, world.people[EMP].id), world.open.id)
        world.open.state = "awaiting_signatures"
    if route.prepared:  # a manager who took the conversation over has not prepared yet
        with world.app.test_request_context():
            conversation = db.session.get(Conversation, world.open.id)
            for person_id in (conversation.employee_id, conversation.manager_id):
                person = db.session.get(User, person_id)
                if not preparation.own_preparations(person, conversation):
                    preparation.save_preparation(person, world.open.id, world.open.question, "prepared", 0)
    return world


def may_see(actor: str, conversation: SimpleNamespace) -> bool:
    """Whether `actor` may see the conversation as the world was built."""
    # An administrator reads the personnel file: a conversation once it is completed.
    return actor in conversation.participants or (actor == ADMIN and conversation.state == "completed")


# --- Requests and checks ---------------------------------------------------------------------


def database_rows(app) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    with app.app_context():
        return {
            table.name: [tuple(row) for row in db.session.execute(
                select(table).order_by(*table.primary_key.columns))]
            for table in db.metadata.sorted_tables
        }


def send(client, method: str, path: str, data: dict | None, hx: bool):
    headers = HX if hx else {}
    if method == "GET":
        return client.get(path, headers=headers)
    return client.post(path, data=data or {}, headers=headers)


def attempt(world, route: Route, key: tuple[str, str], ctx: Ctx, outcome: Expect, *,
            hx: bool = False, label: str = "") -> list[str]:
    """Send the entry's request as `ctx.actor`; return what differs from `outcome`."""
    endpoint, method = key
    path = route.path(ctx)
    # The path must reach the route under test, or a 404 would pass for the wrong reason.
    matched, _args = world.adapter.match(urlsplit(path).path, method=method)
    assert matched == endpoint, f"{path} reaches {matched}, not {endpoint}"
    data = route.data(ctx) if route.data else None

    # The state after the previous refusal is the state before this request.
    before = (world.rows or database_rows(world.app)) if outcome.unchanged else None
    world.rows = None
    response = send(world.clients[ctx.actor], method, path, data, hx)
    body = response_text(response)
    where = f"{method} {path} as {ctx.actor}{' (htmx)' if hx else ''}{label}"
    problems = []
    if response.status_code not in outcome.statuses:
        problems.append(f"{where}: expected {outcome!r}, got {response.status_code}")
    if outcome.location is not None:
        location = urlsplit(response.headers.get("Location", "")).path
        if location != outcome.location:
            problems.append(f"{where}: expected a redirect to {outcome.location}, got {location or 'none'}")
    if before is not None:
        after = database_rows(world.app)
        changed = sorted(name for name in after if after[name] != before.get(name))
        if changed:
            problems.append(f"{where}: expected no change, but changed tables {changed}")
        else:
            world.rows = after
    for conversation in world.conversations.values():
        if may_see(ctx.actor, conversation):
            continue
        leaked = [text for text in conversation.texts if text in body]
        if outcome.names_hidden:
            leaked += [name for name in conversation.names if name in body]
        if leaked:
            problems.append(f"{where}: shows {leaked} of the {conversation.key} conversation")
    return problems


def response_text(response) -> str:
    """The body as text; a PDF's text as extracted (so its leaks are found too)."""
    if response.mimetype == "application/pdf":
        from pypdf import PdfReader

        return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages).split())
    return response.get_data(as_text=True)


def run_matrix(world, key, route: Route, target: str, outcomes: dict[str, Expect]) -> list[str]:
    conv = world.conversations[target]
    problems = []
    for actor in ORDER:
        outcome = outcomes[actor]
        ctx = Ctx(world, conv, conv, actor)
        label = f" [{target} conversation]" if route.conversation else ""
        # A participant's htmx request takes the fragment path; the employee's the no-JS path.
        hx = route.conversation and actor == MGR
        problems += attempt(world, route, key, ctx, outcome, hx=hx, label=label)
        if outcome.statuses <= {403, 404} and actor != ANON:
            # A refusal holds for fragments as well as pages.
            problems += attempt(world, route, key, ctx, outcome, hx=True, label=label)
    return problems


# --- Tests -------------------------------------------------------------------------------------


def test_every_route_has_a_matrix_entry(app):
    """Adding a route means saying, in MATRIX, who may use it."""
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    missing = sorted(routes - MATRIX.keys())
    stale = sorted(MATRIX.keys() - routes)
    assert not missing and not stale, (
        f"routes without a MATRIX entry in tests/test_access.py: {missing}; "
        f"MATRIX entries without a route: {stale}"
    )
    # A route that names an object of a conversation gets the foreign-id test below.
    with_objects = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if "conversation_id" in rule.arguments
        and any(arg.endswith("_id") and arg != "conversation_id" for arg in rule.arguments)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    unflagged = sorted(k for k in with_objects if not MATRIX[k].objects)
    assert not unflagged, f"MATRIX entries naming an object id need objects=True: {unflagged}"


@pytest.mark.parametrize("key", sorted(MATRIX), ids=lambda key: f"{key[1]} {key[0]}")
def test_access(key, world):
    """Each actor gets the entry's outcome: on an open and on a completed conversation."""
    route = MATRIX[key]
    prepare(world, route)
    for actor in ACTORS:  # sign everyone in first: a route may change a password
        world.clients[actor]
    problems = []
    if route.completed is not None:
        # First: on the completed record nothing changes, so the open one stays as built.
        problems += run_matrix(world, key, route, "completed", route.completed)
    problems += run_matrix(world, key, route, "open", route.expect)
    assert not problems, "\n".join(problems)


# Routes of one conversation: checked again after its employee moved to another manager.
CONVERSATION_ROUTES = sorted(key for key, route in MATRIX.items() if route.conversation)


@pytest.mark.parametrize("key", CONVERSATION_ROUTES, ids=lambda key: f"{key[1]} {key[0]}")
def test_access_after_the_employee_moved_to_another_manager(key, world):
    """An administrator moves Eva from Mia's team to Max's. Her open conversation moves to
    Max, who then gets exactly what its manager gets, and Mia what a bystanding manager
    gets; her completed conversation stays with the two people who held it (Mia)."""
    route = MATRIX[key]
    for actor in ACTORS:
        world.clients[actor]
    eva, mia, max_ = world.people[EMP], world.people[MGR], world.people[OMGR]
    response = world.clients[ADMIN].post(f"/admin/people/{eva.id}", data={
        "email": eva.email, "name": eva.name, "manager": str(max_.id), "locale": eva.locale or ""})
    assert response.status_code == 303, response.status_code
    with world.app.app_context():
        open_, completed = (db.session.get(Conversation, world.conversations[k].id) for k in ("open", "completed"))
        assert (open_.manager_id, completed.manager_id) == (max_.id, mia.id)
    prepare(world, route)
    problems = []
    if route.completed is not None:
        problems += run_matrix(world, key, route, "completed", route.completed)
    # From here on the open conversation's manager is Max, and Mia is the other manager.
    world.people = {**world.people, MGR: max_, OMGR: mia}
    clients = world.clients
    world.clients = {**clients, MGR: clients[OMGR], OMGR: clients[MGR]}
    problems += run_matrix(world, key, route, "open", route.expect)
    assert not problems, "\n".join(problems)


def test_both_participants_are_told_on_the_page_that_the_conversation_moved(world):
    eva, max_ = world.people[EMP], world.people[OMGR]
    world.clients[ADMIN].post(f"/admin/people/{eva.id}", data={
        "email": eva.email, "name": eva.name, "manager": str(max_.id), "locale": eva.locale or ""})
    for actor in (EMP, OMGR):
        page = world.clients[actor].get(f"/conversations/{world.open.id}").get_data(as_text=True)
        assert "this conversation moved from Mia Manager to Max Manager" in page, actor
    assert world.clients[MGR].get(f"/conversations/{world.open.id}").status_code == 404
    assert world.clients[MGR].get(f"/conversations/{world.completed.id}").status_code == 200


# Routes that name a question, talking point or agreement in their path.
OBJECT_ROUTES = sorted(endpoint for (endpoint, _method), route in MATRIX.items() if route.objects)
# Only the author of a talking point edits or removes it.
AUTHOR_ONLY = ("conversations.edit_talking_point", "conversations.remove_talking_point")


@pytest.mark.parametrize("endpoint", OBJECT_ROUTES)
def test_ids_of_another_conversation_are_404_and_change_nothing(endpoint, world):
    """A question/point/agreement id of another conversation (or, for a talking point, of the
    other participant), in the path of a conversation the actor may write."""
    key = (endpoint, "POST")
    route = MATRIX[key]
    prepare(world, route)
    cases = [
        # Eva and Mia: ids of Tom's conversation, and of their own completed one.
        (world.open, world.other, EMP), (world.open, world.other, MGR),
        (world.open, world.completed, EMP), (world.open, world.completed, MGR),
        # Tom and Max: ids of Eva's conversation in the path of their own.
        (world.other, world.open, OEMP), (world.other, world.open, OMGR),
    ]
    if endpoint in AUTHOR_ONLY:
        # The other participant's point, in the conversation they share.
        points = world.open.points
        swapped = SimpleNamespace(**{**vars(world.open), "key": "open (the other's point)",
                                     "points": {"employee": points["manager"], "manager": points["employee"]}})
        cases += [(world.open, swapped, EMP), (world.open, swapped, MGR)]
    problems = []
    for conv, objs, actor in cases:
        ctx = Ctx(world, conv, objs, actor)
        label = f" [ids of the {objs.key} conversation in the {conv.key} one]"
        for hx in (False, True):
            outcome = expect(404, unchanged=True) if may_see(actor, objs) else HIDDEN
            problems += attempt(world, route, key, ctx, outcome, hx=hx, label=label)
    # Control: the same request with the conversation's own ids is allowed.
    problems += attempt(world, route, key, Ctx(world, world.open, world.open, EMP), OK, label=" [control]")
    assert not problems, "\n".join(problems)


def test_follows_must_be_a_conversation_the_planner_may_see(world):
    """A follow-up of a conversation one may not see: the form is 404, planning is refused."""
    eva, tom = world.people[EMP], world.people[OEMP]

    def follow_up_form(follows):
        return Route(path=lambda t: f"/conversations/new?follows={follows.id}", expect={})

    def plan(employee, follows):
        return Route(path=lambda t: "/conversations/", expect={}, data=lambda t: {
            "employee": employee.id, "scheduled_at": "2027-06-01T10:00", "follows": follows.id})

    cases = [
        (EMP, follow_up_form(world.other), HIDDEN),  # Tom's conversation
        (OEMP, follow_up_form(world.open), HIDDEN),  # Eva's conversation
        (ADMIN, follow_up_form(world.open), HIDDEN),  # not completed: not in the file yet
        (EMP, follow_up_form(world.completed), PAGE),  # control
        (ADMIN, follow_up_form(world.completed), PAGE),  # control
        (EMP, plan(eva, world.other), REFUSED),
        (OEMP, plan(tom, world.open), REFUSED),
        (ADMIN, plan(eva, world.open), expect(422, unchanged=True)),  # the admin's form lists everyone
        (EMP, plan(eva, world.completed), expect(303)),  # control
        (ADMIN, plan(eva, world.completed), expect(303)),  # control
    ]
    # Tom moves to a new manager, Nina: she plans his conversations now, but his record
    # with Max is not hers to see, nor to carry agreements from.
    nina = People(world.app).add("nina@example.org", "Nina Nieuw")
    with world.app.app_context(), writing():
        db.session.get(User, tom.id).manager_id = nina.id
    world.clients["new_manager"] = world.clients.login_as(nina)
    other_earlier = world.conversations["other_earlier"]
    cases += [
        ("new_manager", follow_up_form(other_earlier), HIDDEN),
        ("new_manager", plan(tom, other_earlier), expect(422, unchanged=True)),  # her form lists Tom
        ("new_manager", plan(tom, world.other), expect(422, unchanged=True)),
    ]
    problems = []
    for actor, route, outcome in cases:
        key = ("conversations.create", "POST") if route.data else ("conversations.new", "GET")
        problems += attempt(world, route, key, Ctx(world, world.open, world.open, actor), outcome)
    assert not problems, "\n".join(problems)


def test_question_of_another_template_is_404_and_changes_nothing(world):
    """The default template's question in the spare template's path."""
    templates, problems = world.templates, []
    for endpoint in ("questions.update_question", "questions.remove_question", "questions.move_question"):
        key = (endpoint, "POST")
        route = MATRIX[key]
        path = route.path(Ctx(world, world.open, world.open, ADMIN)).replace(
            f"/questions/{templates.spare_question}", f"/questions/{templates.default_question}")
        foreign = Route(path=lambda t, path=path: path, expect={}, data=route.data)
        for hx in (False, True):
            problems += attempt(world, foreign, key, Ctx(world, world.open, world.open, ADMIN),
                                expect(404, unchanged=True), hx=hx, label=" [another template's question]")
    assert not problems, "\n".join(problems)


# --- Form fields that name other people or objects -----------------------------------------------


def hostile_fields(world, role: str) -> dict:
    """Fields no route reads, naming the other side, other people and another conversation."""
    other_role = "manager" if role == "employee" else "employee"
    tom, max_, other = world.people[OEMP], world.people[OMGR], world.other
    return {
        "author": other_role, "author_role": other_role, "role": other_role,
        "author_id": tom.id, "user_id": tom.id, "employee_id": tom.id, "manager_id": max_.id,
        "created_by_id": tom.id, "updated_by_id": tom.id, "planned_by_id": tom.id,
        "conversation_id": other.id, "conversation": other.id, "follows_id": other.id,
        "question_id": other.question, "point_id": other.points["employee"],
        "agreement_id": other.agreement, "id": other.agreement,
        "carried_from": other.agreement, "carried_from_id": other.agreement,
        "status": "completed", "revision": 999, "is_admin": "1",
        "employee_signed_at": "2026-12-01T10:00:00+00:00", "manager_signed_at": "2026-12-01T10:00:00+00:00",
    }


def exports(world) -> dict[str, dict]:
    """Every conversation of the world, as its employee exports it."""
    result = {}
    for key, conv in world.conversations.items():
        response = world.clients[conv.participants[0]].get(f"/conversations/{conv.id}/export.json")
        assert response.status_code == 200
        result[key] = response.get_json()
    return result


def people_rows(world) -> list[tuple]:
    return database_rows(world.app)["users"]


def authorship_problems(app) -> list[str]:
    """Every stored author is the person in the role the row claims."""
    problems = []
    with app.app_context():
        for point, conv in db.session.execute(
                select(TalkingPoint, Conversation).join(Conversation, TalkingPoint.conversation_id == Conversation.id)):
            person = conv.employee_id if point.author_role == "employee" else conv.manager_id
            if point.author_id != person:
                problems.append(f"talking point {point.id} by {point.author_role} has author {point.author_id}")
        for answer, conv in db.session.execute(
                select(Answer, Conversation).select_from(Answer)
                .join(ConversationQuestion, Answer.question_id == ConversationQuestion.id)
                .join(Conversation, ConversationQuestion.conversation_id == Conversation.id)):
            person = conv.employee_id if answer.role == "employee" else conv.manager_id
            if answer.updated_by_id != person:
                problems.append(f"{answer.role} answer {answer.id} was written by {answer.updated_by_id}")
        for agreement, conv in db.session.execute(
                select(Agreement, Conversation).join(Conversation, Agreement.conversation_id == Conversation.id)):
            if agreement.created_by_id not in (conv.employee_id, conv.manager_id):
                problems.append(f"agreement {agreement.id} was created by {agreement.created_by_id}")
        for presence, conv in db.session.execute(
                select(Presence, Conversation).join(Conversation, Presence.conversation_id == Conversation.id)):
            if presence.user_id not in (conv.employee_id, conv.manager_id):
                problems.append(f"person {presence.user_id} is present in conversation {conv.id}")
    return problems


def own_change_problems(before: dict, after: dict, role: str) -> list[str]:
    """What changed in the target conversation beyond the writer's own part."""
    other_role = "manager" if role == "employee" else "employee"
    problems = []
    for field_name in ("id", "employee", "manager", "follows", "scheduled_at", "place", "purpose"):
        if before[field_name] != after[field_name]:
            problems.append(f"{field_name} changed: {before[field_name]!r} → {after[field_name]!r}")

    def answers(data, who):
        return {q["id"]: q["answers"][who] for p in data["phases"] for q in p["questions"]}

    if answers(before, other_role) != answers(after, other_role):
        problems.append(f"the {other_role}'s answers changed")
    if answers(before, role).keys() != answers(after, role).keys():
        problems.append("the questions changed")

    def points(data, who):  # marking discussed is either side's to do
        return [{k: v for k, v in p.items() if k != "discussed"} for p in data["talking_points"] if p["author"] == who]

    old_ids = {p["id"] for p in before["talking_points"]}
    new_points = [p for p in after["talking_points"] if p["id"] not in old_ids]
    if points(before, other_role) != [p for p in points(after, other_role) if p["id"] in old_ids]:
        problems.append(f"the {other_role}'s talking points changed")
    if any(p["author"] != role for p in new_points):
        problems.append(f"a new talking point is not the {role}'s: {new_points}")
    earlier = {a["id"]: a for a in before["agreements"]}
    for agreement in after["agreements"]:
        old = earlier.get(agreement["id"], {"carried_from": None, "reviews": {other_role: None}})
        if agreement["carried_from"] != old["carried_from"]:
            problems.append(f"agreement {agreement['id']} carried_from changed to {agreement['carried_from']}")
        reviews = agreement.get("reviews") or {}
        if reviews.get(other_role) != (old.get("reviews") or {}).get(other_role):
            problems.append(f"the {other_role}'s review of agreement {agreement['id']} changed")
    if before["signatures"][other_role] is None and after["signatures"][other_role] is not None:
        problems.append(f"the {other_role}'s signature was set")
    return problems


WRITE_ROUTES = sorted(endpoint for (endpoint, method), route in MATRIX.items()
                      if route.conversation and method == "POST")


@pytest.mark.parametrize("endpoint", WRITE_ROUTES)
def test_fields_naming_other_ids_change_nothing(endpoint, world):
    """Extra fields (author, role, employee_id, conversation_id, ...) have no effect."""
    key = (endpoint, "POST")
    route = MATRIX[key]
    prepare(world, route)
    problems = []
    for actor in (EMP, MGR):
        ctx = Ctx(world, world.open, world.open, actor)
        data = route.data(ctx) if route.data else {}
        fields = {name: value for name, value in hostile_fields(world, ctx.role).items() if name not in data}
        hostile = Route(path=route.path, expect={}, data=lambda t, d={**fields, **data}: d)
        before, users = exports(world), people_rows(world)
        found = attempt(world, hostile, key, ctx, route.expect[actor], label=" [with hostile fields]")
        after = exports(world)
        found += [f"the {k} conversation changed" for k in before if k != "open" and before[k] != after[k]]
        found += ["people changed"] if people_rows(world) != users else []
        found += own_change_problems(before["open"], after["open"], ctx.role)
        problems += [f"{endpoint} as {actor}: {p}" for p in found]
    problems += authorship_problems(world.app)
    assert not problems, "\n".join(problems)


def test_plan_fields_naming_other_ids_change_nothing(world):
    """Planning with extra fields still plans Eva's conversation with Mia, as a plain plan."""
    eva, mia = world.people[EMP], world.people[MGR]
    for actor in (EMP, MGR, ADMIN):
        fields = hostile_fields(world, "employee")
        data = {**fields, "employee": eva.id, "scheduled_at": "2027-06-01T10:00", "purpose": "Half-yearly"}
        before, users = exports(world), people_rows(world)
        response = world.clients[actor].post("/conversations/", data=data)
        assert response.status_code == 303, (actor, response.status_code)
        cid = new_id(response)
        assert cid not in {c.id for c in world.conversations.values()}
        new = world.clients[EMP].get(f"/conversations/{cid}/export.json").get_json()
        assert (new["employee"]["id"], new["manager"]["id"], new["status"], new["follows"]) == (
            eva.id, mia.id, "planned", None), actor
        assert new["talking_points"] == [] and new["agreements"] == [], actor
        assert new["signatures"] == {"employee": None, "manager": None}, actor
        assert exports(world) == before, actor
        assert people_rows(world) == users, actor
        with world.app.app_context():
            assert db.session.get(Conversation, cid).planned_by_id == world.people[actor].id, actor
