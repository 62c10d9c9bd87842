"""The live protocol's decisions, without a database or an app: `Poll` and `pieces`."""
from itertools import product

import pytest
from werkzeug.datastructures import MultiDict

from voortgang.conversations.live import STATUS_KINDS, Poll, may_be_answers_only, pieces
from voortgang.conversations.live_state import Changes, PollState
from voortgang.models import PHASES

KEY = "1-0.0-0.0-0"  # the stepper's counts now
STATE = PollState(revision=9, other_changes=4, status="in_progress", role="employee", other_phase="")


def page(**changes) -> Poll:
    """A page that has seen everything but the other participant's last changes."""
    values = {"since": 3, "seen": 8, "status": "in_progress", "presence": "", "progress": KEY,
              "phase": "looking_back"}
    return Poll(**{**values, **changes})


def test_poll_is_parsed_once_from_what_the_page_sends():
    args = MultiDict({"since": "4", "seen": "9", "status": "in_progress", "presence": "agreements",
                      "progress": KEY, "phase": "agreements"})
    assert Poll.from_args(args) == Poll(4, 9, "in_progress", "agreements", KEY, "agreements")
    # An old page, or garbage: numbers it cannot read are None, an unknown phase is the first.
    assert Poll.from_args(MultiDict({"since": "x", "phase": "nope"})) == Poll(None, None, None, "", None, PHASES[0])


def test_up_to_date_compares_the_other_participants_changes_and_presence_only():
    assert page(since=4).up_to_date(STATE)
    assert page(since=4, status="planned", progress="old").up_to_date(STATE)  # those come with a change
    assert not page(since=3).up_to_date(STATE)
    assert not page(since=None).up_to_date(STATE)
    assert not page(since=4, presence="agreements").up_to_date(STATE)


def test_only_the_other_ones_place_moved_the_stepper_and_nothing_else():
    show = pieces(page(since=4, presence="agreements"), STATE, None, KEY)
    assert show.stepper and not show.changed
    assert not (show.everything or show.status or show.points or show.agreements or show.next_evaluation)
    assert not show.carries_answer(1) and not show.answers_only


def test_an_old_page_without_seen_gets_everything():
    show = pieces(page(seen=None), STATE, None, KEY)
    assert show.changed and show.everything and show.stepper
    assert show.status and show.points and show.agreements and show.next_evaluation
    assert show.answer_ids is None and show.carries_answer(1) and show.carries_answer(2)
    assert not show.answers_only


def test_answers_typed_together_are_answers_only_while_nothing_else_moved():
    answers = Changes(["answer"], {1, 2})
    show = pieces(page(), STATE, answers, KEY)
    assert show.answers_only and not show.stepper and not show.status and not show.points
    assert show.carries_answer(1) and show.carries_answer(2) and not show.carries_answer(3)
    # The counts moved (an answer filled or emptied): the stepper comes along, from the page context.
    show = pieces(page(progress="0-0.0-0.0-0"), STATE, answers, KEY)
    assert show.stepper and not show.answers_only
    # The status the page shows is behind: the status card too.
    show = pieces(page(status="planned"), STATE, answers, KEY)
    assert show.status and show.stepper and not show.answers_only
    # The other participant went to another phase.
    show = pieces(page(presence="agreements"), STATE, answers, KEY)
    assert show.stepper and not show.status and not show.answers_only


@pytest.mark.parametrize("kind", STATUS_KINDS)
def test_what_moves_the_status_card(kind):
    show = pieces(page(), STATE, Changes([kind], set()), KEY)
    assert show.status and not show.points and not show.answers_only


def test_each_kind_of_change_brings_its_own_piece():
    point = pieces(page(), STATE, Changes(["talking_point"], set()), KEY)
    assert point.points and not (point.agreements or point.next_evaluation or point.status or point.stepper)
    assert point.answer_ids == frozenset() and not point.answers_only
    agreement = pieces(page(), STATE, Changes(["agreement", "answer"], {5}), KEY)
    assert agreement.agreements and agreement.carries_answer(5) and not agreement.points
    assert not agreement.answers_only
    date = pieces(page(), STATE, Changes(["next_evaluation"], set()), KEY)
    assert date.next_evaluation and date.status and not date.agreements


def _as_before(poll, state, changes, key):
    """The rules as the updates view spelled them out before they were a function."""
    changed = state.other_changes != poll.since
    status_changed = poll.status != state.status
    show = {
        "everything": changed and changes is None,
        "status": changed and (changes is None or status_changed or changes.any(*STATUS_KINDS)),
        "points": changed and (changes is None or changes.any("talking_point")),
        "agreements": changed and (changes is None or changes.any("agreement")),
        "next_evaluation": changed and (changes is None or changes.any("next_evaluation")),
    }
    moved = status_changed or state.other_phase != poll.presence
    fast = changes is not None and set(changes.kinds) <= {"answer"} and not moved and key == poll.progress
    show["stepper"] = False if fast else (changes is None or moved or poll.progress != key)
    return show, fast


CHANGES = [None, Changes([], set()), Changes(["answer"], {1}), Changes(["talking_point"], set()),
           Changes(["answer", "agreement"], {1}), Changes(["next_evaluation"], set()),
           Changes(["signatures"], set()), Changes(["conversation.completed", "answer"], {2})]


# Every combination a page can poll with; changes are read only when the other changed something.
GRID = [(since, status, presence, other_phase, progress, changes) for since, status, presence, other_phase,
        progress, changes in product([None, 3, 4], [None, "in_progress", "planned"], ["", "agreements"],
                                     ["", "agreements"], [None, KEY, "old"], CHANGES)
        if since != STATE.other_changes or changes is None]


def test_pieces_decides_as_the_view_did():
    for since, status, presence, other_phase, progress, changes in GRID:
        state = PollState(9, 4, "in_progress", "employee", other_phase)
        poll = page(since=since, status=status, presence=presence, progress=progress)
        show = pieces(poll, state, changes, KEY)
        before, fast = _as_before(poll, state, changes, KEY)
        assert {name: getattr(show, name) for name in before} == before, (poll, state, changes)
        assert show.answers_only == fast, (poll, state, changes)
        # The plain rows are read whenever the reply may be answers only.
        assert may_be_answers_only(poll, state, changes) >= show.answers_only, (poll, state, changes)
    assert len(GRID) == 612
