"""Problems of a course or a question said in the author's language.

The course format (lms.courses.format) and its schema (pydantic) describe what is wrong in
English, for the command line and the documentation of the format. Authors on the web see
the same problem through :func:`schema_message` and :func:`format_error_text`: pydantic's
error types and the format's own rules, each with its figures, in the UI language.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _

from lms.courses.format import FormatError


def _number(value: Any) -> str:
    from flask_babel import format_decimal

    return format_decimal(value) if isinstance(value, int | float) else str(value)


def _choices(expected: Any) -> str:
    # pydantic writes "'single', 'multiple' or 'numeric'"; keep the values, say "or" here.
    values = re.findall(r"'([^']*)'", str(expected))
    if not values:
        return str(expected)
    return _("%(first)s or %(last)s", first=", ".join(values[:-1]), last=values[-1]) \
        if len(values) > 1 else values[0]


def schema_message(kind: str, params: dict[str, Any] | None, fallback: str) -> str:
    """pydantic's error ``kind`` (``err["type"]``) with its context, in the UI language;
    ``fallback`` (pydantic's English) for a kind not listed here."""
    p = params or {}
    n = {k: _number(v) for k, v in p.items()}
    messages = {
        "missing": lambda: _("This value is required."),
        "extra_forbidden": lambda: _("This key is not known here; check its spelling."),
        "string_type": lambda: _("Write text here."),
        "int_type": lambda: _("Write a whole number here."),
        "int_parsing": lambda: _("Write a whole number here."),
        "int_from_float": lambda: _("Write a whole number here."),
        "float_type": lambda: _("Write a number here."),
        "float_parsing": lambda: _("Write a number here."),
        "bool_type": lambda: _("Write yes or no (true or false) here."),
        "bool_parsing": lambda: _("Write yes or no (true or false) here."),
        "list_type": lambda: _("Give a list here."),
        "dict_type": lambda: _("Give keys with values here."),
        "model_type": lambda: _("Give keys with values here."),
        "string_too_short": lambda: _("Write at least %(n)s character(s).",
                                      n=n.get("min_length", "1")),
        "string_too_long": lambda: _("Write at most %(n)s characters.",
                                     n=n.get("max_length", "")),
        "too_short": lambda: _("Give at least %(n)s item(s).", n=n.get("min_length", "1")),
        "too_long": lambda: _("Give at most %(n)s items.", n=n.get("max_length", "")),
        "greater_than": lambda: _("Must be more than %(n)s.", n=n.get("gt", "")),
        "greater_than_equal": lambda: _("Must be %(n)s or more.", n=n.get("ge", "")),
        "less_than": lambda: _("Must be less than %(n)s.", n=n.get("lt", "")),
        "less_than_equal": lambda: _("Must be %(n)s or less.", n=n.get("le", "")),
        "literal_error": lambda: _("Choose %(choices)s.",
                                   choices=_choices(p.get("expected", ""))),
        "union_tag_invalid": lambda: _("Choose %(choices)s.",
                                       choices=_choices(p.get("expected_tags", ""))),
        "enum": lambda: _("Choose %(choices)s.", choices=_choices(p.get("expected", ""))),
        "string_pattern_mismatch": lambda: _("This value is not written in the required "
                                             "form."),
        "url_parsing": lambda: _("Write a full web address (https://...)."),
        "url_type": lambda: _("Write a full web address (https://...)."),
        "url_scheme": lambda: _("Write a full web address (https://...)."),
        "date_parsing": lambda: _("Write a date as YYYY-MM-DD."),
        "date_from_datetime_parsing": lambda: _("Write a date as YYYY-MM-DD."),
        "date_type": lambda: _("Write a date as YYYY-MM-DD."),
    }
    make = messages.get(kind)
    return make() if make is not None else fallback


_FILE_REF = re.compile(r"^(?:module |image )?(?:file )?(\S+?)(?::| not found| must be)")


def _ref(message: str) -> str:
    """The file a format message is about ("file a.png not found...", "a.png: ...")."""
    found = _FILE_REF.match(message)
    return found.group(1) if found else message


def _file_type(message: str) -> str:
    allowed = re.search(r"\(use ([^)]*)\)", message)
    if allowed:
        return _("The file %(ref)s is of a type not accepted here (use %(types)s).",
                 ref=_ref(message), types=allowed.group(1))
    suffix = re.search(r"not a (\.\w+) image", message)
    return _("The content of %(ref)s is not a %(suffix)s image.", ref=_ref(message),
             suffix=suffix.group(1) if suffix else "")


def format_error_text(error: FormatError) -> str:
    """One problem of a course folder, in the UI language."""
    rule, message = error.rule, error.message
    subject = message.split(" is not on an allowed host")[0].split(": ")[0]
    rules = {
        "allowed_host": lambda: _("%(ref)s is not https, or its site is not on the list of "
                                  "sites allowed for videos and embeds (an administrator "
                                  "keeps that list).", ref=subject),
        "video_required": lambda: _("A video lesson needs the address of its video."),
        "embed_required": lambda: _("An embed lesson needs the address of what it embeds."),
        "single_choice_one_correct": lambda: _("A single-choice question needs exactly one "
                                               "right answer."),
        "multiple_choice_some_correct": lambda: _("A multiple-choice question needs at least "
                                                  "one right answer."),
        "matching_distinct_targets": lambda: _("Two pairs have the same right-hand side."),
        "numeric_range": lambda: _("Give the right number (with an optional tolerance), or "
                                   "the lowest and the highest accepted value."),
        "unique_ids": lambda: _("Two entries have the same id."),
        "file_size": lambda: _("The file is too large."),
        "utf8": lambda: _("The file is not UTF-8 text."),
        "front_matter": lambda: _("A lesson starts with its title between two '---' lines."),
        "local_images": lambda: _("The image %(ref)s must be a file of the course.",
                                  ref=message.split()[1]),
        "mapping_expected": lambda: _("Expected keys with values."),
        "course_yaml": lambda: _("course.yaml is missing."),
        "module_type": lambda: _("A module is a lesson (.md) or a quiz (.yaml)."),
        "h5p_required": lambda: _("An H5P lesson needs the name of its .h5p file."),
        "file_exists": lambda: _("The file %(ref)s is not in the course folder.",
                                 ref=_ref(message)),
        "file_type": lambda: _file_type(message),
        "cover_file": lambda: _("The cover must be an image file of the course, not a web "
                                "address."),
        "cover_size": lambda: _("The cover image %(ref)s is larger than 1 MB.",
                                ref=_ref(message)),
        "readable": lambda: _("The file cannot be read."),
        "yaml_syntax": lambda: _("The YAML is not written correctly here (check the "
                                 "indentation, the colons and the quotes)."),
        "reserved_slug": lambda: _("This slug is taken by a page of the site; choose "
                                   "another."),
        "completion_refs": lambda: _("%(id)s is not a lesson or quiz of this course.",
                                     id=message.split(" is not a ")[0].strip("'\"")),
    }
    make = rules.get(rule)
    if make is not None:
        return make()
    return schema_message(rule, error.params, message)
