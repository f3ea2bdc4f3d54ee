"""Posts are Markdown: rendered without raw HTML, then sanitised with nh3.

Stricter than lessons (:mod:`lms.courses.content`): no images, no embeds, no headings
larger than h4; links open with ``rel="noopener noreferrer nofollow"``.
"""

from __future__ import annotations

from html import escape
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "div",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "div": {"class"}, "table": {"class"}}


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table").enable("strikethrough")

    def image(tokens: Any, idx: int, options: Any, env: Any) -> str:
        # Images from anywhere would leak readers' addresses to other hosts: show the text.
        return escape(f"[{tokens[idx].content or ''}]")

    def heading_open(tokens: Any, idx: int, options: Any, env: Any) -> str:
        level = max(4, int(tokens[idx].tag[1]))
        tokens[idx].tag = f"h{level}"
        return f"<h{level}>"

    def heading_close(tokens: Any, idx: int, options: Any, env: Any) -> str:
        level = max(4, int(tokens[idx].tag[1]))
        return f"</h{level}>\n"

    rules = md.renderer.rules  # type: ignore[attr-defined]
    rules["image"] = image
    rules["heading_open"] = heading_open
    rules["heading_close"] = heading_close
    return md


_PARSER = _parser()


def render_post(text: str) -> Markup:
    """Sanitised HTML for the Markdown ``text`` of a post."""
    html = _PARSER.render(text or "")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    clean = clean.replace("<table>", '<div class="table-responsive"><table class="table table-sm">')
    clean = clean.replace("</table>", "</table></div>")
    return Markup(clean)


def excerpt(text: str, length: int = 200) -> str:
    """Plain text of the first ``length`` characters, for lists and e-mails."""
    plain = " ".join((text or "").replace("#", " ").replace("*", "").replace("`", "").split())
    return plain if len(plain) <= length else plain[: length - 1].rstrip() + "…"
