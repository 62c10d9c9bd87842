"""A small bilingual demo organisation, to look around (`voortgang demo`)."""
from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from .auth.service import has_people
from .database import writing
from .conversations import access, answers, planning, points, signoff
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
    ("daan", "Daan Smit", "daan@demo.example", "nl", False, "mia"),
    ("tom", "Tom Walker", "tom@demo.example", "en", False, "mia"),
    ("noor", "Noor El Amrani", "noor@demo.example", "nl", False, "sander"),
    ("liam", "Liam O'Brien", "liam@demo.example", "en", False, "sander"),
]

# What each person wrote, in their own language, question by question (the default
# template's order: five looking back, four looking forward, three agreements).
EVA = [
    "Grotendeels. De nieuwe planningstool draait sinds maart; de handleiding voor het team is nog niet af.",
    "Ik heb de overstap naar de planningstool geleid en drie collega's ingewerkt.",
    "In het derde kwartaal lag er te veel tegelijk op mijn bord, en de leverancier reageerde traag.",
    "Ik heb met Mia prioriteiten gesteld en de leverancier wekelijks gebeld in plaats van gemaild.",
    "Ik vind het werk leuk, vooral het uitzoeken hoe iets beter kan. Lange vergaderingen minder.",
    "Meer contact met klanten, en zelf een klein project trekken.",
    "Op termijn projectleider. Eerst wil ik beter leren presenteren.",
    "Tijd om een cursus te volgen, en iemand die met me meekijkt bij mijn eerste presentaties.",
    "Ja: een cursus presenteren, liefst in het voorjaar.",
    "Ik volg de cursus presenteren; we houden elke maand een kort overleg.",
    "Over ongeveer een half jaar, als de cursus achter de rug is.",
    "Duidelijkheid over welk project ik mag trekken, en een budget voor de cursus.",
]
MIA_TO_EVA = [
    "Yes, the planning tool is a real success. The team guide is the one open end.",
    "Eva kept the switch to the new tool calm and on time; the team trusts her explanations.",
    "Too much landed on her desk at once in Q3. That was partly my planning, too.",
    "She raised it early and we reshuffled together. The weekly supplier calls worked well.",
    "Her energy shows when she can improve a process. I can spare her some of the long meetings.",
    "I agree on client contact. The spring proposal for the Utrecht office could be her project.",
    "A lead role is realistic in a year or two; presenting with confidence is the step before.",
    "A course, a mentor for the first presentations, and protected time for both.",
    "Yes, a presentation course. I will ask HR for the budget this month.",
    "Course in spring; a monthly check-in of half an hour; Eva leads the Utrecht proposal.",
    "In about six months, after the course.",
    "Clear ownership of the Utrecht proposal and fewer ad-hoc requests from me.",
]
DAAN = [
    "De meeste wel. De migratie van het klantportaal loopt twee maanden achter.",
    "Ik heb de storingsdienst anders ingericht: minder nachtelijke meldingen voor iedereen.",
    "Het portaal hing af van een ander team dat zelf onderbezet was.",
    "Ik ben zelf bij hun stand-ups aangeschoven en heb de afhankelijkheden op één lijst gezet.",
    "Het technische werk vind ik prima, maar ik mis de tijd om dingen echt goed te doen.",
    "Het portaal afronden en daarna de documentatie op orde brengen.",
    "Ik wil me verdiepen in beveiliging, misschien richting security champion.",
]
MIA_TO_DAAN = [
    "Mostly yes. The portal delay is not Daan's doing; the dependency was underestimated by all of us.",
    "The new on-call rota is the reason the team sleeps again. That deserves to be said out loud.",
    "The other team's staffing, and too little slack in our own planning.",
    "Very well: he went to the people instead of escalating. I would like him to ask for help sooner.",
    "I hear that he lacks time for quality. Let's look at what we can stop doing.",
]
NOOR = [
    "Ja, de doelen voor de klantenservice zijn gehaald: de wachttijd is gehalveerd.",
    "Ik heb de nieuwe belscripts geschreven en twee nieuwe collega's begeleid.",
    "Het oude ticketsysteem viel regelmatig uit.",
    "Ik heb een noodprocedure op papier gezet, zodat we bleven helpen als het systeem plat lag.",
    "Ik haal veel voldoening uit tevreden klanten. De piekdrukte in januari was zwaar.",
    "Ik wil beter worden in plannen, zodat de drukte beter te verdelen is.",
    "Teamleider klantenservice lijkt me op termijn mooi.",
    "Een training timemanagement en af en toe meelopen met de huidige teamleider.",
    "Ja, een training timemanagement.",
    "Training timemanagement dit jaar; in het voorjaar meelopen met de teamleider.",
    "Over een half jaar.",
    "Dat de planning van de piekweken eerder rond is.",
]
SANDER = [
    "Zeker. De halvering van de wachttijd is grotendeels Noors verdienste.",
    "Ze is voor nieuwe collega's een vast aanspreekpunt geworden.",
    "Het ticketsysteem; dat wordt volgend jaar vervangen.",
    "Praktisch en rustig. De noodprocedure gebruiken we nu in alle teams.",
    "Ik zie dat ze het werk leuk vindt; januari moeten we beter voorbereiden.",
    "Plannen past goed bij wat ze wil. Ik geef haar de roosters van het voorjaar.",
    "Teamleider is een reële stap; daar werken we dit jaar naartoe.",
    "Een training en meelopen. Ik regel het met de teamleider.",
    "Ja, de training timemanagement van de academie.",
    "Training dit jaar, meelopen in het voorjaar, roosters van de piekweken.",
    "Over een half jaar.",
    "De piekweken plannen we voortaan in oktober.",
]
TOM = [
    "Most of them. The reporting dashboard shipped, the data clean-up did not.",
    "The dashboard is used in every Monday meeting now.",
    "The source data was messier than anyone expected.",
    "I documented every data problem and handed the list to the owners.",
    "I like the analysis; chasing other people's data less so.",
    "Finish the clean-up and automate the monthly report.",
    "Maybe a move towards data engineering.",
    "Access to the source systems and a day a week without interruptions.",
    "A course on data pipelines would help.",
    "Clean-up done by summer; a pipelines course in the autumn.",
    "In twelve months.",
    "Access rights, which have taken weeks every time.",
]
MIA_TO_TOM = [
    "The dashboard is a clear success; the clean-up slipped for reasons outside Tom's control.",
    "Monday meetings run on his dashboard; that saves the managers an hour a week.",
    "Data quality, and owners who did not see it as their problem.",
    "Patiently and well documented.",
    "He shines in analysis; we should protect time for that.",
    "Agreed: finish the clean-up, automate the report.",
    "Data engineering fits him; let's explore it next year.",
    "I will arrange the access rights and a focus day.",
    "Yes, the pipelines course.",
    "Clean-up by summer, course in the autumn, focus day on Fridays.",
    "In a year.",
    "Faster access rights; I will take that up with IT.",
]

