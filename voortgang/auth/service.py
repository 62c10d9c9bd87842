"""Sign-in rules: password hashing, throttling of failed sign-ins, first-run setup."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, or_, select, update

from ..database import utcnow, writing
from ..extensions import db
from ..models import LoginFailure, Setting, User

SETUP_TOKEN_KEY = "setup_token_sha256"  # a settings key, not a secret  # nosec B105


class AuthError(Exception):
    """A refusal whose message is shown to the person (already translated by the caller)."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


# Verified against when the email is unknown, so both cases take the same time.
_DUMMY_HASH: dict[tuple[int, int, int], str] = {}


def _dummy_hash() -> str:
    hasher = _hasher()
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASH[key]


def verify_password(stored: str | None, password: str) -> tuple[bool, str | None]:
    """Check a password against a stored hash (or a dummy one, in the same time); return
    whether it matches, and a new hash when the parameters have changed since."""
    hasher = _hasher()
    try:
        hasher.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False, None
    if stored is None:
        return False, None
    return True, hasher.hash(password) if hasher.check_needs_rehash(stored) else None


def is_throttled(email: str, address: str) -> bool:
    """True when too many sign-ins failed recently for this account or this address."""
    config = current_app.config
    since = utcnow() - timedelta(minutes=config["LOGIN_THROTTLE_MINUTES"])
    per_account, per_address = db.session.execute(
        select(
            func.count().filter(LoginFailure.email == email),
            func.count().filter(LoginFailure.address == address),
        ).where(
            LoginFailure.at >= since,
            or_(LoginFailure.email == email, LoginFailure.address == address),
        )
    ).one()
    return (
        per_account >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        or per_address >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    )


def record_failure(email: str, address: str) -> None:
    db.session.add(LoginFailure(email=email, address=address))
    # Keep the table small: failures older than a day no longer count for anything.
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - timedelta(days=1)))


def authenticate(email: str, password: str, address: str) -> User | None:
    """Return the person for these credentials, or None; raise AuthError when throttled.

    The throttle is checked first, before the expensive hash; the hash is checked outside
    any transaction, so a wave of sign-ins never holds SQLite's write lock (everybody's
    autosave waits for it) for the 20-odd ms each check takes. Then one short write:
    the failure counted (it must persist although the sign-in fails), or the account's
    failures cleared and, when the hash parameters changed, the password rehashed.
    """
    email = normalise_email(email)
    if is_throttled(email, address):
        raise AuthError("throttled")
    user = db.session.scalar(select(User).where(User.email == email))
    stored, active = (user.password_hash, user.active) if user else (None, False)
    db.session.rollback()  # the reads end here (nothing to keep)
    matches, new_hash = verify_password(stored, password)
    with writing():
        if not (matches and active):
            record_failure(email, address)
            return None
        db.session.execute(delete(LoginFailure).where(LoginFailure.email == email))
        if new_hash:
            db.session.execute(update(User).where(User.id == user.id, User.password_hash == stored)
                               .values(password_hash=new_hash))
    return user


def has_people() -> bool:
    return db.session.scalar(select(User.id).limit(1)) is not None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_setup_token() -> str | None:
    """Return a new one-time setup token when nobody exists yet (replacing any older one)."""
    if has_people():
        return None
    token = secrets.token_urlsafe(32)
    with writing():
        db.session.merge(Setting(key=SETUP_TOKEN_KEY, value=_digest(token)))
    return token


def setup_token_valid(token: str) -> bool:
    if has_people():
        return False
    stored = db.session.get(Setting, SETUP_TOKEN_KEY)
    return stored is not None and hmac.compare_digest(stored.value, _digest(token))


def complete_setup(token: str, *, name: str, email: str, password: str, locale: str) -> User:
    """Create the first administrator with the setup token, which then stops working."""
    password_hash = hash_password(password)  # slow: before the write
    with writing():
        # Deleting the token row is the claim: of two simultaneous submissions only one
        # deletes it (the other waits for the row lock, then finds nothing).
        claimed = db.session.execute(
            delete(Setting).where(Setting.key == SETUP_TOKEN_KEY, Setting.value == _digest(token))
        ).rowcount
        if claimed != 1 or has_people():
            raise AuthError("invalid setup token")
        user = User(name=name.strip(), email=normalise_email(email), password_hash=password_hash,
                    is_admin=True, locale=locale)
        db.session.add(user)
    return user


PASSWORD_TOKEN_SALT = "voortgang.set-password"  # a public salt  # nosec B105
PASSWORD_TOKEN_MAX_AGE = timedelta(days=7)


def _password_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PASSWORD_TOKEN_SALT)


def _password_fingerprint(user: User) -> str:
    # Changes when the password or the sessions change, so a used link stops working.
    return _digest(f"{user.password_hash}|{user.session_token}")[:32]


def make_password_token(user: User) -> str:
    """Return a signed, expiring, one-time token with which `user` sets a password."""
    return _password_serializer().dumps({"user": user.id, "fp": _password_fingerprint(user)})


def user_for_password_token(token: str) -> User | None:
    """Return the person the token is for, or None when it is expired, used or forged."""
    try:
        data = _password_serializer().loads(
            token, max_age=int(PASSWORD_TOKEN_MAX_AGE.total_seconds())
        )
    except BadSignature:
        return None
    user = db.session.get(User, data.get("user")) if isinstance(data, dict) else None
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(_password_fingerprint(user), str(data.get("fp"))):
        return None
    return user


def set_password(user: User, password: str) -> None:
    """Set a new password and end every existing session of this person.

    The slow hash is computed before the write (on SQLite the write lock, which every
    autosave waits for, is held only for the short write itself).
    """
    new_hash = hash_password(password)
    with writing():
        user.password_hash = new_hash
        user.end_sessions()


def end_sessions(user: User) -> None:
    """End every session and remember cookie of this person (sign-out everywhere)."""
    with writing():
        user.end_sessions()
