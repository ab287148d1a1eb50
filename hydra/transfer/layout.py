"""Where each element goes at the target: one folder per element, never shared by two.

``<source>/<part>/<part>/`` — each part of the element's ref is one folder name, escaped so that
the mapping cannot merge two elements:

* Letters, digits, ``.``, ``_`` and ``-`` stay as they are; every other character (space, ``/`` in
  a table name, ``%``, ``=``, ``~``, any non-ASCII letter) becomes ``%XX`` per UTF-8 byte, and so
  does a leading ``.`` (no hidden folders, no ``..``). ``Order Details`` → ``Order%20Details``,
  ``Order_Details`` → ``Order_Details``, ``Müller`` → ``M%C3%BCller``. Percent-decoding gives the
  name back. Only ASCII reaches the file system, so Unicode normalisation (macOS) cannot merge
  two names either.
* A part that is a path (files and S3 objects: ``"sub dir/cities.csv"``) keeps its folders:
  ``sub%20dir/cities.csv``.
* Names that differ only in case (``Orders`` and ``orders``) are one folder on a case-insensitive
  file system (macOS, Windows). When the source's catalog holds such names — or an element whose
  folder would sit inside another's (the S3 objects ``a.csv`` and ``a.csv/b.csv``) — each of
  them gets ``~`` and 8 hex digits of the SHA-256 of its ref on its last folder
  (``Orders~1f0c…``). ``~`` is always escaped in names, so such a folder cannot meet an escaped one.
  The choice depends on the catalog, not on what one EXTRACT selects, so an element keeps its
  folder from run to run while the source keeps its names.

Whatever is left (two queries named alike, a source named like Hydra's ``_hydra_runs``) is found
when the run is planned, and those elements fail with one line instead of overwriting each other.
"""

from __future__ import annotations

import hashlib
import string

from hydra.core.refs import ref_text
from hydra.transfer.common import QUERY_SOURCE, Item

KEPT = frozenset(string.ascii_letters + string.digits + "._-")
DISAMBIGUATOR = "~"
RESERVED = ("_hydra_runs", ".hydra-staging")  # Hydra's own folders at the top of a target


def segment(name: str) -> str:
    """One name as one folder name (reversible: percent-decoding gives the name back)."""
    out = []
    for i, ch in enumerate(name):
        if ch in KEPT and not (i == 0 and ch == "."):
            out.append(ch)
        else:
            out.extend(f"%{byte:02X}" for byte in ch.encode("utf-8"))
    return "".join(out) or DISAMBIGUATOR  # an empty name (no escaped name is a lone "~")


def folders_of(parts, path_parts: bool) -> list[str]:
    """The escaped folder names of an element's parts (a path part keeps its folders)."""
    names = []
    for part in parts:
        part = str(part)
        names.extend(segment(s) for s in (part.split("/") if path_parts else [part]) if s or not path_parts)
    return names


def disambiguated(folders: list[str], ref: str) -> list[str]:
    digest = hashlib.sha256(ref.encode("utf-8")).hexdigest()[:8]
    return folders[:-1] + [f"{folders[-1]}{DISAMBIGUATOR}{digest}"]


def source_folders(source: str, elements, path_parts: bool) -> dict[tuple, str]:
    """The folder (relative to the target) of every element of one source's catalog."""
    top = segment(source)
    plain = {parts: folders_of(parts, path_parts) for parts in elements}
    folded: dict[str, list] = {}
    inner: set[str] = set()  # folders that hold other elements' folders (case-folded)
    for parts, names in plain.items():
        folded.setdefault("/".join(names).lower(), []).append(parts)
        for depth in range(1, len(names)):
            inner.add("/".join(names[:depth]).lower())
    found = {}
    for parts, names in plain.items():
        key = "/".join(names).lower()
        if len(folded[key]) > 1 or key in inner:
            names = disambiguated(names, ref_text(source, parts))
        found[parts] = "/".join([top, *names])
    return found


def plan_folders(ws, items: list[Item]) -> tuple[list[str], dict[int, str]]:
    """The folder of each item, and the items (by position) that cannot have their own, with why."""
    from hydra.heads.registry import head_class

    by_source: dict[str, dict[tuple, str]] = {}
    folders = []
    for item in items:
        if item.is_query:
            folders.append(f"{QUERY_SOURCE}/{segment(item.label or 'query')}")
            continue
        if item.source not in by_source:
            path_parts = getattr(head_class(ws.source_row(item.source)["kind"]), "path_parts", False)
            by_source[item.source] = source_folders(item.source, ws.elements(item.source), path_parts)
        folders.append(by_source[item.source][item.element.parts])
    return folders, clashes(items, folders)


def clashes(items: list[Item], folders: list[str]) -> dict[int, str]:
    """Items whose folder is (case-insensitively) another's, inside another's, or Hydra's own."""
    problems: dict[int, str] = {}
    folded = [f.lower() for f in folders]
    owners: dict[str, list[int]] = {}
    for i, key in enumerate(folded):
        owners.setdefault(key, []).append(i)
    inner: dict[str, int] = {}  # a folder that holds an item's folder -> that item
    for i, key in enumerate(folded):
        names = key.split("/")
        for depth in range(1, len(names)):
            inner.setdefault("/".join(names[:depth]), i)
    for i, key in enumerate(folded):
        names = key.split("/")
        if names[0] in RESERVED:
            problems[i] = (f"{items[i].ref}: its folder {folders[i]} is reserved for Hydra's own files; "
                           f"attach the source under another name")
            continue
        others = [j for j in owners[key] if j != i]
        others += [owners["/".join(names[:d])][0] for d in range(1, len(names)) if "/".join(names[:d]) in owners]
        if key in inner:
            others.append(inner[key])
        if others:
            j = others[0]
            problems[i] = (f"{items[i].ref} and {items[j].ref} would share the target folder {folders[i]} "
                           f"(names that differ only in case are one folder on case-insensitive file "
                           f"systems); extract them to different targets")
    return problems
