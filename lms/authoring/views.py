"""Trainer pages (``/authoring``) and the cmi5 player (``/cmi5``).

Every authoring view: signed in, trainer or admin role, and — for a course — one of its
trainers or an admin (:func:`lms.authoring.service.require_editor`); anything else is 403.
Views parse input, call a service, commit once and map domain errors to messages.
"""

from __future__ import annotations

import random
from pathlib import Path, PurePosixPath
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from lms.authoring import cmi5, drafts, forms, results, service
from lms.authoring.models import AuthoredCourse
from lms.courses import service as courses
from lms.courses.content import media_html, render_markdown
from lms.db import get_session
from lms.errors import LmsError, NotFound
from lms.people.models import Role
from lms.quizzes import editor as quizedit
from lms.quizzes.grading import question_type

authoring_bp = Blueprint("authoring", __name__, url_prefix="/authoring")
cmi5_bp = Blueprint("cmi5", __name__, url_prefix="/cmi5")


@authoring_bp.before_request
@login_required
def _trainers_only() -> Any:
    if not current_user.has_role(Role.TRAINER, Role.ADMIN):
        abort(403)
    return None


def _hosts() -> list[str]:
    return list(current_app.config.get("EMBED_ALLOWED_HOSTS") or [])


def _editable(slug: str) -> AuthoredCourse:
    return service.require_editor(slug, current_user)


def _folder(authored: AuthoredCourse) -> Path:
    return drafts.draft_dir(authored.slug)


def _flash_error(exc: LmsError) -> None:
    flash(str(exc.message), "danger")
    for detail in (exc.details or [])[:20]:
        flash(str(detail), "danger")


def _module_name(authored: AuthoredCourse, name: str) -> str:
    if name not in drafts.module_files(_folder(authored)):
        raise NotFound(_("No such module in this course."))
    return name


# --- list, create, import ----------------------------------------------------------------


@authoring_bp.get("/")
def index() -> Any:
    mine = service.courses_of(current_user)
    adoptable = []
    if current_user.has_role(Role.ADMIN):
        import sqlalchemy as sa

        from lms.courses.models import Course

        taken = {a.slug for a in mine}
        adoptable = [c for c in get_session().scalars(sa.select(Course).order_by(Course.title))
                     if c.slug not in taken]
    return render_template("authoring/index.html", courses=mine, adoptable=adoptable,
                           package_form=forms.PackageForm(), cmi5_form=forms.Cmi5Form())


@authoring_bp.route("/new", methods=["GET", "POST"])
def create() -> Any:
    form = forms.CourseCreateForm()
    if form.validate_on_submit():
        try:
            authored = service.create_course(
                current_user, form.slug.data, form.title.data, form.summary.data,
                form.topic.data, float(form.jp.data), form.competency.data.strip().upper(),
                form.competency_level.data)
        except LmsError as exc:
            get_session().rollback()
            if exc.field in form:
                form[exc.field].errors.append(str(exc.message))
            else:
                _flash_error(exc)
        else:
            get_session().commit()
            flash(_("Course created. Add lessons and a quiz, then publish."), "success")
            return redirect(url_for(".course", slug=authored.slug))
    return render_template("authoring/create.html", form=form)


@authoring_bp.post("/adopt/<slug>")
def adopt(slug: str) -> Any:
    if not current_user.has_role(Role.ADMIN):
        abort(403)
    import sqlalchemy as sa

    from lms.courses.models import Course

    row = get_session().scalar(sa.select(Course).where(Course.slug == slug))
    if row is None:
        abort(404)
    service.adopt_course(row, current_user)
    get_session().commit()
    return redirect(url_for(".course", slug=slug))


@authoring_bp.post("/import")
def import_package() -> Any:
    form = forms.PackageForm()
    if not form.validate_on_submit():
        flash(_("Choose a .zip file to import."), "danger")
        return redirect(url_for(".index"))
    upload = form.package.data
    try:
        authored, version = service.import_zip(upload.stream, current_user,
                                               label=upload.filename or "zip")
    except LmsError as exc:
        get_session().rollback()
        _flash_error(exc)
        return redirect(url_for(".index")), 303
    get_session().commit()
    if version is None:
        flash(_("Imported; nothing changed since the published version."), "info")
    else:
        flash(_("Imported and published as version %(n)s.", n=version.number), "success")
    return redirect(url_for(".course", slug=authored.slug))


