"""A small bilingual demo organisation, to look around (`voortgang demo`)."""
from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from .auth.service import has_people
from .conversations import service as conversations
from .extensions import db
from .models import ConversationQuestion, User
from .people.service import create_user

WORDS = ("appel", "brug", "fiets", "molen", "tulp", "kaas", "dijk", "wolk", "haven", "polder",
         "river", "lantern", "meadow", "harbour", "window", "garden", "pebble", "candle")

PEOPLE = [
    # key, name, email, locale, admin, manager key
    ("hanna", "Hanna de Vries", "hanna@demo.example", "nl", True, None),
    ("mia", "Mia Jansen", "mia@demo.example", "en", False, None),
    ("sander", "Sander Bakker", "sander@demo.example", "nl", False, None),
    ("eva", "Eva Visser", "eva@demo.example", "nl", False, "mia"),
    ("tom", "Tom Walker", "tom@demo.example", "en", False, "mia"),
    ("noor", "Noor El Amrani", "noor@demo.example", "nl", False, "sander"),
    ("liam", "Liam O'Brien", "liam@demo.example", "en", False, "sander"),
]


class NotEmpty(RuntimeError):
    """The database already holds people; the demo only fills an empty one."""


def passphrase() -> str:
    return "-".join(secrets.choice(WORDS) for _ in range(4))


def _at(day: date, hour: int = 10) -> datetime:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time(hour)).replace(tzinfo=zone)


def _answer_all(person: User, conversation_id: int, texts: dict[str, str], count: int | None = None) -> None:
    conversation = conversations.get_visible(person, conversation_id)
    questions: list[ConversationQuestion] = list(conversation.questions)[:count]
    for question in questions:
        conversations.save_answer(person, conversation_id, question.id, texts[question.phase], 0)


def fill_demo() -> list[tuple[str, str, str, str]]:
    """Create the demo organisation; return (name, email, password, role) per account."""
    if has_people():
        raise NotEmpty("the database is not empty: `voortgang demo` only fills an empty one")
    today = date.today()
    people, accounts = {}, []
    for key, name, email, locale, admin, manager in PEOPLE:
        password = passphrase()
        people[key] = create_user(email=email, name=name, is_admin=admin, locale=locale, password=password,
                                  manager_email=people[manager].email if manager else None)
        db.session.flush()
        role = "administrator" if admin else ("manager" if key in ("mia", "sander") else f"employee of {people[manager].name}")
        accounts.append((name, email, password, role))
    db.session.commit()
    p = {k: db.session.get(User, v.id) for k, v in people.items()}

    nl = {"looking_back": "Ik heb de meeste doelen gehaald; de nieuwe planning liep beter dan verwacht.",
          "looking_forward": "Ik wil meer klantcontact en beter leren presenteren.",
          "agreements": "Een cursus presenteren en elke maand een kort overleg."}
    en = {"looking_back": "Most goals were met; the planning project went well despite the delays.",
          "looking_forward": "I would like to grow towards a lead role within a year.",
          "agreements": "A presentation course and a short check-in every month."}

    # Eva and Mia: completed last spring, with its follow-up planned on the agreed date.
    done = conversations.plan_conversation(p["mia"], employee_id=p["eva"].id, manager_id=p["mia"].id,
                                           scheduled_at=_at(today - timedelta(days=200)), place="Kamer 2",
                                           purpose="Ons jaarlijkse voortgangsgesprek.")
    _answer_all(p["eva"], done.id, nl)
    _answer_all(p["mia"], done.id, en)
    conversations.add_talking_point(p["eva"], done.id, "looking_back", "Werkdruk in het derde kwartaal")
    conversations.add_talking_point(p["mia"], done.id, "looking_forward", "Mentor for the new colleague?")
    conversations.add_agreement(p["mia"], done.id, text="Cursus presenteren volgen", owner="employee",
                                due=today - timedelta(days=20))
    conversations.add_agreement(p["mia"], done.id, text="Budget for the course", owner="organisation",
                                due=today - timedelta(days=150), status="done")
    conversations.add_agreement(p["eva"], done.id, text="Maandelijks kort overleg", owner="manager",
                                due=today + timedelta(days=30))
    next_evaluation = today + timedelta(days=14)
    conversations.set_next_evaluation(p["mia"], done.id, next_evaluation)
    conversations.propose_close(p["eva"], done.id)
    conversations.sign(p["eva"], done.id, "Fijn gesprek.")
    conversations.sign(p["mia"], done.id)
    conversations.plan_conversation(p["mia"], employee_id=p["eva"].id, manager_id=p["mia"].id,
                                    scheduled_at=_at(next_evaluation), place="Kamer 2",
                                    purpose="Vervolg: de afspraken van vorige keer.", follows_id=done.id)

    # Tom and Mia: in progress.
    ongoing = conversations.plan_conversation(p["tom"], employee_id=p["tom"].id, manager_id=None,
                                              scheduled_at=_at(today), place="Meeting room 1")
    _answer_all(p["tom"], ongoing.id, en, count=4)
    _answer_all(p["mia"], ongoing.id, en, count=2)

    # Noor and Sander: awaiting signatures (Noor signed).
    closing = conversations.plan_conversation(p["sander"], employee_id=p["noor"].id, manager_id=None,
                                              scheduled_at=_at(today - timedelta(days=2)), place="Online")
    _answer_all(p["noor"], closing.id, nl)
    _answer_all(p["sander"], closing.id, nl)
    conversations.add_agreement(p["sander"], closing.id, text="Training timemanagement", owner="organisation",
                                due=today + timedelta(days=60))
    conversations.set_next_evaluation(p["sander"], closing.id, today + timedelta(days=180))
    conversations.propose_close(p["sander"], closing.id)
    conversations.sign(p["noor"], closing.id)

    # Liam and Sander: planned next week.
    conversations.plan_conversation(p["liam"], employee_id=p["liam"].id, manager_id=None,
                                    scheduled_at=_at(today + timedelta(days=7), 14), place="Room 3",
                                    purpose="First progress conversation after the trial period.")
    return accounts