# The default questions of feedback both ways (a new installation's migration adds them).
FEEDBACK_QUESTIONS = (
    "What could the manager do differently to support the employee better?",
    "What could the organisation do better, for the employee and for the work?",
)
EVA_FEEDBACK = (
    "Minder losse verzoeken tussendoor, en vaker vooraf vragen hoe vol mijn week al is.",
    "Een vast budget voor opleidingen, zodat ik niet elke keer apart hoef te vragen.",
)
MIA_FEEDBACK = (
    "Protect Eva's focus time: I will bundle my requests into our weekly check-in.",
    "A training budget per person per year, known in January.",
)


class NotEmpty(RuntimeError):
    """The database already holds people; the demo only fills an empty one."""


def passphrase() -> str:
    return "-".join(secrets.choice(WORDS) for _ in range(4))


def _at(day: date, hour: int = 10) -> datetime:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time(hour)).replace(tzinfo=zone)


def _answer(person: User, conversation_id: int, texts: list[str], feedback: tuple[str, ...] = ()) -> None:
    """Answer the article's first questions of the conversation, in order, with `texts`,
    and the feedback questions (to the manager, to the organisation) with `feedback`."""
    conversation = access.get_visible(person, conversation_id)
    questions: list[ConversationQuestion] = sorted(conversation.questions, key=lambda q: (q.phase_order, q.position))
    article = [q for q in questions if q.text_en not in FEEDBACK_QUESTIONS]
    asked = [q for q in questions if q.text_en in FEEDBACK_QUESTIONS]
    for question, text in [*zip(article, texts), *zip(asked, feedback)]:
        answers.save_answer(person, conversation_id, question.id, text, 0)


