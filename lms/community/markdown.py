"""Posts are Markdown: rendered without raw HTML, then sanitised with nh3.

Stricter than lessons (:mod:`lms.courses.content`): no images, no embeds, no headings
larger than h4; links open with ``rel="noopener noreferrer nofollow"``.
"""

from __future__ import annotations

from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

from lms.courses.content import TEXT_ATTRIBUTES, TEXT_TAGS, sanitise_html


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
    return sanitise_html(
        html,
        # Text formatting only: the part of what lessons allow that they share with posts.
        tags=TEXT_TAGS,
        attributes=TEXT_ATTRIBUTES,
        link_rel="noopener noreferrer nofollow",
    )


def excerpt(text: str, length: int = 200) -> str:
    """Plain text of the first ``length`` characters, for lists and e-mails."""
    plain = " ".join((text or "").replace("#", " ").replace("*", "").replace("`", "").split())
    return plain if len(plain) <= length else plain[: length - 1].rstrip() + "…"
