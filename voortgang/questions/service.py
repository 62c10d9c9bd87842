"""Rules of question templates: one default at all times, questions in order per phase.

Every function that changes something runs in its own `database.writing()`.
Conversations hold their own copy of the questions (made by
plan_conversation), so nothing here ever changes a conversation.

Writes lock the template's row first (SELECT ... FOR UPDATE on PostgreSQL; SQLite
serialises writers with BEGIN IMMEDIATE), so two administrators editing at once cannot
leave the default template without questions or two templates marked default.
"""
from __future__ import annotations

from sqlalchemy import func, select, update

from ..database import writes
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import PHASES, Template, TemplateQuestion

MAX_NAME_LENGTH = 200
MAX_QUESTION_LENGTH = 1000
DIRECTIONS = ("up", "down")


# --- Reading ---------------------------------------------------------------------------


def list_templates() -> list[tuple[Template, int]]:
    """Every template with its number of questions, oldest first."""
    count = func.count(TemplateQuestion.id)
    rows = db.session.execute(
        select(Template, count)
        .outerjoin(TemplateQuestion, TemplateQuestion.template_id == Template.id)
        .group_by(Template.id)
        .order_by(Template.created_at, Template.id)
    )
    return [(template, number) for template, number in rows]


def get_template(template_id: int) -> Template:
    """Return the template; raise NotFound when there is none with this id."""
    template = db.session.get(Template, template_id)
    if template is None:
        raise NotFound()
    return template


def questions_by_phase(template: Template) -> dict[str, list[TemplateQuestion]]:
    """The template's questions per phase, in order."""
    grouped: dict[str, list[TemplateQuestion]] = {phase: [] for phase in PHASES}
    for question in sorted(template.questions, key=lambda q: (q.phase_order, q.position, q.id)):
        grouped[question.phase].append(question)
    return grouped


# --- Checks ----------------------------------------------------------------------------


def _clean(text: str | None) -> str:
    """Stripped text with Unix line ends and without NUL (PostgreSQL cannot store it)."""
    return (text or "").replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()