@authoring_bp.post("/import-cmi5")
def import_cmi5() -> Any:
    form = forms.Cmi5Form()
    if not form.validate_on_submit():
        for field in form:
            for error in field.errors:
                flash(f"{field.label.text}: {error}", "danger")
        return redirect(url_for(".index"))
    try:
        authored = cmi5.import_package(form.package.data.stream, current_user,
                                       form.slug.data.strip(), float(form.jp.data),
                                       form.topic.data.strip(),
                                       form.competency.data.strip().upper(),
                                       form.competency_level.data)
    except LmsError as exc:
        get_session().rollback()
        _flash_error(exc)
        return redirect(url_for(".index")), 303
    get_session().commit()
    flash(_("The cmi5 package is imported and published."), "success")
    return redirect(url_for(".course", slug=authored.slug))


# --- one course ----------------------------------------------------------------------------


@authoring_bp.get("/<slug>")
def course(slug: str) -> Any:
    authored = _editable(slug)
    catalog = service.catalog_course(authored)
    modules: list[dict[str, Any]] = []
    loaded, errors = (None, list[Any]())
    package = None
    if authored.kind == "course":
        folder = _folder(authored)
        modules = [drafts.read_module(folder, n) for n in drafts.module_files(folder)]
        loaded, errors = service.check_draft(authored)
    else:
        package = cmi5.latest_package(slug)
    changed = service.draft_changed(authored, loaded) if not errors else True
    return render_template(
        "authoring/course.html", authored=authored, catalog=catalog, modules=modules,
        errors=errors, changed=changed, package=package,
        meta=drafts.read_course_yaml(_folder(authored)) if authored.kind == "course" else {},
        add_form=forms.ModuleAddForm(), trainer_form=forms.TrainerForm(),
        trainers=service.trainers(authored))


def _fill_settings(form: Any, meta: dict[str, Any]) -> None:
    form.title.data = meta.get("title", "")
    form.summary.data = meta.get("summary", "")
    form.description.data = meta.get("description", "")
    form.topic.data = meta.get("topic", "")
    form.tags.data = ", ".join(meta.get("tags") or [])
    form.jp.data = meta.get("jp")
    form.level.data = meta.get("level", "dasar")
    form.competencies.data = "\n".join(
        f"{c.get('code')} {c.get('level')}" for c in meta.get("competencies") or [])
    completion = meta.get("completion") or {}
    form.completion_quizzes.data = completion.get("quizzes") if completion.get("quizzes") \
        in ("all", "none") else "all"
    form.completion_modules.data = "none" if completion.get("modules") == [] else "all"


@authoring_bp.route("/<slug>/settings", methods=["GET", "POST"])
def settings(slug: str) -> Any:
    authored = _editable(slug)
    folder = _folder(authored)
    meta = drafts.read_course_yaml(folder)
    form = forms.CourseSettingsForm()
    if request.method == "GET":
        _fill_settings(form, meta)
    elif form.validate_on_submit():
        targets, problems = [], []
        for n, line in enumerate(form.competencies.data.splitlines(), start=1):
            parts = line.replace(",", " ").split()
            if not parts:
                continue
            if len(parts) != 2 or not parts[1].isdigit() or not 1 <= int(parts[1]) <= 5 or \
                    not forms.CODE_RULE.regex.match(parts[0].upper()):
                problems.append(_("Line %(n)s: write a code and a level 1-5, e.g. 'M.05 2'.",
                                  n=n))
                continue
            targets.append({"code": parts[0].upper(), "level": int(parts[1])})
        if not targets and not problems:
            problems.append(_("Give at least one competency target."))
        if problems:
            form.competencies.errors.extend(problems)
        else:
            meta.update({
                "title": form.title.data.strip(), "summary": form.summary.data.strip(),
                "description": form.description.data or "", "topic": form.topic.data.strip(),
                "tags": [t.strip() for t in (form.tags.data or "").split(",") if t.strip()],
                "jp": float(form.jp.data), "level": form.level.data, "competencies": targets,
                "completion": {
                    "modules": [] if form.completion_modules.data == "none" else "all",
                    "quizzes": form.completion_quizzes.data,
                },
            })
            drafts.write_course_yaml(folder, meta)
            service.record(authored, current_user, "settings_changed", meta["title"])
            authored.title = meta["title"][:200]
            get_session().commit()
            flash(_("Course settings saved."), "success")
            return redirect(url_for(".course", slug=slug))
    return _settings_page(authored, form)


