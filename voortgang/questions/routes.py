"""Views of the question templates: parse the request, call a rule in service.py, render.

Every write works as a plain form (Post/Redirect/Get, or the full page with 422) and,
with htmx, answers the fragment it changed: a phase section, the name, or the list.
"""
from __future__ import annotations

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from ..models import PHASES, Template
from ..web import admins_only, is_htmx
from . import bp, service
from ..errors import Invalid, error_text
from .forms import QuestionForm, RenameForm, TemplateForm


bp.before_request(admins_only)


@bp.context_processor
def template_words() -> dict:
    return {"phases": PHASES}


def _template(template_id: int) -> Template:
    return service.get_template(template_id)  # NotFound → 404 (main/routes.py: refuse)


def _field_error(form, error: Invalid) -> str | None:
    """Put a refusal on its field; return it when it belongs to no field of this form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        return error_text(error)
    field.errors = [*field.errors, error_text(error)]
    return None


# --- The list of templates ---------------------------------------------------------------


def _template_form(form: TemplateForm | None = None) -> TemplateForm:
    form = form or TemplateForm(formdata=None)
    form.copy_from.choices = [("", _("Start empty"))] + [
        (template.id, template.name) for template, _count in service.list_templates()
    ]
    return form


def _render_index(form: TemplateForm | None = None, problem: dict | None = None, status: int = 200):
    context = {"templates": service.list_templates(), "problem": problem or {}}
    if is_htmx():
        html = render_template("questions/_list.html", **context)
    else:
        html = render_template("questions/index.html", form=_template_form(form), **context)
    return html, status, {"Vary": "HX-Request"}


@bp.get("/")
def index():
    return _render_index()


@bp.post("/")
def create():
    form = _template_form(TemplateForm())
    problem = None
    if form.validate_on_submit():
        try:
            template = service.create_template(form.name.data, form.copy_from.data)
        except Invalid as error:
            problem = _field_error(form, error)
        else:
            flash(_("“%(name)s” has been created.", name=template.name), "success")
            return redirect(url_for("questions.show", template_id=template.id), code=303)
    return render_template("questions/index.html", form=form, templates=service.list_templates(),
                           problem={"message": problem} if problem else {}), 422


@bp.post("/<int:template_id>/default")
def make_default(template_id: int):
    try:
        template = service.set_default_template(template_id)
    except Invalid as error:
        return _render_index(problem={"template_id": template_id, "message": error_text(error)}, status=422)
    if is_htmx():
        return _render_index()
    flash(_("“%(name)s” is now the default template.", name=template.name), "success")
    return redirect(url_for("questions.index"), code=303)


# --- One template ------------------------------------------------------------------------


def _page_context(template: Template, **extra) -> dict:
    return {
        "template": template,
        "questions": service.questions_by_phase(template),
        "bound": extra.pop("bound", None),
        "rename_form": extra.pop("rename_form", None) or RenameForm(formdata=None, name=template.name),
        "problem": extra.pop("problem", {}),
        "max_length": service.MAX_QUESTION_LENGTH,
        **extra,
    }


def _render_show(template: Template, status: int = 200, **extra):
    return render_template("questions/show.html", **_page_context(template, **extra)), status


def _phase_response(template_id: int, phase: str, anchor: str, status: int = 200, **extra):
    """After a question write: the phase section for htmx; otherwise PRG, or the page with 422."""
    if status < 400 and not is_htmx():
        return redirect(url_for("questions.show", template_id=template_id, _anchor=anchor), code=303)
    template = _template(template_id)
    if is_htmx():
        context = _page_context(template, **extra)
        return render_template("questions/_phase.html", phase=phase, **context), status
    return _render_show(template, status, **extra)


@bp.get("/<int:template_id>")
def show(template_id: int):
    return _render_show(_template(template_id))


@bp.post("/<int:template_id>/name")
def rename(template_id: int):
    _template(template_id)
    form = RenameForm()
    if form.validate_on_submit():
        try:
            template = service.rename_template(template_id, form.name.data)
        except Invalid as error:
            _field_error(form, error)
        else:
            if not is_htmx():
                return redirect(url_for("questions.show", template_id=template_id), code=303)
            return render_template("questions/_name.html", **_page_context(template))
    template = _template(template_id)
    if is_htmx():
        return render_template("questions/_name.html", **_page_context(template, rename_form=form)), 422
    return _render_show(template, 422, rename_form=form)


@bp.post("/<int:template_id>/delete")
def delete(template_id: int):
    _template(template_id)
    try:
        name = service.delete_template(template_id)
    except Invalid as error:
        return _render_show(_template(template_id), 422, problem={"key": "delete", "message": error_text(error)})
    flash(_("“%(name)s” has been deleted.", name=name), "success")
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url_for("questions.index")
        return response
    return redirect(url_for("questions.index"), code=303)


# --- Questions -------------------------------------------------------------------------------


@bp.post("/<int:template_id>/phases/<phase>/questions")
def add_question(template_id: int, phase: str):
    _template(template_id)
    if phase not in PHASES:
        abort(404)
    form = QuestionForm()
    key = f"new-{phase}"
    if form.validate_on_submit():
        try:
            question = service.add_question(template_id, phase, form.text_nl.data, form.text_en.data)
        except Invalid as error:
            _field_error(form, error)
        else:
            return _phase_response(template_id, phase, f"question-{question.id}")
    return _phase_response(template_id, phase, key, status=422, bound={"key": key, "form": form})


@bp.post("/<int:template_id>/questions/<int:question_id>")
def update_question(template_id: int, question_id: int):
    question = service.get_question(template_id, question_id)
    phase, key = question.phase, f"question-{question_id}"
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            service.update_question(template_id, question_id, form.text_nl.data, form.text_en.data)
        except Invalid as error:
            _field_error(form, error)
        else:
            return _phase_response(template_id, phase, key)
    return _phase_response(template_id, phase, key, status=422, bound={"key": key, "form": form})


@bp.post("/<int:template_id>/questions/<int:question_id>/delete")
def remove_question(template_id: int, question_id: int):
    phase = service.get_question(template_id, question_id).phase
    try:
        service.remove_question(template_id, question_id)
    except Invalid as error:
        return _phase_response(template_id, phase, f"question-{question_id}", status=422,
                               problem={"key": f"question-{question_id}", "message": error_text(error)})
    return _phase_response(template_id, phase, f"phase-{phase}")


@bp.post("/<int:template_id>/questions/<int:question_id>/move")
def move_question(template_id: int, question_id: int):
    direction = request.form.get("direction", "")
    if direction not in service.DIRECTIONS:
        abort(400)
    question = service.move_question(template_id, question_id, direction)
    return _phase_response(template_id, question.phase, f"question-{question_id}")
