"""How a Notes database's elements are named (``<db>.forms.<form>``, ``<db>.views.<view>``,
``<db>.attachments``), and the attachments element's columns: shared by the head and its scan."""

from __future__ import annotations

from hydra.heads.base import Column

FORMS, VIEWS, ATTACHMENTS = "forms", "views", "attachments"
#: the attachments element's columns: (name, DuckDB type, comment)
ATTACHMENT_COLUMNS = (
    ("@unid", "VARCHAR", "the UNID of the document the file is attached to"),
    ("form", "VARCHAR", "that document's form"),
    ("file_name", "VARCHAR", "the attached file's name"),
    ("size", "BIGINT", "its size in bytes, as the source states it (NULL when it does not)"),
    ("created", "TIMESTAMPTZ", "when the file was created, as the source states it"),
    ("modified", "TIMESTAMPTZ", "when the file was last modified, as the source states it"),
    ("path", "VARCHAR", "where EXTRACT writes the file, relative to the element's folder"),
)


def attachment_columns() -> list[Column]:
    return [Column(n, t, note=c) for n, t, c in ATTACHMENT_COLUMNS]