def _settings_page(authored: AuthoredCourse, form: Any, cover_form: Any = None) -> Any:
    meta = drafts.read_course_yaml(_folder(authored))
    if cover_form is None:
        cover_form = forms.CoverForm(formdata=None)
        cover_form.cover_alt.data = meta.get("cover_alt", "")
    return render_template("authoring/settings.html", authored=authored, form=form,
                           cover_form=cover_form, cover=meta.get("cover"))


@authoring_bp.post("/<slug>/cover")
def cover(slug: str) -> Any:
    """Upload or replace the cover image, or change its alt text."""
    authored = _editable(slug)
    form = forms.CoverForm()
    if form.validate_on_submit():
        upload = form.cover.data
        data = None
        if upload is not None and getattr(upload, "filename", None):
            from lms.courses.format import MAX_COVER_BYTES

            try:
                data = upload.read(MAX_COVER_BYTES + 1)
            finally:
                upload.close()
        try:
            service.set_cover(authored, current_user, getattr(upload, "filename", None), data,
                              form.cover_alt.data or "")
        except LmsError as exc:
            get_session().rollback()
            form.cover.errors = [str(exc.message)]
        else:
            get_session().commit()
            flash(_("Cover image saved. It appears in the catalog once you publish."), "success")
            return redirect(url_for(".settings", slug=slug))
    settings_form = forms.CourseSettingsForm(formdata=None)
    _fill_settings(settings_form, drafts.read_course_yaml(_folder(authored)))
    return _settings_page(authored, settings_form, form), 400


@authoring_bp.post("/<slug>/cover/delete")
def cover_delete(slug: str) -> Any:
    authored = _editable(slug)
    form = forms.CoverForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.remove_cover(authored, current_user)
    except LmsError as exc:
        get_session().rollback()
        flash(str(exc.message), "warning")
    else:
        get_session().commit()
        flash(_("Cover image removed. The catalog changes when you publish."), "success")
    return redirect(url_for(".settings", slug=slug))


@authoring_bp.post("/<slug>/modules")
def module_add(slug: str) -> Any:
    authored = _editable(slug)
    form = forms.ModuleAddForm()
    if not form.validate_on_submit():
        flash(_("Give the new module a title."), "danger")
        return redirect(url_for(".course", slug=slug))
    folder = _folder(authored)
    module_id = drafts.new_module_id(folder, form.title.data)
    title = form.title.data.strip()
    if form.kind.data == "quiz":
        name = f"{module_id}.yaml"
        (folder / name).write_text(drafts.dump_yaml(
            {"title": title, "pass_mark": 70, "attempts": 0, "questions": []}), encoding="utf-8")
    else:
        name = f"{module_id}.md"
        front: dict[str, Any] = {"title": title}
        if form.kind.data != "lesson":
            front["kind"] = form.kind.data
        drafts.write_lesson_file(folder / name, front, "")
    drafts.add_module(folder, name)
    service.record(authored, current_user, "module_added", f"{name}: {title}")
    get_session().commit()
    return redirect(url_for(".module_edit", slug=slug, name=name))


@authoring_bp.post("/<slug>/modules/<name>/move")
def module_move(slug: str, name: str) -> Any:
    authored = _editable(slug)
    name = _module_name(authored, name)
    offset = -1 if request.form.get("direction") == "up" else 1
    drafts.move_module(_folder(authored), name, offset)
    service.record(authored, current_user, "module_moved",
                   f"{name} {'up' if offset < 0 else 'down'}")
    get_session().commit()
    return redirect(url_for(".course", slug=slug))


@authoring_bp.post("/<slug>/modules/<name>/delete")
def module_delete(slug: str, name: str) -> Any:
    authored = _editable(slug)
    name = _module_name(authored, name)
    drafts.remove_module(_folder(authored), name)
    service.record(authored, current_user, "module_removed", name)
    get_session().commit()
    flash(_("Module removed from the draft."), "info")
    return redirect(url_for(".course", slug=slug))


