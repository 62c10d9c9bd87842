"""Rules for people: unique email, valid manager and locale."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from ..auth.service import hash_password, normalise_email
from ..config import LOCALES
from ..extensions import db
from ..models import User

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


class PeopleError(ValueError):
    """Bad input for a person; the message is English for the CLI, the code for the UI."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def check_email(email: str) -> str:
    """Return the normalised email or raise PeopleError."""
    email = normalise_email(email)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise PeopleError("email_invalid", f"not a valid email address: {email!r}") from None
    return email


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PeopleError("password_short", f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PeopleError("password_long", f"the password may have at most {MAX_PASSWORD_LENGTH} characters")


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    *,
    email: str,
    name: str,
    is_admin: bool = False,
    manager_email: str | None = None,
    locale: str | None = None,
    password: str | None = None,
) -> User:
    """Add a person (not committed); raise PeopleError on bad input."""
    email = check_email(email)
    name = name.strip()
    if not name:
        raise PeopleError("name_missing", "a name is required")
    if find_by_email(email) is not None:
        raise PeopleError("email_taken", f"a person with email {email} already exists")
    if locale is not None and locale not in LOCALES:
        raise PeopleError("locale_invalid", f"unknown locale {locale!r}: use {' or '.join(LOCALES)}")
    manager = None
    if manager_email:
        manager = find_by_email(manager_email)
        if manager is None:
            raise PeopleError("manager_unknown", f"no person with email {normalise_email(manager_email)}")
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


def set_locale(user: User, locale: str) -> None:
    """Save the person's language."""
    if locale not in LOCALES:
        raise PeopleError("locale_invalid", f"unknown locale {locale!r}: use {' or '.join(LOCALES)}")
    user.locale = locale
    db.session.commit()
