"""The HTML report: one self-contained page (Jinja2 template, inline CSS, script and SVG charts).

Everything shown is escaped by the template (autoescape), except what Hydra itself wrote: the
stylesheet, the sorting script, and the SVG matplotlib drew (matplotlib escapes the labels in it).
A Content-Security-Policy in the page forbids every request, and allows only that one script (by
its hash), so even a browser that would fetch something from it may not.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
from importlib import resources

import hydra
from hydra.core.errors import HydraError
from hydra.report import charts, fmt
from hydra.report.model import FAIL, OK, WARN, Chart, Facts, Report, Table, Text

SIGNS = {OK: "✓", FAIL: "✕", WARN: "!", "info": "i"}
NUMERIC = ("count", "bytes", "seconds", "percent")
# longer text (a failed check's differing rows) shows its start, the rest folded under it
FOLD_CHARACTERS = 320
GOOD = {"pass", "done", "ok"}
BAD = {"fail", "failed", "interrupted", "error"}


def require() -> None:
    """Fail with one line when what draws the page is missing (the ``report`` extra)."""
    missing = []
    for name, module in (("matplotlib", "matplotlib"), ("Jinja2", "jinja2")):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(name)
    if missing:
        raise HydraError(f"REPORT: an HTML report needs {' and '.join(missing)}, not installed: "
                         "pip install 'hydra-shell[report]' (a Markdown report, TO '….md', needs nothing more)")


def render(report: Report, manifests: bool) -> str:
    from jinja2 import Environment
    from markupsafe import Markup

    files = resources.files("hydra.report")
    script = (files / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    environment = Environment(autoescape=True, trim_blocks=False, lstrip_blocks=False)
    template = environment.from_string((files / "report.html").read_text(encoding="utf-8"))
    return template.render(
        report=report, headline=report.headline, signs=SIGNS, version=hydra.__version__, manifests=manifests,
        css=Markup((files / "report.css").read_text(encoding="utf-8")), script=Markup(script),
        script_hash=f"sha256-{digest}", sections=[_section(s, Markup) for s in report.sections])


def _section(section, markup) -> dict:
    blocks, pending = [], []
    for block in section.blocks:
        if isinstance(block, Chart):  # consecutive charts share a row
            pending.append(_chart(block, markup))
            continue
        if pending:
            blocks.append({"type": "charts", "charts": pending})
            pending = []
        if isinstance(block, Table):
            blocks.append(_table(block))
        elif isinstance(block, Text):
            blocks.append({"type": "text", "text": block.text, "tone": block.tone})
        elif isinstance(block, Facts):
            blocks.append({"type": "facts", "facts": [(k, fmt.text(v)) for k, v in block.items]})
    if pending:
        blocks.append({"type": "charts", "charts": pending})
    return {"key": section.key, "title": section.title, "lead": section.lead, "tone": section.tone, "blocks": blocks}


def _chart(chart: Chart, markup) -> dict:
    width, height = charts.size_inches(chart)
    return {"key": chart.key, "title": chart.title, "svg": markup(charts.svg(chart)),
            "width": round(width * 72, 2), "height": round(height * 72, 2)}  # in points, as the SVG says


def _table(table: Table) -> dict:
    kinds = [c.kind for c in table.columns]
    return {"type": "table", "caption": table.caption, "collapsed": table.collapsed, "empty": table.empty,
            "note": table.note,
            "columns": [{"title": c.title, "numeric": c.kind in NUMERIC} for c in table.columns],
            "rows": [[_cell(value, kind) for value, kind in zip(row, kinds)] for row in table.rows]}


def _cell(value, kind: str) -> dict:
    text = fmt.text(value, kind)
    cell = {"text": text, "sort": None, "cls": None, "badge": None, "why": None, "rest": None}
    if kind in NUMERIC or kind == "time":
        cell["sort"] = fmt.sort_key(value, kind)
    if kind in NUMERIC:
        cell["cls"] = "num"
    elif kind == "time":
        cell["cls"] = "time"
    elif kind == "code" and value is not None:
        cell["cls"] = "hash" if _is_hash(text) else "code"
    elif kind == "path" and value is not None:
        cell["cls"] = "code path"
    elif kind == "status" and value is not None:
        word, _, why = text.partition(": ")
        cell.update(text=word, why=why or None, sort=text,
                    badge="ok" if word in GOOD else "fail" if word in BAD else "warn" if word != "skipped" else "info")
    elif kind == "text" and len(text) > 60:
        cell["cls"] = "long"
        if len(text) > FOLD_CHARACTERS:
            cut = text.rfind(" ", 0, FOLD_CHARACTERS)
            cut = cut if cut > FOLD_CHARACTERS // 2 else FOLD_CHARACTERS
            cell.update(text=text[:cut], rest=text[cut:], sort=text)
    if value is None:
        cell["cls"] = (cell["cls"] + " muted") if cell["cls"] else "muted"
    return cell


def _is_hash(text: str) -> bool:
    return len(text) == 64 and all(ch in "0123456789abcdef" for ch in text)