@authoring_bp.route("/<slug>/modules/<name>", methods=["GET", "POST"])
def module_edit(slug: str, name: str) -> Any:
    authored = _editable(slug)
    name = _module_name(authored, name)
    if name.endswith((".yaml", ".yml")):
        return _quiz_edit(authored, name)
    folder = _folder(authored)
    module = drafts.read_module(folder, name)
    form = forms.LessonForm()
    if request.method == "GET":
        front = module["front"]
        form.title.data = front.get("title", "")
        form.kind.data = front.get("kind", "lesson")
        form.minutes.data = front.get("minutes")
        form.video.data = front.get("video", "")
        form.embed.data = front.get("embed", "")
        form.height.data = front.get("height", drafts.DEFAULT_HEIGHT)
        form.h5p.data = front.get("h5p", "")
        form.body.data = module["body"]
    elif form.validate_on_submit():
        front = {k: v for k, v in module["front"].items() if k == "id"}
        front["title"] = form.title.data.strip()
        if form.kind.data != "lesson":
            front["kind"] = form.kind.data
        if form.minutes.data:
            front["minutes"] = form.minutes.data
        if form.kind.data == "video" and (form.video.data or "").strip():
            front["video"] = form.video.data.strip()
        if form.kind.data == "embed" and (form.embed.data or "").strip():
            front["embed"] = form.embed.data.strip()
            if form.height.data and form.height.data != drafts.DEFAULT_HEIGHT:
                front["height"] = form.height.data
        if form.kind.data == "h5p" and (form.h5p.data or "").strip():
            front["h5p"] = form.h5p.data.strip()
        body = (form.body.data or "").replace("\r\n", "\n")
        drafts.write_lesson_file(folder / name, front, body)
        service.record(authored, current_user, "lesson_saved", f"{name}: {front['title']}")
        get_session().commit()
        flash(_("Lesson saved."), "success")
        return redirect(url_for(".module_edit", slug=slug, name=name))
    return render_template("authoring/lesson.html", authored=authored, name=name, form=form,
                           upload_form=forms.UploadForm(), problems=_module_problems(
                               authored, name))


def _module_problems(authored: AuthoredCourse, name: str) -> list[str]:
    _loaded, errors = service.check_draft(authored)
    from lms.courses.explain import format_error_text

    return [_("%(where)s%(problem)s (line %(n)s)", where=f"{e.where}: " if e.where else "",
              problem=format_error_text(e), n=e.line)
            for e in errors if e.file.endswith("/" + name)]


def _questions_with_defaults(questions: Any) -> list[dict[str, Any]]:
    """The questions of a draft as the course format reads them: a file written by hand or
    by another tool may leave out what has a default (``points`` is 1)."""
    if not isinstance(questions, list):
        return []
    return [{"points": 1.0, **q} for q in questions if isinstance(q, dict)]


def _quiz_edit(authored: AuthoredCourse, name: str) -> Any:
    folder = _folder(authored)
    data = drafts.read_module(folder, name)["quiz"]
    form = forms.QuizSettingsForm()
    if request.method == "GET":
        form.title.data = data.get("title", "")
        form.description.data = data.get("description", "")
        form.pass_mark.data = data.get("pass_mark", 70)
        form.attempts.data = data.get("attempts", 0)
        form.time_limit_minutes.data = data.get("time_limit_minutes")
        form.shuffle_questions.data = bool(data.get("shuffle_questions"))
        form.shuffle_choices.data = bool(data.get("shuffle_choices"))
        feedback = data.get("feedback") or {}
        form.feedback_passed.data = feedback.get("passed") or ""
        form.feedback_failed.data = feedback.get("failed") or ""
    elif form.validate_on_submit():
        data.update({
            "title": form.title.data.strip(), "description": form.description.data or "",
            "pass_mark": float(form.pass_mark.data), "attempts": form.attempts.data or 0,
            "shuffle_questions": form.shuffle_questions.data,
            "shuffle_choices": form.shuffle_choices.data,
            "feedback": {"passed": form.feedback_passed.data or None,
                         "failed": form.feedback_failed.data or None},
        })
        if form.time_limit_minutes.data:
            data["time_limit_minutes"] = form.time_limit_minutes.data
        else:
            data.pop("time_limit_minutes", None)
        (folder / name).write_text(drafts.dump_yaml(data), encoding="utf-8")
        service.record(authored, current_user, "quiz_saved", f"{name}: {data['title']}")
        get_session().commit()
        flash(_("Quiz settings saved."), "success")
        return redirect(url_for(".module_edit", slug=authored.slug, name=name))
    return render_template("authoring/quiz.html", authored=authored, name=name, form=form,
                           questions=_questions_with_defaults(data.get("questions")),
                           types=quizedit.question_type_labels(),
                           problems=quizedit.check_quiz(data) if data.get("questions") else [])


