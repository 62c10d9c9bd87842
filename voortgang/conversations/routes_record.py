"""Views of what the pair writes down together: talking points, agreements (and the
follow-up's reviews), the next evaluation, and the sign-off."""
from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from ..errors import Invalid, error_text
from ..vocabulary import PHASES, AgreementStatus, Phase, Status
from ..web import is_htmx
from . import access, bp, points, signoff
from .pages import page_context, write_response
from .routes import parse_date


# --- Talking points, agreements, next evaluation ------------------------------------------


def _phase_arg() -> str:
    phase = request.form.get("phase", "")
    if phase not in PHASES:
        abort(400)
    return phase


@bp.post("/<int:conversation_id>/talking-points")
def add_talking_point(conversation_id: int):
    phase = _phase_arg()
    text = request.form.get("text", "")
    try:
        points.add_talking_point(current_user, conversation_id, phase, text)
    except Invalid as refusal:
        return write_response(conversation_id, phase, "conversations/_talking_points.html",
                              status=422, form_state={"key": f"tp-new-{phase}", "text": text,
                                                      "error": error_text(refusal)})
    return write_response(conversation_id, phase, "conversations/_talking_points.html",
                          anchor=f"talking-points-{phase}")


@bp.post("/<int:conversation_id>/talking-points/<int:point_id>")
def edit_talking_point(conversation_id: int, point_id: int):
    text = request.form.get("text", "")
    phase = _phase_arg()
    try:
        point = points.edit_talking_point(current_user, conversation_id, point_id, text)
    except Invalid as refusal:
        return write_response(conversation_id, phase, "conversations/_talking_points.html",
                              status=422, form_state={"key": f"tp-{point_id}", "text": text,
                                                      "error": error_text(refusal)})
    return write_response(conversation_id, point.phase, "conversations/_talking_points.html",
                          anchor=f"tp-{point_id}")


@bp.post("/<int:conversation_id>/talking-points/<int:point_id>/delete")
def remove_talking_point(conversation_id: int, point_id: int):
    phase = points.remove_talking_point(current_user, conversation_id, point_id)
    return write_response(conversation_id, phase, "conversations/_talking_points.html",
                          anchor=f"talking-points-{phase}")


@bp.post("/<int:conversation_id>/talking-points/<int:point_id>/discussed")
def mark_discussed(conversation_id: int, point_id: int):
    discussed = request.form.get("discussed") == "1"
    point = points.mark_discussed(current_user, conversation_id, point_id, discussed)
    return write_response(conversation_id, point.phase, "conversations/_talking_points.html",
                          anchor=f"tp-{point_id}")


def _agreement_input() -> dict:
    return {
        "text": request.form.get("text", ""),
        "owner": request.form.get("owner", ""),
        "due": request.form.get("due", ""),
        "status": request.form.get("status", AgreementStatus.OPEN),
    }


@bp.post("/<int:conversation_id>/agreements")
def add_agreement(conversation_id: int):
    values = _agreement_input()
    try:
        points.add_agreement(current_user, conversation_id, text=values["text"], owner=values["owner"],
                              due=parse_date(values["due"]), status=values["status"])
    except Invalid as refusal:
        return write_response(conversation_id, Phase.AGREEMENTS, "conversations/_agreements.html", status=422,
                              form_state={"key": "agreement-new", **values, "error": error_text(refusal)})
    return write_response(conversation_id, Phase.AGREEMENTS, "conversations/_agreements.html",
                          anchor="agreements")


@bp.post("/<int:conversation_id>/agreements/<int:agreement_id>")
def edit_agreement(conversation_id: int, agreement_id: int):
    values = _agreement_input()
    try:
        points.edit_agreement(current_user, conversation_id, agreement_id, text=values["text"],
                               owner=values["owner"], due=parse_date(values["due"]), status=values["status"])
    except Invalid as refusal:
        return write_response(conversation_id, Phase.AGREEMENTS, "conversations/_agreements.html", status=422,
                              form_state={"key": f"agreement-{agreement_id}", **values,
                                          "error": error_text(refusal)})
    return write_response(conversation_id, Phase.AGREEMENTS, "conversations/_agreements.html",
                          anchor=f"agreement-{agreement_id}")


