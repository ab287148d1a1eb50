"""REPORT: the engagement's evidence as one page — what exists, what was taken, proof it arrived whole.

``render(con, path, options)`` reads the workspace (``data``), builds its sections (``sections``)
and writes them as HTML (``html``: inline CSS, script and matplotlib SVG charts) or Markdown
(``markdown``), chosen by the file's extension. Nothing here imports more than the standard
library until a report is written: the statement stays cheap to register.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from hydra.core.errors import HydraError, one_line

FORMATS = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown"}


@dataclass
class Written:
    path: str
    bytes: int
    headline: str
    tone: str


def format_of(path: str) -> str:
    extension = os.path.splitext(path)[1].lower()
    if extension not in FORMATS:
        raise HydraError(f"REPORT: write to a .html or .md file, not {os.path.basename(path) or path!r}")
    return FORMATS[extension]


def render(con, path: str, options, workspace_path: str | None = None) -> Written:
    """Write the report of the workspace open on ``con`` to ``path`` (``options``: ``data.Options``).
    The file appears whole or not at all."""
    from datetime import datetime, timezone

    from hydra.report import fmt
    from hydra.report.data import Data
    from hydra.report.model import FAIL, Report
    from hydra.report.sections import SECTIONS, headline

    kind = format_of(path)
    if kind == "html":
        from hydra.report.html import require

        require()
    data = Data(con, options, workspace_path)
    sections = [s for s in (section(data) for section in SECTIONS) if s is not None]
    top = headline(data)  # after the sections: it names the targets they could not read
    if top.tone == FAIL:  # the failures first
        sections.sort(key=lambda s: s.tone != FAIL)
    name = os.path.basename(workspace_path) if workspace_path else "in memory"
    report = Report(
        title=options.title or "Data engagement report",
        subtitle=f"Workspace {name}",
        headline=top, sections=sections, written_at=fmt.when(datetime.now(timezone.utc)),
        notes=_scope_notes(data))
    if kind == "html":
        from hydra.report import html

        text = html.render(report, manifests=bool(data.element_manifests))
    else:
        from hydra.report import markdown

        text = markdown.render(report)
    size = _write(path, text)
    return Written(path, size, top.text, top.tone)


def _scope_notes(data) -> list[str]:
    notes = []
    if data.sources is not None:
        notes.append(f"Sources: {', '.join(data.sources)}")
    if data.options.run == "last":
        notes.append("Transfers of the latest EXTRACT run")
    elif data.options.run != "all":
        notes.append(f"Transfers of EXTRACT run {data.options.run}")
    return notes


def _write(path: str, text: str) -> int:
    """Write ``text`` beside ``path`` and move it into place, so a reader never sees half a report."""
    folder = os.path.dirname(os.path.abspath(path))
    encoded = text.encode("utf-8")
    try:
        os.makedirs(folder, exist_ok=True)
        fd, staging = tempfile.mkstemp(prefix=".hydra-report-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(encoded)
            os.chmod(staging, 0o644)
            os.replace(staging, path)
        except BaseException:
            os.unlink(staging)
            raise
    except OSError as err:
        raise HydraError(f"REPORT: cannot write {path}: {err.strerror or one_line(err)}") from None
    return len(encoded)