def _quiz_data(authored: AuthoredCourse, name: str) -> dict[str, Any]:
    if not name.endswith((".yaml", ".yml")):
        raise NotFound(_("No such quiz in this course."))
    return drafts.read_module(_folder(authored), _module_name(authored, name))["quiz"]


def _save_quiz(authored: AuthoredCourse, name: str, data: dict[str, Any]) -> None:
    (_folder(authored) / name).write_text(drafts.dump_yaml(data), encoding="utf-8")


@authoring_bp.route("/<slug>/quizzes/<name>/questions/new/<qtype>", methods=["GET", "POST"])
@authoring_bp.route("/<slug>/quizzes/<name>/questions/<qid>", methods=["GET", "POST"])
def question_edit(slug: str, name: str, qtype: str | None = None,
                  qid: str | None = None) -> Any:
    authored = _editable(slug)
    data = _quiz_data(authored, name)
    questions = data.setdefault("questions", [])
    existing = None
    if qid is not None:
        existing = next((q for q in questions if q.get("id") == qid), None)
        if existing is None:
            raise NotFound(_("No such question in this quiz."))
        qtype = existing["type"]
    if qtype not in quizedit.question_type_labels():
        raise NotFound(_("Unknown question type."))
    problems: list[str] = []
    question = existing or {"type": qtype, "points": 1}
    if request.method == "POST":
        new_id = qid or _new_question_id(questions)
        question, problems = quizedit.question_from_form(qtype, new_id, request.form.get,
                                                         request.form.getlist)
        checked, more = quizedit.check_question(question)
        problems += [p for p in more if p not in problems]
        if not problems and checked is not None:
            if existing is not None:
                questions[questions.index(existing)] = checked
            else:
                questions.append(checked)
            _save_quiz(authored, name, data)
            service.record(authored, current_user,
                           "question_saved" if existing else "question_added",
                           f"{name}#{new_id} ({qtype})")
            get_session().commit()
            flash(_("Question saved."), "success")
            return redirect(url_for(".module_edit", slug=slug, name=name))
    return render_template("authoring/question.html", authored=authored, name=name,
                           quiz=data, q=question, qtype=qtype, qid=qid, problems=problems,
                           type_label=quizedit.question_type_labels()[qtype]), \
        400 if problems else 200


def _new_question_id(questions: list[dict[str, Any]]) -> str:
    taken = {q.get("id") for q in questions}
    n = len(questions) + 1
    while f"q{n}" in taken:
        n += 1
    return f"q{n}"


@authoring_bp.post("/<slug>/quizzes/<name>/questions/<qid>/delete")
def question_delete(slug: str, name: str, qid: str) -> Any:
    authored = _editable(slug)
    data = _quiz_data(authored, name)
    before = len(data.get("questions") or [])
    data["questions"] = [q for q in data.get("questions") or [] if q.get("id") != qid]
    if len(data["questions"]) == before:
        raise NotFound(_("No such question in this quiz."))
    _save_quiz(authored, name, data)
    service.record(authored, current_user, "question_removed", f"{name}#{qid}")
    get_session().commit()
    return redirect(url_for(".module_edit", slug=slug, name=name))


@authoring_bp.post("/<slug>/quizzes/<name>/questions/<qid>/move")
def question_move(slug: str, name: str, qid: str) -> Any:
    authored = _editable(slug)
    data = _quiz_data(authored, name)
    questions = data.get("questions") or []
    index = next((i for i, q in enumerate(questions) if q.get("id") == qid), None)
    if index is None:
        raise NotFound(_("No such question in this quiz."))
    target = max(0, min(len(questions) - 1,
                        index + (-1 if request.form.get("direction") == "up" else 1)))
    questions.insert(target, questions.pop(index))
    _save_quiz(authored, name, data)
    service.record(authored, current_user, "question_moved", f"{name}#{qid}")
    get_session().commit()
    return redirect(url_for(".module_edit", slug=slug, name=name))


# --- files, preview -----------------------------------------------------------------------


