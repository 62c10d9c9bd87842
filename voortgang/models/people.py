"""People: who signs in, failed sign-ins, installation settings."""
from __future__ import annotations

import secrets
import time
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    """A person who signs in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (stripped, lower-case), which makes it unique case-insensitively.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the id in every session and remember cookie; rotating it ends them all.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the person was deactivated (left): the retention period counts from here.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When an administrator erased the person's data on request (only the name stays).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    manager: Mapped[User | None] = relationship(remote_side=[id], back_populates="reports")
    reports: Mapped[list[User]] = relationship(back_populates="manager")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive people
        return self.active

    def get_id(self) -> str:
        # Flask-Login stores this at sign-in in the session and the remember cookie:
        # the session token (rotated to end all sessions) and the sign-in time
        # (which bounds how long any session or remember cookie lives).
        return f"{self.id}:{self.session_token}:{int(time.time())}"

    def end_sessions(self) -> None:
        """Invalidate every session and remember cookie of this person."""
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class LoginFailure(db.Model):
    """One failed sign-in; counted per account and per address to throttle guessing."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_login_failures_email_at", "email", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )


class Setting(db.Model):
    """A small piece of installation state shared by every app process."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