def check_name(name: str | None) -> str:
    """Return the cleaned name or raise Invalid."""
    name = " ".join(_clean(name).split())  # one line
    if not name:
        raise Invalid("template_name_missing", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise Invalid("template_name_too_long", field="name", max=MAX_NAME_LENGTH)
    return name


def check_texts(text_nl: str | None, text_en: str | None) -> tuple[str, str]:
    """Return both cleaned question texts or raise Invalid about the first wrong one."""
    cleaned = {}
    for field, text in (("text_nl", text_nl), ("text_en", text_en)):
        value = _clean(text)
        if not value:
            raise Invalid(f"{field}_missing", field=field)
        if len(value) > MAX_QUESTION_LENGTH:
            raise Invalid("text_too_long", field=field, max=MAX_QUESTION_LENGTH)
        cleaned[field] = value
    return cleaned["text_nl"], cleaned["text_en"]


def _locked(template_id: int) -> Template:
    """The template, its row locked until the commit (PostgreSQL); NotFound if absent."""
    template = db.session.scalar(
        select(Template).where(Template.id == template_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if template is None:
        raise NotFound()
    return template


def _phase_questions(template_id: int, phase: str) -> list[TemplateQuestion]:
    return list(db.session.scalars(
        select(TemplateQuestion)
        .where(TemplateQuestion.template_id == template_id, TemplateQuestion.phase == phase)
        .order_by(TemplateQuestion.position, TemplateQuestion.id)
    ))


def _renumber(questions: list[TemplateQuestion]) -> None:
    for position, question in enumerate(questions, start=1):
        question.position = position


def get_question(template_id: int, question_id: int) -> TemplateQuestion:
    """Return a question of this template; raise NotFound otherwise."""
    question = db.session.get(TemplateQuestion, question_id)
    if question is None or question.template_id != template_id:
        raise NotFound()
    return question


def _question_count(template_id: int) -> int:
    return db.session.scalar(
        select(func.count(TemplateQuestion.id)).where(TemplateQuestion.template_id == template_id)
    ) or 0


# --- Templates -------------------------------------------------------------------------


@writes
def create_template(name: str, copy_from_id: int | None = None) -> Template:
    """Create a template, empty or with a copy of another template's questions; never the default."""
    name = check_name(name)
    source = None
    if copy_from_id is not None:
        source = db.session.get(Template, copy_from_id)
        if source is None:
            raise Invalid("copy_from_unknown", field="copy_from")
    template = Template(name=name, is_default=False)
    if source is not None:
        for question in source.questions:
            template.questions.append(TemplateQuestion(
                phase=question.phase, phase_order=question.phase_order, position=question.position,
                text_nl=question.text_nl, text_en=question.text_en,
            ))
    db.session.add(template)
    return template


@writes
def rename_template(template_id: int, name: str) -> Template:
    """Give the template another name."""
    name = check_name(name)
    template = _locked(template_id)
    template.name = name
    return template


@writes
def set_default_template(template_id: int) -> Template:
    """Make this template the default and every other one not, in one transaction."""
    # Lock every template row, always in the same order: two administrators choosing
    # different defaults at once then wait for each other instead of deadlocking.
    db.session.scalars(select(Template.id).order_by(Template.id).with_for_update()).all()
    template = get_template(template_id)
    if _question_count(template_id) == 0:
        raise Invalid("default_empty")
    db.session.execute(
        update(Template).where(Template.id != template_id, Template.is_default.is_(True))
        .values(is_default=False)
    )
    db.session.execute(update(Template).where(Template.id == template_id).values(is_default=True))
    return template


@writes
def delete_template(template_id: int) -> str:
    """Delete a template that is not the default; return its name. Conversations keep their copies."""
    template = _locked(template_id)
    if template.is_default:
        raise Invalid("delete_default")
    name = template.name
    db.session.delete(template)
    return name


# --- Questions -------------------------------------------------------------------------


@writes
def add_question(template_id: int, phase: str, text_nl: str, text_en: str) -> TemplateQuestion:
    """Add a question at the end of a phase."""
    if phase not in PHASES:
        raise Invalid("phase_unknown")
    text_nl, text_en = check_texts(text_nl, text_en)
    _locked(template_id)
    existing = _phase_questions(template_id, phase)
    _renumber(existing)
    question = TemplateQuestion(
        template_id=template_id, phase=phase, phase_order=PHASES.index(phase) + 1,
        position=len(existing) + 1, text_nl=text_nl, text_en=text_en,
    )
    db.session.add(question)
    return question


@writes
def update_question(template_id: int, question_id: int, text_nl: str, text_en: str) -> TemplateQuestion:
    """Change both texts of a question."""
    text_nl, text_en = check_texts(text_nl, text_en)
    _locked(template_id)
    question = get_question(template_id, question_id)
    question.text_nl, question.text_en = text_nl, text_en
    return question


@writes
def remove_question(template_id: int, question_id: int) -> str:
    """Remove a question; return its phase. The default template keeps at least one question."""
    template = _locked(template_id)
    question = get_question(template_id, question_id)
    if template.is_default and _question_count(template_id) <= 1:
        raise Invalid("default_last_question")
    phase = question.phase
    db.session.delete(question)
    db.session.flush()
    _renumber(_phase_questions(template_id, phase))
    return phase


@writes
def move_question(template_id: int, question_id: int, direction: str) -> TemplateQuestion:
    """Move a question one place up or down within its phase; at either end nothing changes."""
    if direction not in DIRECTIONS:
        raise Invalid("direction_unknown")
    _locked(template_id)
    question = get_question(template_id, question_id)
    questions = _phase_questions(template_id, question.phase)
    index = questions.index(question)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(questions):
        questions[index], questions[other] = questions[other], questions[index]
    _renumber(questions)
    return question