def fill_demo() -> list[tuple[str, str, str, str]]:
    """Create the demo organisation; return (name, email, password, role) per account."""
    if has_people():
        raise NotEmpty("the database is not empty: `voortgang demo` only fills an empty one")
    today = date.today()
    people, accounts = {}, []
    with writing():
        for key, name, email, locale, admin, manager in PEOPLE:
            password = passphrase()
            people[key] = create_user(email=email, name=name, is_admin=admin, locale=locale, password=password,
                                      manager_email=people[manager].email if manager else None)
            db.session.flush()
            role = "administrator" if admin else ("manager" if key in ("mia", "sander") else f"employee of {people[manager].name}")
            accounts.append((name, email, password, role))
    p = {k: db.session.get(User, v.id) for k, v in people.items()}

    # Eva and Mia: completed last spring, with its follow-up planned on the agreed date
    # (the open agreements come along to be reviewed).
    done = planning.plan_conversation(p["mia"], employee_id=p["eva"].id, manager_id=p["mia"].id,
                                           scheduled_at=_at(today - timedelta(days=200)), place="Kamer 2",
                                           purpose="Ons jaarlijkse voortgangsgesprek.")
    _answer(p["eva"], done.id, EVA, EVA_FEEDBACK)
    _answer(p["mia"], done.id, MIA_TO_EVA, MIA_FEEDBACK)
    points.add_talking_point(p["eva"], done.id, "looking_back", "Werkdruk in het derde kwartaal")
    points.add_talking_point(p["mia"], done.id, "looking_forward", "A mentor for Eva's first presentations?")
    points.add_agreement(p["eva"], done.id, text="Cursus presenteren volgen", owner="employee",
                                due=today - timedelta(days=20))
    points.add_agreement(p["mia"], done.id, text="Budget for the presentation course", owner="organisation",
                                due=today - timedelta(days=150), status="done")
    points.add_agreement(p["mia"], done.id, text="Monthly 30-minute check-in", owner="manager",
                                due=today + timedelta(days=30))
    next_evaluation = today + timedelta(days=14)
    points.set_next_evaluation(p["mia"], done.id, next_evaluation)
    signoff.propose_close(p["eva"], done.id)
    signoff.sign(p["eva"], done.id, "Fijn gesprek, goede afspraken.")
    signoff.sign(p["mia"], done.id, "Thank you, Eva.")
    planning.plan_conversation(p["mia"], employee_id=p["eva"].id, manager_id=p["mia"].id,
                                    scheduled_at=_at(next_evaluation), place="Kamer 2",
                                    purpose="Vervolg: hoe staan de afspraken van vorige keer ervoor?",
                                    follows_id=done.id)

    # Daan and Mia: in progress today, he in Dutch, she in English.
    ongoing = planning.plan_conversation(p["daan"], employee_id=p["daan"].id, manager_id=None,
                                              scheduled_at=_at(today), place="Meeting room 1",
                                              purpose="Jaargesprek: terugkijken op het portaal, vooruitkijken.")
    _answer(p["daan"], ongoing.id, DAAN)
    _answer(p["mia"], ongoing.id, MIA_TO_DAAN)
    points.add_talking_point(p["daan"], ongoing.id, "looking_back", "Nachtelijke storingsmeldingen")
    points.add_talking_point(p["mia"], ongoing.id, "looking_back", "What can we stop doing?")
    points.add_talking_point(p["daan"], ongoing.id, "looking_forward", "Cursus security champion")

    # Noor and Sander: awaiting signatures (Noor signed).
    closing = planning.plan_conversation(p["sander"], employee_id=p["noor"].id, manager_id=None,
                                              scheduled_at=_at(today - timedelta(days=2)), place="Online")
    _answer(p["noor"], closing.id, NOOR)
    _answer(p["sander"], closing.id, SANDER)
    points.add_agreement(p["sander"], closing.id, text="Training timemanagement", owner="organisation",
                                due=today + timedelta(days=60))
    points.add_agreement(p["noor"], closing.id, text="Meelopen met de teamleider", owner="employee",
                                due=today + timedelta(days=120))
    points.set_next_evaluation(p["sander"], closing.id, today + timedelta(days=180))
    signoff.propose_close(p["sander"], closing.id)
    signoff.sign(p["noor"], closing.id)

    # Tom and Mia: their last conversation was more than a year ago, and the next
    # evaluation they agreed has passed: Tom is overdue.
    old = planning.plan_conversation(p["mia"], employee_id=p["tom"].id, manager_id=None,
                                          scheduled_at=_at(today - timedelta(days=450)), place="Room 4")
    _answer(p["tom"], old.id, TOM)
    _answer(p["mia"], old.id, MIA_TO_TOM)
    points.add_agreement(p["mia"], old.id, text="Arrange access to the source systems", owner="manager",
                                due=today - timedelta(days=400), status="done")
    points.add_agreement(p["tom"], old.id, text="Data pipelines course", owner="employee",
                                due=today - timedelta(days=200))
    points.set_next_evaluation(p["mia"], old.id, today - timedelta(days=85))
    signoff.propose_close(p["mia"], old.id)
    signoff.sign(p["tom"], old.id)
    signoff.sign(p["mia"], old.id)

    # Liam and Sander: planned next week.
    planning.plan_conversation(p["liam"], employee_id=p["liam"].id, manager_id=None,
                                    scheduled_at=_at(today + timedelta(days=7), 14), place="Room 3",
                                    purpose="First progress conversation after the trial period.")

    # This year's round, for everyone: some planned, some under way, some still to plan.
    from .rounds.service import start_round

    start_round(p["hanna"], name=f"Voortgangsgesprekken {today.year}", starts_on=today - timedelta(days=30),
                ends_on=today + timedelta(days=60))
    return accounts
