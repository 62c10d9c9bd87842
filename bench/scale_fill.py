"""A synthetic organisation for `bench.scale`, inserted through the app's own tables.

Rows are built in Python and written with SQLAlchemy Core `insert()` executemany, a few
thousand people (and everything of theirs) per transaction, with explicit ids so rows
can point at each other without reading anything back. Every constraint holds (foreign
keys, checks, unique answers and reviews), and the data follows the app's own rules: a
follow-up copies the open agreements of the conversation it follows (`carried_from_id`),
a completed follow-up decides and rates each of them, a completed record carries both
signatures and a next evaluation.

The shape (for 10,000 people): 8 % managers in four levels, 4.5 % leavers (inactive,
conversations until they left), one administrator; conversations roughly yearly per
person over 8 years, the latest one under way for about 40 % of the people.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, text

from voortgang.extensions import db
from voortgang.models import (
    Agreement,
    AgreementReview,
    Answer,
    AuditEvent,
    Conversation,
    ConversationQuestion,
    TalkingPoint,
    TemplateQuestion,
    User,
)

YEARS = 8
OPEN = ("planned", "in_progress", "awaiting_signatures")
OWNERS = ("employee", "manager", "organisation")
TEXTS = ("Cursus presenteren volgen", "Meer verantwoordelijkheid in het project", "Thuiswerkplek regelen",
         "Mentor zoeken", "Planning bespreken met het team", "Certificering afronden")


@dataclass
class Organisation:
    admin: int = 0
    managers: list[int] = field(default_factory=list)
    reports: dict[int, list[int]] = field(default_factory=dict)  # manager → direct reports
    leavers: set[int] = field(default_factory=set)
    conversations: dict[int, list[int]] = field(default_factory=dict)  # employee → conversation ids
    counts: dict[str, int] = field(default_factory=dict)


def _levels(managers: int) -> list[int]:
    l2 = round(managers * 0.02)
    l3 = round(managers * 0.14)
    return [n for n in (1, l2, l3, managers - 1 - l2 - l3) if n > 0]


def fill(people: int, conversations: int, *, audit_per_conversation: int = 10, seed: int = 15,
         batch_people: int = 1000, log=print) -> Organisation:
    """Insert an organisation of `people` people and about `conversations` conversations
    into the (migrated, empty) database of the current app context."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=365 * YEARS)
    org = Organisation()
    template = [(q.phase, q.phase_order, q.position, q.text_nl, q.text_en)
                for q in db.session.scalars(select(TemplateQuestion).order_by(TemplateQuestion.id))]
    first = (db.session.scalar(select(db.func.max(User.id))) or 0) + 1
    db.session.rollback()

    # --- People: an administrator, managers in four levels, everyone else in teams -----------
    ids = list(range(first, first + people))
    org.admin = ids[0]
    manager_count = max(2, people * 8 // 100)
    levels, rest = [], ids[1:]
    for size in _levels(manager_count):
        levels.append(rest[:size])
        rest = rest[size:]
    manager_of: dict[int, int | None] = {org.admin: None}
    for depth, level in enumerate(levels):
        for n, person in enumerate(level):
            manager_of[person] = None if depth == 0 else levels[depth - 1][n % len(levels[depth - 1])]
    org.managers = [m for level in levels for m in level]
    manager_of[org.admin] = levels[0][0]
    lowest = levels[-1]
    for n, person in enumerate(rest):
        manager_of[person] = lowest[n % len(lowest)]
    for person, manager in manager_of.items():
        if manager is not None:
            org.reports.setdefault(manager, []).append(person)
    leavers = rng.sample(rest, k=min(len(rest), round(people * 0.045)))
    org.leavers = set(leavers)
    rows = [{"id": p, "email": f"person{p}@scale.example", "name": f"{rng.choice(NAMES)} {p:05d}",
             "password_hash": None, "is_admin": p == org.admin, "manager_id": manager_of[p],
             "locale": rng.choice(("nl", "en")), "active": p not in org.leavers,
             "session_token": f"token-{p}", "created_at": start} for p in ids]
    by_id = {r["id"]: r for r in rows}
    order = [*org.managers, org.admin, *rest]  # a manager is inserted before their reports (foreign key)
    with db.engine.begin() as conn:
        conn.execute(insert(User), [by_id[p] for p in order])
    log(f"  {people} people ({len(org.managers)} managers in {len(levels)} levels, {len(org.leavers)} leavers)")

    # --- Conversations, per person a chain of follow-ups --------------------------------------
    employees = [p for p in ids if manager_of[p] is not None]
    per_person = conversations / len(employees)
    ids_next = {"conversation": _next_id(Conversation), "question": _next_id(ConversationQuestion),
                "answer": _next_id(Answer), "point": _next_id(TalkingPoint), "agreement": _next_id(Agreement),
                "review": _next_id(AgreementReview), "audit": _next_id(AuditEvent)}
    counts = dict.fromkeys(ids_next, 0)
    made = 0
    for batch_start in range(0, len(employees), batch_people):
        tables: dict[str, list[dict]] = {k: [] for k in ids_next}
        for index, employee in enumerate(employees[batch_start:batch_start + batch_people], start=batch_start):
            # Spread the remainder so the total comes out at `conversations`.
            wanted = int((index + 1) * per_person) - int(index * per_person)
            made += _person(rng, tables, ids_next, org, employee, manager_of[employee], wanted, template,
                            start, now, audit_per_conversation)
        with db.engine.begin() as conn:
            for name, model in (("conversation", Conversation), ("question", ConversationQuestion),
                                ("answer", Answer), ("point", TalkingPoint), ("agreement", Agreement),
                                ("review", AgreementReview), ("audit", AuditEvent)):
                for chunk_start in range(0, len(tables[name]), 20_000):
                    conn.execute(insert(model), tables[name][chunk_start:chunk_start + 20_000])
                counts[name] += len(tables[name])
        log(f"  {min(batch_start + batch_people, len(employees))}/{len(employees)} people's conversations")
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            for table in ("users", "conversations", "conversation_questions", "answers", "talking_points",
                          "agreements", "agreement_reviews", "audit_events"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    org.counts = {"people": people, **counts}
    return org


def _next_id(model) -> int:
    value = (db.session.scalar(select(db.func.max(model.id))) or 0) + 1
    db.session.rollback()
    return value


def _take(ids_next: dict, name: str) -> int:
    value = ids_next[name]
    ids_next[name] += 1
    return value


def _person(rng, tables, ids_next, org, employee, manager, wanted, template, start, now, audits) -> int:
    if wanted <= 0:
        return 0
    span = (now - start).days
    left = start + timedelta(days=rng.randint(span // 3, span)) if employee in org.leavers else now
    gap = (left - start).days / wanted
    under_way = employee not in org.leavers and rng.random() < 0.4
    previous_open: list[dict] = []
    previous_id = None
    mine = org.conversations.setdefault(employee, [])
    for n in range(wanted):
        cid = _take(ids_next, "conversation")
        mine.append(cid)
        last = n == wanted - 1
        at = start + timedelta(days=gap * n + rng.uniform(0, gap * 0.5), hours=rng.randint(8, 16))
        if last and under_way:
            status = rng.choice(OPEN)
            at = now + timedelta(days=rng.randint(-20, 60))
        else:
            status = "completed"
        done = status == "completed"
        next_evaluation = (at + timedelta(days=365 + rng.randint(-30, 30))).date() if done or status == "awaiting_signatures" else None
        signed = at + timedelta(hours=2) if done else None
        tables["conversation"].append({
            "id": cid, "employee_id": employee, "manager_id": manager, "planned_by_id": manager,
            "follows_id": previous_id, "scheduled_at": at, "place": "Kamer 2", "purpose": "Jaarlijks gesprek",
            "status": status, "next_evaluation": next_evaluation, "revision": audits,
            "employee_changes": audits // 2, "manager_changes": audits - audits // 2,
            "employee_signed_at": signed, "manager_signed_at": signed, "employee_comment": "",
            "manager_comment": "", "signatures_withdrawn_at": None, "completed_at": signed,
            "created_at": at - timedelta(days=14), "updated_at": signed or at})
        answered = len(template) if done or status == "awaiting_signatures" else (
            len(template) // 2 if status == "in_progress" else 0)
        for q_index, (phase, phase_order, position, text_nl, text_en) in enumerate(template):
            qid = _take(ids_next, "question")
            tables["question"].append({"id": qid, "conversation_id": cid, "phase": phase, "phase_order": phase_order,
                                       "position": position, "text_nl": text_nl, "text_en": text_en})
            if q_index < answered:
                for role, author in (("employee", employee), ("manager", manager)):
                    tables["answer"].append({"id": _take(ids_next, "answer"), "question_id": qid, "role": role,
                                             "body": "Een antwoord van een paar zinnen. " * 3, "version": 3,
                                             "updated_at": at, "updated_by_id": author})
        for role, author in (("employee", employee), ("manager", manager)):
            tables["point"].append({"id": _take(ids_next, "point"), "conversation_id": cid, "phase": "looking_back",
                                    "author_role": role, "author_id": author, "text": "Werkdruk", "discussed": done,
                                    "created_at": at, "updated_at": at})
        # Carried from the conversation this one follows: its open agreements.
        now_open = []
        for old in previous_open:
            aid = _take(ids_next, "agreement")
            decision = rng.choice(("closed", "carried", "carried", "dropped")) if done else None
            status_ = {"closed": "done", "carried": "open", "dropped": "dropped", None: "open"}[decision]
            row = {"id": aid, "conversation_id": cid, "text": old["text"], "owner": old["owner"], "due": old["due"],
                   "status": status_, "carried_from_id": old["id"], "created_by_id": manager, "decision": decision,
                   "created_at": at, "updated_at": at}
            tables["agreement"].append(row)
            if done:
                for role in ("employee", "manager"):
                    tables["review"].append({"id": _take(ids_next, "review"), "agreement_id": aid, "role": role,
                                             "rating": rng.choice(("done", "partly", "not_done")), "comment": "",
                                             "updated_at": at})
            if status_ == "open":
                now_open.append(row)
        if status != "planned":
            for _ in range(rng.randint(2, 4)):
                aid = _take(ids_next, "agreement")
                status_ = rng.choices(("open", "done", "dropped"), weights=(7, 2, 1))[0] if done else "open"
                row = {"id": aid, "conversation_id": cid, "text": rng.choice(TEXTS), "owner": rng.choice(OWNERS),
                       "due": (at + timedelta(days=rng.randint(30, 300))).date(), "status": status_,
                       "carried_from_id": None, "created_by_id": manager, "decision": None,
                       "created_at": at, "updated_at": at}
                tables["agreement"].append(row)
                if status_ == "open":
                    now_open.append(row)
        for k in range(audits):
            tables["audit"].append({"id": _take(ids_next, "audit"), "at": at + timedelta(minutes=k),
                                    "actor_id": employee if k % 2 else manager, "action": "answer.saved" if k else
                                    "conversation.planned", "conversation_id": cid, "object_type": "question",
                                    "object_id": None, "detail": "", "revision": k + 1})
        previous_open = now_open if done else []
        previous_id = cid if done else None
    return wanted


NAMES = ("Anna", "Bram", "Chantal", "Daan", "Eva", "Fatima", "Gijs", "Hanna", "Ilse", "Jeroen", "Kim", "Lars",
         "Mia", "Noah", "Olga", "Pieter", "Quinten", "Rosa", "Sem", "Tom", "Umut", "Vera", "Wouter", "Yara", "Zoë")
