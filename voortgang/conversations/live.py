"""The live view's protocol: each participant's page polls for what the other changed.

A poll, in the order it is served (docs/architecture.md, "The live protocol"):

1. The page (`_live.html`) sends its live state (the inputs of `_live_state.html`) and
   the phase it has open: `Poll`, parsed once by `Poll.from_args`.
2. Before Flask-Login loads the person, `answer_idle_poll` answers an idle poll 204 in
   one statement; when it cannot, it hands the row it read to the view through `g`.
3. The view (`routes.updates`) compares the `Poll` with the server's `PollState`
   (`poll_state`): up to date, 204 (`nothing_new`); otherwise `reply`.
4. `reply` reads what the other participant changed (`live_state.changes_by_other`);
   `reply_context` lets the pure `pieces` decide what the reply carries and builds the
   context (`pages.viewer_context` / `pages.page_context`, shared with the full page);
   `reply` renders the pieces (`_live_update.html`) followed by the new state
   (`reply_end` of `_live_state.html`). The state always comes last: `static/js/app.js` keeps the old
   state when it skipped a piece, which works only because every piece comes before it.

The queries and the presence heartbeat are in `live_state.py`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import g, get_template_attribute, render_template, request

from ..auth import sessions
from ..models import Conversation, User
from ..vocabulary import PHASES
from ..web import parse_int
from . import access, live_state, messages, pages
from .answers import AnswerState, tally_progress
from .live_state import HEARTBEAT_SECONDS, Changes, PollState  # noqa: F401  (the protocol's names)


@dataclass(frozen=True)
class Poll:
    """What the page sends with every poll: its live state and the phase it has open."""

    since: int | None  # the other participant's change count the page has seen
    seen: int | None  # the revision the page has seen; None (an old page): send everything
    status: str | None  # the conversation's status the page shows
    presence: str  # the phase the page shows the other in; "" when away
    progress: str | None  # the stepper's counts the page shows (`live_state.progress_key`)
    phase: str  # the phase the page has open

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Poll:
        phase = args.get("phase")
        return cls(since=parse_int(args.get("since")), seen=parse_int(args.get("seen")),
                   status=args.get("status"), presence=args.get("presence", ""),
                   progress=args.get("progress"), phase=phase if phase in PHASES else PHASES[0])

    def other_changed(self, state: PollState) -> bool:
        """The other participant made changes the page has not seen."""
        return state.other_changes != self.since

    def moved(self, state: PollState) -> bool:
        """The status or the other participant's place differs from what the page shows."""
        return self.status != state.status or state.other_phase != self.presence

    def up_to_date(self, state: PollState) -> bool:
        """Nothing new for the page: the reply is a 204."""
        return not self.other_changed(state) and state.other_phase == self.presence


# Changes that move the status card (its signatures and the next evaluation date are on it).
STATUS_KINDS = ("signatures", "next_evaluation", "conversation.proposed_close", "conversation.reopened",
                "conversation.signed", "conversation.completed")


@dataclass(frozen=True)
class Pieces:
    """What a reply to a poll carries before the new state it always ends with."""

    changed: bool  # the other participant changed something; without it, none of the next five
    everything: bool  # ... and the page has no `seen`: every piece of the open phase
    status: bool  # the status card
    answer_ids: frozenset[int] | None  # the other's column of these questions; None: of all
    points: bool  # the talking points of the open phase
    agreements: bool  # the agreements (and in looking back, the carried ones)
    next_evaluation: bool
    stepper: bool  # the phases with their counts and who is where
    preparation: bool  # who is ready to share (never a preparation's text)
    revealed: bool  # the preparations became answers: the whole phase, own answers included
    answers_only: bool  # answer texts only: built from plain rows, without the page context

    def carries_answer(self, question_id: int) -> bool:
        return self.changed and (self.answer_ids is None or question_id in self.answer_ids)


def may_be_answers_only(poll: Poll, state: PollState, changes: Changes | None) -> bool:
    """Only answers changed and nothing moved: the reply is answers only unless the
    stepper's counts moved too (which needs the answers to tell)."""
    return changes is not None and set(changes.kinds) <= {"answer"} and not poll.moved(state)


def pieces(poll: Poll, state: PollState, changes: Changes | None, progress_key: str) -> Pieces:
    """Which pieces the reply to `poll` carries. Pure: the poll, the server's state, what
    the other participant changed after `poll.seen` (None: not known, so everything)
    and the stepper's counts now (`live_state.progress_key`)."""
    changed = poll.other_changed(state)

    def changed_any(*kinds: str) -> bool:
        return changed and (changes is None or changes.any(*kinds))

    stepper = changes is None or poll.moved(state) or poll.progress != progress_key
    return Pieces(
        changed=changed,
        everything=changed and changes is None,
        status=changed_any(*STATUS_KINDS) or (changed and poll.status != state.status),
        answer_ids=None if changes is None else frozenset(changes.question_ids),
        points=changed_any("talking_point"),
        agreements=changed_any("agreement"),
        next_evaluation=changed_any("next_evaluation"),
        stepper=stepper,
        preparation=changed_any("preparation.ready", "preparation.revealed"),
        revealed=changed_any("preparation.revealed"),
        answers_only=may_be_answers_only(poll, state, changes) and not stepper,
    )


