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

from hydra import secrets

# option / setting names whose string value is a secret (ATTACH options, CREATE SECRET, SET …)
SECRET_WORDS = frozenset({
    "PASSWORD", "PASSWD", "PWD", "SECRET", "TOKEN", "SESSION_TOKEN", "SECRET_ACCESS_KEY",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "S3_SECRET_ACCESS_KEY", "S3_SESSION_TOKEN",
    "ACCOUNT_KEY", "CONNECTION_STRING", "API_KEY", "APIKEY", "SAS", "SAS_TOKEN", "CLIENT_SECRET",
    "PRIVATE_KEY", "PERSONAL_ACCESS_TOKEN", "PAT", "BEARER_TOKEN", "KEY",
})
SKIP_BETWEEN = frozenset({"EQ", "COLON", "EQUAL", "DCOLON"})  # PASSWORD = '…', password: '…'


def history_path(ws) -> str:
    """Where the history of a workspace lives (next to its file)."""
    override = os.environ.get("HYDRA_HISTORY")
    if override:
        return os.path.expanduser(override)
    path = getattr(ws, "snapshot_of", None) or ws.path
    if not path or path == ":memory:":
        return os.path.join(os.path.expanduser("~"), ".hydra_history")
    return path + ".history"


def mask_secrets_in_sql(text: str) -> str | None:
    """``text`` with passwords in string literals masked; None when it cannot be tokenized
    (then it must not be stored: we cannot tell where its secrets are)."""
    from hydra.errors import HydraError
    from hydra.statements import tokenize

    try:
        tokens = tokenize(text)
    except HydraError:
        return None
    except Exception:  # noqa: BLE001 - any tokenizer failure: do not store
        return None
    replacements = []
    for i, token in enumerate(tokens):
        if token.token_type.name not in ("STRING", "RAW_STRING", "NATIONAL_STRING", "BYTE_STRING", "HEX_STRING"):
            continue
        value = token.text
        masked = secrets.redact_uri(value)
        if _follows_secret_word(tokens, i) and value and not secrets.has_placeholders(value):
            masked = secrets.MASK
        elif masked == value:
            masked = _redact_embedded(value)
        if masked != value:
            replacements.append((token.start, token.end + 1, "'" + masked.replace("'", "''") + "'"))
    for start, end, literal in reversed(replacements):
        text = text[:start] + literal + text[end:]
    return text


def _follows_secret_word(tokens, i: int) -> bool:
    j = i - 1
    while j >= 0 and tokens[j].token_type.name in SKIP_BETWEEN:
        j -= 1
    return j >= 0 and tokens[j].text.upper() in SECRET_WORDS and tokens[j].token_type.name != "STRING"


def _redact_embedded(value: str) -> str:
    """Key=value connection strings (``host=h password=s3cret``; ``…;Password=s3cret;…``)."""
    for sep in (";", " "):
        if sep not in value or "=" not in value:
            continue
        pieces = value.split(sep)
        for n, piece in enumerate(pieces):
            key, eq, val = piece.partition("=")
            if eq and key.strip().lower() in secrets.SECRET_KEYS and val and not secrets.has_placeholders(val):
                pieces[n] = f"{key}={secrets.MASK}"
        joined = sep.join(pieces)
        if joined != value:
            return joined
    return value


class MaskedFileHistory(FileHistory):
    """A ``FileHistory`` that writes masked text only, to a file only its owner can read.

    The session's in-memory history keeps what was typed (so ↑ can re-run it in this session);
    the file never sees a secret.
    """

    warning: str | None = None  # why the history could not be written, once

    def store_string(self, string: str) -> None:
        masked = mask_secrets_in_sql(string) if not string.lstrip().startswith(".") else string
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
