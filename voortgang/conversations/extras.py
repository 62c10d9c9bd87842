"""The page's parts about preparing and keeping the conversation equal (issue 14), each
read on first use only: a fragment that does not show a part costs no query for it."""
from __future__ import annotations

from functools import cached_property

from ..models import Conversation, User
from ..vocabulary import Role, Status
from . import guide, preparation, voice


class PageExtras:
    """Own preparation, what both may know about it, the guide's closed parts, equal voice."""

    def __init__(self, viewer: User, conversation: Conversation, role: Role | None, answers: dict):
        self._viewer, self._conversation, self._role, self._answers = viewer, conversation, role, answers

    @property
    def preparing(self) -> bool:
        """Preparation is shown to participants until the conversation is completed."""
        return self._role is not None and self._conversation.status != Status.COMPLETED

    @cached_property
    def own(self) -> dict:
        """The viewer's own preparation, {question id: state}: nobody else's, ever."""
        return preparation.own_preparations(self._viewer, self._conversation) if self.preparing else {}

    @cached_property
    def summary(self) -> preparation.Summary | None:
        return preparation.summary(self._conversation) if self.preparing else None

    @cached_property
    def guide_hidden(self) -> frozenset[str]:
        return guide.hidden_parts(self._viewer) if self._role is not None else frozenset(guide.PARTS)

    @cached_property
    def voices(self) -> dict[str, voice.Voice]:
        conversation = self._conversation
        return voice.voices(conversation.questions, self._answers, conversation.talking_points)
