"""Charts: matplotlib draws each one as an SVG document, inlined in the HTML report.

Text stays text (``svg.fonttype = none``): it is searchable, sharp in print and small; its
font is matplotlib's sans-serif list, ending in the browser's own ``sans-serif``. ``matplotlib.figure.Figure`` is used directly (no pyplot): no global
state, no GUI backend. Importing matplotlib costs about 0.3 s, paid only by an HTML report.
"""

from __future__ import annotations

import io

from hydra.report import fmt
from hydra.report.model import Chart

WIDTH_INCHES = 5.2  # 499 px: two side by side on a 1366-pixel laptop screen, one per line on A4
BAR_INCHES = 0.27
LABEL_CHARACTERS = 38
ACCENT = "#2f6fde"
# a qualitative palette readable by most colour-blind readers (kinds of elements)
PALETTE = ("#2f6fde", "#f08c2e", "#2aa876", "#9b59b6", "#d4a20c", "#e5534b", "#3fb1c9", "#8a8f98")
INK, MUTED = "#1f2933", "#616e7c"


def size_inches(chart: Chart) -> tuple[float, float]:
    """The drawing's size: its width is fixed, its height grows with its bars."""
    legend = 0.35 if chart.series else 0.0
    return WIDTH_INCHES, round(0.45 + legend + BAR_INCHES * max(len(chart.labels), 1), 2)


def svg(chart: Chart) -> str:
    """The chart as an ``<svg>`` element (the XML prolog left out, for inlining)."""
    import matplotlib
    from matplotlib.figure import Figure

    style = {
        "svg.fonttype": "none", "svg.hashsalt": chart.key, "font.size": 9, "font.family": "sans-serif",
        "axes.edgecolor": MUTED, "text.color": INK, "ytick.color": INK, "xtick.color": MUTED,
    }
    with matplotlib.rc_context(style):
        figure = Figure(figsize=size_inches(chart), layout="constrained")
        figure.patch.set_alpha(0)
        axes = figure.add_subplot()
        axes.patch.set_alpha(0)
        labels = [fmt.shorten(label, LABEL_CHARACTERS) for label in chart.labels]
        positions = range(len(labels))
        if chart.series:
            left = [0.0] * len(labels)
            for n, (name, values) in enumerate(chart.series.items()):
                axes.barh(positions, values, left=left, height=0.62, color=PALETTE[n % len(PALETTE)], label=name)
                left = [a + b for a, b in zip(left, values)]
            totals = left
            axes.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=min(len(chart.series), 6), frameon=False,
                        handlelength=1, handleheight=1, borderaxespad=0.2, columnspacing=1.2)
        else:
            totals = list(chart.values)
            axes.barh(positions, totals, height=0.62, color=ACCENT)
        written = [fmt.size(v) if chart.unit == "bytes" else fmt.count(int(v)) for v in totals]
        for position, total, text in zip(positions, totals, written):
            axes.annotate(text, (total, position), xytext=(4, 0), textcoords="offset points", va="center",
                          color=MUTED)
        axes.set_yticks(list(positions), labels)
        axes.invert_yaxis()  # the largest first
        axes.set_xlim(0, max(totals, default=1) * 1.18 or 1)  # room for the figures after the bars
        axes.xaxis.set_visible(False)
        axes.tick_params(axis="y", length=0)
        for side in ("top", "right", "bottom"):
            axes.spines[side].set_visible(False)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]
