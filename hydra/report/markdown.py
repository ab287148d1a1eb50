"""The Markdown report: the same sections as plain text, to commit beside the engagement's scripts.

Needs nothing beyond Hydra's own dependencies. Charts become the small tables they were drawn
from; folded tables become ``<details>`` blocks (GitHub and GitLab fold them; elsewhere they read
as text). Every cell is escaped so that a name holding ``|``, ``*`` or a newline cannot break the
table or become markup.
"""

from __future__ import annotations

import hydra
from hydra.report import fmt
from hydra.report.model import FAIL, OK, WARN, Chart, Column, Facts, Report, Table, Text

SIGNS = {OK: "✅", FAIL: "❌", WARN: "⚠️", "info": "ℹ️"}
NUMERIC = ("count", "bytes", "seconds", "percent")
ALWAYS = "\\`*[]<>|&"  # markup wherever they stand
LINE_START = "#+-=>"  # markup at the start of a line (headings, lists, quotes)


def escape(text: str) -> str:
    """Text taken literally by a Markdown reader, on one line. ``_`` is escaped only at a word's
    edge (inside a word, as in ``demo_try``, it is never emphasis), so the file stays readable."""
    text = " ".join(str(text).split())  # newlines and runs of spaces: one space
    out = []
    for i, ch in enumerate(text):
        if ch in ALWAYS or (ch == "_" and not (0 < i < len(text) - 1 and text[i - 1].isalnum()
                                                 and text[i + 1].isalnum())):
            out.append("\\" + ch)
        else:
            out.append(ch)
    if out and out[0] in LINE_START:
        out[0] = "\\" + out[0]
    return "".join(out)


def render(report: Report) -> str:
    lines = [f"# {escape(report.title)}", "", f"*{escape(report.subtitle)} · written {escape(report.written_at)}*", ""]
    for note in report.notes:
        lines.append(f"> {escape(note)}")
    headline = report.headline
    lines += [f"## {SIGNS[headline.tone]} {escape(headline.text)}", "", escape(headline.detail), ""]
    lines += ["| " + " | ".join(escape(s.label) for s in headline.steps) + " |",
              "|" + "---:|" * len(headline.steps),
              "| " + " | ".join(f"**{s.count:,}** {escape(s.note)}" for s in headline.steps) + " |", ""]
    if headline.attention:
        lines += ["**Needs a look**", ""]
        lines += [f"- {SIGNS[item.tone]} {escape(item.text)}" for item in headline.attention]
        lines.append("")
    for section in report.sections:
        lines += [f"## {escape(section.title)}", ""]
        if section.lead:
            lines += [escape(section.lead), ""]
        for block in section.blocks:
            lines += _block(block)
    lines += ["---", "", f"*Written by Hydra {escape(hydra.__version__)} from the workspace's tables.*", ""]
    return "\n".join(lines)


def _block(block) -> list[str]:
    if isinstance(block, Text):
        sign = f"{SIGNS[block.tone]} " if block.tone in (WARN, FAIL) else ""
        return [f"{sign}{escape(block.text)}", ""]
    if isinstance(block, Facts):
        return [f"- **{escape(label)}:** {escape(fmt.text(value))}" for label, value in block.items] + [""]
    if isinstance(block, Chart):
        return _chart(block)
    if isinstance(block, Table):
        return _table(block)
    return []


def _chart(chart: Chart) -> list[str]:
    if chart.series:
        names = list(chart.series)
        table = Table([Column("Source", "code")] + [Column(n, "count") for n in names],
                      [(label, *(int(chart.series[n][i]) for n in names)) for i, label in enumerate(chart.labels)],
                      caption=chart.title)
    else:
        unit = "bytes" if chart.unit == "bytes" else "count"
        table = Table([Column("Element", "code"), Column("Size" if unit == "bytes" else "Rows", unit)],
                      list(zip(chart.labels, chart.values)), caption=chart.title)
    return _table(table)


def _table(table: Table) -> list[str]:
    lines = [f"### {escape(table.caption)}", ""] if table.caption else []
    if not table.rows:
        return lines + [f"*{escape(table.empty)}*", ""]
    if table.collapsed:
        lines += ["<details>", f"<summary>{escape(table.collapsed)}</summary>", ""]
    lines.append("| " + " | ".join(escape(c.title) for c in table.columns) + " |")
    lines.append("|" + "".join("---:|" if c.kind in NUMERIC else "---|" for c in table.columns))
    for row in table.rows:
        cells = []
        for value, column in zip(row, table.columns):
            text = escape(fmt.text(value, column.kind))
            cells.append(_code(fmt.text(value, column.kind)) if column.kind in ("code", "path") and value is not None
                         else text)
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if table.collapsed:
        lines += ["</details>", ""]
    if table.note:
        lines += [f"*{escape(table.note)}*", ""]
    return lines


def _code(text: str) -> str:
    """A code span holding ``text`` as it is: fenced with more backticks than it holds in a row,
    and ``|`` escaped (inside a table, GitHub's Markdown ends a cell at any unescaped ``|``)."""
    text = " ".join(text.replace("|", "\\|").split())
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"
