"""Rules for people: unique email, valid manager and locale, no manager cycles, passwords, import.

The functions that change people each run in `database.writing()`. A refusal is an
`errors.Invalid` with a code (its sentence is in labels.py) and an English detail for
the command line.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, contains_eager

from ..auth.service import hash_password, make_password_token, normalise_email
from ..config import LOCALES
from ..database import utcnow, writes, writing
from ..errors import Invalid
from ..extensions import db
from ..links import public_url
from ..models import User
from ..records.paging import Page, fetch_page

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

log = logging.getLogger(__name__)


# --- Single values -------------------------------------------------------------------


def check_email(email: str) -> str:
    """Return the normalised email or raise Invalid."""
    email = normalise_email(email)
    if len(email) > MAX_EMAIL_LENGTH:
        raise Invalid("email_invalid", f"not a valid email address: {email!r}")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise Invalid("email_invalid", f"not a valid email address: {email!r}") from None
    return email


def check_name(name: str) -> str:
    """Return the stripped name or raise Invalid."""
    name = (name or "").strip()
    if not name:
        raise Invalid("name_missing", "a name is required")
    if len(name) > MAX_NAME_LENGTH or any(ord(c) < 32 for c in name):
        raise Invalid("name_invalid", f"a name has at most {MAX_NAME_LENGTH} characters on one line")
    return name


def check_locale(locale: str | None) -> str | None:
    """Return nl, en or None (no preference: the browser decides); raise Invalid otherwise."""
    if locale in (None, ""):
        return None
    if locale not in LOCALES:
        raise Invalid("locale_invalid", f"unknown locale {locale!r}: use {' or '.join(LOCALES)}")
    return locale


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-case."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def is_common_password(password: str) -> bool:
    return password.strip().lower() in common_passwords()


def check_password_rules(password: str) -> None:
    """Length 8 to 1024 and not a common password; no composition rules (NIST SP 800-63B)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid("password_short", f"the password needs at least {MIN_PASSWORD_LENGTH} characters",
                          min=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid("password_long", f"the password may have at most {MAX_PASSWORD_LENGTH} characters",
                          max=MAX_PASSWORD_LENGTH)
    if is_common_password(password):
        raise Invalid("password_common", "this password is one of the most common ones: choose another")


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


# --- Creating people ---------------------------------------------------------------------


def create_user(
    *,
    email: str,
    name: str,
    is_admin: bool = False,
    manager_email: str | None = None,
    locale: str | None = None,
    password: str | None = None,
) -> User:
    """Add a person in the caller's `writing()`; raise Invalid on bad input."""
    email = check_email(email)
    name = check_name(name)
    if find_by_email(email) is not None:
        raise Invalid("email_taken", f"a person with email {email} already exists")
    locale = check_locale(locale)
    manager = None
    if manager_email:
        manager = find_by_email(manager_email)
        if manager is None:
            raise Invalid("manager_unknown", f"no person with email {normalise_email(manager_email)}")
    if password is not None:
        check_password_rules(password)
    user = User(
        email=email,
        name=name,
        is_admin=is_admin,
        manager=manager,
        locale=locale,
        password_hash=hash_password(password) if password is not None else None,
    )
    db.session.add(user)
    return user


def _manager_for(user_id: int | None, manager_id: int | None, current_manager_id: int | None = None) -> User | None:
    """The manager to assign to person `user_id` (None for a new person); raise Invalid."""
    if manager_id is None:
        return None
    if user_id is not None and manager_id == user_id:
        raise Invalid("manager_self", "a person cannot be their own manager")
    manager = db.session.get(User, manager_id)
    if manager is None:
        raise Invalid("manager_unknown", f"no person with id {manager_id}")
    if not manager.active and manager_id != current_manager_id:
        raise Invalid("manager_inactive", f"{manager.email} is deactivated and cannot be a manager",
                          name=manager.name)
    if user_id is not None and would_create_cycle(user_id, manager_id):
        raise Invalid("manager_cycle", f"{manager.email} already reports (directly or indirectly) to this person",
                          manager=manager.name)
    return manager


def _flush_or_email_taken(email: str) -> None:
    try:
        db.session.flush()
    except IntegrityError:  # someone else took the address between the check and the write
        raise Invalid("email_taken", f"a person with email {email} already exists") from None


@writes
def add_user(*, email: str, name: str, manager_id: int | None = None, is_admin: bool = False,
             locale: str | None = None) -> User:
    """Add a person without a password (they set one with a password link)."""
    manager = _manager_for(None, manager_id)
    user = create_user(email=email, name=name, is_admin=is_admin, locale=locale)
    user.manager = manager
    _flush_or_email_taken(user.email)
    return user


# --- Changing people ---------------------------------------------------------------------


def _manager_graph() -> dict[int, int | None]:
    return {user_id: manager_id for user_id, manager_id in db.session.execute(select(User.id, User.manager_id))}


def closes_loop(graph: dict, person, manager) -> list | None:
    """The chain manager → ... → person when `manager` would manage `person` in a loop, else None."""
    chain, seen, current = [], set(), manager
    while current is not None:
        chain.append(current)
        if current == person:
            return chain
        if current in seen:  # a loop elsewhere (not through this person): not ours to report
            return None
        seen.add(current)
        current = graph.get(current)
    return None


def would_create_cycle(user_id: int, manager_id: int | None) -> bool:
    """True when making `manager_id` the manager of `user_id` makes someone their own (indirect) manager."""
    if manager_id is None:
        return False
    return closes_loop(_manager_graph(), user_id, manager_id) is not None


def _active_admins(excluding: int | None = None) -> int:
    # Lock the rows we count (PostgreSQL), so two admins cannot both step down at once.
    ids = db.session.scalars(
        select(User.id).where(User.is_admin.is_(True), User.active.is_(True)).with_for_update()
    ).all()
    return len([i for i in ids if i != excluding])


@writes
def update_user(actor: User, user: User, *, email: str, name: str, manager_id: int | None,
                is_admin: bool, locale: str | None) -> User:
    """Change a person's details; refuse manager loops and leaving no active administrator.

    A new e-mail address ends the person's sessions and password links; a new manager
    takes over the person's open conversations (conversations/planning.py: hand_over_open_conversations).
    """
    if user.erased_at is not None:
        raise Invalid("person_erased", f"the data of user {user.id} was erased: add them again as a new person")
    email = check_email(email)
    name = check_name(name)
    if email != user.email:
        other = find_by_email(email)
        if other is not None and other.id != user.id:
            raise Invalid("email_taken", f"a person with email {email} already exists")
    locale = check_locale(locale)
    manager = _manager_for(user.id, manager_id, user.manager_id)
    if user.is_admin and not is_admin and user.active and _active_admins(excluding=user.id) == 0:
        raise Invalid("last_admin", "there must always be an active administrator")
    if email != user.email:
        # Password links mailed to the old address stop working (they carry the session
        # token), and so do the person's sessions: the account changed hands, or hands back.
        user.end_sessions()
    former_manager_id = user.manager_id
    user.email, user.name, user.locale, user.is_admin = email, name, locale, is_admin
    user.manager = manager
    _flush_or_email_taken(email)
    from ..conversations.planning import hand_over_open_conversations

    hand_over_open_conversations(actor, user, former_manager_id)
    return user


@writes
def deactivate_user(actor: User, user: User) -> None:
    """Deactivate a person (their records stay) and end all their sessions at once."""
    if user.id == actor.id:
        raise Invalid("deactivate_self", "you cannot deactivate yourself")
    if user.is_admin and user.active and _active_admins(excluding=user.id) == 0:
        raise Invalid("last_admin", "there must always be an active administrator")
    if user.active:
        user.deactivated_at = utcnow()  # the retention period counts from here
    user.active = False
    user.end_sessions()


@writes
def reactivate_user(actor: User, user: User) -> None:
    """Let a deactivated person sign in again (with their old password, if any)."""
    if user.erased_at is not None:
        raise Invalid("person_erased", f"the data of user {user.id} was erased: add them again as a new person")
    user.active = True
    user.deactivated_at = None


def matching(query: str = ""):
    """The condition on User that the name or e-mail contains `query` (case-insensitive;
    `%` and `_` are characters, not wildcards), or None for everybody."""
    query = (query or "").replace("\x00", "").strip().lower()  # (PostgreSQL refuses NUL in text)
    if not query:
        return None
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(func.lower(User.name).like(pattern, escape="\\"), User.email.like(pattern, escape="\\"))


def people_page(query: str = "", number: int = 1) -> Page:
    """One page (50) of the people whose name or e-mail contains `query`, active people
    first, then by name: the page's ids with the list's length, then those people with
    their managers (two statements)."""
    condition = matching(query)

    def statement(offset: int, limit: int):
        ids = select(User.id, func.count().over().label("total"))
        if condition is not None:
            ids = ids.where(condition)
        return ids.order_by(User.active.desc(), func.lower(User.name), User.id).offset(offset).limit(limit)

    rows, total, number = fetch_page(statement, number)
    position = {person_id: n for n, (person_id, _total) in enumerate(rows)}
    manager = aliased(User)
    people = list(db.session.scalars(select(User).outerjoin(manager, manager.id == User.manager_id)
                                     .options(contains_eager(User.manager.of_type(manager)))
                                     .where(User.id.in_(position))))
    people.sort(key=lambda person: position[person.id])
    return Page(people, total, number)


def possible_managers(user: User | None = None) -> list[User]:
    """Active people who can be chosen as a manager (plus the person's current manager)."""
    people = db.session.scalars(select(User).where(User.active.is_(True)).order_by(func.lower(User.name), User.id)).all()
    chosen = [p for p in people if user is None or p.id != user.id]
    if user is not None and user.manager is not None and not user.manager.active:
        chosen.append(user.manager)
    return chosen


@writes
def set_locale(user: User, locale: str) -> None:
    """Save the person's language."""
    if locale not in LOCALES:
        raise Invalid("locale_invalid", f"unknown locale {locale!r}: use {' or '.join(LOCALES)}")
    user.locale = locale


# --- Password links ------------------------------------------------------------------------


def password_link(user: User) -> str:
    """A new one-time, expiring link (7 days) with which `user` sets a password.

    Earlier links keep working until one of them is used (that changes the password
    fingerprint in every token) or they expire.
    """
    if not user.active:
        raise Invalid("link_inactive", f"{user.email} is deactivated: reactivate them first", name=user.name)
    return public_url("auth.set_password_with_token", token=make_password_token(user))


def mail_configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def send_password_link(user: User, link: str, invitation: bool = False) -> bool:
    """E-mail `link` to `user` in their language (queued in a write of its own, then delivered).
    True when it is on its way.

    Without SMTP_HOST configured nothing is sent and people ask an administrator instead.
    """
    from .. import mail

    with writing():
        queued = mail.password_link(user, link, invitation=invitation)
    return queued


RESET_PREFIX = "reset:"


def request_password_link(email: str, address: str) -> None:
    """Forgotten password: send a link when the address belongs to an active person.

    Tells the caller nothing, so the answer cannot reveal whether the address exists (and
    the mail leaves after the request: mail.py). Requests are counted like failed sign-ins,
    per account and per client address, so nobody can flood someone's inbox or probe from
    one address.
    """
    from ..auth.service import is_throttled, record_failure

    try:
        email = check_email(email)
    except Invalid:
        return
    # Counted under keys of their own, per account and per client address: these requests
    # never count towards the sign-in limits (50 of them from behind one office proxy
    # would otherwise lock the whole office out of signing in).
    key, address_key = RESET_PREFIX + email, RESET_PREFIX + address
    with writing():  # the count and the mail together
        if is_throttled(key, address_key):
            return
        record_failure(key, address_key)
        user = find_by_email(email)
        if user is not None and user.active and mail_configured():
            from .. import mail

            mail.password_link(user, password_link(user), invitation=False)
