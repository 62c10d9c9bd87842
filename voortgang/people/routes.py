"""Views of people and profiles: parse the request, call a rule in service.py, render."""
from __future__ import annotations

from flask import abort, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import get_locale, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from ..auth.service import AuthError, authenticate, set_password
from ..auth.sessions import REMEMBERED, start_session
from ..extensions import db
from ..database import utcnow
from ..models import User
from ..records import erasure, retention
from ..records.paging import page_number
from ..web import admins_only, is_htmx
from . import bp, imports, profile_bp, service
from .forms import ChangePasswordForm, ForgotPasswordForm, ImportForm, LanguageForm, PersonForm
from ..errors import Invalid, error_text

# A password link made by the last action, shown once on the person's page (PRG without
# server memory: it rides in the signed session cookie until that page is shown).
LINK_KEY = "people_password_link"


bp.before_request(admins_only)


def _person(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _field_for(code: str) -> str | None:
    """The form field a rule's refusal belongs to (None: the form as a whole)."""
    if code == "last_admin":
        return "is_admin"
    return {"email": "email", "name": "name", "locale": "locale", "manager": "manager"}.get(code.split("_")[0])


def _show_error(form, error: Invalid) -> str | None:
    """Put the refusal on its field; return it when it belongs to the whole form."""
    name = _field_for(error.code)
    if name is None:
        return error_text(error)
    field = getattr(form, name)
    field.errors = [*field.errors, error_text(error)]
    return None


def _set_manager_choices(form: PersonForm, user: User | None = None) -> None:
    form.manager.choices = [SelectChoice("", _("No manager"))] + [
        SelectChoice(person.id, f"{person.name} ({person.email})") for person in service.possible_managers(user)
    ]


def _keep_link(user: User) -> str:
    link = service.password_link(user)
    session[LINK_KEY] = {"user": user.id, "link": link}
    return link


# --- The list ---------------------------------------------------------------------------


@bp.get("/")
def index():
    query = request.args.get("q", "").strip()[:200]
    page = service.people_page(query, page_number(request.args.get("page")))
    template = "people/_list.html" if is_htmx() else "people/index.html"
    erase_after = {due.person_id: due.erase_after for due in retention.leavers(counts=False)}
    response = make_response(render_template(template, page=page, people=page.items, query=query,
                                             erase_after=erase_after, now=utcnow()))
    response.headers["Vary"] = "HX-Request"
    return response


# --- Adding and changing ----------------------------------------------------------------


@bp.get("/new")
def new():
    form = PersonForm()
    _set_manager_choices(form)
    return render_template("people/new.html", form=form)


@bp.post("/")
def create():
    form = PersonForm()
    _set_manager_choices(form)
    problem = None
    if form.validate_on_submit():
        try:
            user = service.add_user(
                email=form.email.data, name=form.name.data, manager_id=form.manager.data,
                is_admin=form.is_admin.data, locale=form.locale.data or None,
            )
        except Invalid as error:
            problem = _show_error(form, error)
        else:
            link = _keep_link(user)
            flash(_("%(name)s has been added.", name=user.name), "success")
            if service.send_password_link(user, link, invitation=True):
                flash(_("The invitation is on its way to %(email)s.", email=user.email), "success")
            return redirect(url_for("people.edit", user_id=user.id, _anchor="password-link"), code=303)
    return render_template("people/new.html", form=form, problem=problem), 422


def _render_edit(user: User, form: PersonForm | None = None, problem: str | None = None, status: int = 200):
    if form is None:
        form = PersonForm(data={"name": user.name, "email": user.email, "manager": user.manager_id,
                                "locale": user.locale or "", "is_admin": user.is_admin})
        _set_manager_choices(form, user)
    link = None
    kept = session.get(LINK_KEY)
    if status == 200 and kept and kept.get("user") == user.id:
        link = session.pop(LINK_KEY)["link"]
    return render_template("people/edit.html", form=form, person=user, link=link, problem=problem), status


@bp.get("/<int:user_id>")
def edit(user_id: int):
    return _render_edit(_person(user_id))


@bp.post("/<int:user_id>")
def update(user_id: int):
    user = _person(user_id)
    form = PersonForm()
    _set_manager_choices(form, user)
    problem = None
    if form.validate_on_submit():
        try:
            service.update_user(
                current_user, user, email=form.email.data, name=form.name.data,
                manager_id=form.manager.data, is_admin=form.is_admin.data, locale=form.locale.data or None,
            )
        except Invalid as error:
            problem = _show_error(form, error)
        else:
            flash(_("Your changes are saved."), "success")
            if not current_user.is_admin:  # they gave up their own administrator role
                return redirect(url_for("main.index"), code=303)
            return redirect(url_for("people.edit", user_id=user.id), code=303)
    return _render_edit(user, form, problem, 422)


@bp.post("/<int:user_id>/deactivate")
def deactivate(user_id: int):
    user = _person(user_id)
    try:
        service.deactivate_user(current_user, user)
    except Invalid as error:
        return _render_edit(user, problem=error_text(error), status=422)
    flash(_("%(name)s is deactivated and signed out everywhere.", name=user.name), "success")
    return redirect(url_for("people.edit", user_id=user.id), code=303)


@bp.post("/<int:user_id>/reactivate")
def reactivate(user_id: int):
    user = _person(user_id)
    try:
        service.reactivate_user(current_user, user)
    except Invalid as error:
        return _render_edit(user, problem=error_text(error), status=422)
    flash(_("%(name)s can sign in again.", name=user.name), "success")
    return redirect(url_for("people.edit", user_id=user.id), code=303)


@bp.post("/<int:user_id>/password-link")
def password_link(user_id: int):
    user = _person(user_id)
    try:
        _keep_link(user)
    except Invalid as error:
        return _render_edit(user, problem=error_text(error), status=422)
    return redirect(url_for("people.edit", user_id=user.id, _anchor="password-link"), code=303)


# --- Erasure on request (records/erasure.py) ------------------------------------------------


def _render_erase(user: User, problem: str | None = None, status: int = 200):
    return render_template("people/erase.html", person=user, summary=erasure.summary(user),
                           problem=problem), status


@bp.get("/<int:user_id>/erase")
def confirm_erase(user_id: int):
    user = _person(user_id)
    if user.erased_at is not None:
        return redirect(url_for("people.edit", user_id=user.id), code=303)
    return _render_erase(user)


@bp.post("/<int:user_id>/erase")
def erase(user_id: int):
    """Erase after the confirmation page named what goes (a ticked box confirms it)."""
    user = _person(user_id)
    if request.form.get("confirm") != "yes":
        return _render_erase(user, problem=error_text(Invalid("erase_not_confirmed")), status=422)
    name = user.name
    try:
        erasure.erase_person(current_user, user_id)
    except Invalid as error:
        return _render_erase(_person(user_id), problem=error_text(error), status=422)
    flash(_("The data of %(name)s is erased.", name=name), "success")
    return redirect(url_for("people.edit", user_id=user_id), code=303)


# --- Import -----------------------------------------------------------------------------


@bp.get("/import")
def import_people():
    return render_template("people/import_people.html", form=ImportForm())


def _render_preview(text: str, check: imports.ImportCheck, problem: str | None = None):
    too_large = any(error.code == "import_too_large" for error in check.errors)
    return render_template(
        "people/preview_import.html", check=check, csv_text="" if too_large else text,
        form=ImportForm(formdata=None, csv_text="" if too_large else text), problem=problem,
        error_text=error_text,
    ), 200 if check.ok else 422


@bp.post("/import")
def preview_import():
    """Check an uploaded (or pasted) CSV and show every row with its problems; write nothing."""
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("people/import_people.html", form=form), 422
    upload = form.file.data
    if upload is not None and getattr(upload, "filename", None):
        text = imports.decode_upload(upload.read(imports.MAX_IMPORT_BYTES + 1))
    else:
        text = form.csv_text.data or ""
    if not text.strip():
        form.file.errors = [*form.file.errors, _("Choose a CSV file or paste its text.")]
        return render_template("people/import_people.html", form=form), 422
    check = imports.check_import(text)
    return _render_preview(text, check)


@bp.post("/import/apply")
def apply_import():
    """Import the previewed text, checked again: everyone or nobody."""
    text = request.form.get("csv_text", "")
    try:
        added = imports.import_people(text)
    except Invalid as error:
        check = imports.check_import(text)
        response, _status = _render_preview(text, check, problem=error_text(error))
        return response, 422
    flash(_("People imported: %(count)d. Make a password link for each of them on their page.", count=len(added)),
          "success")
    return redirect(url_for("people.index"), code=303)


# --- Everyone's own profile -----------------------------------------------------------------


def _render_profile(language_form: LanguageForm | None = None, password_form: ChangePasswordForm | None = None,
                    status: int = 200):
    if language_form is None:
        language_form = LanguageForm(formdata=None, data={"locale": current_user.locale or str(get_locale())})
    if password_form is None:
        password_form = ChangePasswordForm(formdata=None)
    return render_template("profile/show.html", language_form=language_form,
                           password_form=password_form), status


@profile_bp.get("/profile")
@login_required
def show():
    return _render_profile()


@profile_bp.post("/profile/language")
@login_required
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        service.set_locale(current_user, form.locale.data)
        refresh()  # the message below in the language just chosen
        flash(_("Your language is saved."), "success")
        return redirect(url_for("profile.show"), code=303)
    return _render_profile(language_form=form, status=422)


@profile_bp.post("/profile/password")
@login_required
def password():
    form = ChangePasswordForm()
    status = 422
    if form.validate_on_submit():
        try:
            confirmed = authenticate(current_user.email, form.current.data, request.remote_addr or "-")
        except AuthError:
            minutes = current_app.config["LOGIN_THROTTLE_MINUTES"]
            form.current.errors = [_("Too many failed sign-ins. Wait %(minutes)d minutes and try again.",
                                     minutes=minutes)]
            status = 429
        else:
            if confirmed is None:
                form.current.errors = [_("This is not your current password.")]
            else:
                user = current_user._get_current_object()
                remembered = bool(session.get(REMEMBERED))
                set_password(user, form.password.data)  # ends every session of this person ...
                start_session(user, remember=remembered)  # ... and starts a fresh one here
                flash(_("Your password is changed. You are signed out on your other devices."), "success")
                return redirect(url_for("profile.show"), code=303)
    return _render_profile(password_form=form, status=status)


# --- Forgotten password (signed out) -----------------------------------------------------------


@profile_bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    """The same answer for every address, known or not."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        service.request_password_link(form.email.data, request.remote_addr or "-")
        return redirect(url_for("profile.forgot_password", sent=1), code=303)
    sent = request.method == "GET" and request.args.get("sent") == "1"
    return render_template("profile/forgot_password.html", form=form, sent=sent,
                           mail=service.mail_configured()), 422 if form.is_submitted() else 200