@bp.post("/<int:conversation_id>/next-evaluation")
def set_next_evaluation(conversation_id: int):
    raw = request.form.get("next_evaluation", "")
    try:
        points.set_next_evaluation(current_user, conversation_id, parse_date(raw))
    except Invalid as refusal:
        return write_response(conversation_id, Phase.AGREEMENTS, "conversations/_next_evaluation.html",
                              status=422, form_state={"key": "next-evaluation", "value": raw,
                                                      "error": error_text(refusal)})
    return write_response(conversation_id, Phase.AGREEMENTS, "conversations/_next_evaluation.html",
                          anchor="next-evaluation")


# --- Follow-up: reviewing the agreements carried from the previous conversation -------


@bp.post("/<int:conversation_id>/agreements/<int:agreement_id>/review")
def review_agreement(conversation_id: int, agreement_id: int):
    rating, comment = request.form.get("rating", ""), request.form.get("comment", "")
    try:
        points.review_agreement(current_user, conversation_id, agreement_id, rating, comment)
    except Invalid as refusal:
        return write_response(conversation_id, Phase.LOOKING_BACK, "conversations/_carried.html", status=422,
                              form_state={"key": f"review-{agreement_id}", "rating": rating,
                                          "comment": comment, "error": error_text(refusal)})
    return write_response(conversation_id, Phase.LOOKING_BACK, "conversations/_carried.html",
                          anchor=f"carried-{agreement_id}")


@bp.post("/<int:conversation_id>/agreements/<int:agreement_id>/decision")
def decide_agreement(conversation_id: int, agreement_id: int):
    try:
        points.decide_agreement(current_user, conversation_id, agreement_id, request.form.get("decision", ""))
    except Invalid as refusal:
        return write_response(conversation_id, Phase.LOOKING_BACK, "conversations/_carried.html", status=422,
                              form_state={"key": f"decision-{agreement_id}", "error": error_text(refusal)})
    return write_response(conversation_id, Phase.LOOKING_BACK, "conversations/_carried.html",
                          anchor=f"carried-{agreement_id}")


# --- Sign-off ----------------------------------------------------------------------------


def _status_response(conversation_id: int, status: int = 200, **extra):
    phase = request.form.get("phase") if request.form.get("phase") in PHASES else PHASES[-1]
    if is_htmx():
        # Completing changes the whole page (it becomes read-only): swap the phase view too.
        conversation = access.get_visible(current_user, conversation_id)
        context = page_context(conversation, phase, **extra)
        html = render_template("conversations/_status.html", **context)
        html += render_template("conversations/_phase.html", oob=True, **context)
        if conversation.status == Status.COMPLETED:
            html += '<div id="live" hx-swap-oob="delete"></div>'  # nothing changes any more: stop polling
        return html, status
    return write_response(conversation_id, phase, "conversations/_status.html", anchor="status",
                          status=status, **extra)


@bp.post("/<int:conversation_id>/propose-close")
def propose_close(conversation_id: int):
    try:
        signoff.propose_close(current_user, conversation_id)
    except Invalid as refusal:
        return _status_response(conversation_id, status=422,
                                form_state={"key": "status", "error": error_text(refusal)})
    return _status_response(conversation_id)


@bp.post("/<int:conversation_id>/reopen")
def reopen(conversation_id: int):
    signoff.reopen(current_user, conversation_id)
    return _status_response(conversation_id)


@bp.post("/<int:conversation_id>/sign")
def sign(conversation_id: int):
    comment = request.form.get("comment", "")
    try:
        signoff.sign(current_user, conversation_id, comment)
    except Invalid as refusal:
        return _status_response(conversation_id, status=422,
                                form_state={"key": "status", "comment": comment, "error": error_text(refusal)})
    return _status_response(conversation_id)

