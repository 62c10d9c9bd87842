"""The one way a domain rule says no.

A service raises `Refusal` (or `NotFound` / `ReadOnly`) with a `code` that names the
rule; the view, or the blueprint's error handler, turns it into a status and the
translated sentence `error_text(refusal)` from `labels.ERRORS`. A refusal raised
inside `database.writing()` rolls the write back on its way out.
"""
from __future__ import annotations


class Refusal(Exception):
    """A domain rule refused: `code` names it, `field` is the input it is about (if
    any), `details` fill in its sentence, `detail` is an English line for the command
    line and logs (the web shows the translated sentence instead)."""

    code = "invalid"
    status = 422

    def __init__(self, code: str | None = None, detail: str | None = None, *, field: str | None = None,
                 **details):
        super().__init__(detail or code or self.code)
        if code:
            self.code = code
        self.field = field
        self.detail = detail
        self.details = details


class Invalid(Refusal):
    """The input is not acceptable; `code` says why: 422."""


class NotFound(Refusal):
    """It does not exist for this person (or at all): 404, whichever it is."""

    code = "not_found"
    status = 404


class ReadOnly(Refusal):
    """The conversation is completed; nothing can change any more: 403."""

    code = "read_only"
    status = 403


def error_text(refusal: Refusal) -> str:
    """The translated sentence for a refusal, in the current language."""
    from .labels import ERRORS

    message = ERRORS.get(refusal.code, ERRORS["invalid"])
    return str(message) % refusal.details if refusal.details else str(message)