@authoring_bp.post("/<slug>/upload")
def upload(slug: str) -> Any:
    authored = _editable(slug)
    form = forms.UploadForm()
    wants_json = request.accept_mimetypes.best == "application/json"
    if not form.validate_on_submit():
        message = _("Choose a file to upload.")
        return (jsonify(error=message), 400) if wants_json else _back_with(message, "danger")
    data = form.file.data.read(service.MAX_VIDEO_BYTES + 1)
    form.file.data.close()  # a large upload is spooled to a temporary file: free it now
    try:
        path = service.save_upload(authored, current_user, form.file.data.filename or "", data)
    except LmsError as exc:
        get_session().rollback()
        return (jsonify(error=str(exc.message)), 400) if wants_json \
            else _back_with(str(exc.message), "danger")
    get_session().commit()
    if wants_json:
        return jsonify(path=path, url=url_for(".draft_file", slug=slug, path=path))
    if path.endswith(".h5p"):
        return _back_with(_("H5P package uploaded as %(path)s. Choose the kind \"Interactive H5P "
                            "package\" and enter this file name.", path=path), "success")
    return _back_with(_("Uploaded. Use it in Markdown as: ![description](%(path)s)", path=path),
                      "success")


def _back_with(message: str, category: str) -> Any:
    flash(message, category)
    from lms.web import safe_next_url

    return redirect(safe_next_url(request.form.get("next"), url_for(".index")))


@authoring_bp.get("/<slug>/draft-files/<path:path>")
def draft_file(slug: str, path: str) -> Any:
    authored = _editable(slug)
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts or rel.suffix.lower() in (".md", ".yaml", ".yml"):
        abort(404)
    response = send_from_directory(_folder(authored), rel.as_posix(), max_age=0)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox")
    return response


def _asset_url(slug: str) -> Any:
    def url(ref: str) -> str:
        clean = ref.split("#", 1)[0].split("?", 1)[0].lstrip("./")
        return url_for("authoring.draft_file", slug=slug, path=clean)

    return url


@authoring_bp.post("/<slug>/markdown-preview")
def markdown_preview(slug: str) -> Any:
    _editable(slug)
    text = request.form.get("text", "")[:200_000]
    return jsonify(html=str(render_markdown(text, _asset_url(slug), _hosts())))


def _with_frames(response: Any) -> Any:
    sources = " ".join(f"https://{h} https://*.{h}" for h in _hosts())
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; media-src 'self'; "
        f"frame-src 'self' {sources}; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    return response


@authoring_bp.get("/<slug>/preview")
@authoring_bp.get("/<slug>/preview/<module_id>")
def preview(slug: str, module_id: str | None = None) -> Any:
    """The draft as a learner will see it (nothing is recorded)."""
    authored = _editable(slug)
    if authored.kind != "course":
        return redirect(url_for(".course", slug=slug))
    folder = _folder(authored)
    modules = [drafts.read_module(folder, n) for n in drafts.module_files(folder)]
    if not modules:
        flash(_("Add a module first."), "info")
        return redirect(url_for(".course", slug=slug))
    current = next((m for m in modules if m["id"] == module_id), modules[0])
    asset_url = _asset_url(slug)
    hosts = _hosts()
    body = media = None
    questions: list[dict[str, Any]] = []
    prompts: dict[str, Any] = {}
    if current["kind"] == "quiz":
        rng = random.Random(0)
        quiz = current["quiz"]
        for number, q in enumerate(_questions_with_defaults(quiz.get("questions")), start=1):
            try:
                qt = question_type(q["type"])
                public = qt.public(q, qt.layout(q, rng, bool(quiz.get("shuffle_choices"))))
            except (KeyError, TypeError, ValueError):
                continue
            public["number"] = number
            questions.append(public)
            prompts[q["id"]] = render_markdown(q.get("prompt", ""), asset_url, hosts)
    else:
        body = render_markdown(current["body"], asset_url, hosts)
        front = current["front"]
        from markupsafe import Markup

        if current["kind"] == "video" and front.get("video"):
            media = Markup(media_html("video", front["video"], asset_url, hosts,
                                      current["title"]))
        elif current["kind"] == "embed" and front.get("embed"):
            media = Markup(media_html("embed", front["embed"], asset_url, hosts,
                                      current["title"], front.get("height") or 480))
        elif current["kind"] == "h5p" and front.get("h5p"):
            from lms.plugins.content import content_type

            kind = content_type("h5p")
            target = (folder / str(front["h5p"])).resolve()
            if kind is not None and target.is_file() and target.is_relative_to(folder.resolve()):
                media = kind.preview(target, current["title"])
    response = current_app.make_response(render_template(
        "authoring/preview.html", authored=authored, modules=modules, current=current,
        body=body, media=media, questions=questions, prompts=prompts,
        meta=drafts.read_course_yaml(folder)))
    return _with_frames(response)


# --- publish, archive, trainers, history, export ---------------------------------------------


