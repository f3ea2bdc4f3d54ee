"""The ``courses/`` format: a folder per course, checked and loaded into plain values.

A course folder holds ``course.yaml`` (metadata, ordered modules, completion rule), lessons
as Markdown files with YAML front matter, quizzes as YAML files, and the images or videos
the lessons use. The pydantic models below ARE the documentation of the format; the JSON
Schema exported from them (``docs/course-format.schema.json``, ``lms course-schema``) is
what editors can validate against. See docs/courses.md for a walk-through.

Every error names the file, the line and the rule it broke, e.g.
``courses/x/kuis.yaml:14: questions[2].choices: exactly one choice must be correct
[single_choice_one_correct]``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WrapSerializer,
    WrapValidator,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError

Ident = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")]
#: Competency codes: M.01..M.08, SK.01, teknis codes such as T.KEU or T.KEU.01.
CompetencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,4}(\.[A-Z0-9]{1,8}){1,3}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

LESSON_SUFFIXES = (".md", ".markdown")
QUIZ_SUFFIXES = (".yaml", ".yml")
VIDEO_SUFFIXES = (".mp4", ".webm")
ASSET_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".pdf", *VIDEO_SUFFIXES)
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Cover images (course.yaml ``cover``): type by suffix and content, at most 1 MB.
COVER_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg")
MAX_COVER_BYTES = 1024 * 1024
_IMAGE_MAGIC = {".png": b"\x89PNG", ".jpg": b"\xff\xd8", ".jpeg": b"\xff\xd8", ".gif": b"GIF8",
                ".webp": b"RIFF"}
#: Paths under /courses/ that are pages, not courses.
RESERVED_SLUGS = frozenset({"mine", "transcript", "certificates"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- course.yaml -----------------------------------------------------------------------


class CompetencyTarget(_Strict):
    """A competency the course develops, and the level it aims at (1 to 5)."""

    code: CompetencyCode = Field(description="Competency code: M.01..M.08, SK.01 or teknis (T.KEU)")
    level: int = Field(ge=1, le=5, description="Proficiency level the course targets")


class CompletionRule(_Strict):
    """When a learner has completed the course."""

    modules: Literal["all"] | list[Ident] = Field(
        "all", description="Lessons that must be completed: 'all' or a list of module ids"
    )
    quizzes: Literal["all", "none"] | list[Ident] = Field(
        "all", description="Quizzes that must be passed: 'all', 'none' or a list of quiz ids"
    )


class CourseFile(_Strict):
    """``course.yaml``: what the catalog shows and how the course is put together."""

    slug: Slug = Field(description="Stable identifier; part of the course's URL and activity IRI")
    title: Text
    summary: Text = Field(description="One or two sentences for the catalog")
    description: str = Field("", description="Longer Markdown text for the course page")
    jp: float = Field(
        gt=0, le=200, description="Learning hours (jam pelajaran) credited on completion"
    )
    level: Literal["dasar", "menengah", "lanjut"] = "dasar"
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] = "id"
    topic: Text = Field(description="Catalog topic, e.g. 'Pelayanan Publik'")
    tags: list[Text] = []
    competencies: list[CompetencyTarget] = Field(min_length=1)
    modules: list[Annotated[str, StringConstraints(min_length=1)]] = Field(
        min_length=1, description="Module files in order: lessons (.md) and quizzes (.yaml)"
    )
    completion: CompletionRule = CompletionRule()
    cover: str | None = Field(
        None,
        description="Cover image for the catalog and the course page: a PNG, JPEG, GIF, WebP "
        "or SVG file in the course folder, at most 1 MB (e.g. gambar/sampul.svg)",
    )
    cover_alt: str = Field(
        "",
        max_length=300,
        description="What the cover image shows, for screen readers (default: the title)",
    )

    @model_validator(mode="after")
    def _slug_not_reserved(self) -> CourseFile:
        if self.slug in RESERVED_SLUGS:
            raise ValueError(
                f"slug {self.slug!r} is reserved for a page of the site [reserved_slug]"
            )
        return self


# --- lessons ---------------------------------------------------------------------------


class LessonFrontMatter(_Strict):
    """The front matter of a lesson file (between ``---`` lines at its top)."""

    id: Ident | None = Field(
        None, description="Module id; defaults to the file name without extension"
    )
    title: Text
    kind: Literal["lesson", "video", "embed", "h5p"] = "lesson"
    minutes: int | None = Field(None, ge=1, le=600, description="Expected study time")
    video: str | None = Field(
        None,
        description="kind video: an .mp4/.webm file in the folder or a URL on an allowed host",
    )
    embed: str | None = Field(
        None, description="kind embed: an https URL on an allowed host (H5P, forms...)"
    )
    height: int = Field(480, ge=200, le=2000, description="Height of the embedded frame in pixels")
    h5p: str | None = Field(
        None, description="kind h5p: an .h5p file in the course folder, played by Lentera"
    )

    @model_validator(mode="after")
    def _media_matches_kind(self) -> LessonFrontMatter:
        if self.kind == "video" and not self.video:
            raise ValueError("a video lesson needs 'video' [video_required]")
        if self.kind == "embed" and not self.embed:
            raise ValueError("an embed lesson needs 'embed' [embed_required]")
        if self.kind == "h5p" and not self.h5p:
            raise ValueError("an h5p lesson needs 'h5p', an .h5p file [h5p_required]")
        return self


# --- quizzes ---------------------------------------------------------------------------


class Feedback(_Strict):
    correct: str | None = None
    incorrect: str | None = None


class _Question(_Strict):
    id: Ident
    prompt: Text = Field(description="The question, in Markdown")
    points: float = Field(1, gt=0, le=100)
    competency: CompetencyCode | None = Field(
        None, description="Competency this question gives evidence of"
    )
    feedback: Feedback | None = None


class Choice(_Strict):
    id: Ident
    text: Text
    correct: bool = False
    feedback: str | None = None


class SingleChoice(_Question):
    type: Literal["single"]
    choices: list[Choice] = Field(min_length=2)

    @model_validator(mode="after")
    def _one_correct(self) -> SingleChoice:
        _unique_ids(self.choices, "choices")
        if sum(c.correct for c in self.choices) != 1:
            raise ValueError("exactly one choice must be correct [single_choice_one_correct]")
        return self


class MultipleChoice(_Question):
    type: Literal["multiple"]
    choices: list[Choice] = Field(min_length=2)

    @model_validator(mode="after")
    def _some_correct(self) -> MultipleChoice:
        _unique_ids(self.choices, "choices")
        if not any(c.correct for c in self.choices):
            raise ValueError("at least one choice must be correct [multiple_choice_some_correct]")
        return self


class TrueFalse(_Question):
    type: Literal["true_false"]
    answer: bool


class FillIn(_Question):
    type: Literal["fill_in"]
    answers: list[Text] = Field(min_length=1, description="Every accepted answer")
    case_sensitive: bool = False
    normalize_space: bool = Field(True, description="Ignore leading, trailing and repeated spaces")


class Pair(_Strict):
    id: Ident
    source: Text
    target: Text


class Matching(_Question):
    type: Literal["matching"]
    pairs: list[Pair] = Field(min_length=2, description="Each source with its matching target")

    @model_validator(mode="after")
    def _distinct(self) -> Matching:
        _unique_ids(self.pairs, "pairs")
        if len({p.target for p in self.pairs}) != len(self.pairs):
            raise ValueError("targets must be distinct [matching_distinct_targets]")
        return self


class Item(_Strict):
    id: Ident
    text: Text


class Ordering(_Question):
    type: Literal["ordering"]
    items: list[Item] = Field(min_length=2, description="The items in their CORRECT order")

    @model_validator(mode="after")
    def _distinct(self) -> Ordering:
        _unique_ids(self.items, "items")
        return self


class Numeric(_Question):
    type: Literal["numeric"]
    answer: float | None = None
    tolerance: float = Field(0, ge=0)
    min: float | None = None
    max: float | None = None
    unit: str | None = Field(
        None, description="Shown next to the answer box, e.g. 'JP' or 'juta rupiah'"
    )

    @model_validator(mode="after")
    def _range(self) -> Numeric:
        if self.answer is None and (self.min is None or self.max is None):
            raise ValueError(
                "give 'answer' (with optional 'tolerance') or both 'min' and 'max' [numeric_range]"
            )
        if self.answer is not None and (self.min is not None or self.max is not None):
            raise ValueError("give either 'answer' or 'min'/'max', not both [numeric_range]")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("'min' must not exceed 'max' [numeric_range]")
        return self

    @property
    def low(self) -> float:
        return self.min if self.answer is None else self.answer - self.tolerance  # type: ignore[return-value]

    @property
    def high(self) -> float:
        return self.max if self.answer is None else self.answer + self.tolerance  # type: ignore[return-value]


#: The base of a plugin question type's model (lms.plugins): id, prompt, points...
QuestionBase = _Question
_BUILT_IN_QUESTIONS = (SingleChoice, MultipleChoice, TrueFalse, FillIn, Matching, Ordering, Numeric)


def _plugin_question(value: Any, handler: Any) -> Any:
    """A question of a plugin type validates against that type's own ``model``."""
    kind = value.get("type") if isinstance(value, dict) else None
    if isinstance(kind, str) and kind not in _BUILT_IN_TAGS:
        from lms.plugins.registry import QUESTION_TYPES

        model = getattr(QUESTION_TYPES.get(kind), "model", None)
        if model is not None:
            try:
                return model.model_validate(value)
            except PydanticValidationError as exc:
                raise ValueError(
                    "; ".join(
                        ".".join(str(p) for p in err["loc"]) + ": " + err["msg"]
                        for err in exc.errors(include_url=False)
                    )
                ) from None
    return handler(value)


