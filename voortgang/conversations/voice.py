"""Equal voice: per phase, how much each side has contributed, counted in words of their
answers and of the talking points they brought in. From what the page loads anyway
(the answers, the talking points): no query of its own beyond the talking points."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..vocabulary import PHASES, ROLES, Role

# A hint once a phase holds this many words and one side wrote less than this share.
HINT_MIN_WORDS = 40
HINT_BELOW_PERCENT = 25


@dataclass(frozen=True)
class Voice:
    """The words each side wrote in one phase."""

    words: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.words.values())

    def percent(self, role: str) -> int:
        """This side's share, rounded to 10 % (the bar's steps); 50 when nobody wrote."""
        if not self.total:
            return 50
        exact = 100 * self.words[role] / self.total
        return int(round(exact / 10) * 10)

    @property
    def quiet(self) -> Role | None:
        """The side that has said much less, once there is enough to tell."""
        if self.total < HINT_MIN_WORDS:
            return None
        for role in ROLES:
            if 100 * self.words[role] / self.total < HINT_BELOW_PERCENT:
                return Role(role)
        return None


def count_words(text: str | None) -> int:
    return len(text.split()) if text else 0


def voices(questions: Iterable, answers: Mapping[int, Mapping[str, object]], talking_points: Iterable) -> dict[str, Voice]:
    """{phase: Voice} from the conversation's questions, its answers ({question id: {role:
    answer with a body}}) and its talking points."""
    words = {phase: dict.fromkeys(ROLES, 0) for phase in PHASES}
    for question in questions:
        for role, answer in answers.get(question.id, {}).items():
            words[question.phase][role] += count_words(answer.body)
    for point in talking_points:
        if point.phase in words and point.author_role in ROLES:
            words[point.phase][point.author_role] += count_words(point.text)
    return {phase: Voice(counts) for phase, counts in words.items()}
