"""How values are written in a report (both formats), and how they sort."""

from __future__ import annotations

from datetime import datetime, timezone

from hydra.report.model import Approx

UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def count(n) -> str:
    return f"{n:,}"


def size(n) -> str:
    """1,000-based, as the EXTRACT summary writes sizes (``70.8 KB``)."""
    value = float(n)
    for unit in UNITS:
        if abs(value) < 1000 or unit == UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"  # pragma: no cover - the loop always returns


def when(value) -> str:
    """A moment in UTC, to the second: one clock for a reader anywhere."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


def seconds(value) -> str:
    value = float(value)
    if value < 0.01:
        return "< 0.01 s"
    if value < 60:
        return f"{value:.1f} s" if value >= 0.1 else f"{value:.2f} s"
    minutes, rest = divmod(int(round(value)), 60)
    return f"{minutes} min {rest:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def percent(value) -> str:
    value = float(value)
    return f"{value:.0f}%" if value >= 10 or value == 0 else f"{value:.1f}%"


def text(value, kind: str = "text") -> str:
    """A cell's text; ``—`` for a value that is not there."""
    if value is None or value == "":
        return "—"
    if isinstance(value, Approx):
        return "≈ " + text(value.value, kind)
    if kind == "count" and isinstance(value, (int, float)):
        return count(value)
    if kind == "bytes" and isinstance(value, (int, float)):
        return size(value)
    if kind == "seconds" and isinstance(value, (int, float)):
        return seconds(value)
    if kind == "percent" and isinstance(value, (int, float)):
        return percent(value)
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def sort_key(value, kind: str = "text") -> str:
    """What the page's sort compares: the number behind a formatted figure, else the text."""
    if isinstance(value, Approx):
        value = value.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (int, float)) and kind in ("count", "bytes", "seconds", "percent"):
        return repr(value)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    return str(value)


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def shorten(value: str, limit: int) -> str:
    """At most ``limit`` characters, cut in the middle (both ends of a ref or path say something)."""
    if len(value) <= limit:
        return value
    keep = limit - 1
    return value[: (keep + 1) // 2] + "…" + value[len(value) - keep // 2:]


def clip(value: str, limit: int) -> str:
    """At most ``limit`` characters, cut at the end (a detail's start says what it is about)."""
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"
