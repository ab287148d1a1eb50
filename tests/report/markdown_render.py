"""Markdown rendered as a reader renders it: markdown-it-py (CommonMark, GitHub's tables), with raw
HTML allowed as GitHub allows it, so that escaping mistakes show as tags."""

from __future__ import annotations


def render_markdown(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
