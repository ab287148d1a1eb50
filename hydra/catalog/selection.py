"""Elements as the catalog knows them, and what a written ref or selection names.

A ref's first identifier names a source; the rest is matched against the source's elements
(unquoted identifiers without regard to case). A selection adds globs (``f.*``) and ``MARKED``.
"""

from __future__ import annotations

import difflib

from hydra.core.errors import StatementError
from hydra.core.model import Column, Element
from hydra.core.refs import Name, names_match, ref_text


class Selection:
    """The element cache and ref resolution of a ``Workspace`` (which it is mixed into)."""

    def elements(self, source: str) -> dict[tuple[str, ...], Element]:
        """Elements of a source, rebuilt from the catalog once per process."""
        with self._lock:
            found = self._elements.get(source)
            if found is None:
                found = self._load_elements(source)
                self._elements[source] = found
            return found

    def _load_elements(self, source: str) -> dict[tuple[str, ...], Element]:
        columns: dict[str, list[Column]] = {}
        for ref, name, type_, source_type, nullable, note in self.con.execute(
                "SELECT ref, name, type, source_type, nullable, note FROM columns "
                "WHERE source = ? ORDER BY ref, position", [source]).fetchall():
            columns.setdefault(ref, []).append(Column(name, type_, source_type, nullable, note))
        found = {}
        for ref, parts, kind, path, rows, exact, size, modified, key, error, note in self.con.execute(
                "SELECT ref, parts, kind, path, row_count, row_count_exact, size_bytes, modified_at, "
                "key_columns, error, note FROM elements WHERE source = ?", [source]).fetchall():
            found[tuple(parts)] = Element(tuple(parts), kind, path, rows, exact, size, modified,
                                          columns.get(ref), key, error, note)
        return found

    def find_source(self, written: Name) -> str | None:
        """The source a written first identifier names, or None when it names none."""
        for name in self.source_names():
            if written.matches(name):
                return name
        return None

    def resolve(self, written: list[Name]) -> tuple[str, Element]:
        """The element a written ref names; a missing one is an error that suggests the nearest."""
        source = self.find_source(written[0])
        if source is None:
            raise StatementError(f"no source named {written[0].text!r}")
        matches = [e for parts, e in self.elements(source).items() if names_match(written, source, parts)]
        exact = [e for e in matches if tuple(n.text for n in written[1:]) == e.parts]
        if len(exact) == 1 or len(matches) == 1:
            return source, (exact or matches)[0]
        written_ref = ".".join(n.text if not n.quoted else f'"{n.text}"' for n in written)
        if matches:
            refs = ", ".join(sorted(ref_text(source, e.parts) for e in matches)[:5])
            raise StatementError(f"{written_ref} is ambiguous: it matches {refs}; quote it exactly")
        refs = [ref_text(source, parts) for parts in self.elements(source)]
        raise StatementError(f"no element {written_ref} in source {source}{suggest(written_ref, refs)}")

    def select(self, selections: list[list[Name]] | None) -> list[tuple[str, Element]]:
        """Elements chosen by a selection (refs and globs); None selects the marked elements."""
        if selections is None:
            chosen = []
            for source, ref in self.con.execute("SELECT source, ref FROM marks ORDER BY source, ref").fetchall():
                element = next((e for p, e in self.elements(source).items() if ref_text(source, p) == ref), None)
                if element is None:
                    raise StatementError(f"marked element {ref} no longer exists in {source}; UNMARK it")
                chosen.append((source, element))
            return chosen
        chosen: dict[tuple[str, str], tuple[str, Element]] = {}
        for written in selections:
            is_glob = any(ch in n.text for n in written for ch in "*?[")
            if not is_glob:
                source, element = self.resolve(written)
                chosen[(source, ref_text(source, element.parts))] = (source, element)
                continue
            sources = [s for s in self.source_names() if written[0].matches(s)]
            found = [(s, e) for s in sources for p, e in self.elements(s).items() if names_match(written, s, p)]
            if not found:
                text = ".".join(f'"{n.text}"' if n.quoted else n.text for n in written)
                raise StatementError(f"{text} matches no element")
            for s, e in found:
                chosen[(s, ref_text(s, e.parts))] = (s, e)
        return list(chosen.values())

    def columns_of(self, source: str, element: Element) -> list[Column]:
        """The element's columns, asking the head when the catalog does not know them."""
        if element.columns is None:
            element.columns = self.head(source).schema(element)
        return element.columns


def suggest(written: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(written, candidates, n=1, cutoff=0.5)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        close = [lowered[c] for c in difflib.get_close_matches(written.lower(), list(lowered), n=1, cutoff=0.5)]
    return f"; did you mean {close[0]}?" if close else ""