@authoring_bp.post("/<slug>/publish")
def publish(slug: str) -> Any:
    authored = _editable(slug)
    try:
        version = service.publish(authored, current_user)
    except LmsError as exc:
        get_session().rollback()
        _flash_error(exc)
        return redirect(url_for(".course", slug=slug))
    get_session().commit()
    flash(_("Published as version %(n)s. Learners who started an earlier version keep their "
            "progress.", n=version.number), "success")
    return redirect(url_for(".course", slug=slug))


@authoring_bp.post("/<slug>/archive")
def archive(slug: str) -> Any:
    authored = _editable(slug)
    if request.form.get("undo") == "1":
        service.unarchive(authored, current_user)
        flash(_("The course is back in the catalog."), "success")
    else:
        service.archive(authored, current_user)
        flash(_("The course is archived: it left the catalog; learners' records stay."), "info")
    get_session().commit()
    return redirect(url_for(".course", slug=slug))


@authoring_bp.post("/<slug>/reset")
def reset(slug: str) -> Any:
    authored = _editable(slug)
    try:
        service.reset_draft(authored, current_user)
    except LmsError as exc:
        get_session().rollback()
        _flash_error(exc)
        return redirect(url_for(".course", slug=slug))
    get_session().commit()
    flash(_("The draft is back to the published version."), "info")
    return redirect(url_for(".course", slug=slug))


@authoring_bp.post("/<slug>/trainers")
def trainer_add(slug: str) -> Any:
    authored = _editable(slug)
    form = forms.TrainerForm()
    if form.validate_on_submit():
        try:
            user = service.add_trainer(authored, current_user, form.user.data)
        except LmsError as exc:
            get_session().rollback()
            _flash_error(exc)
        else:
            get_session().commit()
            flash(_("%(name)s is now a trainer of this course.", name=user.name), "success")
    return redirect(url_for(".course", slug=slug) + "#trainers")


@authoring_bp.post("/<slug>/trainers/<int:user_id>/remove")
def trainer_remove(slug: str, user_id: int) -> Any:
    authored = _editable(slug)
    try:
        service.remove_trainer(authored, current_user, user_id)
    except LmsError as exc:
        get_session().rollback()
        _flash_error(exc)
    else:
        get_session().commit()
    return redirect(url_for(".course", slug=slug) + "#trainers")


#: How the change log names each action.
ACTIONS = {
    "created": _l("Course created"), "adopted": _l("Taken into authoring"),
    "draft_reset": _l("Draft reset to the published version"),
    "trainer_added": _l("Co-trainer added"), "trainer_removed": _l("Co-trainer removed"),
    "published": _l("Published"), "archived": _l("Archived"), "unarchived": _l("Restored"),
    "imported": _l("Package imported"), "file_uploaded": _l("File uploaded"),
    "cover_set": _l("Cover image set"), "cover_removed": _l("Cover image removed"),
    "cmi5_imported": _l("cmi5 package imported"), "settings_changed": _l("Settings changed"),
    "module_added": _l("Module added"), "module_moved": _l("Module moved"),
    "module_removed": _l("Module removed"), "lesson_saved": _l("Lesson saved"),
    "quiz_saved": _l("Quiz settings saved"), "question_added": _l("Question added"),
    "question_saved": _l("Question changed"), "question_removed": _l("Question removed"),
    "question_moved": _l("Question moved"),
}


@authoring_bp.get("/<slug>/history")
def history(slug: str) -> Any:
    authored = _editable(slug)
    return render_template("authoring/history.html", authored=authored,
                           changes=service.changes(authored), actions=ACTIONS)


@authoring_bp.get("/<slug>/export.zip")
def export(slug: str) -> Any:
    authored = _editable(slug)
    if authored.kind != "course":
        abort(404)
    data = service.export_zip(authored)
    response = current_app.response_class(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}.zip"'
    return response


# --- results ----------------------------------------------------------------------------------


def _published(authored: AuthoredCourse) -> Any:
    catalog = service.catalog_course(authored)
    if catalog is None:
        flash(_("Results appear once the course is published."), "info")
        abort(redirect(url_for(".course", slug=authored.slug)))
    return catalog


@authoring_bp.get("/<slug>/results")
def results_page(slug: str) -> Any:
    authored = _editable(slug)
    catalog = _published(authored)
    _close_expired_attempts(catalog)
    items = results.item_analysis(catalog)
    return render_template("authoring/results.html", authored=authored,
                           summary=results.summary(catalog), learners=results.learners(catalog),
                           quizzes=results.quiz_ids(catalog), items=items,
                           types=quizedit.question_type_labels())