def _dump_question(value: Any, handler: Any, info: Any) -> Any:
    if isinstance(value, _Question) and not isinstance(value, _BUILT_IN_QUESTIONS):
        return value.model_dump(mode=info.mode, exclude_none=info.exclude_none)
    return handler(value)


_BUILT_IN_TAGS = frozenset(
    ("single", "multiple", "true_false", "fill_in", "matching", "ordering", "numeric")
)

Question = Annotated[
    SingleChoice | MultipleChoice | TrueFalse | FillIn | Matching | Ordering | Numeric,
    Field(discriminator="type"),
    WrapValidator(_plugin_question),
    WrapSerializer(_dump_question, when_used="always"),
]


class QuizFeedback(_Strict):
    passed: str | None = None
    failed: str | None = None


class QuizFile(_Strict):
    """A quiz file: settings and questions. Graded on the server only."""

    id: Ident | None = Field(
        None, description="Quiz id; defaults to the file name without extension"
    )
    title: Text
    description: str = ""
    pass_mark: float = Field(70, ge=0, le=100, description="Percentage of points needed to pass")
    attempts: int = Field(0, ge=0, le=100, description="Attempts allowed; 0 means unlimited")
    shuffle_questions: bool = False
    shuffle_choices: bool = False
    time_limit_minutes: int | None = Field(None, ge=1, le=600)
    feedback: QuizFeedback = QuizFeedback()
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_questions(self) -> QuizFile:
        _unique_ids(self.questions, "questions")
        return self


