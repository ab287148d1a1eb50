"""The REPL's history: one file per workspace, with secrets masked before anything is written.

The history of ``/data/client.duckdb`` is ``/data/client.duckdb.history``; a ``:memory:``
workspace uses ``~/.hydra_history``. ``HYDRA_HISTORY`` overrides both.

What is written is the statement as typed, except that string literals are passed through
``secrets.redact_uri`` (``'postgresql://u:s3cret@host/db'`` → ``'postgresql://u:***@host/db'``),
and the string value of an option or setting whose name is a secret (``PASSWORD '…'``,
``SECRET '…'``, ``TOKEN '…'``…) becomes ``'***'``. Literals are found with sqlglot's tokenizer;
text that cannot be tokenized is not written at all.
"""

from __future__ import annotations

import os

from prompt_toolkit.history import FileHistory

from hydra.core import secrets


def history_path(ws) -> str:
    """Where the history of a workspace lives (next to its file)."""
    override = os.environ.get("HYDRA_HISTORY")
    if override:
        return os.path.expanduser(override)
    path = getattr(ws, "snapshot_of", None) or ws.path
    if not path or path == ":memory:":
        return os.path.join(os.path.expanduser("~"), ".hydra_history")
    return path + ".history"


class MaskedFileHistory(FileHistory):
    """A ``FileHistory`` that writes masked text only, to a file only its owner can read.

    The session's in-memory history keeps what was typed (so ↑ can re-run it in this session);
    the file never sees a secret.
    """

    warning: str | None = None  # why the history could not be written, once

    def store_string(self, string: str) -> None:
        masked = secrets.mask_sql(string) if not string.lstrip().startswith(".") else string
        if masked is None:
            return
        try:
            folder = os.path.dirname(os.fsdecode(self.filename)) or "."
            os.makedirs(folder, exist_ok=True)
            fd = os.open(self.filename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.close(fd)
            super().store_string(masked)
        except OSError as err:  # a read-only folder must not end the session
            if self.warning is None:
                self.warning = f"history not saved to {os.fsdecode(self.filename)}: {err.strerror}"

    def load_history_strings(self):
        try:
            yield from super().load_history_strings()
        except OSError:
            return