def reply(viewer: User, conversation_id: int, poll: Poll, state: PollState) -> str:
    """The reply to a poll that is not up to date: the pieces, then the new state."""
    conversation = access.get_visible(viewer, conversation_id)
    changes = None
    if poll.other_changed(state) and poll.seen is not None:
        changes = live_state.changes_by_other(conversation, poll.seen, viewer)
    context = reply_context(conversation, poll, state, changes)
    html = render_template("conversations/_live_update.html", **context)
    # The new state last, after every piece: app.js relies on it.
    return html + str(get_template_attribute("conversations/_live_state.html", "reply_end")(
        conversation, context["other_changes"], context["other_phase"], context["progress_key"]))


def reply_context(conversation: Conversation, poll: Poll, state: PollState, changes: Changes | None) -> dict:
    """The template context of a reply: `show` (the `Pieces`), `live_questions`,
    `announcement`, and the page's context (`pages.page_context`), or, when the reply is
    answers only, its live part (`pages.viewer_context`) with the answers from plain rows."""
    context = None
    if may_be_answers_only(poll, state, changes):
        # The usual change while typing together. The answer texts, and the counts to
        # see whether the stepper moved, come from one query of plain rows.
        questions = live_state.question_answers(conversation.id)
        key = live_state.progress_key(tally_progress((q.phase, q.bodies) for q in questions))
        show = pieces(poll, state, changes, key)
        if show.answers_only:
            context = pages.viewer_context(conversation, poll.phase, state.role, state.other_phase,
                                           state.other_changes, key)
            other_role = context["other_role"]
            context["answers"] = {q.id: {other_role: AnswerState(q.bodies.get(other_role, ""), 0, None)}
                                  for q in questions if show.carries_answer(q.id)}
    if context is None:
        context = pages.page_context(conversation, poll.phase, other_phase=state.other_phase)
        show = pieces(poll, state, changes, context["progress_key"])
        questions = conversation.questions
    context["show"] = show
    context["live_questions"] = [q for q in questions if q.phase == poll.phase and show.carries_answer(q.id)]
    context["announcement"] = None
    if changes is not None and changes.kinds:
        name = changes.by or conversation.participant(state.role.other).name
        context["announcement"] = messages.announcement(name, changes.kinds)
    return context


# --- The idle fast path ------------------------------------------------------------------

POLL_ROW = "voortgang_poll_row"  # g: the row answer_idle_poll read, for the view in the same request


def answer_idle_poll():
    """Before every request: answer an idle poll 204 in one statement, or let the view do it.

    The poll of an open conversation page is by far the most frequent request. It is
    registered as the app's first before-request function (`voortgang/__init__.py`),
    ahead of Flask-Login's set-up. When the session needs nothing
    (`auth/sessions.py: quiet_claim`, which reads Flask-Login's session keys and its
    session identifier, and must change whenever Flask-Login's session handling does)
    and the one query shows the person still signed in with this session, taking part,
    and the page up to date, this is exactly the view's 204 without loading the person
    or the conversation. Anything else (a change, a refusal, a session to refresh or end)
    goes the full way, and the row read here is handed to `poll_state` through `g`.
    `tests/test_live.py` checks, in every situation, that both ways answer alike.
    """
    if request.endpoint != "conversations.updates" or request.method != "GET":
        return None
    claim = sessions.quiet_claim()
    if claim is None:
        return None
    conversation_id = request.view_args["conversation_id"]
    row = live_state.poll_row(claim.user_id, conversation_id)
    if row is None or not row.active or row.session_token != claim.token:
        return None
    setattr(g, POLL_ROW, ((claim.user_id, conversation_id), row))  # the view needs it again
    state = live_state.state_of(row, claim.user_id)
    if state is None or not Poll.from_args(request.args).up_to_date(state):
        return None
    return nothing_new()


def poll_state(user: User, conversation_id: int) -> PollState | None:
    """The server's side of the poll; None when `user` does not take part.

    Uses the row `answer_idle_poll` read in this request, if it read one for the same
    person and conversation; otherwise reads it (one statement).
    """
    row = g.pop(POLL_ROW, None)
    if row is None or row[0] != (user.id, conversation_id):
        return live_state.state_of(live_state.poll_row(user.id, conversation_id), user.id)
    return live_state.state_of(row[1], user.id)


def nothing_new():
    """The reply to a poll when nothing changed: nothing to swap."""
    return "", 204, {"Cache-Control": "no-store"}