def _unique_ids(items: list[Any], what: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ValueError(f"{what}: id {item.id!r} is used twice [unique_ids]")
        seen.add(item.id)


def json_schema() -> dict[str, Any]:
    """A JSON Schema document describing course.yaml, lesson front matter and quiz files."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Lentera course folder",
        "$defs": {
            "course": CourseFile.model_json_schema(),
            "lesson_front_matter": LessonFrontMatter.model_json_schema(),
            "quiz": QuizFile.model_json_schema(),
        },
    }


# --- loading with file and line --------------------------------------------------------


@dataclass
class FormatError:
    """One broken rule: where (file, line) and what."""

    file: str
    line: int
    where: str
    message: str
    rule: str
    #: The figures of a schema rule (pydantic's context: min_length, le, expected...), so
    #: the message can be said again in the reader's language (lms.courses.explain).
    params: dict[str, Any] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        return f"{self.file}:{self.line}:{where} {self.message} [{self.rule}]"


class CourseFormatError(Exception):
    """A course folder broke one or more rules; ``errors`` lists each with file and line."""

    def __init__(self, errors: list[FormatError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass
class LoadedCourse:
    """A checked course folder as plain values, ready to be stored as a version."""

    slug: str
    meta: dict[str, Any]
    modules: list[dict[str, Any]]
    assets: dict[str, Path]  # relative POSIX path -> file
    content_hash: str
    root: Path
    errors: list[FormatError] = field(default_factory=list)

    @property
    def definition(self) -> dict[str, Any]:
        return {**self.meta, "modules": self.modules, "assets": sorted(self.assets)}


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping and sequence element."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[key] = loader.construct_object(value_node, deep=True)
        lines[key] = key_node.start_mark.line + 1
    result_lines = _LINES.setdefault(id(loader), {})
    result_lines[id(result)] = (node.start_mark.line + 1, lines)
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> list[Any]:
    result = [loader.construct_object(child, deep=True) for child in node.value]
    lines = {i: child.start_mark.line + 1 for i, child in enumerate(node.value)}
    _LINES.setdefault(id(loader), {})[id(result)] = (node.start_mark.line + 1, lines)
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_LINES: dict[int, dict[int, tuple[int, dict[Any, int]]]] = {}


@dataclass
class _Located:
    data: Any
    lines: dict[int, tuple[int, dict[Any, int]]]
    keep: list[Any]  # keeps the containers alive so their ids stay valid

    def line_of(self, loc: tuple[Any, ...], default: int = 1) -> int:
        """The line of the deepest part of ``loc`` that exists in the document."""
        node, line = self.data, default
        for part in loc:
            entry = self.lines.get(id(node))
            if entry is None:
                break
            node_line, child_lines = entry
            line = node_line if line == default else line
            if (
                isinstance(node, dict)
                and part in node
                or isinstance(node, list)
                and isinstance(part, int)
                and 0 <= part < len(node)
            ):
                line, node = child_lines.get(part, line), node[part]
            # other parts (a union's tag name) do not exist in the document: skip them
        return line


def _load_yaml(text: str, file: str, first_line: int = 1) -> _Located:
    loader = _LineLoader(text)
    try:
        data = loader.get_single_data()
        lines = _LINES.pop(id(loader), {})
    except yaml.YAMLError as exc:
        _LINES.pop(id(loader), None)
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + first_line) if mark is not None else first_line
        problem = getattr(exc, "problem", None) or str(exc)
        raise CourseFormatError(
            [FormatError(file, line, "", f"YAML syntax: {problem}", "yaml_syntax")]
        ) from None
    finally:
        loader.dispose()
    if first_line != 1:
        lines = {
            k: (ln + first_line - 1, {c: v + first_line - 1 for c, v in cl.items()})
            for k, (ln, cl) in lines.items()
        }
    return _Located(data, lines, [data])


def _loc_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in (
            "single",
            "multiple",
            "true_false",
            "fill_in",
            "matching",
            "ordering",
            "numeric",
            "function-after",
            "literal['all']",
            "list[str]",
            "literal['all','none']",
        ):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


_RULE_IN_MESSAGE = re.compile(r"\s*\[([a-z_]+)\]$")


def _pydantic_errors(
    exc: PydanticValidationError, located: _Located, file: str
) -> list[FormatError]:
    errors: list[FormatError] = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        # A union of literals reports once per member; keep the first message per place.
        message = err["msg"].removeprefix("Value error, ")
        rule = err["type"]
        found = _RULE_IN_MESSAGE.search(message)
        if found:
            rule, message = found.group(1), message[: found.start()]
        where = _loc_text(loc)
        if (where, rule) in seen or (where in {w for w, _r in seen} and rule == "literal_error"):
            continue
        seen.add((where, rule))
        params = {k: v for k, v in (err.get("ctx") or {}).items()
                  if isinstance(v, str | int | float)}
        errors.append(FormatError(file, located.line_of(loc), where, message, rule, params))
    return errors


def _validate(model: type[BaseModel], located: _Located, file: str, line: int = 1) -> Any:
    if not isinstance(located.data, dict):
        raise CourseFormatError(
            [
                FormatError(
                    file, line, "", "expected a mapping of keys to values", "mapping_expected"
                )
            ]
        )
    try:
        return model.model_validate(located.data)
    except PydanticValidationError as exc:
        raise CourseFormatError(_pydantic_errors(exc, located, file)) from None


_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", re.S | re.M)
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_MEDIA_FENCE = re.compile(r"^```[ \t]*(video|embed)[ \t]*\r?\n(.*?)^```", re.S | re.M)


def embed_host_allowed(url: str, allowed_hosts: list[str] | tuple[str, ...]) -> bool:
    """True for an https URL whose host is one of ``allowed_hosts`` (or a subdomain)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host:
        return False
    return any(host == h or host.endswith("." + h) for h in (x.lower() for x in allowed_hosts))


def _read_text(path: Path, rel: str, errors: list[FormatError]) -> str | None:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            errors.append(FormatError(rel, 1, "", "file is too large", "file_size"))
            return None
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        errors.append(FormatError(rel, 1, "", "file is not UTF-8 text", "utf8"))
    except OSError as exc:
        errors.append(FormatError(rel, 1, "", f"cannot read file: {exc.strerror}", "readable"))
    return None


def _check_media_ref(
    ref: str,
    folder: Path,
    rel: str,
    line: int,
    where: str,
    allowed_hosts: list[str],
    errors: list[FormatError],
    assets: dict[str, Path],
    suffixes: tuple[str, ...],
) -> None:
    """A media reference is a file inside the course folder or an allowed https URL."""
    if "://" in ref or ref.startswith("//"):
        if not embed_host_allowed(ref, allowed_hosts):
            errors.append(
                FormatError(
                    rel,
                    line,
                    where,
                    f"{ref} is not on an allowed host (LMS_EMBED_ALLOWED_HOSTS) or not https",
                    "allowed_host",
                )
            )
        return
    target = _asset_path(folder, ref)
    if target is None or not target.is_file():
        errors.append(
            FormatError(
                rel, line, where, f"file {ref} not found in the course folder", "file_exists"
            )
        )
        return
    if target.suffix.lower() not in suffixes:
        errors.append(
            FormatError(
                rel,
                line,
                where,
                f"{ref}: unsupported file type (use {', '.join(suffixes)})",
                "file_type",
            )
        )
        return
    assets[PurePosixPath(ref).as_posix().lstrip("./")] = target


def _check_h5p(ref: str, folder: Path, rel: str, line: int, errors: list[FormatError]) -> None:
    """An .h5p file of the course is a package H5P can play (the h5p content type checks
    it)."""
    target = _asset_path(folder, ref)
    if target is None or not target.is_file() or target.suffix.lower() != ".h5p":
        return  # reported by _check_media_ref
    from lms.errors import LmsError
    from lms.plugins.content import content_type

    kind = content_type("h5p")  # the h5p module checks its packages
    if kind is None or kind.package_max_bytes is None:
        return
    if target.stat().st_size > kind.package_max_bytes:
        return  # the course format's own size limit reports it
    try:
        kind.check_package(target.read_bytes())
    except LmsError as exc:
        errors.append(FormatError(rel, line, "h5p", f"{ref}: {exc.message}", "h5p_package"))


def image_content_matches(suffix: str, data: bytes) -> bool:
    """True when an image file's bytes are of the type its suffix names."""
    suffix = suffix.lower()
    if suffix == ".svg":
        head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        return head.startswith(b"<") and b"<svg" in data[:4096].lower()
    magic = _IMAGE_MAGIC.get(suffix)
    if magic is None or not data.startswith(magic):
        return False
    return suffix != ".webp" or data[8:12] == b"WEBP"


def _check_cover(
    ref: str, folder: Path, rel: str, line: int, errors: list[FormatError],
    assets: dict[str, Path],
) -> None:
    """``cover``: an image file of the course folder, of a known type, at most 1 MB."""
    def fail(message: str, rule: str) -> None:
        errors.append(FormatError(rel, line, "cover", message, rule))

    if "://" in ref or ref.startswith("//"):
        fail("the cover must be an image file in the course folder, not a URL", "cover_file")
        return
    target = _asset_path(folder, ref)
    if target is None or not target.is_file():
        fail(f"file {ref} not found in the course folder", "file_exists")
        return
    if target.suffix.lower() not in COVER_SUFFIXES:
        fail(f"{ref}: unsupported file type (use {', '.join(COVER_SUFFIXES)})", "file_type")
        return
    if target.stat().st_size > MAX_COVER_BYTES:
        fail(f"{ref}: a cover image is at most 1 MB", "cover_size")
        return
    if not image_content_matches(target.suffix, target.read_bytes()):
        fail(f"{ref}: the file's content is not a {target.suffix} image", "file_type")
        return
    assets[PurePosixPath(ref).as_posix().lstrip("./")] = target


def _asset_path(folder: Path, ref: str) -> Path | None:
    pure = PurePosixPath(ref.split("#", 1)[0].split("?", 1)[0])
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        return None
    return folder.joinpath(*pure.parts)


def _load_lesson(
    path: Path,
    rel: str,
    folder: Path,
    allowed_hosts: list[str],
    errors: list[FormatError],
    assets: dict[str, Path],
) -> dict[str, Any] | None:
    text = _read_text(path, rel, errors)
    if text is None:
        return None
    match = _FRONT_MATTER.match(text)
    if not match:
        errors.append(
            FormatError(
                rel,
                1,
                "",
                "a lesson starts with front matter between '---' lines (title: ...)",
                "front_matter",
            )
        )
        return None
    try:
        located = _load_yaml(match.group(1), rel, first_line=2)
        front = _validate(LessonFrontMatter, located, rel, 1)
    except CourseFormatError as exc:
        errors.extend(exc.errors)
        return None
    body = text[match.end() :]
    body_first_line = text[: match.end()].count("\n") + 1
    for m in _MD_IMAGE.finditer(body):
        ref = m.group(1)
        line = body_first_line + body[: m.start()].count("\n")
        if "://" in ref or ref.startswith(("data:", "//")):
            errors.append(
                FormatError(
                    rel,
                    line,
                    "",
                    f"image {ref} must be a file in the course folder",
                    "local_images",
                )
            )
            continue
        _check_media_ref(ref, folder, rel, line, "", allowed_hosts, errors, assets, ASSET_SUFFIXES)
    for m in _MEDIA_FENCE.finditer(body):
        line = body_first_line + body[: m.start()].count("\n")
        ref = m.group(2).strip()
        kind = m.group(1)
        if kind == "embed":
            if not embed_host_allowed(ref, allowed_hosts):
                errors.append(
                    FormatError(
                        rel,
                        line,
                        "",
                        f"{ref} is not on an allowed host (LMS_EMBED_ALLOWED_HOSTS) or not https",
                        "allowed_host",
                    )
                )
        else:
            _check_media_ref(
                ref, folder, rel, line, "", allowed_hosts, errors, assets, VIDEO_SUFFIXES
            )
    if front.video:
        _check_media_ref(
            front.video,
            folder,
            rel,
            located.line_of(("video",)),
            "video",
            allowed_hosts,
            errors,
            assets,
            VIDEO_SUFFIXES,
        )
    if front.h5p:
        if "://" in front.h5p or front.h5p.startswith("//"):
            errors.append(
                FormatError(
                    rel, located.line_of(("h5p",)), "h5p",
                    f"{front.h5p}: an H5P package must be a file in the course folder",
                    "file_exists",
                )
            )
        else:
            _check_media_ref(
                front.h5p, folder, rel, located.line_of(("h5p",)), "h5p", allowed_hosts,
                errors, assets, (".h5p",),
            )
            _check_h5p(front.h5p, folder, rel, located.line_of(("h5p",)), errors)
    if front.embed and not embed_host_allowed(front.embed, allowed_hosts):
        errors.append(
            FormatError(
                rel,
                located.line_of(("embed",)),
                "embed",
                f"{front.embed} is not on an allowed host (LMS_EMBED_ALLOWED_HOSTS) or not https",
                "allowed_host",
            )
        )
    return {
        "id": front.id or path.stem,
        "kind": front.kind,
        "title": front.title,
        "file": rel,
        "minutes": front.minutes,
        "video": front.video,
        "embed": front.embed,
        "height": front.height,
        **({"h5p": front.h5p} if front.h5p else {}),
        "body": body,
    }


def _load_quiz(path: Path, rel: str, errors: list[FormatError]) -> dict[str, Any] | None:
    text = _read_text(path, rel, errors)
    if text is None:
        return None
    try:
        located = _load_yaml(text, rel)
        quiz = _validate(QuizFile, located, rel)
    except CourseFormatError as exc:
        errors.extend(exc.errors)
        return None
    data = quiz.model_dump(mode="json")
    data["id"] = quiz.id or path.stem
    return {
        "id": data["id"],
        "kind": "quiz",
        "title": quiz.title,
        "file": rel,
        "minutes": quiz.time_limit_minutes,
        "quiz": data,
    }


def load_course_folder(
    folder: Path, allowed_hosts: list[str] | None = None, label: str | None = None
) -> LoadedCourse:
    """Check the course folder and load it; raise CourseFormatError listing every problem.

    ``label`` is how file names are shown in errors (default: the folder as given).
    """
    folder = Path(folder)
    allowed = list(allowed_hosts or [])
    prefix = (label if label is not None else str(folder)).rstrip("/")
    course_rel = f"{prefix}/course.yaml"
    course_path = folder / "course.yaml"
    if not course_path.is_file():
        raise CourseFormatError(
            [FormatError(course_rel, 1, "", "course.yaml is missing", "course_yaml")]
        )
    errors: list[FormatError] = []
    text = _read_text(course_path, course_rel, errors)
    if text is None:
        raise CourseFormatError(errors)
    located = _load_yaml(text, course_rel)
    course = _validate(CourseFile, located, course_rel)
    modules: list[dict[str, Any]] = []
    assets: dict[str, Path] = {}
    hasher = hashlib.sha256(text.encode())
    for index, name in enumerate(course.modules):
        line = located.line_of(("modules", index))
        path = _asset_path(folder, name)
        if path is None or not path.is_file():
            errors.append(
                FormatError(
                    course_rel,
                    line,
                    f"modules[{index}]",
                    f"module file {name} not found",
                    "file_exists",
                )
            )
            continue
        rel = f"{prefix}/{name}"
        hasher.update(b"\0" + name.encode() + b"\0" + path.read_bytes())
        suffix = path.suffix.lower()
        if suffix in LESSON_SUFFIXES:
            module = _load_lesson(path, rel, folder, allowed, errors, assets)
        elif suffix in QUIZ_SUFFIXES:
            module = _load_quiz(path, rel, errors)
        else:
            errors.append(
                FormatError(
                    course_rel,
                    line,
                    f"modules[{index}]",
                    f"{name}: a module is a .md lesson or a .yaml quiz",
                    "module_type",
                )
            )
            continue
        if module is not None:
            if any(m["id"] == module["id"] for m in modules):
                errors.append(
                    FormatError(
                        course_rel,
                        line,
                        f"modules[{index}]",
                        f"module id {module['id']!r} is used twice",
                        "unique_ids",
                    )
                )
            modules.append(module)
    if course.cover:
        _check_cover(course.cover, folder, course_rel, located.line_of(("cover",)), errors, assets)
    ids = {m["id"]: m["kind"] for m in modules}
    for key, kinds in (("modules", {"lesson", "video", "embed", "h5p"}), ("quizzes", {"quiz"})):
        wanted = getattr(course.completion, key)
        if isinstance(wanted, list):
            for i, module_id in enumerate(wanted):
                if ids.get(module_id) not in kinds and not errors:
                    errors.append(
                        FormatError(
                            course_rel,
                            located.line_of(("completion", key, i)),
                            f"completion.{key}[{i}]",
                            f"{module_id!r} is not a {'lesson' if key == 'modules' else 'quiz'} "
                            "of this course",
                            "completion_refs",
                        )
                    )
    if errors:
        raise CourseFormatError(errors)
    for rel_asset in sorted(assets):
        hasher.update(b"\0" + rel_asset.encode() + b"\0" + assets[rel_asset].read_bytes())
    meta = course.model_dump(mode="json", exclude={"modules"})
    if not meta.get("cover"):  # optional fields: absent, so older definitions compare equal
        meta.pop("cover", None)
        meta.pop("cover_alt", None)
    return LoadedCourse(
        slug=course.slug,
        meta=meta,
        modules=modules,
        assets=assets,
        content_hash=hasher.hexdigest(),
        root=folder,
    )


def find_course_folders(path: Path) -> list[Path]:
    """``path`` itself when it is a course folder, else its sub-folders holding course.yaml."""
    path = Path(path)
    if (path / "course.yaml").is_file():
        return [path]
    return sorted(p.parent for p in path.glob("*/course.yaml"))