def _close_expired_attempts(catalog: Any) -> None:
    """Timed attempts left by their learners are closed (saved answers graded) before the
    results count them."""
    from lms.quizzes.expiry import close_due

    close_due(course_id=catalog.id)


def _csv(text: str, filename: str) -> Any:
    response = current_app.response_class("\ufeff" + text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@authoring_bp.get("/<slug>/results.csv")
def results_csv(slug: str) -> Any:
    authored = _editable(slug)
    _close_expired_attempts(_published(authored))
    return _csv(results.learners_csv(_published(authored)), f"{slug}-hasil.csv")


@authoring_bp.get("/<slug>/items.csv")
def items_csv(slug: str) -> Any:
    authored = _editable(slug)
    _close_expired_attempts(_published(authored))
    return _csv(results.items_csv(_published(authored)), f"{slug}-analisis-butir.csv")


# --- cmi5 player ------------------------------------------------------------------------------


def cmi5_player(slug: str, module: dict[str, Any]) -> Any:
    """Registered with the courses module for modules of kind ``cmi5``."""
    return redirect(url_for("cmi5.launch", slug=slug, module_id=module["id"]))


@cmi5_bp.get("/<slug>/<module_id>")
@login_required
def launch(slug: str, module_id: str) -> Any:
    course, version, enrollment = courses.learner_view(current_user, slug)
    if enrollment is None:
        flash(_("Enrol in the course first."), "info")
        return redirect(url_for("courses.course", slug=slug))
    package = cmi5.package_for_version(version)
    _row, au = cmi5.au_of(package, module_id)
    own_window = au.get("launchMethod") == "OwnWindow"
    base = current_app.config["BASE_URL"]
    content = f"{base}{url_for('cmi5.content', folder=package.folder, path='')}"
    back = url_for("cmi5.returned", slug=slug, window="own" if own_window else None)
    prepared = cmi5.launch(current_user, package, module_id, enrollment.registration,
                           content, f"{base}{back}", mode=request.args.get("mode", "")[:10])
    get_session().commit()
    return render_template("authoring/cmi5_launch.html", course=course, url=prepared["url"],
                           au=prepared["au"], mode=prepared["mode"], own_window=own_window,
                           module_id=module_id)


@cmi5_bp.get("/<slug>/returned")
def returned(slug: str) -> Any:
    """The returnURL of LMS.LaunchData: an AU that exits lands here — inside the player's
    frame (AnyWindow), with a link that takes the whole window back to the course, or in
    the AU's own window (OwnWindow), which the learner may close."""
    return render_template("authoring/cmi5_returned.html", slug=slug,
                           own_window=request.args.get("window") == "own")


@cmi5_bp.route("/fetch/<token>", methods=["POST", "OPTIONS"])
def cmi5_fetch(token: str) -> Any:
    """cmi5 §8.2: hand out the auth token once (CORS: the AU runs in a sandboxed frame)."""
    if request.method == "OPTIONS":
        response = current_app.response_class(status=204)
    else:
        body = cmi5.fetch_token(token[:200])
        get_session().commit()
        response = jsonify(body)
        if "error-code" in body:
            response.status_code = 400 if body["error-code"] == "1" else 401
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Cache-Control"] = "no-store"
    return response


@cmi5_bp.get("/content/<folder>/<path:path>")
def content(folder: str, path: str) -> Any:
    """Files of a package, under an unguessable folder name, in a sandbox: the content is
    the package author's code, so it runs in an opaque origin and cannot act as the
    signed-in user; it talks to the LRS only with its launch credential."""
    if not folder.isalnum() or len(folder) != 32:
        abort(404)
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts:
        abort(404)
    response = send_from_directory(cmi5.packages_root() / folder, rel.as_posix(), max_age=3600)
    origin = current_app.config["BASE_URL"]
    response.headers["Content-Security-Policy"] = (
        "sandbox allow-scripts allow-forms allow-popups allow-modals; "
        f"default-src 'self' {origin} data: blob:; "
        f"script-src 'self' {origin} 'unsafe-inline' 'unsafe-eval'; "
        f"style-src 'self' {origin} 'unsafe-inline'; connect-src 'self' {origin}; "
        "frame-ancestors 'self'"
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
